"""The booking calendar's transitions (DOMAIN.md), enforced on the server.

One Booking row per child, activity and day, whatever its history: withdrawing, cancelling
or a refusal set it to `cancelled` / `refused` (the cell shows `available` again), and a
new booking reuses the row. Each public function that writes commits its own transaction,
or raises a BookingError (French message) after a rollback, leaving nothing half-written.

Rules:

- the child has an ACCEPTED Registration to the activity for the school year of the day;
- the day is open for the child's school (services.calendar);
- booking before the activity's booking deadline; cancelling or withdrawing before its
  cancel deadline; changing the option before both (it cancels one option and books
  another); after them only declaring an absence is left to the family;
- capacity (Capacity, per school, activity and day; no row means no limit) counts the
  bookings that hold a place: registered, change-requested and cancel-requested. It is
  never exceeded: the Capacity row is locked (SELECT … FOR UPDATE on PostgreSQL) before
  counting, until the commit;
- the waiting list of an automatic activity is its pending bookings of that school and
  day, in requested_at order. A new booking never jumps it: it is registered only when
  places exceed both the places taken and the bookings already waiting. When a place
  frees, the first waiting booking is registered in the same transaction and its family
  alerted; `Outcome.promoted` lists them for the caller.

Locks are always taken in the same order (the family's own booking rows, then the Capacity
row, then the waiting rows), so concurrent requests queue instead of deadlocking.

services.attendance writes bookings too, with the same building blocks: `transactional`,
`lock_booking`, `lock_day_booking`, `checked_option`, `check_day_open`, `write_booking`.
"""

from __future__ import annotations

import enum
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from extensions import db
from models import (
    Activity,
    ActivityOption,
    Attendance,
    Booking,
    BookingStatus,
    Capacity,
    Child,
    Registration,
    RegistrationStatus,
    School,
    SchoolYear,
    ValidationMode,
)
from services import notifications
from services.calendar import (
    Calendar,
    CalendarDay,
    DeadlineKind,
    class_weekdays,
    date_range,
    day_status,
    is_editable,
    month_bounds,
    paris_today,
)
from services.formatting import date_fr

ACTIVE = frozenset(
    {
        BookingStatus.PENDING,
        BookingStatus.REGISTERED,
        BookingStatus.CHANGE_REQUESTED,
        BookingStatus.CANCEL_REQUESTED,
    }
)
HOLDS_PLACE = ACTIVE - {BookingStatus.PENDING}
CANCELLABLE = frozenset({BookingStatus.REGISTERED, BookingStatus.CHANGE_REQUESTED})
MAX_RANGE_DAYS = 366


class CellStatus(enum.StrEnum):
    """A day cell's status, in DOMAIN.md's words."""

    AVAILABLE = "available"
    PENDING = "pending"
    REGISTERED = "registered"
    CHANGE_REQUESTED = "change-requested"
    CANCEL_REQUESTED = "cancel-requested"
    CLOSED = "closed"


# --- Domain errors ----------------------------------------------------------------------


class BookingError(Exception):
    """A refused request; `message` is French, for the family or the agent."""

    default_message = "Cette demande n'a pas pu être enregistrée."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotRegistered(BookingError):
    default_message = "L'enfant n'est pas inscrit à cette prestation pour cette année scolaire."


class DayClosed(BookingError):
    default_message = "Il n'y a pas de service ce jour-là."


class DeadlinePassed(BookingError):
    default_message = "Le délai est dépassé pour ce jour."


class CapacityReached(BookingError):
    default_message = "Il n'y a plus de place ce jour-là."


class InvalidTransition(BookingError):
    default_message = "Cette action n'est pas possible pour ce jour."


# --- Results ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """The booking after a transition, and the waiting bookings it registered."""

    booking: Booking
    promoted: list[Booking] = field(default_factory=list)


@dataclass(frozen=True)
class DayRef:
    """One child's day in a bulk plan; `reason` says why a closed day is closed."""

    child_id: int
    day: date
    reason: str = ""


@dataclass
class BookingPlan:
    """What book_many will do (preview) or did (confirmed): days sorted by outcome."""

    to_book: list[DayRef] = field(default_factory=list)
    already_booked: list[DayRef] = field(default_factory=list)
    closed: list[DayRef] = field(default_factory=list)
    not_registered: list[DayRef] = field(default_factory=list)
    past_deadline: list[DayRef] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    confirmed: bool = False


