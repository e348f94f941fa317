"""MES RÉSERVATIONS over HTTP: the month's markup contract, taps, many days, absences."""

from __future__ import annotations

import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from extensions import db
from models import Attendance, Booking, BookingStatus
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)  # Monday 9 November 2026, 9:00 in Paris
DAY = date(2026, 11, 19)  # a Thursday, still editable at NOW


@pytest.fixture
def world(app, family, other_family, pin_clock):
    """A canteen (one option, automatic) and an evening care (two options, manual)."""
    pin_clock(NOW)
    canteen, care = factories.portal_activities(family, other_family)
    a, b = family.children
    return SimpleNamespace(canteen=canteen, care=care, a=a, b=b, other=other_family.children[0])


@pytest.fixture
def signed_in(client, auth, world):
    auth.login("famille.a")
    return client


def status_of(child, activity, day=DAY):
    db.session.expire_all()
    return db.session.scalar(
        select(Booking.status).where(
            Booking.child_id == child.id, Booking.activity_id == activity.id, Booking.day == day
        )
    )


def tap(client, child, activity, day, action, **fields):
    path = f"/reservations/{child.id}/jour/{day.isoformat()}/{activity.code}"
    token = csrf_token(client, f"/reservations/{child.id}/{day:%Y-%m}")
    return client.post(path, data={"action": action, "csrf_token": token, **fields})


def test_reservations_opens_the_current_month_of_the_eldest_child(signed_in, world):
    response = signed_in.get("/reservations")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reservations/{world.a.id}/2026-11"


def test_each_cell_carries_the_markup_contract(signed_in, world):
    html = signed_in.get(f"/reservations/{world.a.id}/2026-11").get_data(as_text=True)
    cell = re.search(
        r'<td class="cell[^"]*"\s+data-date="2026-11-19" data-child="(\d+)"\s+'
        r'data-activity="canteen" data-status="(\S+)"\s+data-editable="(\w+)">',
        html,
    )
    assert cell and cell.groups() == (str(world.a.id), "available", "true")
    assert 'data-date="2026-11-11" data-child' in html  # Armistice: shown, closed
    assert re.search(
        r'data-date="2026-11-11"[^>]*data-activity="canteen" data-status="closed"', html
    )
    assert "Légende" in html and "Inscrit" in html and "En attente" in html


def test_a_tap_books_an_available_day_and_says_so(signed_in, world):
    response = tap(signed_in, world.a, world.canteen, DAY, "book")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/2026-11#j-{DAY.isoformat()}")
    assert status_of(world.a, world.canteen) == BookingStatus.REGISTERED
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Réservé : Restaurant scolaire, jeudi 19 novembre." in page
    assert re.search(
        r'data-date="2026-11-19"[^>]*data-activity="canteen" data-status="registered"', page
    )


def test_a_manual_activity_asks_the_commune_and_the_page_says_it_waits(signed_in, world):
    option = world.care.options[1]
    response = tap(signed_in, world.a, world.care, DAY, "book", option=str(option.id))
    assert status_of(world.a, world.care) == BookingStatus.PENDING
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "en attente de validation par la mairie" in page


def test_withdraw_then_cancel(signed_in, world):
    factories.booking(world.a, world.care, DAY, BookingStatus.PENDING)
    tap(signed_in, world.a, world.care, DAY, "withdraw")
    assert status_of(world.a, world.care) == BookingStatus.CANCELLED
    factories.booking(world.b, world.care, DAY, BookingStatus.REGISTERED)
    tap(signed_in, world.b, world.care, DAY, "cancel")
    assert status_of(world.b, world.care) == BookingStatus.CANCEL_REQUESTED


def test_a_refused_action_explains_in_french_and_writes_nothing(signed_in, world):
    response = tap(signed_in, world.a, world.canteen, date(2026, 11, 11), "book")
    assert status_of(world.a, world.canteen, date(2026, 11, 11)) is None
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jour férié" in page or "pas de service" in page.lower()


