"""Back office › Réservations: the families' requests and declared absences, decided by staff."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from extensions import db
from models import Alert, Attendance, AuditEvent, Booking, BookingStatus, ValidationMode
from tests import factories
from tests.conftest import csrf_token

DAY = date(2026, 11, 19)  # a Thursday
NOW = datetime(2026, 11, 16, 9, 30)
NEW_URLS = [
    ("get", "/admin/demandes/"),
    ("post", "/admin/demandes/decider"),
    ("get", "/admin/absences/"),
    ("post", "/admin/absences/decider"),
    ("get", "/admin/pointage/"),
    ("post", "/admin/pointage/marquer"),
    ("post", "/admin/pointage/ajouter"),
    ("get", "/admin/pointage/liste"),
    ("get", "/admin/pointage/liste.csv"),
]
ROW = re.compile(r'<tr data-booking="(\d+)"')


@pytest.fixture
def world(booking_world, staff, pin_clock):
    """Two schools, a manual canteen (2 places) and a manual evening care (1 place)."""
    pin_clock(NOW)
    booking_world.canteen.validation_mode = ValidationMode.MANUAL
    db.session.commit()
    booking_world.staff = staff
    return booking_world


@pytest.fixture
def agent(client, auth, world):
    auth.login("agent.a")
    return client


def request_at(child, activity, status=BookingStatus.PENDING, day=DAY, minute=0, **fields):
    booking = factories.booking(
        child, activity, day, status, requested_at=datetime(2026, 11, 2, 8, minute)
    )
    for name, value in fields.items():
        setattr(booking, name, value)
    db.session.commit()
    return booking


def listed(client, query: str = "") -> list[int]:
    response = client.get(f"/admin/demandes/?{query}")
    assert response.status_code == 200
    return [int(found) for found in ROW.findall(response.get_data(as_text=True))]


def decide(client, ids, decision, reason="", **filters):
    token = csrf_token(client, "/admin/demandes/")
    data = {"csrf_token": token, "ids": [str(i) for i in ids], "decision": decision, **filters}
    if reason:
        data["reason"] = reason
    return client.post("/admin/demandes/decider", data=data, follow_redirects=True)


def alerts_of(family) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.family_id == family.id)))


def journal(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def reload(booking: Booking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


# --- Who gets in --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), NEW_URLS)
def test_a_family_gets_404_on_every_new_page(client, auth, world, method, url):
    auth.login("famille.a")
    token = csrf_token(client, "/")
    response = getattr(client, method)(url, data={"csrf_token": token})
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "url"), NEW_URLS)
def test_anonymous_is_sent_to_the_login_page(client, world, method, url):
    response = getattr(client, method)(url)
    assert response.status_code in (302, 400), url  # 400: a POST without its CSRF token
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login?next=")


def test_the_pages_are_in_the_reservations_menu(agent):
    html = agent.get("/admin/").get_data(as_text=True)
    for link in ("/admin/demandes/", "/admin/absences/", "/admin/pointage/"):
        assert f'href="{link}"' in html
    assert "Demandes" in html and "Pointage" in html


# --- The list -------------------------------------------------------------------------------


def test_requests_are_listed_oldest_first_in_french(agent, world):
    meatless = world.canteen.options[1]
    change = request_at(
        world.b, world.canteen, BookingStatus.CHANGE_REQUESTED, minute=5,
        option_id=world.canteen.options[0].id, requested_option_id=meatless.id,
    )  # fmt: skip
    pending = request_at(world.a, world.canteen, minute=9)
    cancel = request_at(world.c, world.care, BookingStatus.CANCEL_REQUESTED, minute=1)
    request_at(world.a, world.care, BookingStatus.REGISTERED)
    assert listed(agent) == [cancel.id, change.id, pending.id]
    html = agent.get("/admin/demandes/").get_data(as_text=True)
    for words in (
        "jeudi 19 novembre 2026",
        "Restaurant scolaire",
        "École Théodore Chalmel",
        "Changement de formule",
        "Annulation demandée",
        "En attente",
        "→ <strong>sans-viande</strong>",
        "2 nov. 2026, 09:05",  # requested_at, in Paris time
        'name="csrf_token"',
    ):
        assert words in html


def test_requests_are_filtered(agent, world):
    world.c.school = world.other_school
    db.session.commit()
    a_canteen = request_at(world.a, world.canteen, minute=1)
    a_care = request_at(world.a, world.care, minute=2)
    later = request_at(world.b, world.canteen, BookingStatus.CANCEL_REQUESTED, DAY + timedelta(1))
    elsewhere = request_at(world.c, world.canteen, minute=3)
    everyone = {a_canteen.id, a_care.id, later.id, elsewhere.id}
    assert set(listed(agent)) == everyone
    assert listed(agent, f"school={world.other_school.id}") == [elsewhere.id]
    assert set(listed(agent, f"activity={world.care.id}")) == {a_care.id}
    assert listed(agent, "start=2026-11-20") == [later.id]
    assert set(listed(agent, "end=2026-11-19")) == everyone - {later.id}
    assert listed(agent, "kind=cancel-requested") == [later.id]
    assert listed(agent, "family=b") == [elsewhere.id], "famille.b is « B »"
    assert listed(agent, "family=%25") == [], "a LIKE wildcard is searched as a character"
    assert set(listed(agent, "kind=nonsense&start=not-a-date")) == everyone


def test_the_list_is_paginated_by_fifty(agent, world):
    for index in range(52):
        request_at(world.a, world.canteen, day=date(2026, 9, 1) + timedelta(index))
    first, second = listed(agent), listed(agent, "page=2")
    assert len(first) == 50 and len(second) == 2
    assert "52 demandes à traiter" in agent.get("/admin/demandes/").get_data(as_text=True)


def test_the_list_runs_the_same_queries_for_2_and_20_requests(agent, world):
    def queries() -> int:
        with factories.counted_queries() as statements:
            assert agent.get("/admin/demandes/").status_code == 200
        return len(statements)

    children = [world.a, world.b, world.c]
    for index in range(2):
        request_at(children[index], world.canteen, day=DAY + timedelta(index))
    few = queries()
    for index in range(2, 20):
        child, activity = children[index % 3], (world.canteen, world.care)[index % 2]
        request_at(child, activity, BookingStatus.CHANGE_REQUESTED, DAY + timedelta(index))
    assert len(listed(agent)) == 20
    assert queries() == few


# --- Decisions ------------------------------------------------------------------------------


def test_an_agent_approves_two_pending_bookings(agent, world):
    first = request_at(world.a, world.canteen, minute=1)
    second = request_at(world.c, world.canteen, minute=2)
    html = decide(agent, [first.id, second.id], "approve").get_data(as_text=True)
    assert "2 demandes acceptées." in html
    assert reload(first).status == reload(second).status == BookingStatus.REGISTERED
    (alert_a,) = alerts_of(world.family)
    (alert_b,) = alerts_of(world.other_family)
    assert alert_a.message.startswith("Réservation confirmée : Restaurant scolaire du jeudi")
    assert alert_a.created_at == alert_b.created_at == NOW
    events = journal("approve")
    assert [event.entity_id for event in events] == [str(first.id), str(second.id)]
    for event in events:
        assert (event.actor, event.entity, event.ip) == ("agent.a", "Booking", "127.0.0.1")
        assert event.staff_user_id == world.staff.id
        assert json.loads(event.changes) == {"status": ["pending", "registered"]}
    assert listed(agent) == []


def test_change_and_cancel_requests_are_approved(agent, world):
    standard, meatless = world.canteen.options
    change = request_at(
        world.a, world.canteen, BookingStatus.CHANGE_REQUESTED,
        option_id=standard.id, requested_option_id=meatless.id,
    )  # fmt: skip
    cancel = request_at(world.b, world.canteen, BookingStatus.CANCEL_REQUESTED)
    decide(agent, [change.id, cancel.id], "approve")
    assert (reload(change).status, reload(change).option_id) == (
        BookingStatus.REGISTERED,
        meatless.id,
    )
    assert reload(cancel).status == BookingStatus.CANCELLED
    (alert,) = alerts_of(world.family)  # one alert for the family's decisions
    assert alert.message == "La mairie a traité 2 demandes : 2 acceptées."
    details = alert.details.splitlines()
    assert [line.split(" :")[0] for line in details] == [
        "Changement de formule accepté",
        "Annulation acceptée",
    ]
    change_event = journal("approve")[0]
    assert json.loads(change_event.changes) == {
        "status": ["change-requested", "registered"],
        "option_id": [standard.id, meatless.id],
        "requested_option_id": [meatless.id, None],
    }


def test_refusing_needs_a_reason_sent_to_the_family(agent, world):
    pending = request_at(world.a, world.care, minute=1)
    cancel = request_at(world.c, world.canteen, BookingStatus.CANCEL_REQUESTED, minute=2)
    html = decide(agent, [pending.id, cancel.id], "refuse", reason="   ").get_data(as_text=True)
    assert "Indiquez le motif du refus" in html
    assert reload(pending).status == BookingStatus.PENDING
    assert alerts_of(world.family) == [] and journal() == []

    html = decide(agent, [pending.id, cancel.id], "refuse", reason="Sortie scolaire ce jour-là")
    assert "2 demandes refusées." in html.get_data(as_text=True)
    assert reload(pending).status == BookingStatus.REFUSED
    assert reload(pending).refusal_reason == "Sortie scolaire ce jour-là"
    assert reload(cancel).status == BookingStatus.REGISTERED
    for family in (world.family, world.other_family):
        (alert,) = alerts_of(family)
        assert alert.message.endswith("Motif : Sortie scolaire ce jour-là")
    assert [json.loads(e.changes)["status"] for e in journal("refuse")] == [
        ["pending", "refused"],
        ["cancel-requested", "registered"],
    ]


def test_a_full_day_is_reported_and_the_other_requests_go_through(agent, world):
    first = request_at(world.a, world.care, minute=1)
    too_many = request_at(world.b, world.care, minute=2)
    other = request_at(world.c, world.canteen, minute=3)
    html = decide(agent, [other.id, too_many.id, first.id], "approve").get_data(as_text=True)
    assert "2 demandes acceptées." in html
    assert "Non traité (Enfant2 A, jeudi 19 novembre 2026)" in html
    assert "la capacité est atteinte" in html
    assert reload(first).status == reload(other).status == BookingStatus.REGISTERED
    assert reload(too_many).status == BookingStatus.PENDING
    assert len(alerts_of(world.family)) == 1, "no alert for the refused approval"
    assert {event.entity_id for event in journal()} == {str(first.id), str(other.id)}


def test_a_request_already_decided_is_reported(agent, world):
    booking = request_at(world.a, world.canteen, BookingStatus.REGISTERED)
    html = decide(agent, [booking.id], "approve").get_data(as_text=True)
    assert "Aucune demande n&#39;est en attente" in html
    assert journal() == []


def test_a_decision_needs_a_checked_row_and_a_known_decision(agent, world):
    request_at(world.a, world.canteen)
    assert "Cochez au moins une demande" in decide(agent, [], "approve").get_data(as_text=True)
    assert decide(agent, [1], "delete").status_code == 400


def test_a_decision_keeps_the_filters(agent, world):
    booking = request_at(world.a, world.canteen)
    token = csrf_token(agent, "/admin/demandes/")
    response = agent.post(
        "/admin/demandes/decider",
        data={"csrf_token": token, "ids": [booking.id], "decision": "approve", "kind": "pending"},
    )
    assert response.headers["Location"] == "/admin/demandes/?kind=pending"


def test_a_decision_without_csrf_token_is_refused(agent, world):
    booking = request_at(world.a, world.canteen)
    response = agent.post(
        "/admin/demandes/decider", data={"ids": [booking.id], "decision": "approve"}
    )
    assert response.status_code == 400
    assert reload(booking).status == BookingStatus.PENDING


# --- Declared absences ----------------------------------------------------------------------


def absence(child, activity, day=DAY, attendance=Attendance.ABSENCE_DECLARED, reason="Grippe"):
    return request_at(
        child, activity, BookingStatus.REGISTERED, day, attendance=attendance, absence_reason=reason
    )


def decide_absences(client, decision, ids=(), state="declared"):
    token = csrf_token(client, "/admin/absences/")
    data = {"csrf_token": token, "decision": decision, "ids": [str(i) for i in ids], "state": state}
    return client.post("/admin/absences/decider", data=data, follow_redirects=True)


def test_declared_absences_are_listed_with_their_reason(agent, world):
    declared = absence(world.a, world.canteen, reason="Varicelle")
    decided = absence(world.b, world.canteen, attendance=Attendance.ABSENT_JUSTIFIED)
    absence(world.c, world.canteen, date(2026, 10, 1), Attendance.ABSENT_UNJUSTIFIED)  # too old
    request_at(world.c, world.care, BookingStatus.REGISTERED)
    html = agent.get("/admin/absences/").get_data(as_text=True)
    assert ROW.findall(html) == [str(declared.id)]
    assert "Varicelle" in html and "Absence déclarée" in html
    html = agent.get("/admin/absences/?state=decided").get_data(as_text=True)
    assert ROW.findall(html) == [str(decided.id)]
    assert "Absence justifiée" in html


def test_an_absence_is_marked_justified_from_its_row(agent, world):
    one = absence(world.a, world.canteen)
    other = absence(world.b, world.canteen)
    html = decide_absences(agent, f"justified:{one.id}", ids=[other.id]).get_data(as_text=True)
    assert "1 absence justifiée." in html
    assert reload(one).attendance == Attendance.ABSENT_JUSTIFIED
    assert reload(other).attendance == Attendance.ABSENCE_DECLARED, "only the row's button"
    (event,) = journal("absence-justified")
    assert event.entity_id == str(one.id) and event.actor == "agent.a"
    assert json.loads(event.changes) == {"attendance": ["absence-declared", "absent-justified"]}


def test_absences_are_marked_unjustified_in_bulk(agent, world):
    one = absence(world.a, world.canteen)
    other = absence(world.b, world.care, attendance=Attendance.ABSENT_JUSTIFIED)
    not_absent = request_at(world.c, world.canteen, BookingStatus.REGISTERED)
    html = decide_absences(agent, "unjustified", ids=[one.id, other.id, not_absent.id])
    text = html.get_data(as_text=True)
    assert "2 absences non justifiées." in text
    assert "Non traité (Enfant1 B, jeudi 19 novembre 2026)" in text
    assert reload(one).attendance == reload(other).attendance == Attendance.ABSENT_UNJUSTIFIED
    assert reload(not_absent).attendance is None
    assert len(journal("absence-unjustified")) == 2


def test_an_unknown_absence_decision_is_refused(agent, world):
    assert decide_absences(agent, "forgiven").status_code == 400