@dataclass
class CancelPlan:
    """What cancel_many will do (preview) or did (confirmed)."""

    to_cancel: list[DayRef] = field(default_factory=list)
    past_deadline: list[DayRef] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    promoted: list[Booking] = field(default_factory=list)
    confirmed: bool = False


@dataclass(frozen=True)
class Cell:
    """One day of the month grid for one child and one activity."""

    day: date
    status: CellStatus
    editable: bool
    attendance: Attendance | None = None
    reason: str = ""
    option_id: int | None = None
    requested_option_id: int | None = None


@dataclass
class ActivityMonth:
    activity: Activity
    cells: list[Cell]


@dataclass
class ChildMonth:
    child: Child
    activities: list[ActivityMonth]


def transactional(function):
    """Decorate a service that writes: commit what it wrote, or roll it all back and re-raise.

    A concurrent request that wrote the same (child, activity, day) row first becomes an
    InvalidTransition asking to reload the page.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            # the unique (child, activity, day) row was written by a concurrent request
            raise InvalidTransition(
                "Ce jour vient d'être modifié par une autre demande : rechargez la page."
            ) from error
        except Exception:
            db.session.rollback()
            raise
        return result

    return wrapper


# --- Family transitions ----------------------------------------------------------------


@transactional
def book_day(
    child: Child, activity: Activity, day: date, option: ActivityOption | None, now: datetime
) -> Outcome:
    """available → registered (automatic, a place free) or pending (manual, or waiting list).

    `option` None means the activity's default option.
    """
    option = checked_option(activity, option)
    _check_bookable(child, activity, day, now)
    booking = lock_day_booking(child.id, activity.id, day)
    if booking is not None and booking.status in ACTIVE:
        raise InvalidTransition("Ce jour est déjà réservé.")
    status = _new_booking_status(child.school_id, activity, day)
    return Outcome(write_booking(booking, child, activity, day, option, status, now))


@transactional
def withdraw(child: Child, activity: Activity, day: date, now: datetime) -> Outcome:
    """pending → available at once, before the cancel deadline (a pending holds no place)."""
    booking = _booking_in(child, activity, day, {BookingStatus.PENDING})
    _check_deadline(activity, day, now, DeadlineKind.CANCEL)
    booking.status = BookingStatus.CANCELLED
    return Outcome(booking)


@transactional
def cancel(child: Child, activity: Activity, day: date, now: datetime) -> Outcome:
    """registered → available (automatic) or cancel-requested (manual), before the deadline.

    A pending change of option is dropped. Under automatic validation the freed place goes
    to the first waiting booking, in the same transaction.
    """
    booking = _booking_in(child, activity, day, CANCELLABLE)
    _check_deadline(activity, day, now, DeadlineKind.CANCEL)
    booking.requested_option_id = None
    if activity.validation_mode == ValidationMode.MANUAL:
        booking.status = BookingStatus.CANCEL_REQUESTED
        return Outcome(booking)
    booking.status = BookingStatus.CANCELLED
    return Outcome(booking, _promote_waiting(booking.school_id, activity, day, now))


@transactional
def change_option(
    child: Child, activity: Activity, day: date, option: ActivityOption, now: datetime
) -> Outcome:
    """registered → change-requested (manual) or registered with the new option (automatic).

    Allowed before both the booking and the cancel deadlines.
    """
    option = checked_option(activity, option)
    booking = _booking_in(child, activity, day, {BookingStatus.REGISTERED})
    _check_deadline(activity, day, now, DeadlineKind.BOOKING)
    _check_deadline(activity, day, now, DeadlineKind.CANCEL)
    if option.id == booking.option_id:
        raise InvalidTransition("Cette formule est déjà celle réservée.")
    if activity.validation_mode == ValidationMode.MANUAL:
        booking.status = BookingStatus.CHANGE_REQUESTED
        booking.requested_option_id = option.id
    else:
        booking.option_id = option.id
    return Outcome(booking)


@transactional
def declare_absence(
    child: Child, activity: Activity, day: date, reason: str, now: datetime
) -> Outcome:
    """Attendance → absence-declared, on a booked day, after the cancel deadline.

    Rule: once the day can no longer be cancelled, the family can still say the child will
    be (or was) absent, up to the end of the day itself in Paris, e.g. an illness the same
    morning. Before the cancel deadline the family cancels instead (free). Staff then mark
    the absence justified or not (`mark_absence_justified`).
    """
    booking = _booking_in(child, activity, day, HOLDS_PLACE)
    refusal = _absence_refusal(booking, activity, now)
    if refusal is not None:
        raise refusal
    _mark_declared(booking, reason)
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
    _check_period(start, end)
    rows = _bookings_by_key([child.id], None, start, end, lock=True)
    declared = []
    for booking in sorted(rows.values(), key=lambda b: (b.day, b.activity_id)):
        if booking.status in HOLDS_PLACE and not _absence_refusal(booking, booking.activity, now):
            _mark_declared(booking, reason)
            declared.append(booking)
    return declared


def _absence_refusal(booking: Booking, activity: Activity, now: datetime) -> BookingError | None:
    """Why an absence cannot be declared on this booked day now, or None."""
    if is_editable(activity, booking.day, now, DeadlineKind.CANCEL):
        return InvalidTransition(
            "Le délai d'annulation n'est pas encore passé : annulez plutôt la réservation."
        )
    if paris_today(now) > booking.day:
        return DeadlinePassed("Ce jour est passé : l'absence ne peut plus être déclarée.")
    if booking.attendance not in (None, Attendance.ABSENCE_DECLARED):
        return InvalidTransition("La présence de ce jour a déjà été relevée.")
    return None


def _mark_declared(booking: Booking, reason: str) -> None:
    booking.attendance = Attendance.ABSENCE_DECLARED
    booking.absence_reason = reason.strip()[:300]


# --- Staff decisions --------------------------------------------------------------------


@transactional
def approve(booking: Booking, now: datetime) -> Outcome:
    """Staff accept a request, and the family gets an alert.

    pending → registered (a place must be free, CapacityReached otherwise);
    change-requested → registered with the requested option;
    cancel-requested → available, the freed place going to the waiting list.
    """
    booking = lock_booking(booking)
    promoted: list[Booking] = []
    match booking.status:
        case BookingStatus.PENDING:
            _check_place_for(booking)
            booking.status = BookingStatus.REGISTERED
            message = "Réservation confirmée"
        case BookingStatus.CHANGE_REQUESTED:
            booking.option_id = booking.requested_option_id
            booking.status = BookingStatus.REGISTERED
            message = "Changement de formule accepté"
        case BookingStatus.CANCEL_REQUESTED:
            booking.status = BookingStatus.CANCELLED
            promoted = _promote_waiting(booking.school_id, booking.activity, booking.day, now)
            message = "Annulation acceptée"
        case _:
            raise InvalidTransition("Aucune demande n'est en attente pour cette réservation.")
    booking.requested_option_id = None
    _alert(booking, f"{message} : {_describe(booking)}.", now)
    return Outcome(booking, promoted)


@transactional
def refuse(booking: Booking, reason: str, now: datetime) -> Outcome:
    """Staff refuse a request, with a reason sent to the family: pending → available;
    change-requested and cancel-requested → registered as before.
    """
    reason = reason.strip()[:300]
    if not reason:
        raise BookingError("Indiquez le motif du refus.")
    booking = lock_booking(booking)
    if booking.status not in ACTIVE - {BookingStatus.REGISTERED}:
        raise InvalidTransition("Aucune demande n'est en attente pour cette réservation.")
    was_pending = booking.status == BookingStatus.PENDING
    booking.status = BookingStatus.REFUSED if was_pending else BookingStatus.REGISTERED
    booking.requested_option_id = None
    booking.refusal_reason = reason
    label = "Réservation refusée" if was_pending else "Demande refusée"
    _alert(booking, f"{label} : {_describe(booking)}. Motif : {reason}", now)
    return Outcome(booking)


@transactional
def mark_absence_justified(booking: Booking, justified: bool) -> Outcome:
    """Staff decide on a declared absence: absent-justified (not billed) or absent-unjustified."""
    declared = {
        Attendance.ABSENCE_DECLARED,
        Attendance.ABSENT_JUSTIFIED,
        Attendance.ABSENT_UNJUSTIFIED,
    }
    booking = lock_booking(booking)
    if booking.attendance not in declared:
        raise InvalidTransition("Aucune absence n'a été déclarée ce jour-là.")
    booking.attendance = Attendance.ABSENT_JUSTIFIED if justified else Attendance.ABSENT_UNJUSTIFIED
    return Outcome(booking)


@transactional
def promote_waiting_list(
    school_id: int, activity: Activity, day: date, now: datetime
) -> list[Booking]:
    """Give the free places of the day to the waiting list (e.g. after staff add places)."""
    return _promote_waiting(school_id, activity, day, now)


# --- Bulk -------------------------------------------------------------------------------


def book_many(
    children: Sequence[Child],
    activity: Activity,
    option: ActivityOption | None,
    start: date,
    end: date,
    weekdays: Iterable[int],
    now: datetime,
    preview: bool = True,
) -> BookingPlan:
    """Book every `weekdays` day (ISO, 1 = Monday) of [start, end] for each child.

    Preview sorts the days (to book, already booked, closed, not registered, past the
    deadline) and writes nothing; confirm books every bookable day in ONE transaction,
    each registered or pending by book_day's rule.
    """
    option = checked_option(activity, option)
    days = _days_of(start, end, weekdays)
    if preview:
        return _plan_bookings(children, activity, days, now)
    return _confirm_bookings(children, activity, option, days, now)


def cancel_many(
    children: Sequence[Child],
    activity: Activity,
    start: date,
    end: date,
    weekdays: Iterable[int],
    now: datetime,
    preview: bool = True,
) -> CancelPlan:
    """Cancel (or withdraw, when pending) every booked `weekdays` day of [start, end].

    Preview lists what will be cancelled and what is past the cancel deadline; confirm
    applies cancel's or withdraw's rule to each day in ONE transaction.
    """
    days = _days_of(start, end, weekdays)
    if preview:
        plan, _ = _plan_cancels(children, activity, days, now)
        return plan
    return _confirm_cancels(children, activity, days, now)


# --- Month grid -------------------------------------------------------------------------


def month_grid(child_ids: Sequence[int], month: date, now: datetime) -> dict[int, ChildMonth]:
    """The calendar page: per child (in `child_ids` order), per registered activity, per day.

    Runs a fixed number of queries (six) whatever the number of children, activities and
    bookings. A day is `closed` when the calendar closes it for the child's school or the
    child has no accepted registration for its school year; `editable` says whether the
    family can act on it now (book, withdraw, cancel, change) before the deadline.
    """
    first, last = month_bounds(month)
    children = _children(child_ids)
    calendar = Calendar.load(first, last, {child.school_id for child in children.values()})
    registrations = _registrations(child_ids, first, last)
    bookings = _bookings_by_key(child_ids, None, first, last)
    days_of_school: dict[int, list[CalendarDay]] = {}
    grid: dict[int, ChildMonth] = {}
    for child in (children[i] for i in child_ids if i in children):
        if child.school_id not in days_of_school:
            days_of_school[child.school_id] = calendar.days(child.school, first, last)
        days = days_of_school[child.school_id]
        rows = [
            ActivityMonth(activity, _cells(child.id, activity, years, days, bookings, now))
            for activity, years in _activities_of(registrations, child.id)
        ]
        grid[child.id] = ChildMonth(child, rows)
    return grid


def _cells(child_id, activity, years, days, bookings, now) -> list[Cell]:
    return [
        _cell(opening, years, bookings.get((child_id, activity.id, opening.day)), activity, now)
        for opening in days
    ]


def _children(child_ids: Sequence[int]) -> dict[int, Child]:
    found = db.session.scalars(
        select(Child).where(Child.id.in_(list(child_ids))).options(joinedload(Child.school))
    )
    return {child.id: child for child in found}


def _registrations(child_ids: Sequence[int], first: date, last: date) -> list[Registration]:
    """Accepted registrations overlapping the range, with activity, options and school year."""
    return list(
        db.session.scalars(
            select(Registration)
            .join(Registration.school_year)
            .where(
                Registration.child_id.in_(list(child_ids)),
                Registration.status == RegistrationStatus.ACCEPTED,
                SchoolYear.starts_on <= last,
                SchoolYear.ends_on >= first,
            )
            .options(
                joinedload(Registration.school_year),
                joinedload(Registration.activity).selectinload(Activity.options),
            )
        )
    )


def _activities_of(
    registrations: list[Registration], child_id: int
) -> list[tuple[Activity, list[SchoolYear]]]:
    """The child's registered activities, in display order, with their school years."""
    years: dict[Activity, list[SchoolYear]] = defaultdict(list)
    for registration in registrations:
        if registration.child_id == child_id:
            years[registration.activity].append(registration.school_year)
    return sorted(years.items(), key=lambda item: (item[0].sort_order, item[0].name))


