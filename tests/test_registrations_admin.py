"""Back office › Réservations › Inscriptions: staff accept or refuse in bulk, the refusal's
reason asked on its own screen, each decision through services.registrations."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db
from models import Alert, AlertKind, Booking, BookingStatus, Registration, RegistrationStatus
from services import registrations
from tests import factories
from tests.conftest import csrf_token
from tests.test_fuzz_forms import (
    FUZZ,
    NUMBER,
    TEXT,
    assert_escaped,
    assert_ok,
    follow,
    fresh_example,
    shown,
)

NOW = datetime(2026, 11, 9, 8, 0)
SCREEN = "/admin/registration/refuser/"


@pytest.fixture
def requests(app, family, other_family, pin_clock):
    """Three requests: both of family A's children and family B's, canteen, Mon and Thu."""
    pin_clock(NOW)
    year = factories.school_year("2026-2027", date(2026, 9, 1), date(2026, 11, 30))
    canteen = factories.activity()
    factories.staff_user("agent.a")
    children = [*family.children, *other_family.children]
    return [
        registrations.request_registration(child, canteen, year, [1, 4], None, NOW)
        for child in children
    ]


def post_action(client, action: str, ids: list[int]):
    token = csrf_token(client, "/admin/registration/")
    return client.post(
        "/admin/registration/action/",
        data={"action": action, "rowid": [str(i) for i in ids], "csrf_token": token},
    )


def statuses(rows) -> list[RegistrationStatus]:
    db.session.expire_all()
    return [db.session.get(Registration, row.id).status for row in rows]


def registered_count() -> int:
    return db.session.scalar(
        select(func.count(Booking.id)).where(Booking.status == BookingStatus.REGISTERED)
    )


def test_the_list_shows_the_usual_days_asked(client, auth, requests):
    auth.login("agent.a")
    page = client.get("/admin/registration/").get_data(as_text=True)
    assert "Jours habituels" in page and "lun., jeu." in page


def test_bulk_acceptance_books_each_childs_usual_days(client, auth, requests):
    auth.login("agent.a")
    response = post_action(client, "accept", [row.id for row in requests[:2]])
    assert response.status_code == 302
    assert statuses(requests) == [
        RegistrationStatus.ACCEPTED,
        RegistrationStatus.ACCEPTED,
        RegistrationStatus.REQUESTED,
    ]
    # Thu 12, Mon 16, Thu 19, Mon 23, Thu 26, Mon 30 November, for each of the two children
    assert registered_count() == 12
    page = client.get("/admin/registration/").get_data(as_text=True)
    assert "2 demandes acceptées." in page
    kinds = db.session.scalars(select(Alert.kind)).all()
    assert kinds == [AlertKind.REGISTRATION, AlertKind.REGISTRATION]


def test_bulk_refusal_asks_one_reason_and_sends_it_to_each_family(
    client, auth, requests, family, other_family
):
    auth.login("agent.a")
    chosen = [requests[0].id, requests[2].id]
    response = post_action(client, "refuse", chosen)
    assert response.status_code == 302
    screen = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Refuser 2 demandes" in screen and "Motif du refus" in screen
    assert "Enfant1 A" in screen and "Enfant1 B" in screen and "Enfant2 A" not in screen
    token = csrf_token(client, f"{SCREEN}?ids={chosen[0]}")
    ids = [str(i) for i in chosen]
    empty = client.post(SCREEN, data={"ids": ids, "reason": "  ", "csrf_token": token})
    assert empty.status_code == 200
    assert "Indiquez le motif du refus" in empty.get_data(as_text=True)
    assert statuses(requests) == [RegistrationStatus.REQUESTED] * 3
    form = {"ids": ids, "reason": "Dossier incomplet", "csrf_token": token}
    assert client.post(SCREEN, data=form).status_code == 302
    assert statuses(requests) == [
        RegistrationStatus.REFUSED,
        RegistrationStatus.REQUESTED,
        RegistrationStatus.REFUSED,
    ]
    for each in (family, other_family):
        (alert,) = db.session.scalars(select(Alert).where(Alert.family_id == each.id)).all()
        assert alert.message.endswith("Motif : Dossier incomplet")
    assert registered_count() == 0


def test_a_row_already_decided_is_reported_and_the_others_go_on(client, auth, requests):
    auth.login("agent.a")
    post_action(client, "accept", [requests[0].id])
    post_action(client, "accept", [requests[0].id, requests[1].id])
    page = client.get("/admin/registration/").get_data(as_text=True)
    assert f"Non traité (n° {requests[0].id}) : Aucune demande n&#39;est en attente" in page
    assert statuses(requests)[:2] == [RegistrationStatus.ACCEPTED] * 2


def test_the_refusal_screen_without_rows_goes_back_to_the_list(client, auth, requests):
    auth.login("agent.a")
    for query in ("", "?ids=abc", "?ids=99999999999", "?ids=424242"):
        response = client.get(f"{SCREEN}{query}")
        assert response.status_code == 302, query
    assert statuses(requests) == [RegistrationStatus.REQUESTED] * 3


@pytest.fixture
def agent(client, auth, requests):
    auth.login("agent.a")
    return client


@FUZZ
@given(data=st.data())
def test_the_refusal_screen_takes_anything(agent, requests, data):
    """Whatever ids and reason come in: never a 500, the text shown escaped, and nothing
    refused without a reason."""
    fresh_example()
    ids = st.one_of(st.sampled_from([str(row.id) for row in requests]), TEXT, NUMBER)
    fields = {
        "ids": data.draw(st.lists(ids, max_size=3), label="ids"),
        "reason": data.draw(st.one_of(st.just("Dossier incomplet"), TEXT), label="reason"),
    }
    before = statuses(requests)
    baseline = agent.get(f"{SCREEN}?ids={requests[0].id}").get_data(as_text=True)
    token = csrf_token(agent, f"{SCREEN}?ids={requests[0].id}")
    response = agent.post(SCREEN, data={**fields, "csrf_token": token})
    assert_ok(response, {200, 302}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(agent, response, fields)
    if not fields["reason"].strip():
        assert statuses(requests) == before
