"""Many days at once: every chosen weekday of a period, for several children and activities.

The preview sorts each day (to book, already booked, closed, not registered, past the
deadline) and says what each day to book will become — registered, a request for staff
to validate (manual activity) or the waiting list (the day full) — by the same rules as
book_day, without writing. Confirming re-reads everything under lock, books every day
still bookable in ONE transaction, and sends the family ONE alert (and one email) that
sums up what was added and what could not be.

Places are counted per school and day over the whole period, whatever the order of the
children and days: a day already held or refused to the first child never lets the second
take more places than the day has, nor pass ahead of families already waiting.

A registration staff decide (services.registrations) books or cancels its days here too,
in the decision's own transaction (`book_registered_days`, `cancel_registered_days`): the
caller commits and sends the one alert. Staff's decision stands for the family's request,
so on a manual activity these days are not requests again: a day is registered while it
has a free place (else it waits, as on an automatic activity), a cancellation is done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select

from extensions import db
from models import (
    Activity,
    ActivityOption,
    AlertKind,
    BookingStatus,
    Child,
    Registration,
    RegistrationStatus,
    SchoolYear,
    ValidationMode,
)
from services import notifications
from services.booking.errors import BookingError, transactional
from services.booking.places import (
    ACTIVE,
    bookings_by_key,
    check_period,
    checked_option,
    counts_by_day,
    lock_capacities,
    places_of,
    write_booking,
)
from services.booking.results import BookingPlan, CancelPlan, DayRef
from services.booking.waiting_list import promote
from services.calendar import Calendar, DeadlineKind, class_weekdays, date_range, is_editable
from services.formatting import date_fr

Choice = tuple[Activity, ActivityOption | None]
CANCELLABLE = frozenset(
    {BookingStatus.PENDING, BookingStatus.REGISTERED, BookingStatus.CHANGE_REQUESTED}
)


def book_many(
    children: Sequence[Child],
    choices: Sequence[Choice],
    start: date,
    end: date,
    weekdays: Iterable[int],
    now: datetime,
    preview: bool = True,
) -> list[BookingPlan]:
    """Book every `weekdays` day (ISO, 1 = Monday) of [start, end], for each child and each
    (activity, option) chosen; one plan per activity."""
    choices = _checked_choices(choices)
    days = days_of(start, end, weekdays)
    if preview:
        return _plan_all(children, choices, days, now, lock=False)[0]
    return _confirm_bookings(children, choices, days, now)


def cancel_many(
    children: Sequence[Child],
    activities: Sequence[Activity],
    start: date,
    end: date,
    weekdays: Iterable[int],
    now: datetime,
    preview: bool = True,
) -> list[CancelPlan]:
    """Cancel (or withdraw, when pending) every booked `weekdays` day of [start, end]."""
    days = days_of(start, end, weekdays)
    activities = sorted(activities, key=lambda activity: activity.id)  # the lock order
    if preview:
        return [_plan_cancels(children, activity, days, now)[0] for activity in activities]
    return _confirm_cancels(children, activities, days, now)


def book_registered_days(
    child: Child,
    activity: Activity,
    option: ActivityOption | None,
    start: date,
    end: date,
    weekdays: Iterable[int],
    now: datetime,
) -> BookingPlan:
    """Book the `weekdays` days of [start, end] for a registration staff just accepted, with
    the rules of book_many (closures, deadline, capacity, the waiting list) and no alert;
    the caller has set the registration accepted and commits (or rolls back) it all."""
    choices = _checked_choices([(activity, option)])
    days = days_of(start, end, weekdays)
    lock_capacities([(child.school_id, activity.id)])
    plans, existing = _plan_all([child], choices, days, now, lock=True, decided=True)
    _write_plans(plans, existing, {child.id: child}, now)
    return plans[0]


def cancel_registered_days(
    child: Child, activity: Activity, start: date, end: date, now: datetime
) -> CancelPlan:
    """Cancel the child's days of the activity in [start, end] that are still before the
    cancel deadline, for a de-registration staff just accepted: pending days withdrawn,
    booked and cancel-requested ones cancelled (never a request again), freed places given
    to the waiting list; days past the deadline stay booked. No alert; the caller commits."""
    days = days_of(start, end, range(1, 8))
    lock_capacities([(child.school_id, activity.id)])
    return _confirm_cancel([child], activity, days, now, decided=True)


def days_of(start: date, end: date, weekdays: Iterable[int]) -> list[date]:
    check_period(start, end)
    wanted = set(weekdays)
    return [day for day in date_range(start, end) if day.isoweekday() in wanted]


def _checked_choices(choices: Sequence[Choice]) -> list[Choice]:
    if not choices:
        raise BookingError("Choisissez au moins une prestation.")
    if len({activity.id for activity, _ in choices}) < len(choices):
        raise BookingError("Choisissez une seule formule par prestation.")
    # In activity id order: two requests lock the capacities in the same order, never crossed.
    ordered = sorted(choices, key=lambda choice: choice[0].id)
    return [(activity, checked_option(activity, option)) for activity, option in ordered]


# --- Booking ----------------------------------------------------------------------------


def _plan_all(children, choices, days, now, lock: bool, decided: bool = False):
    """One plan per activity, each day to book given the status it gets (or will get), and
    the children's rows of the period (locked when `lock`, after the capacities)."""
    if not days:
        return [BookingPlan(activity, option) for activity, option in choices], {}
    child_ids = [child.id for child in children]
    existing = bookings_by_key(child_ids, None, days[0], days[-1], lock=lock)
    calendar = Calendar.load(days[0], days[-1], {child.school_id for child in children})
    plans = [
        _plan(children, activity, option, days, now, existing, calendar)
        for activity, option in choices
    ]
    school_ids = sorted({child.school_id for child in children})
    for plan in plans:
        _choose_statuses(plan, children, school_ids, lock, decided)
    return plans, existing