def _cell(
    opening: CalendarDay,
    years: list[SchoolYear],
    booking: Booking | None,
    activity: Activity,
    now: datetime,
) -> Cell:
    """Closed, available (editable before the booking deadline) or the booking's status
    (editable before the cancel deadline, except while a cancellation is requested).
    """
    day = opening.day
    if not opening.is_open:
        return Cell(day, CellStatus.CLOSED, False, reason=opening.reason)
    if not any(year.starts_on <= day <= year.ends_on for year in years):
        return Cell(day, CellStatus.CLOSED, False, reason="Non inscrit à cette prestation")
    status = _cell_status(booking)
    if booking is None or status == CellStatus.AVAILABLE:
        return Cell(day, status, is_editable(activity, day, now, DeadlineKind.BOOKING))
    editable = status != CellStatus.CANCEL_REQUESTED and is_editable(
        activity, day, now, DeadlineKind.CANCEL
    )
    return Cell(
        day,
        status,
        editable,
        attendance=booking.attendance,
        option_id=booking.option_id,
        requested_option_id=booking.requested_option_id,
    )


def _cell_status(booking: Booking | None) -> CellStatus:
    if booking is None or booking.status not in ACTIVE:
        return CellStatus.AVAILABLE
    return CellStatus(booking.status.value)


