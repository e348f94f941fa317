"""What the booking service answers: the booking after a transition, and bulk plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models import Activity, ActivityOption, Booking, BookingStatus, ValidationMode


@dataclass
class Outcome:
    """The booking after a transition, and the waiting bookings it registered."""

    booking: Booking
    promoted: list[Booking] = field(default_factory=list)


@dataclass(frozen=True)
class DayRef:
    """One child's day in a bulk plan.

    `reason` says why a closed day is closed; `status` is what a day to book becomes
    (registered, or pending: a request to validate, or the waiting list when full).
    """

    child_id: int
    day: date
    reason: str = ""
    status: BookingStatus | None = None


@dataclass
class BookingPlan:
    """What book_many will do (preview) or did (confirmed) for one activity and option."""

    activity: Activity
    option: ActivityOption | None
    to_book: list[DayRef] = field(default_factory=list)
    already_booked: list[DayRef] = field(default_factory=list)
    closed: list[DayRef] = field(default_factory=list)
    not_registered: list[DayRef] = field(default_factory=list)
    past_deadline: list[DayRef] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    confirmed: bool = False

    @property
    def registered(self) -> list[DayRef]:
        return [ref for ref in self.to_book if ref.status == BookingStatus.REGISTERED]

    @property
    def requested(self) -> list[DayRef]:
        """Requests staff validate (manual activity)."""
        return [ref for ref in self.to_book if ref.status == BookingStatus.PENDING and self.manual]

    @property
    def waiting(self) -> list[DayRef]:
        """Requests on the waiting list (automatic activity, the day full)."""
        if self.manual:
            return []
        return [ref for ref in self.to_book if ref.status == BookingStatus.PENDING]

    @property
    def manual(self) -> bool:
        return self.activity.validation_mode == ValidationMode.MANUAL


@dataclass
class CancelPlan:
    """What cancel_many will do (preview) or did (confirmed) for one activity."""

    activity: Activity
    to_cancel: list[DayRef] = field(default_factory=list)
    past_deadline: list[DayRef] = field(default_factory=list)
    closed: list[DayRef] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    promoted: list[Booking] = field(default_factory=list)
    confirmed: bool = False