def _plan(children, activity, option, days, now, existing, calendar) -> BookingPlan:
    plan = BookingPlan(activity, option)
    periods = _registered_periods([child.id for child in children], activity.id, days)
    for child in children:
        weekdays = class_weekdays(child.school)
        for day in days:
            opening = calendar.day(child.school, day, weekdays)
            booking = existing.get((child.id, activity.id, day))
            _sort_day(plan, child.id, opening, periods.get(child.id, []), booking, now)
    return plan


def _sort_day(plan: BookingPlan, child_id, opening, periods, booking, now) -> None:
    ref = DayRef(child_id, opening.day)
    if not opening.is_open:
        plan.closed.append(DayRef(child_id, opening.day, opening.reason))
    elif not any(starts <= opening.day <= ends for starts, ends in periods):
        plan.not_registered.append(ref)
    elif booking is not None and booking.status in ACTIVE:
        plan.already_booked.append(ref)
    elif not is_editable(plan.activity, opening.day, now, DeadlineKind.BOOKING):
        plan.past_deadline.append(ref)
    else:
        plan.to_book.append(ref)


def _choose_statuses(plan: BookingPlan, children, school_ids, lock: bool, decided: bool) -> None:
    """book_day's status rule for every day to book, from one count query per activity:
    registered while the places exceed those taken plus those waiting, else pending; on a
    manual activity every day is pending (a request), unless staff `decided` already."""
    activity = plan.activity
    manual = activity.validation_mode == ValidationMode.MANUAL and not decided
    if manual or not plan.to_book:
        plan.to_book = [_with_status(ref, BookingStatus.PENDING) for ref in plan.to_book]
        return
    places = places_of(school_ids, activity.id, lock)
    first = min(ref.day for ref in plan.to_book)
    last = max(ref.day for ref in plan.to_book)
    taken = counts_by_day(school_ids, activity.id, first, last, ACTIVE)
    school_of = {child.id: child.school_id for child in children}
    chosen = []
    for ref in plan.to_book:
        key = (school_of[ref.child_id], ref.day)
        limit = places.get(key[0])
        full = limit is not None and taken[key] >= limit
        taken[key] += 1
        chosen.append(
            _with_status(ref, BookingStatus.PENDING if full else BookingStatus.REGISTERED)
        )
    plan.to_book = chosen


def _registered_periods(child_ids, activity_id, days) -> dict[int, list[tuple[date, date]]]:
    """Per child, the school years of its accepted registrations to the activity."""
    rows = db.session.execute(
        select(Registration.child_id, SchoolYear.starts_on, SchoolYear.ends_on)
        .join(Registration.school_year)
        .where(
            Registration.child_id.in_(child_ids),
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.ACCEPTED,
            SchoolYear.starts_on <= days[-1],
            SchoolYear.ends_on >= days[0],
        )
    )
    periods: dict[int, list[tuple[date, date]]] = {}
    for child_id, starts, ends in rows:
        periods.setdefault(child_id, []).append((starts, ends))
    return periods


def _with_status(ref: DayRef, status: BookingStatus) -> DayRef:
    return DayRef(ref.child_id, ref.day, ref.reason, status)


@transactional
def _confirm_bookings(children, choices, days, now) -> list[BookingPlan]:
    """Lock the capacities then the children's rows, re-plan, and book every bookable day."""
    lock_capacities((c.school_id, activity.id) for c in children for activity, _ in choices)
    plans, existing = _plan_all(children, choices, days, now, lock=True)
    if not days:
        return plans
    by_id = {child.id: child for child in children}
    _write_plans(plans, existing, by_id, now)
    _alert_family(children, _booking_summary(plans, by_id), days[0], now)
    return plans


def _write_plans(plans: list[BookingPlan], existing, by_id: dict[int, Child], now) -> None:
    """Write every day to book of the plans (rows locked by the caller), in its status."""
    for plan in plans:
        for ref in plan.to_book:
            booking = existing.get((ref.child_id, plan.activity.id, ref.day))
            child = by_id[ref.child_id]
            written = write_booking(
                booking, child, plan.activity, ref.day, plan.option, ref.status, now
            )
            plan.bookings.append(written)
        plan.confirmed = True


# --- Cancelling -------------------------------------------------------------------------