# --- Checks -----------------------------------------------------------------------------


def checked_option(activity: Activity, option: ActivityOption | None) -> ActivityOption | None:
    """The option if it belongs to the activity (BookingError if not); None → the default
    (or first) option, or None when the activity has no option."""
    if option is None:
        options = activity.options
        return next((o for o in options if o.is_default), options[0] if options else None)
    if option.activity_id != activity.id:
        raise BookingError("Cette formule ne correspond pas à cette prestation.")
    return option


def _check_bookable(child: Child, activity: Activity, day: date, now: datetime) -> None:
    if not _is_registered(child.id, activity.id, day):
        raise NotRegistered()
    check_day_open(child.school, day)
    _check_deadline(activity, day, now, DeadlineKind.BOOKING)


def check_day_open(school: School, day: date) -> None:
    """DayClosed, with the calendar's reason, unless the school has its service that day."""
    opening = day_status(school, day)
    if not opening.is_open:
        raise DayClosed(f"Il n'y a pas de service ce jour-là ({opening.reason}).")


def _is_registered(child_id: int, activity_id: int, day: date) -> bool:
    found = db.session.scalar(
        select(Registration.id)
        .join(Registration.school_year)
        .where(
            Registration.child_id == child_id,
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.ACCEPTED,
            SchoolYear.starts_on <= day,
            SchoolYear.ends_on >= day,
        )
        .limit(1)
    )
    return found is not None


