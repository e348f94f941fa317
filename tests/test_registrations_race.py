"""Two agents accept registrations at the same moment: the usual days they book never take
more places than a day has (PostgreSQL row locks, as in tests/test_booking_race.py)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from sqlalchemy import select

from extensions import db
from models import Booking, BookingStatus, Registration, RegistrationStatus, StaffUser
from services import booking, registrations
from tests import factories

pytestmark = pytest.mark.postgres_only

NOW = datetime(2026, 11, 9, 8, 0)
RACERS = 6
PLACES = 2


@pytest.fixture
def requests(app, pin_clock):
    """A canteen with 2 places a day until 4 December, and 6 children asking Mon and Thu."""
    pin_clock(NOW)
    year = factories.school_year("2026-2027", date(2026, 9, 1), date(2026, 12, 4))
    canteen = factories.activity()
    factories.capacity(factories.school(), canteen, PLACES)
    children = factories.family_with_children(app, "famille.course", children=RACERS).children
    factories.staff_user("agent.a")
    asked = [
        registrations.request_registration(child, canteen, year, [1, 4], None, NOW)
        for child in children
    ]
    return [registration.id for registration in asked]


def test_concurrent_acceptances_never_exceed_a_days_places(app, race_app, requests):
    start = threading.Barrier(RACERS)

    def accept(registration_id: int) -> RegistrationStatus:
        with race_app.app_context():
            registration = db.session.get(Registration, registration_id)
            staff = db.session.scalar(select(StaffUser))
            db.session.rollback()
            start.wait(timeout=30)
            decided = registrations.decide_registration(
                registration, registrations.APPROVE, staff, NOW, None
            )
            return decided.status

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(accept, requests))

    assert statuses == [RegistrationStatus.ACCEPTED] * RACERS
    db.session.expire_all()
    rows = db.session.scalars(select(Booking)).all()
    held = Counter(row.day for row in rows if row.status in booking.HOLDS_PLACE)
    waiting = Counter(row.day for row in rows if row.status == BookingStatus.PENDING)
    # Thu 12, Mon 16, Thu 19, Mon 23, Thu 26, Mon 30 November, Thu 3 December
    assert len(held) == 7
    assert set(held.values()) == {PLACES}
    assert set(waiting.values()) == {RACERS - PLACES}