def _plan_cancels(children, activity, days, now, lock: bool = False, decided: bool = False):
    """The days to cancel: those `CANCELLABLE` (and the cancel-requested ones when staff
    `decided` the cancellation), open and before the cancel deadline."""
    statuses = CANCELLABLE | {BookingStatus.CANCEL_REQUESTED} if decided else CANCELLABLE
    plan = CancelPlan(activity)
    if not days:
        return plan, []
    wanted = set(days)
    existing = bookings_by_key(
        [child.id for child in children], activity.id, days[0], days[-1], lock=lock
    )
    calendar = Calendar.load(days[0], days[-1], {child.school_id for child in children})
    school_of = {child.id: child.school for child in children}
    targets = []
    for (child_id, _, day), booking in sorted(existing.items(), key=lambda item: item[0]):
        if day not in wanted or booking.status not in statuses:
            continue
        ref = DayRef(child_id, day)
        opening = calendar.day(school_of[child_id], day)
        if not opening.is_open:  # a closed day offers nothing, as on the day page
            plan.closed.append(DayRef(child_id, day, opening.reason))
        elif is_editable(activity, day, now, DeadlineKind.CANCEL):
            plan.to_cancel.append(ref)
            targets.append(booking)
        else:
            plan.past_deadline.append(ref)
    return plan, targets


@transactional
def _confirm_cancels(children, activities, days, now) -> list[CancelPlan]:
    lock_capacities((child.school_id, activity.id) for child in children for activity in activities)
    plans = [_confirm_cancel(children, activity, days, now) for activity in activities]
    if days:
        by_id = {child.id: child for child in children}
        _alert_family(children, _cancel_summary(plans, by_id), days[0], now)
    return plans


def _confirm_cancel(children, activity, days, now, decided: bool = False) -> CancelPlan:
    """Withdraw the pending days, cancel the booked ones (on a manual activity, ask staff,
    unless they `decided` already), then refill the freed days."""
    plan, targets = _plan_cancels(children, activity, days, now, lock=True, decided=decided)
    manual = activity.validation_mode == ValidationMode.MANUAL and not decided
    freed = set()
    for booking in targets:
        was_pending = booking.status == BookingStatus.PENDING
        booking.requested_option_id = None
        if manual and not was_pending:
            booking.status = BookingStatus.CANCEL_REQUESTED
            booking.requested_at = now
        else:
            booking.status = BookingStatus.CANCELLED
            if not was_pending:
                freed.add((booking.school_id, booking.day))
        plan.bookings.append(booking)
    for school_id, day in sorted(freed):
        plan.promoted.extend(promote(school_id, activity, day, now))
    plan.confirmed = True
    return plan


# --- The family's summary ---------------------------------------------------------------


def _alert_family(children, lines: list[str], first_day: date, now: datetime) -> None:
    if not children or not lines:
        return
    link = f"/reservations/{children[0].id}/{first_day:%Y-%m}"
    notifications.notify(children[0].family, AlertKind.BOOKING, " ".join(lines), link, now)


def _booking_summary(plans: list[BookingPlan], by_id: dict[int, Child]) -> list[str]:
    lines = []
    for plan in plans:
        name = _activity_label(plan.activity, plan.option)
        parts = [
            _count_phrase(plan.registered, "jour réservé", "jours réservés", by_id),
            _count_phrase(plan.requested, "demande à valider", "demandes à valider", by_id),
            _count_phrase(plan.waiting, "en liste d'attente", "en liste d'attente", by_id),
            _count_phrase(plan.past_deadline, "délai dépassé", "délai dépassé", by_id),
        ]
        parts = [part for part in parts if part]
        if parts:
            lines.append(f"{name} : {', '.join(parts)}.")
    return ["Réservation de plusieurs jours."] + lines if lines else []


def _cancel_summary(plans: list[CancelPlan], by_id: dict[int, Child]) -> list[str]:
    lines = []
    for plan in plans:
        done = [DayRef(b.child_id, b.day) for b in plan.bookings]
        parts = [
            _count_phrase(done, "jour annulé ou en demande", "jours annulés ou en demande", by_id),
            _count_phrase(plan.past_deadline, "délai dépassé", "délai dépassé", by_id),
        ]
        parts = [part for part in parts if part]
        if parts:
            lines.append(f"{plan.activity.name} : {', '.join(parts)}.")
    return ["Annulation de plusieurs jours."] + lines if lines else []


def _count_phrase(refs: list[DayRef], one: str, several: str, by_id: dict[int, Child]) -> str:
    if not refs:
        return ""
    names = sorted({by_id[ref.child_id].first_name for ref in refs})
    first, last = min(ref.day for ref in refs), max(ref.day for ref in refs)
    span = (
        date_fr(first, "d MMMM")
        if first == last
        else (f"du {date_fr(first, 'd MMMM')} au {date_fr(last, 'd MMMM')}")
    )
    return f"{len(refs)} {one if len(refs) == 1 else several} ({' et '.join(names)}, {span})"


def _activity_label(activity: Activity, option: ActivityOption | None) -> str:
    return f"{activity.name} — {option.label}" if option else activity.name