def _check_deadline(activity: Activity, day: date, now: datetime, kind: DeadlineKind) -> None:
    if is_editable(activity, day, now, kind):
        return
    if kind == DeadlineKind.BOOKING:
        raise DeadlinePassed("Le délai de réservation est dépassé pour ce jour.")
    raise DeadlinePassed(
        "Le délai d'annulation est dépassé pour ce jour : vous pouvez déclarer une absence."
    )


# --- Rows and places --------------------------------------------------------------------


def lock_day_booking(child_id: int, activity_id: int, day: date) -> Booking | None:
    """The child's row for that activity and day (None if never booked), re-read and locked
    until commit (PostgreSQL)."""
    return db.session.scalar(
        select(Booking)
        .where(
            Booking.child_id == child_id,
            Booking.activity_id == activity_id,
            Booking.day == day,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _booking_in(child: Child, activity: Activity, day: date, statuses) -> Booking:
    booking = lock_day_booking(child.id, activity.id, day)
    if booking is None or booking.status not in statuses:
        raise InvalidTransition()
    return booking


def lock_booking(booking: Booking) -> Booking:
    """The same booking, re-read and locked until commit (PostgreSQL): decide on fresh data."""
    return db.session.scalar(
        select(Booking)
        .where(Booking.id == booking.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _lock_places(school_id: int, activity_id: int) -> int | None:
    """The day capacity, its row locked until commit; None when unlimited (no row)."""
    return db.session.scalar(
        select(Capacity.places)
        .where(Capacity.school_id == school_id, Capacity.activity_id == activity_id)
        .with_for_update()
    )


def _count(school_id: int, activity_id: int, day: date, statuses) -> int:
    return db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.school_id == school_id,
            Booking.activity_id == activity_id,
            Booking.day == day,
            Booking.status.in_(list(statuses)),
        )
    )


def _new_booking_status(school_id: int, activity: Activity, day: date) -> BookingStatus:
    """registered if automatic and places exceed those taken plus those waiting, else pending."""
    if activity.validation_mode == ValidationMode.MANUAL:
        return BookingStatus.PENDING
    places = _lock_places(school_id, activity.id)
    if places is None:
        return BookingStatus.REGISTERED
    taken = _count(school_id, activity.id, day, HOLDS_PLACE | {BookingStatus.PENDING})
    return BookingStatus.REGISTERED if taken < places else BookingStatus.PENDING


def _check_place_for(booking: Booking) -> None:
    places = _lock_places(booking.school_id, booking.activity_id)
    if places is None:
        return
    if _count(booking.school_id, booking.activity_id, booking.day, HOLDS_PLACE) >= places:
        raise CapacityReached("Il n'y a plus de place ce jour-là : la capacité est atteinte.")


def _promote_waiting(school_id: int, activity: Activity, day: date, now: datetime) -> list[Booking]:
    """Register the first waiting bookings (automatic validation) while places are free."""
    if activity.validation_mode != ValidationMode.AUTOMATIC or day < paris_today(now):
        return []
    places = _lock_places(school_id, activity.id)
    free = None if places is None else places - _count(school_id, activity.id, day, HOLDS_PLACE)
    if free is not None and free <= 0:
        return []
    waiting = list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.school_id == school_id,
                Booking.activity_id == activity.id,
                Booking.day == day,
                Booking.status == BookingStatus.PENDING,
            )
            .order_by(Booking.requested_at, Booking.id)
            .limit(free)
            .with_for_update()
        )
    )
    for booking in waiting:
        booking.status = BookingStatus.REGISTERED
        message = f"Une place s'est libérée, réservation confirmée : {_describe(booking)}."
        _alert(booking, message, now)
    return waiting


