"""A family's transitions on one day of one activity (DOMAIN.md), enforced on the server.

Every transition re-reads and locks the day's row, then asks services.booking.day_actions
whether the action is allowed now: the page offers the same answer, from the same rules.

- available → book → registered (automatic, a place free and nobody waiting) or pending
  (manual validation, or the waiting list when full);
- pending → withdraw → available at once (a pending holds no place);
- registered → cancel → available (automatic: the freed place goes to the waiting list in
  the same transaction) or cancel-requested (manual);
- registered → another option → registered with it (automatic) or change-requested
  (manual); change-requested → withdraw → registered with the booked option;
  cancel-requested → withdraw → registered;
- after the cancel deadline, declare an absence (and withdraw it the same day).

A request records when the family asked it (`requested_at`): staff see the oldest first.
"""

from __future__ import annotations

from datetime import date, datetime

from models import (
    Activity,
    ActivityOption,
    Attendance,
    Booking,
    BookingStatus,
    Child,
    ValidationMode,
)
from services.booking.day_actions import DayAction, DayState, cell_status
from services.booking.errors import InvalidTransition, transactional
from services.booking.places import (
    HOLDS_PLACE,
    bookings_by_key,
    check_day_open,
    check_period,
    check_registered,
    checked_option,
    lock_capacities,
    lock_day_booking,
    new_booking_status,
    write_booking,
)
from services.booking.results import Outcome
from services.booking.waiting_list import promote
from services.calendar import Calendar


def day_state(child: Child, activity: Activity, day: date, booking: Booking | None) -> DayState:
    """The day as the rules see it; NotRegistered or DayClosed when it has no service."""
    check_registered(child, activity, day)
    check_day_open(child.school, day)
    return DayState(
        activity,
        day,
        cell_status(booking.status if booking else None),
        booking.attendance if booking else None,
        len(activity.options),
    )


def _locked_day(child: Child, activity: Activity, day: date, action: DayAction, now: datetime):
    """The day's row, locked, once `action` is allowed on it (its refusal raised otherwise).

    The capacity is locked before the row (places.lock_capacities) when the action can take
    or free a place."""
    if action in (DayAction.BOOK, DayAction.CANCEL):
        lock_capacities([(child.school_id, activity.id)])
    booking = lock_day_booking(child.id, activity.id, day)
    refusal = day_state(child, activity, day, booking).refusal(action, now)
    if refusal is not None:
        raise refusal
    return booking


@transactional
def book_day(
    child: Child, activity: Activity, day: date, option: ActivityOption | None, now: datetime
) -> Outcome:
    """available → registered or pending; `option` None means the activity's default."""
    option = checked_option(activity, option)
    booking = _locked_day(child, activity, day, DayAction.BOOK, now)
    status = new_booking_status(child.school_id, activity, day)
    return Outcome(write_booking(booking, child, activity, day, option, status, now))


@transactional
def withdraw(child: Child, activity: Activity, day: date, now: datetime) -> Outcome:
    """Take back a pending request: a booking (→ available), an option change or a
    cancellation (→ registered as before)."""
    booking = _locked_day(child, activity, day, DayAction.WITHDRAW, now)
    if booking.status == BookingStatus.PENDING:
        booking.status = BookingStatus.CANCELLED
    else:
        booking.status = BookingStatus.REGISTERED
    booking.requested_option_id = None
    return Outcome(booking)


@transactional
def cancel(child: Child, activity: Activity, day: date, now: datetime) -> Outcome:
    """registered → available (automatic) or cancel-requested (manual); a pending change
    of option is dropped."""
    booking = _locked_day(child, activity, day, DayAction.CANCEL, now)
    booking.requested_option_id = None
    if activity.validation_mode == ValidationMode.MANUAL:
        booking.status = BookingStatus.CANCEL_REQUESTED
        booking.requested_at = now
        return Outcome(booking)
    booking.status = BookingStatus.CANCELLED
    return Outcome(booking, promote(booking.school_id, activity, day, now))


@transactional
def change_option(
    child: Child, activity: Activity, day: date, option: ActivityOption, now: datetime
) -> Outcome:
    """registered → change-requested (manual) or registered with the new option (automatic)."""
    option = checked_option(activity, option)
    booking = _locked_day(child, activity, day, DayAction.CHANGE_OPTION, now)
    if option.id == booking.option_id:
        raise InvalidTransition("Cette formule est déjà celle réservée.")
    if activity.validation_mode == ValidationMode.MANUAL:
        booking.status = BookingStatus.CHANGE_REQUESTED
        booking.requested_option_id = option.id
        booking.requested_at = now
    else:
        booking.option_id = option.id
    return Outcome(booking)


@transactional
def declare_absence(
    child: Child, activity: Activity, day: date, reason: str, now: datetime
) -> Outcome:
    """Attendance → absence-declared on a booked day, once it can no longer be cancelled,
    up to the end of the day itself (an illness the same morning). Staff then mark it
    justified or not (services.booking.decisions.mark_absence_justified)."""
    booking = _locked_day(child, activity, day, DayAction.DECLARE_ABSENCE, now)
    _mark_declared(booking, reason)
    return Outcome(booking)


@transactional
def withdraw_absence(child: Child, activity: Activity, day: date, now: datetime) -> Outcome:
    """A declared absence taken back (the child comes after all), until the end of the day."""
    booking = _locked_day(child, activity, day, DayAction.WITHDRAW_ABSENCE, now)
    booking.attendance = None
    booking.absence_reason = ""
    return Outcome(booking)


@transactional
def declare_absences(
    child: Child, start: date, end: date, reason: str, now: datetime
) -> list[Booking]:
    """declare_absence's rule over [start, end], for every activity of the child.

    Each booked day where the rule allows it is marked, in one transaction; the others are
    skipped (days still cancellable are cancelled from the calendar instead). Returns the
    bookings marked.
    """
    check_period(start, end)
    rows = bookings_by_key([child.id], None, start, end, lock=True)
    calendar = Calendar.load(start, end, [child.school_id])
    declared = []
    for booking in sorted(rows.values(), key=lambda b: (b.day, b.activity_id)):
        if booking.status not in HOLDS_PLACE or not calendar.day(child.school, booking.day).is_open:
            continue
        if _state_of(booking).refusal(DayAction.DECLARE_ABSENCE, now) is None:
            _mark_declared(booking, reason)
            declared.append(booking)
    return declared


def _state_of(booking: Booking) -> DayState:
    activity = booking.activity
    return DayState(
        activity,
        booking.day,
        cell_status(booking.status),
        booking.attendance,
        len(activity.options),
    )


def _mark_declared(booking: Booking, reason: str) -> None:
    booking.attendance = Attendance.ABSENCE_DECLARED
    booking.absence_reason = reason.strip()[:300]
