"""Attendance taken by staff on the day (pointage), and the day's list for the kitchen.

Rules:

- attendance is taken on the day or after it, never ahead (the day in Europe/Paris);
- only a booking that holds a place (registered, change-requested, cancel-requested) is
  marked, present or absent-unjustified; marking again changes nothing, and a mistake can
  be corrected (present ↔ absent-unjustified);
- an absence the family declared (absence-declared) or that staff justified
  (absent-justified) is kept: staff decide it on the absences page, not here;
- a child who came without a booking (walk-in) gets the day's row, new or reused
  (pending, cancelled, refused), registered with is_walk_in and present: billed at the
  activity's penalty price. The child must be of the school whose list staff hold, and
  the day open for that school. Capacity is not checked: the child is there and is fed.
  Adding the same walk-in again changes nothing;
- every change is journaled (services.audit) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from extensions import db
from models import (
    Activity,
    ActivityOption,
    Attendance,
    Booking,
    BookingStatus,
    Child,
    School,
    StaffUser,
)
from services import audit
from services.booking import (
    HOLDS_PLACE,
    BookingError,
    InvalidTransition,
    check_day_open,
    checked_option,
    lock_booking,
    lock_day_booking,
    transactional,
    write_booking,
)
from services.calendar import paris_today

# Decided elsewhere (the absences page): pointage leaves them as they are.
KEPT_ABSENCES = frozenset({Attendance.ABSENCE_DECLARED, Attendance.ABSENT_JUSTIFIED})
ABSENCES = KEPT_ABSENCES | {Attendance.ABSENT_UNJUSTIFIED}
NO_OPTION = "Sans formule"


class FutureDay(BookingError):
    default_message = "La présence ne peut pas être relevée pour un jour à venir."


class OtherSchool(BookingError):
    default_message = "Cet enfant n'est pas inscrit dans cette école."


# --- Writing ----------------------------------------------------------------------------


@transactional
def record_attendance(
    booking: Booking, present: bool, staff: StaffUser, now: datetime, ip: str | None = None
) -> Booking:
    """Mark a booked child present or absent-unjustified (see the module's rules)."""
    booking = lock_booking(booking)
    _check_not_ahead(booking.day, now)
    if booking.status not in HOLDS_PLACE:
        raise InvalidTransition("Cet enfant n'a pas de réservation ce jour-là.")
    if booking.attendance in KEPT_ABSENCES:
        raise InvalidTransition(
            "Une absence a été déclarée pour ce jour : décidez-la sur la page des absences."
        )
    booking.attendance = Attendance.PRESENT if present else Attendance.ABSENT_UNJUSTIFIED
    audit.record_change(staff, booking, created=False, ip=ip)
    return booking


@transactional
def add_walk_in(
    child: Child,
    activity: Activity,
    day: date,
    school: School,
    staff: StaffUser,
    now: datetime,
    option: ActivityOption | None = None,
    ip: str | None = None,
) -> Booking:
    """A child who came without a booking: registered, walk-in, present (idempotent)."""
    _check_walk_in(child, school, day, now)
    option = checked_option(activity, option)
    booking = lock_day_booking(child.id, activity.id, day)
    if booking is not None and booking.status in HOLDS_PLACE:
        if not booking.is_walk_in:
            raise InvalidTransition("Cet enfant a déjà une réservation ce jour-là.")
        return booking
    created = booking is None
    booking = write_booking(booking, child, activity, day, option, BookingStatus.REGISTERED, now)
    booking.is_walk_in = True
    booking.attendance = Attendance.PRESENT
    audit.record_change(staff, booking, created=created, ip=ip)
    return booking


def _check_not_ahead(day: date, now: datetime) -> None:
    if day > paris_today(now):
        raise FutureDay()


def _check_walk_in(child: Child, school: School, day: date, now: datetime) -> None:
    _check_not_ahead(day, now)
    if child.school_id != school.id:
        raise OtherSchool()
    check_day_open(school, day)


# --- Reading ----------------------------------------------------------------------------


def day_list(school_id: int, activity_id: int, day: date) -> list[Booking]:
    """The bookings that hold a place that day, by child name, child and option loaded."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Booking.child)
            .where(
                Booking.school_id == school_id,
                Booking.activity_id == activity_id,
                Booking.day == day,
                Booking.status.in_(list(HOLDS_PLACE)),
            )
            .order_by(Child.last_name, Child.first_name, Child.id)
            .options(joinedload(Booking.child), joinedload(Booking.option))
        )
    )


def walk_in_candidates(school_id: int, listed: list[Booking]) -> list[Child]:
    """The school's children not on the day's list, by name."""
    listed_ids = {booking.child_id for booking in listed}
    children = db.session.scalars(
        select(Child)
        .where(Child.school_id == school_id)
        .order_by(Child.last_name, Child.first_name, Child.id)
    )
    return [child for child in children if child.id not in listed_ids]


@dataclass
class OptionGroup:
    """One option of the day's list: its children, and how many are expected to come."""

    label: str
    bookings: list[Booking] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return len(self.bookings)

    @property
    def absent(self) -> int:
        return sum(1 for booking in self.bookings if booking.attendance in ABSENCES)

    @property
    def expected(self) -> int:
        return self.booked - self.absent


def by_option(bookings: list[Booking], options: list[ActivityOption]) -> list[OptionGroup]:
    """The day's list per option, in the activity's option order (empty options included).

    A child is expected unless an absence is recorded (declared, justified or not): the
    count the kitchen prepares for.
    """
    groups = {option.id: OptionGroup(option.label) for option in options}
    for booking in bookings:
        if booking.option_id not in groups:
            groups[booking.option_id] = OptionGroup(
                booking.option.label if booking.option else NO_OPTION
            )
        groups[booking.option_id].bookings.append(booking)
    return list(groups.values())


def summary(bookings: list[Booking]) -> dict[str, int]:
    """How many of the day's children are present, absent, and not marked yet."""
    present = sum(1 for booking in bookings if booking.attendance == Attendance.PRESENT)
    absent = sum(1 for booking in bookings if booking.attendance in ABSENCES)
    return {"present": present, "absent": absent, "not_taken": len(bookings) - present - absent}
