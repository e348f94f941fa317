"""SECURITY.md check 28: concurrent requests for the last place, on PostgreSQL row locks."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Activity, Booking, BookingStatus, Child
from services import booking as svc
from tests import factories

pytestmark = pytest.mark.postgres_only

DAY = date(2026, 11, 19)
NOW = datetime(2026, 11, 9, 8, 0)
RACERS = 20


@pytest.fixture
def last_place(app):
    """A canteen with 3 places, 2 taken, and 20 registered children who all want the third."""
    year = factories.school_year()
    canteen = factories.activity()
    factories.capacity(factories.school(), canteen, 3)
    early = factories.family_with_children(app, "famille.tot", children=2).children
    racers = factories.family_with_children(app, "famille.course", children=RACERS).children
    for child in [*early, *racers]:
        factories.registration(child, canteen, year)
    for child in early:
        factories.booking(child, canteen, DAY)
    return canteen.id, [child.id for child in racers]


def taken(activity_id: int) -> int:
    return db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.activity_id == activity_id,
            Booking.day == DAY,
            Booking.status.in_(list(svc.HOLDS_PLACE)),
        )
    )


def test_twenty_requests_for_the_last_place_register_exactly_one(app, race_app, last_place):
    activity_id, child_ids = last_place
    start = threading.Barrier(RACERS)

    def book(child_id: int) -> BookingStatus:
        with race_app.app_context():
            child = db.session.get(Child, child_id)
            activity = db.session.get(Activity, activity_id)
            assert child.school_id and activity.options  # loaded before the start
            db.session.rollback()
            start.wait(timeout=30)
            return svc.book_day(child, activity, DAY, None, NOW).booking.status

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(book, child_ids))

    assert statuses.count(BookingStatus.REGISTERED) == 1
    assert statuses.count(BookingStatus.PENDING) == RACERS - 1
    db.session.expire_all()
    assert taken(activity_id) == 3


def test_cancelling_while_others_book_never_exceeds_capacity(app, race_app, last_place):
    activity_id, child_ids = last_place
    holder = db.session.scalar(select(Booking).where(Booking.activity_id == activity_id))
    holder_id = holder.child_id
    start = threading.Barrier(RACERS + 1)

    def act(child_id: int) -> None:
        with race_app.app_context():
            child = db.session.get(Child, child_id)
            activity = db.session.get(Activity, activity_id)
            assert child.school_id and activity.options
            db.session.rollback()
            start.wait(timeout=30)
            if child_id == holder_id:
                svc.cancel(child, activity, DAY, NOW)
            else:
                svc.book_day(child, activity, DAY, None, NOW)

    with ThreadPoolExecutor(max_workers=RACERS + 1) as pool:
        list(pool.map(act, [holder_id, *child_ids]))

    db.session.expire_all()
    # the last place and the freed one both went to racers, in request order
    assert taken(activity_id) == 3
    waiting = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.status == BookingStatus.PENDING)
    )
    assert waiting == RACERS - 2


# --- Many days for several children, racing single days (issue 7, point 1) ---------------

WEEK = [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 19), date(2026, 11, 20)]
WEEKDAYS = {1, 2, 4, 5}  # no class on Wednesday 18
PLACES = 3
FAMILIES = 4  # each books the week for its two children in one request
DAY_BY_DAY = 8  # children booked one day at a time, each day its own request


def place_rows(activity_id: int, day: date) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.activity_id == activity_id, Booking.day == day)
            .order_by(Booking.id)
        )
    )


@pytest.fixture
def crowded_week(app):
    """A canteen with 3 places a day; 4 families of two children and 8 other children,
    all registered, nothing booked yet."""
    year = factories.school_year()
    canteen = factories.activity()
    factories.capacity(factories.school(), canteen, PLACES)
    pairs = [
        factories.family_with_children(app, f"famille.semaine{n}", children=2).children
        for n in range(FAMILIES)
    ]
    singles = factories.family_with_children(app, "famille.jour", children=DAY_BY_DAY).children
    for child in [*(child for pair in pairs for child in pair), *singles]:
        factories.registration(child, canteen, year)
    return canteen.id, [[child.id for child in pair] for pair in pairs], [c.id for c in singles]


def loaded(child_ids: list[int], activity_id: int) -> tuple[list[Child], Activity]:
    """The children and the activity, loaded (in the thread's own session) before the start,
    the read transaction then ended so that no racer waits on a snapshot."""
    children = [db.session.get(Child, child_id) for child_id in child_ids]
    activity = db.session.get(Activity, activity_id)
    assert all(child.school_id for child in children) and activity.options
    db.session.rollback()
    return children, activity


def test_many_days_racing_single_days_keep_capacity_and_order(app, race_app, crowded_week):
    """4 families book the week for two children at once while 8 children book it day by
    day, all at the same moment: every request ends registered, waiting or refused with a
    French reason; each day gives exactly its 3 places; nobody registered was served after
    a request that was told to wait; the waiting list then serves in that order."""
    activity_id, pairs, singles = crowded_week
    start = threading.Barrier(FAMILIES + DAY_BY_DAY)

    def book_week(child_ids: list[int]) -> dict:
        with race_app.app_context():
            children, activity = loaded(child_ids, activity_id)
            start.wait(timeout=30)
            try:
                (plan,) = svc.book_many(
                    children, [(activity, None)], WEEK[0], WEEK[-1], WEEKDAYS, NOW, preview=False
                )
            except svc.BookingError as error:
                return {(child_id, day): error for child_id in child_ids for day in WEEK}
            assert not (plan.closed or plan.not_registered or plan.past_deadline)
            return {(ref.child_id, ref.day): ref.status for ref in plan.to_book}

    def book_days(index: int) -> dict:
        child_id = singles[index]
        with race_app.app_context():
            (child,), activity = loaded([child_id], activity_id)
            start.wait(timeout=30)
            answers = {}
            for day in WEEK[index % 4 :] + WEEK[: index % 4]:  # each racer its own order
                try:
                    answers[(child_id, day)] = svc.book_day(
                        child, activity, day, None, NOW
                    ).booking.status
                except svc.BookingError as error:
                    answers[(child_id, day)] = error
            return answers

    with ThreadPoolExecutor(max_workers=FAMILIES + DAY_BY_DAY) as pool:
        many = [pool.submit(book_week, pair) for pair in pairs]
        single = [pool.submit(book_days, index) for index in range(DAY_BY_DAY)]
        answers = {}
        for future in [*many, *single]:
            answers.update(future.result())  # any other exception fails the test here

    asked = {(child_id, day) for pair in pairs for child_id in pair for day in WEEK}
    asked |= {(child_id, day) for child_id in singles for day in WEEK}
    assert set(answers) == asked
    db.session.expire_all()
    for day in WEEK:
        rows = place_rows(activity_id, day)
        status = {row.child_id: row.status for row in rows}
        for (child_id, answered_day), answer in answers.items():
            if answered_day != day:
                continue
            if isinstance(answer, svc.BookingError):
                assert status.get(child_id) not in svc.ACTIVE, answer.message
            else:
                assert answer in (BookingStatus.REGISTERED, BookingStatus.PENDING)
                assert status[child_id] == answer  # what the family was told is what holds
        registered = [row.id for row in rows if row.status == BookingStatus.REGISTERED]
        waiting = [row.id for row in rows if row.status == BookingStatus.PENDING]
        assert len(registered) == PLACES, f"{day}: {len(registered)} places given"
        # Ids are drawn under the day's lock, in the order requests were served: nobody
        # got a place after a request that was told to wait.
        assert max(registered) < min(waiting), f"{day}: registered {registered}, {waiting}"

    # The waiting list serves in that order: a freed place goes to the first who waited.
    for day in WEEK:
        holder = place_rows(activity_id, day)[0]
        first = min(
            (row for row in place_rows(activity_id, day) if row.status == BookingStatus.PENDING),
            key=lambda row: (row.requested_at, row.id),
        )
        outcome = svc.cancel(holder.child, holder.activity, day, NOW)
        assert [booking.id for booking in outcome.promoted] == [first.id]


@pytest.fixture
def waiting_families(app):
    """A canteen with 3 places a day, held all week by 3 children who will cancel; 4
    families wait, their first child on the waiting list of every day (family 0 asked
    first), their second child not booked yet."""
    year = factories.school_year()
    canteen = factories.activity()
    factories.capacity(factories.school(), canteen, PLACES)
    holders = factories.family_with_children(app, "famille.titulaire", children=PLACES).children
    pairs = [
        factories.family_with_children(app, f"famille.attente{n}", children=2).children
        for n in range(FAMILIES)
    ]
    for child in [*holders, *(child for pair in pairs for child in pair)]:
        factories.registration(child, canteen, year)
    for day in WEEK:
        for child in holders:
            factories.booking(child, canteen, day)
        for n, (first, _) in enumerate(pairs):
            asked = datetime(2026, 11, 2, 8, n)
            factories.booking(first, canteen, day, BookingStatus.PENDING, requested_at=asked)
    return canteen.id, [c.id for c in holders], [[child.id for child in pair] for pair in pairs]


def test_cancellations_racing_many_days_of_waiting_families(app, race_app, waiting_families):
    """The 3 holders cancel their week while the 4 waiting families book the week for both
    children, all at the same moment: nothing fails (each request is legitimate), and each
    day ends exactly as if they had come one by one — the 3 freed places to the first child of
    families 0, 1 and 2 (who asked first), everyone else waiting."""
    activity_id, holders, pairs = waiting_families
    start = threading.Barrier(len(holders) + FAMILIES)

    def cancel_week(child_id: int) -> None:
        with race_app.app_context():
            children, activity = loaded([child_id], activity_id)
            start.wait(timeout=30)
            svc.cancel_many(children, [activity], WEEK[0], WEEK[-1], WEEKDAYS, NOW, preview=False)

    def book_week(child_ids: list[int]) -> None:
        with race_app.app_context():
            children, activity = loaded(child_ids, activity_id)
            start.wait(timeout=30)
            svc.book_many(
                children, [(activity, None)], WEEK[0], WEEK[-1], WEEKDAYS, NOW, preview=False
            )

    with ThreadPoolExecutor(max_workers=len(holders) + FAMILIES) as pool:
        futures = [("cancel_many", pool.submit(cancel_week, child_id)) for child_id in holders]
        futures += [("book_many", pool.submit(book_week, pair)) for pair in pairs]
        failures = []
        for name, future in futures:
            try:
                future.result()
            except Exception as error:  # every request here is legitimate: none may fail
                failures.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
    assert not failures, failures

    db.session.expire_all()
    firsts = [first for first, _ in pairs]
    seconds = [second for _, second in pairs]
    for day in WEEK:
        status = {row.child_id: row.status for row in place_rows(activity_id, day)}
        assert {c for c, s in status.items() if s == BookingStatus.REGISTERED} == set(firsts[:3])
        waiting = {c for c, s in status.items() if s == BookingStatus.PENDING}
        assert waiting == {firsts[3], *seconds}, day