def write_booking(
    booking: Booking | None,
    child: Child,
    activity: Activity,
    day: date,
    option: ActivityOption | None,
    status: BookingStatus,
    now: datetime,
) -> Booking:
    """A new row, or the day's cancelled/refused row (`booking`, locked by the caller) reused
    as a fresh request; the caller commits."""
    if booking is None:
        booking = Booking(child_id=child.id, activity_id=activity.id, day=day)
        db.session.add(booking)
    booking.school_id = child.school_id
    booking.option_id = option.id if option else None
    booking.requested_option_id = None
    booking.status = status
    booking.attendance = None
    booking.absence_reason = ""
    booking.refusal_reason = ""
    booking.requested_at = now
    return booking


# --- Alerts -----------------------------------------------------------------------------


def _describe(booking: Booking) -> str:
    """« Restaurant scolaire du jeudi 26 novembre 2026 pour Léa »."""
    return f"{booking.activity.name} du {date_fr(booking.day)} pour {booking.child.first_name}"


def _alert(booking: Booking, message: str, now: datetime) -> None:
    """An alert (and its email) to the booking's family, in the caller's transaction."""
    link = f"/reservations/{booking.child_id}/{booking.day:%Y-%m}"
    notifications.notify(booking.child.family, notifications.BOOKING, message, link, now)


