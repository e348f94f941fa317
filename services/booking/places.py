"""Booking rows, places and the checks every transition shares.

Capacity (Capacity, per school, activity and day; no row means no limit) counts the
bookings that hold a place: registered, change-requested and cancel-requested. The
Capacity row is locked (SELECT … FOR UPDATE on PostgreSQL) before counting, until the
commit, so two requests never both take the last place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, select, tuple_

from extensions import db
from models import (
    Activity,
    ActivityOption,
    AlertKind,
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
from services.booking.errors import BookingError, CapacityReached, DayClosed, NotRegistered
from services.calendar import day_status
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
MAX_RANGE_DAYS = 366


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


def check_period(start: date, end: date) -> None:
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise BookingError("La période choisie n'est pas valide (un an au plus).")


def check_day_open(school: School, day: date) -> None:
    """DayClosed, with the calendar's reason, unless the school has its service that day."""
    opening = day_status(school, day)
    if not opening.is_open:
        raise DayClosed(f"Il n'y a pas de service ce jour-là ({opening.reason}).")


def check_registered(child: Child, activity: Activity, day: date) -> None:
    if not is_registered(child.id, activity.id, day):
        raise NotRegistered()


def is_registered(child_id: int, activity_id: int, day: date) -> bool:
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


# --- Rows -------------------------------------------------------------------------------


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


def lock_booking(booking: Booking) -> Booking:
    """The same booking, re-read and locked until commit (PostgreSQL): decide on fresh data."""
    return db.session.scalar(
        select(Booking)
        .where(Booking.id == booking.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def bookings_by_key(
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


# --- Places -----------------------------------------------------------------------------


def lock_capacities(pairs: Iterable[tuple[int, int]]) -> None:
    """Lock the Capacity rows of these (school, activity) pairs, in id order, FIRST in any
    transaction that may take or free places: booking rows are locked only after them, so a
    cancellation promoting the waiting rows of a family and that family booking more days
    queue one behind the other instead of deadlocking."""
    pairs = set(pairs)
    if not pairs:
        return
    db.session.execute(
        select(Capacity.id)
        .where(tuple_(Capacity.school_id, Capacity.activity_id).in_(sorted(pairs)))
        .order_by(Capacity.id)
        .with_for_update()
    ).all()


def lock_places(school_id: int, activity_id: int) -> int | None:
    """The day capacity, its row locked until commit; None when unlimited (no row)."""
    return db.session.scalar(
        select(Capacity.places)
        .where(Capacity.school_id == school_id, Capacity.activity_id == activity_id)
        .with_for_update()
    )


def places_of(school_ids: Iterable[int], activity_id: int, lock: bool) -> dict[int, int]:
    """The capacities of several schools (locked in id order when `lock`); a school without
    one is absent (no limit)."""
    query = (
        select(Capacity.school_id, Capacity.places)
        .where(Capacity.activity_id == activity_id, Capacity.school_id.in_(list(school_ids)))
        .order_by(Capacity.id)
    )
    if lock:
        query = query.with_for_update()
    return dict(db.session.execute(query).all())


def count(school_id: int, activity_id: int, day: date, statuses) -> int:
    return db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.school_id == school_id,
            Booking.activity_id == activity_id,
            Booking.day == day,
            Booking.status.in_(list(statuses)),
        )
    )


def counts_by_day(
    school_ids: Iterable[int], activity_id: int, start: date, end: date, statuses
) -> Counter:
    """Bookings in `statuses` per (school, day) over [start, end], in one query."""
    rows = db.session.execute(
        select(Booking.school_id, Booking.day, func.count(Booking.id))
        .where(
            Booking.school_id.in_(list(school_ids)),
            Booking.activity_id == activity_id,
            Booking.day >= start,
            Booking.day <= end,
            Booking.status.in_(list(statuses)),
        )
        .group_by(Booking.school_id, Booking.day)
    )
    return Counter({(school_id, day): number for school_id, day, number in rows})


def new_booking_status(school_id: int, activity: Activity, day: date) -> BookingStatus:
    """registered if automatic and places exceed those taken plus those waiting, else pending:
    a new request never passes ahead of the waiting list."""
    if activity.validation_mode == ValidationMode.MANUAL:
        return BookingStatus.PENDING
    places = lock_places(school_id, activity.id)
    if places is None:
        return BookingStatus.REGISTERED
    taken = count(school_id, activity.id, day, ACTIVE)
    return BookingStatus.REGISTERED if taken < places else BookingStatus.PENDING


def check_place_for(booking: Booking) -> None:
    places = lock_places(booking.school_id, booking.activity_id)
    if places is None:
        return
    if count(booking.school_id, booking.activity_id, booking.day, HOLDS_PLACE) >= places:
        raise CapacityReached("Il n'y a plus de place ce jour-là : la capacité est atteinte.")


# --- Alerts -----------------------------------------------------------------------------


def describe(booking: Booking) -> str:
    """« Restaurant scolaire du jeudi 26 novembre 2026 pour Léa »."""
    return f"{booking.activity.name} du {date_fr(booking.day)} pour {booking.child.first_name}"


def month_link(booking: Booking) -> str:
    return f"/reservations/{booking.child_id}/{booking.day:%Y-%m}"


def alert(booking: Booking, message: str, now: datetime) -> None:
    """An alert (and its email) to the booking's family, in the caller's transaction."""
    notifications.notify(booking.child.family, AlertKind.BOOKING, message, month_link(booking), now)
