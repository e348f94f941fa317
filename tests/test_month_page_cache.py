"""The month page keeps its rendered content (blueprints/bookings/rendered.py) and never shows
it stale: whatever a family or the staff change, and whenever a deadline or midnight
passes, the page served is the page rendered from scratch.

The oracle of every test here: the page served (from the kept content when the key matches)
equals the page rendered with the cache emptied, CSRF tokens aside (a token is re-signed
every second).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from blueprints.bookings.rendered import WEEKS
from extensions import db
from models import Attendance, Booking, BookingStatus, Registration, RegistrationStatus
from tests import factories
from tests.conftest import AuthActions

NOW = datetime(2026, 11, 9, 8, 0)  # Monday 9 November 2026, 9:00 in Paris
DAY = date(2026, 11, 19)  # a Thursday, editable until Tuesday 17 November at 10:00 (Paris)
DEADLINE = datetime(2026, 11, 17, 9, 0)  # that deadline, naive UTC
TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def world(app, family, other_family, pin_clock):
    pin_clock(NOW)
    return factories.booking_world(family, other_family)


@pytest.fixture
def signed_in(client, auth, world):
    auth.login("famille.a")
    return client


def served(client, child, month="2026-11") -> str:
    response = client.get(f"/reservations/{child.id}/{month}")
    assert response.status_code == 200
    return TOKEN.sub("csrf", response.get_data(as_text=True))


def fresh(client, child, month="2026-11") -> str:
    WEEKS.clear()
    return served(client, child, month)


def assert_never_stale(client, child) -> str:
    page = served(client, child)
    assert page == fresh(client, child)
    return page


def _booking(world) -> Booking | None:
    return db.session.scalar(
        select(Booking).where(
            Booking.child_id == world.a.id,
            Booking.activity_id == world.canteen.id,
            Booking.day == DAY,
        )
    )


# Each change toggles, so that any sequence of them stays valid.
def book_or_remove(world):
    row = _booking(world)
    if row is None:
        factories.booking(world.a, world.canteen, DAY)
    else:
        db.session.delete(row)
        db.session.commit()


def staff_decide(world):
    row = _booking(world) or factories.booking(world.a, world.canteen, DAY, BookingStatus.PENDING)
    row.status = (
        BookingStatus.REGISTERED if row.status == BookingStatus.PENDING else BookingStatus.PENDING
    )
    db.session.commit()


def record_attendance(world):
    row = _booking(world) or factories.booking(world.a, world.canteen, DAY)
    row.attendance = None if row.attendance else Attendance.ABSENCE_DECLARED
    db.session.commit()


def close_the_day(world):
    factories.closure(DAY, DAY, "Grève", world.school)


def close_another_school(world):
    factories.closure(DAY, DAY, "Grève", world.other_school)


def rename_option(world):
    option = world.canteen.options[0]
    option.label = option.label + " bis"
    db.session.commit()


def rename_activity(world):
    world.care.name = world.care.name + " bis"
    db.session.commit()


def move_deadline(world):
    world.canteen.booking_deadline_days = 5 - world.canteen.booking_deadline_days
    db.session.commit()


def end_registration(world):
    registration = db.session.scalar(
        select(Registration).where(
            Registration.child_id == world.a.id, Registration.activity_id == world.care.id
        )
    )
    registration.status = (
        RegistrationStatus.CANCELLED
        if registration.status == RegistrationStatus.ACCEPTED
        else RegistrationStatus.ACCEPTED
    )
    db.session.commit()


def rename_child(world):
    world.a.first_name = world.a.first_name + "e"
    db.session.commit()


def rename_sibling(world):
    """The children switcher names the siblings."""
    world.b.first_name = world.b.first_name + "e"
    db.session.commit()


def change_class_days(world):
    school = world.school
    school.class_weekdays = "1,2,3,4,5" if school.class_weekdays != "1,2,3,4,5" else "1,2,4,5"
    db.session.commit()


def shorten_school_year(world):
    world.year.ends_on = date(2026, 11, 20) if world.year.ends_on.month != 11 else date(2027, 7, 3)
    db.session.commit()


def usual_option_elsewhere(world):
    """Bookings of another month with the other option: a tap books that one now."""
    other = world.canteen.options[-1]
    for day in (date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7)):
        if not db.session.scalar(
            select(Booking.id).where(
                Booking.child_id == world.a.id,
                Booking.activity_id == world.canteen.id,
                Booking.day == day,
            )
        ):
            factories.booking(world.a, world.canteen, day, option=other)


CHANGES = [
    book_or_remove,
    staff_decide,
    record_attendance,
    close_the_day,
    close_another_school,
    rename_option,
    rename_activity,
    move_deadline,
    end_registration,
    rename_child,
    rename_sibling,
    change_class_days,
    shorten_school_year,
    usual_option_elsewhere,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_a_kept_month_shows_any_change_at_once(signed_in, world, change):
    before = served(signed_in, world.a)
    assert served(signed_in, world.a) == before  # kept, and the same
    change(world)
    db.session.expire_all()
    after = assert_never_stale(signed_in, world.a)
    if change is not close_another_school:
        assert after != before


def signed_in_at(moment, app, pin_clock):
    """The clock at `moment` and the family signed in then, in a new browser (a session
    ends after hours)."""
    pin_clock(moment)
    client = app.test_client()
    AuthActions(client).login("famille.a")
    return client


def test_a_kept_month_locks_a_day_when_its_deadline_passes(app, world, pin_clock):
    signed_in = signed_in_at(DEADLINE - timedelta(hours=1), app, pin_clock)
    before = served(signed_in, world.a)
    assert 'data-editable="true"' in cell(before, DAY, world.canteen)
    pin_clock(DEADLINE - timedelta(seconds=1))
    assert served(signed_in, world.a) == before
    pin_clock(DEADLINE)
    after = assert_never_stale(signed_in, world.a)
    assert 'data-editable="false"' in cell(after, DAY, world.canteen)


def test_a_kept_month_moves_today_at_midnight_in_paris(app, world, pin_clock):
    # Monday 9 November, 23:59 in Paris
    signed_in = signed_in_at(datetime(2026, 11, 9, 22, 59), app, pin_clock)
    before = served(signed_in, world.a)
    assert 'id="j-2026-11-09" class="today"' in before
    pin_clock(datetime(2026, 11, 9, 23, 0))  # Tuesday 10, midnight
    after = assert_never_stale(signed_in, world.a)
    assert 'id="j-2026-11-10" class="today"' in after


def test_a_kept_month_is_not_served_to_the_past(app, world, pin_clock):
    """An entry serves from the moment it was made: the clock going back renders again."""
    signed_in = signed_in_at(DEADLINE, app, pin_clock)
    served(signed_in, world.a)
    pin_clock(DEADLINE - timedelta(hours=1))
    page = assert_never_stale(signed_in, world.a)
    assert 'data-editable="true"' in cell(page, DAY, world.canteen)


def cell(page: str, day: date, activity) -> str:
    match = re.search(
        rf'<td class="[^"]*" data-date="{day}"[^>]*data-activity="{activity.code}".*?</td>',
        page,
        re.S,
    )
    assert match, f"no cell for {day} {activity.code}"
    return match.group(0)


CLOCK_STEPS = [timedelta(hours=hours) for hours in (1, 7, 23, 49)]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.sampled_from(CHANGES + CLOCK_STEPS), max_size=6))
def test_whatever_the_sequence_the_month_served_is_never_stale(
    app, signed_in, world, pin_clock, steps
):
    """Changes and time mixed in any order, from any state the earlier examples left (the
    property holds in every state): after each step, served == rendered from scratch. The
    family stays signed in across the days the clock moves (sessions are not tested here)."""
    app.config["SESSION_ABSOLUTE_TIMEOUT_HOURS"] = 24 * 365
    now = NOW
    pin_clock(now)
    served(signed_in, world.a)
    for step in steps:
        if isinstance(step, timedelta):
            now += step
            pin_clock(now)
        else:
            step(world)
            db.session.expire_all()
        assert_never_stale(signed_in, world.a)


def test_a_change_committed_during_the_render_is_never_kept(signed_in, world, monkeypatch):
    """Another request books a day between the key's read and the grid's: the page shows
    it, and is not kept under the key read before (which would outlive an undo)."""
    from blueprints.bookings import pages

    render = pages.month_page

    def render_after_a_booking(*args, **kwargs):
        book_or_remove(world)  # committed by "another request"
        return render(*args, **kwargs)

    monkeypatch.setattr(pages, "month_page", render_after_a_booking)
    served(signed_in, world.a)
    monkeypatch.setattr(pages, "month_page", render)
    book_or_remove(world)  # undone: the data is back as it was when the key was read
    db.session.expire_all()
    assert_never_stale(signed_in, world.a)
