"""SECURITY.md check 28: concurrent requests for the last place, on PostgreSQL row locks."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app import create_app
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


@pytest.fixture
def race_app(app, database_url, tmp_path):
    """A second app on the same database with a pool wide enough for every racer at once."""
    other = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 1, "max_overflow": 0},
            "UPLOAD_FOLDER": str(tmp_path / "race-uploads"),
        }
    )
    yield other
    with other.app_context():
        db.engine.dispose()


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
