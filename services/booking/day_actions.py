"""What a family may do with one day of one activity, now: the one place that decides.

The transitions (services.booking.single_day) refuse whatever `refusal` refuses, and the
month cell and the day page offer exactly `allowed_actions`, so a page never offers what
the service would refuse, nor hides what it would accept.

- a closed day (no service, or the child not registered): nothing;
- available: book, before the booking deadline;
- pending: withdraw the request, before the cancel deadline;
- registered: cancel before the cancel deadline; choose another option before both
  deadlines, when the activity has several;
- change-requested: cancel, or withdraw the change (the booked option stands), before the
  cancel deadline;
- cancel-requested: withdraw the cancellation (the booking stands), before the cancel
  deadline;
- once the cancel deadline has passed, a booked day (registered, change- or
  cancel-requested) takes a declared absence, up to the end of the day itself in Paris,
  while attendance has not been taken; the family can withdraw that absence until the
  end of the day too, while staff have not decided on it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from models import Activity, Attendance, BookingStatus, CellStatus
from services.booking.errors import BookingError, DayClosed, DeadlinePassed, InvalidTransition
from services.calendar import DeadlineKind, deadline, paris_today


class DayAction(enum.StrEnum):
    """What a family can ask for a day; the values are the forms' `action` field."""

    BOOK = "book"
    CHANGE_OPTION = "change"
    CANCEL = "cancel"
    WITHDRAW = "withdraw"
    DECLARE_ABSENCE = "absence"
    WITHDRAW_ABSENCE = "withdraw-absence"


# The actions that change the booking itself, hence "editable" in the calendar's contract.
EDITING = frozenset({DayAction.BOOK, DayAction.CHANGE_OPTION, DayAction.CANCEL, DayAction.WITHDRAW})
BOOKED = frozenset(
    {CellStatus.REGISTERED, CellStatus.CHANGE_REQUESTED, CellStatus.CANCEL_REQUESTED}
)
WITHDRAWABLE = frozenset(
    {CellStatus.PENDING, CellStatus.CHANGE_REQUESTED, CellStatus.CANCEL_REQUESTED}
)


def cell_status(status: BookingStatus | None) -> CellStatus:
    """The cell's status for a booking row's status (cancelled or refused: available)."""
    if status is None or status in (BookingStatus.CANCELLED, BookingStatus.REFUSED):
        return CellStatus.AVAILABLE
    return CellStatus(status.value)


@dataclass(frozen=True)
class DayState:
    """A day as the rules see it: enough to decide every action without a query."""

    activity: Activity
    day: date
    status: CellStatus
    attendance: Attendance | None = None
    option_count: int = 1

    def refusal(self, action: DayAction, now: datetime) -> BookingError | None:
        """Why `action` is refused now (a French BookingError), or None when allowed."""
        if self.status == CellStatus.CLOSED:
            return DayClosed()
        return _CHECKS[action](self, now)

    def allowed_actions(self, now: datetime) -> frozenset[DayAction]:
        return frozenset(action for action in DayAction if self.refusal(action, now) is None)

    def open_until(self, kind: DeadlineKind) -> datetime:
        """The deadline (naive UTC) of that kind for this day."""
        return self._deadlines[kind]

    def before(self, kind: DeadlineKind, now: datetime) -> bool:
        return now < self._deadlines[kind]

    def deadlines(self) -> list[datetime]:
        """Every deadline of the day: with midnight in Paris, the only moments at which what
        the rules allow for it changes with time alone."""
        return list(self._deadlines.values())

    @cached_property
    def _deadlines(self) -> dict[DeadlineKind, datetime]:
        # every action asks for them: computed once per day state
        return {kind: deadline(self.activity, self.day, kind) for kind in DeadlineKind}


def _book(state: DayState, now: datetime) -> BookingError | None:
    if state.status != CellStatus.AVAILABLE:
        return InvalidTransition("Ce jour est déjà réservé.")
    if not state.before(DeadlineKind.BOOKING, now):
        return DeadlinePassed("Le délai de réservation est dépassé pour ce jour.")
    return None


def _cancel(state: DayState, now: datetime) -> BookingError | None:
    if state.status not in (CellStatus.REGISTERED, CellStatus.CHANGE_REQUESTED):
        return InvalidTransition("Aucune réservation à annuler ce jour-là.")
    return _cancel_deadline(state, now)


def _change_option(state: DayState, now: datetime) -> BookingError | None:
    if state.status != CellStatus.REGISTERED:
        return InvalidTransition("La formule ne peut être changée que sur un jour réservé.")
    if state.option_count < 2:
        return InvalidTransition("Cette prestation n'a qu'une formule.")
    if not state.before(DeadlineKind.BOOKING, now):
        return DeadlinePassed("Le délai pour changer de formule est dépassé pour ce jour.")
    return _cancel_deadline(state, now)


def _withdraw(state: DayState, now: datetime) -> BookingError | None:
    if state.status not in WITHDRAWABLE:
        return InvalidTransition("Aucune demande à retirer ce jour-là.")
    return _cancel_deadline(state, now)


def _declare_absence(state: DayState, now: datetime) -> BookingError | None:
    if state.status not in BOOKED:
        return InvalidTransition("Aucune réservation ce jour-là.")
    if state.before(DeadlineKind.CANCEL, now):
        return InvalidTransition(
            "Le délai d'annulation n'est pas encore passé : annulez plutôt la réservation."
        )
    if paris_today(now) > state.day:
        return DeadlinePassed("Ce jour est passé : l'absence ne peut plus être déclarée.")
    if state.attendance is not None:
        return InvalidTransition("La présence de ce jour a déjà été relevée.")
    return None


def _withdraw_absence(state: DayState, now: datetime) -> BookingError | None:
    if state.attendance != Attendance.ABSENCE_DECLARED:
        return InvalidTransition("Aucune absence signalée à retirer ce jour-là.")
    if paris_today(now) > state.day:
        return DeadlinePassed("Ce jour est passé : l'absence ne peut plus être retirée.")
    return None


def _cancel_deadline(state: DayState, now: datetime) -> BookingError | None:
    if state.before(DeadlineKind.CANCEL, now):
        return None
    return DeadlinePassed(
        "Le délai d'annulation est dépassé pour ce jour : vous pouvez déclarer une absence."
    )


_CHECKS = {
    DayAction.BOOK: _book,
    DayAction.CANCEL: _cancel,
    DayAction.CHANGE_OPTION: _change_option,
    DayAction.WITHDRAW: _withdraw,
    DayAction.DECLARE_ABSENCE: _declare_absence,
    DayAction.WITHDRAW_ABSENCE: _withdraw_absence,
}