def test_a_tap_without_csrf_token_writes_nothing(signed_in, world):
    path = f"/reservations/{world.a.id}/jour/{DAY.isoformat()}/canteen"
    assert signed_in.post(path, data={"action": "book"}).status_code == 400
    assert status_of(world.a, world.canteen) is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_familys_child_is_not_found(signed_in, world, method):
    token = csrf_token(signed_in, f"/reservations/{world.a.id}/2026-11")
    for path in (
        f"/reservations/{world.other.id}/2026-11",
        f"/reservations/{world.other.id}/jour/{DAY.isoformat()}/canteen",
    ):
        response = getattr(signed_in, method)(path, data={"action": "book", "csrf_token": token})
        assert response.status_code in (404, 405)
        assert "Enfant1 B" not in response.get_data(as_text=True)
    assert status_of(world.other, world.canteen) is None


@pytest.mark.parametrize("bad", ["2026-13", "abcd", "2026-1-1"])
def test_a_bad_month_is_a_french_404(signed_in, world, bad):
    response = signed_in.get(f"/reservations/{world.a.id}/{bad}")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def _many(client, **fields):
    token = csrf_token(client, "/reservations/plusieurs-jours")
    return client.post("/reservations/plusieurs-jours", data={"csrf_token": token, **fields})


def test_many_days_previews_then_books_mondays_and_thursdays_for_both_children(signed_in, world):
    option = world.canteen.options[0]
    fields = {
        "children": [str(world.a.id), str(world.b.id)],
        "what": f"{world.canteen.id}:{option.id}",
        "mode": "book",
        "start": "2026-12-01",
        "end": "2026-12-31",
        "weekdays": ["1", "4"],
    }
    preview = _many(signed_in, **fields)
    assert preview.status_code == 200
    assert "Vérifiez avant de confirmer" in preview.get_data(as_text=True)
    assert db.session.scalar(select(Booking.id).limit(1)) is None

    confirmed = _many(signed_in, confirm="y", **fields)
    assert confirmed.status_code == 302
    days = db.session.scalars(
        select(Booking.day).where(Booking.child_id == world.a.id).order_by(Booking.day)
    ).all()
    # Mondays and Thursdays of December before the Christmas holidays (from the 19th)
    assert days == [date(2026, 12, d) for d in (3, 7, 10, 14, 17)]
    assert len(db.session.scalars(select(Booking).where(Booking.child_id == world.b.id)).all()) == 5


def test_many_days_refuses_an_end_before_the_start(signed_in, world):
    response = _many(
        signed_in,
        children=[str(world.a.id)],
        what=f"{world.canteen.id}:",
        mode="book",
        start="2026-12-10",
        end="2026-12-01",
        weekdays=["1"],
    )
    assert response.status_code == 200
    assert "La date de fin est avant la date de début." in response.get_data(as_text=True)


def test_many_days_ignores_a_child_of_another_family(signed_in, world):
    _many(
        signed_in,
        children=[str(world.other.id)],
        what=f"{world.canteen.id}:",
        mode="book",
        start="2026-12-01",
        end="2026-12-18",
        weekdays=["1"],
        confirm="y",
    )
    assert db.session.scalar(select(Booking.id).limit(1)) is None


def test_an_absence_can_be_declared_on_the_morning_itself(client, auth, world, pin_clock):
    morning = datetime(2026, 11, 19, 6, 30)  # 7:30 in Paris, the day itself
    pin_clock(morning)
    factories.booking(world.a, world.canteen, DAY, BookingStatus.REGISTERED)
    auth.login("famille.a")
    token = csrf_token(client, "/reservations/absence")
    response = client.post(
        "/reservations/absence",
        data={
            "csrf_token": token,
            "child": str(world.a.id),
            "start": DAY.isoformat(),
            "reason": "maladie",
            "details": "fièvre",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    booked = db.session.scalar(select(Booking).where(Booking.child_id == world.a.id))
    assert booked.attendance == Attendance.ABSENCE_DECLARED
    assert booked.absence_reason == "Maladie — fièvre"
    assert "Absence de Enfant1 signalée" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_the_month_page_runs_a_fixed_number_of_queries(signed_in, world, family):
    def queries_for(child):
        path = f"/reservations/{child.id}/2026-11"
        with factories.counted_queries() as statements:
            assert signed_in.get(path).status_code == 200
        return len(statements)

    empty = queries_for(world.a)
    for day in (3, 5, 6, 9, 10, 12, 13, 16, 17, 19, 20):
        factories.booking(world.b, world.canteen, date(2026, 11, day))
        factories.booking(world.b, world.care, date(2026, 11, day), BookingStatus.PENDING)
    busy = queries_for(world.b)
    assert empty == busy
    assert busy <= 10
