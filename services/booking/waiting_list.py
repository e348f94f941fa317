"""The waiting lists: places that free up go to the oldest request, never to a closed day.

The waiting list of an automatic activity is its pending bookings of one school and day,
in requested_at order (first come, first served). A new booking never jumps it
(places.new_booking_status). When a place frees (a cancellation, a refused or withdrawn
request, more places), the first waiting bookings are registered in the same transaction
and their families alerted.

A day that closed after a request was made (a strike, a closure entered by staff) never
confirms it: the day's pending requests, of any activity, end as refused with the
closure's reason, and their families are told.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from extensions import db
from models import Activity, Booking, BookingStatus, School, ValidationMode
from services.booking.errors import transactional
from services.booking.places import HOLDS_PLACE, alert, count, describe, lock_places
from services.calendar import Calendar, day_status, paris_today


def promote(school_id: int, activity: Activity, day: date, now: datetime) -> list[Booking]:
    """Register the first waiting bookings (automatic validation) while places are free;
    the caller commits. On a closed day the waiting requests end instead."""
    if activity.validation_mode != ValidationMode.AUTOMATIC or day < paris_today(now):
        return []
    places = lock_places(school_id, activity.id)
    free = None if places is None else places - count(school_id, activity.id, day, HOLDS_PLACE)
    if free is not None and free <= 0:
        return []
    waiting = _lock_waiting(school_id, activity.id, day)
    if not waiting:
        return []
    opening = day_status(db.session.get(School, school_id), day)
    if not opening.is_open:
        end_on_closed_day(waiting, opening.reason, now)
        return []
    promoted = waiting if free is None else waiting[:free]
    for booking in promoted:
        booking.status = BookingStatus.REGISTERED
        message = f"Une place s'est libérée, réservation confirmée : {describe(booking)}."
        alert(booking, message, now)
    return promoted


def _lock_waiting(school_id: int, activity_id: int, day: date) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.school_id == school_id,
                Booking.activity_id == activity_id,
                Booking.day == day,
                Booking.status == BookingStatus.PENDING,
            )
            .order_by(Booking.requested_at, Booking.id)
            .with_for_update()
        )
    )


def first_waiting(booking: Booking) -> Booking | None:
    """The oldest waiting booking of `booking`'s school, activity and day."""
    return db.session.scalar(
        select(Booking)
        .where(
            Booking.school_id == booking.school_id,
            Booking.activity_id == booking.activity_id,
            Booking.day == booking.day,
            Booking.status == BookingStatus.PENDING,
        )
        .order_by(Booking.requested_at, Booking.id)
        .limit(1)
    )


def end_on_closed_day(requests: list[Booking], reason: str, now: datetime) -> None:
    """End pending requests of a day that closed, telling each family why."""
    for booking in requests:
        booking.status = BookingStatus.REFUSED
        booking.refusal_reason = f"Jour fermé : {reason}"[:300]
        alert(
            booking, f"Demande close, le service est fermé ({reason}) : {describe(booking)}.", now
        )


@transactional
def promote_waiting_list(
    school_id: int, activity: Activity, day: date, now: datetime
) -> list[Booking]:
    """Give the free places of the day to the waiting list (e.g. after staff add places)."""
    return promote(school_id, activity, day, now)


@transactional
def end_requests_on_closed_days(now: datetime) -> list[Booking]:
    """End every pending request, today onward, whose day is now closed for its school."""
    pending = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.PENDING, Booking.day >= paris_today(now))
            .order_by(Booking.id)
            .with_for_update()
        )
    )
    if not pending:
        return []
    calendar = Calendar.load(min(b.day for b in pending), max(b.day for b in pending))
    ended = []
    for booking in pending:
        opening = calendar.day(booking.school, booking.day)
        if not opening.is_open:
            end_on_closed_day([booking], opening.reason, now)
            ended.append(booking)
    return ended


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
    """End the requests of days that closed, then give every free place to the waiting
    lists (e.g. after staff raised a capacity).

    Each day is its own transaction, so one locked day does not hold the others back.
    """
    end_requests_on_closed_days(now)
    promoted: list[Booking] = []
    for school_id, activity, day in waiting_days(now):
        promoted.extend(promote_waiting_list(school_id, activity, day, now))
    return promoted