# --- Bulk internals ---------------------------------------------------------------------


def _check_period(start: date, end: date) -> None:
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise BookingError("La période choisie n'est pas valide (un an au plus).")


def _days_of(start: date, end: date, weekdays: Iterable[int]) -> list[date]:
    _check_period(start, end)
    wanted = set(weekdays)
    return [day for day in date_range(start, end) if day.isoweekday() in wanted]


def _bookings_by_key(
    child_ids: Iterable[int],
    activity_id: int | None,
    start: date,
    end: date,
    lock: bool = False,
) -> dict[tuple[int, int, date], Booking]:
    """The children's rows in [start, end] (one activity or all) by (child, activity, day)."""
    query = select(Booking).where(
        Booking.child_id.in_(list(child_ids)), Booking.day >= start, Booking.day <= end
    )
    if activity_id is not None:
        query = query.where(Booking.activity_id == activity_id)
    if lock:
        query = query.order_by(Booking.id).with_for_update()
    found = db.session.scalars(query.execution_options(populate_existing=True))
    return {(b.child_id, b.activity_id, b.day): b for b in found}


def _plan_bookings(
    children: Sequence[Child],
    activity: Activity,
    days: list[date],
    now: datetime,
    existing: dict | None = None,
) -> BookingPlan:
    plan = BookingPlan()
    if not days:
        return plan
    calendar = Calendar.load(days[0], days[-1], {child.school_id for child in children})
    child_ids = [child.id for child in children]
    periods = _registered_periods(child_ids, activity.id, days[0], days[-1])
    if existing is None:
        existing = _bookings_by_key(child_ids, activity.id, days[0], days[-1])
    for child in children:
        weekdays = class_weekdays(child.school)
        for day in days:
            opening = calendar.day(child.school, day, weekdays)
            booking = existing.get((child.id, activity.id, day))
            _sort_day(plan, child.id, opening, periods[child.id], booking, activity, now)
    return plan


def _sort_day(
    plan: BookingPlan,
    child_id: int,
    opening: CalendarDay,
    periods: list[tuple[date, date]],
    booking: Booking | None,
    activity: Activity,
    now: datetime,
) -> None:
    ref = DayRef(child_id, opening.day)
    if not opening.is_open:
        plan.closed.append(DayRef(child_id, opening.day, opening.reason))
    elif not any(starts <= opening.day <= ends for starts, ends in periods):
        plan.not_registered.append(ref)
    elif booking is not None and booking.status in ACTIVE:
        plan.already_booked.append(ref)
    elif not is_editable(activity, opening.day, now, DeadlineKind.BOOKING):
        plan.past_deadline.append(ref)
    else:
        plan.to_book.append(ref)


def _registered_periods(
    child_ids: list[int], activity_id: int, start: date, end: date
) -> dict[int, list[tuple[date, date]]]:
    rows = db.session.execute(
        select(Registration.child_id, SchoolYear.starts_on, SchoolYear.ends_on)
        .join(Registration.school_year)
        .where(
            Registration.child_id.in_(child_ids),
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.ACCEPTED,
            SchoolYear.starts_on <= end,
            SchoolYear.ends_on >= start,
        )
    )
    periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for child_id, starts, ends in rows:
        periods[child_id].append((starts, ends))
    return periods


@transactional
def _confirm_bookings(children, activity, option, days, now) -> BookingPlan:
    """Lock the children's rows then the capacities, re-plan, and book every bookable day."""
    if not days:
        return BookingPlan(confirmed=True)
    child_ids = [child.id for child in children]
    existing = _bookings_by_key(child_ids, activity.id, days[0], days[-1], lock=True)
    plan = _plan_bookings(children, activity, days, now, existing)
    status_of = _bulk_status_chooser(children, activity, plan.to_book)
    by_id = {child.id: child for child in children}
    for ref in plan.to_book:
        child = by_id[ref.child_id]
        booking = existing.get((child.id, activity.id, ref.day))
        status = status_of(child.school_id, ref.day)
        plan.bookings.append(write_booking(booking, child, activity, ref.day, option, status, now))
    plan.confirmed = True
    return plan


def _bulk_status_chooser(children, activity, refs: list[DayRef]):
    """book_day's status rule for many days, from one lock and one count query."""
    if activity.validation_mode == ValidationMode.MANUAL or not refs:
        return lambda school_id, day: BookingStatus.PENDING
    school_ids = sorted({child.school_id for child in children})
    places = dict(
        db.session.execute(
            select(Capacity.school_id, Capacity.places)
            .where(Capacity.activity_id == activity.id, Capacity.school_id.in_(school_ids))
            .order_by(Capacity.id)
            .with_for_update()
        ).all()
    )
    taken = _taken_by_day(school_ids, activity.id, refs[0].day, max(r.day for r in refs))

    def choose(school_id: int, day: date) -> BookingStatus:
        limit = places.get(school_id)
        if limit is not None and taken[(school_id, day)] >= limit:
            return BookingStatus.PENDING
        taken[(school_id, day)] += 1
        return BookingStatus.REGISTERED

    return choose


def _taken_by_day(school_ids: list[int], activity_id: int, start: date, end: date) -> Counter:
    """Places taken plus bookings waiting, per (school, day), in one query."""
    rows = db.session.execute(
        select(Booking.school_id, Booking.day, func.count(Booking.id))
        .where(
            Booking.school_id.in_(school_ids),
            Booking.activity_id == activity_id,
            Booking.day >= start,
            Booking.day <= end,
            Booking.status.in_(list(ACTIVE)),
        )
        .group_by(Booking.school_id, Booking.day)
    )
    return Counter({(school_id, day): count for school_id, day, count in rows})


def _plan_cancels(children, activity, days, now, lock: bool = False):
    plan = CancelPlan()
    if not days:
        return plan, []
    wanted = set(days)
    existing = _bookings_by_key(
        [child.id for child in children], activity.id, days[0], days[-1], lock=lock
    )
    targets = []
    for (child_id, _, day), booking in sorted(existing.items(), key=lambda item: item[0]):
        if day not in wanted or booking.status not in CANCELLABLE | {BookingStatus.PENDING}:
            continue
        ref = DayRef(child_id, day)
        if is_editable(activity, day, now, DeadlineKind.CANCEL):
            plan.to_cancel.append(ref)
            targets.append(booking)
        else:
            plan.past_deadline.append(ref)
    return plan, targets


@transactional
def _confirm_cancels(children, activity, days, now) -> CancelPlan:
    """Withdraw the pending days, cancel the booked ones, then refill the freed days."""
    plan, targets = _plan_cancels(children, activity, days, now, lock=True)
    manual = activity.validation_mode == ValidationMode.MANUAL
    freed = set()
    for booking in targets:
        was_pending = booking.status == BookingStatus.PENDING
        booking.requested_option_id = None
        if manual and not was_pending:
            booking.status = BookingStatus.CANCEL_REQUESTED
        else:
            booking.status = BookingStatus.CANCELLED
            if not was_pending:
                freed.add((booking.school_id, booking.day))
        plan.bookings.append(booking)
    for school_id, day in sorted(freed):
        plan.promoted.extend(_promote_waiting(school_id, activity, day, now))
    plan.confirmed = True
    return plan


# --- Nightly: the waiting lists ---------------------------------------------------------


def waiting_days(now: datetime) -> list[tuple[int, Activity, date]]:
    """(school, activity, day) of automatic activities with pending bookings, today onward."""
    rows = db.session.execute(
        select(Booking.school_id, Booking.activity_id, Booking.day)
        .join(Activity, Activity.id == Booking.activity_id)
        .where(
            Booking.status == BookingStatus.PENDING,
            Booking.day >= paris_today(now),
            Activity.validation_mode == ValidationMode.AUTOMATIC,
        )
        .distinct()
        .order_by(Booking.day)
    ).all()
    activities = {a.id: a for a in db.session.scalars(select(Activity))}
    return [(school_id, activities[activity_id], day) for school_id, activity_id, day in rows]


def serve_waiting_lists(now: datetime) -> list[Booking]:
    """Give every free place to the waiting lists (e.g. after staff raised a capacity).

    Each day is its own transaction, so one locked day does not hold the others back.
    """
    promoted: list[Booking] = []
    for school_id, activity, day in waiting_days(now):
        promoted.extend(promote_waiting_list(school_id, activity, day, now))
    return promoted
