"""Back office › Réservations › Inscriptions: staff ask for a family (usual days and option,
the family's rules), accept or refuse in bulk, the refusal's reason asked on its own screen,
each through services.registrations; a decided registration is never edited."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db
from models import (
    Alert,
    AlertKind,
    AuditEvent,
    Booking,
    BookingStatus,
    Registration,
    RegistrationStatus,
)
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
CREATE = "/admin/registration/new/"


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


# --- Staff ask for a family -----------------------------------------------------------------


@pytest.fixture
def desk(app, client, auth, family, pin_clock):
    """An agent signed in; no request yet; the canteen (two options) and the evening care."""
    pin_clock(NOW)
    year = factories.school_year("2026-2027", date(2026, 9, 1), date(2026, 11, 30))
    canteen = factories.activity()
    care = factories.activity("care_evening", "Accueil du soir", options=("soir",))
    factories.staff_user("agent.a")
    auth.login("agent.a")
    return year, canteen, care, family.children[0]


def staff_request(client, child, activity, year, weekdays, option=None):
    form = {
        "child": str(child.id),
        "activity": str(activity.id),
        "school_year": str(year.id),
        "weekdays": [str(day) for day in weekdays],
        "option": str(option.id) if option else "__None",
        "csrf_token": csrf_token(client, CREATE),
    }
    return client.post(CREATE, data=form)


def all_registrations() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(Registration).order_by(Registration.id))
    return [(row.child_id, row.activity_id, row.status, row.weekdays) for row in rows]


def test_the_create_form_offers_the_usual_days_and_the_option(client, desk):
    page = client.get(CREATE).get_data(as_text=True)
    boxes = re.findall(
        r'<input id="(weekdays-\d)" name="weekdays" type="checkbox" value="(\d)"> '
        r'<label for="\1">(\w+)</label>',
        page,
    )
    assert [(day, name) for _id, day, name in boxes] == [
        ("1", "Lundi"),
        ("2", "Mardi"),
        ("3", "Mercredi"),
        ("4", "Jeudi"),
        ("5", "Vendredi"),
    ]
    assert "Restaurant scolaire : sans-viande" in page and "Accueil du soir : soir" in page
    assert 'name="reason"' not in page


def test_the_create_form_names_each_child_with_its_family_and_school(
    client, desk, family, other_family
):
    _year, _canteen, _care, child = desk
    other_family.archived_at = NOW  # a family that left is marked so
    db.session.commit()
    gone = other_family.children[0]
    page = client.get(CREATE).get_data(as_text=True)
    named = f"{child} — famille {family.name}, {child.school.name}"
    assert f'value="{child.id}">{named}</option>' in page
    marked = f"{gone} — famille {other_family.name}, {gone.school.name} (famille archivée)"
    assert f'value="{gone.id}">{marked}</option>' in page


def test_staff_ask_for_a_family_and_acceptance_books_the_usual_days(client, desk):
    year, canteen, _care, child = desk
    response = staff_request(client, child, canteen, year, [4, 1], canteen.options[1])
    assert response.status_code == 302
    (asked,) = db.session.scalars(select(Registration)).all()
    assert (asked.status, asked.weekdays) == (RegistrationStatus.REQUESTED, "1,4")
    assert asked.option_id == canteen.options[1].id
    assert registered_count() == 0  # nothing is booked before a decision
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "Registration"))
    assert (event.actor, event.action) == ("agent.a", "create")
    page = client.get("/admin/registration/").get_data(as_text=True)
    assert "Demande enregistrée pour Enfant1 (lundi et jeudi)" in page

    post_action(client, "accept", [asked.id])
    booked = db.session.scalars(
        select(Booking)
        .where(Booking.child_id == child.id, Booking.status == BookingStatus.REGISTERED)
        .order_by(Booking.day)
    ).all()
    # Thu 12, Mon 16, Thu 19, Mon 23, Thu 26, Mon 30 November, with the option asked
    assert [b.day.day for b in booked] == [12, 16, 19, 23, 26, 30]
    assert {b.option_id for b in booked} == {canteen.options[1].id}


@pytest.mark.parametrize(
    "case, message",
    [
        ("no day", "Choisissez au moins un jour de la semaine."),
        ("a day without class", "n&#39;a pas classe tous ces jours-là"),
        ("another activity's option", "Cette formule ne correspond pas à cette prestation."),
        ("a request already waiting", "Enfant1 a déjà une inscription ou une demande en cours"),
    ],
)
def test_a_bad_staff_request_is_refused_in_french_and_writes_nothing(client, desk, case, message):
    year, canteen, care, child = desk
    if case == "a request already waiting":
        registrations.request_registration(child, canteen, year, [1], None, NOW)
    before = all_registrations()
    days, option = {
        "no day": ([], None),
        "a day without class": ([1, 3], None),
        "another activity's option": ([1], care.options[0]),
        "a request already waiting": ([2], None),
    }[case]
    response = staff_request(client, child, canteen, year, days, option)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Demande non enregistrée" in page and message in page
    assert all_registrations() == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_days_that_are_no_weekday_are_refused_without_an_error_page(client, desk):
    year, canteen, _care, child = desk
    for days in (["9"], ["abc"], ["1", "1" * 30]):
        response = staff_request(client, child, canteen, year, days)
        assert response.status_code == 200, days
    assert all_registrations() == []


def test_an_option_that_is_no_option_is_refused_not_taken_as_the_default(client, desk):
    year, canteen, _care, child = desk
    for option in ("abc", "999999", "1 OR 1=1"):
        form = {
            "child": str(child.id),
            "activity": str(canteen.id),
            "school_year": str(year.id),
            "weekdays": ["1"],
            "option": option,
            "csrf_token": csrf_token(client, CREATE),
        }
        response = client.post(CREATE, data=form)
        assert response.status_code == 200, option
        assert "Choisissez la formule dans la liste." in response.get_data(as_text=True)
    assert all_registrations() == []


def test_no_request_is_asked_for_a_family_that_has_left(client, desk, family):
    """An archived (or anonymised) family has no days ahead: accepting a request would book
    and bill some."""
    year, canteen, _care, child = desk
    family.archived_at = NOW
    db.session.commit()
    response = staff_request(client, child, canteen, year, [1])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Demande non enregistrée : Cette famille est archivée" in page
    assert all_registrations() == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_a_decided_registrations_reason_is_no_longer_edited(client, desk, family):
    year, canteen, _care, child = desk
    refused = registrations.request_registration(child, canteen, year, [1], None, NOW)
    token = csrf_token(client, "/admin/registration/")
    form = {"ids": [str(refused.id)], "reason": "Dossier incomplet", "csrf_token": token}
    client.post(SCREEN, data=form)
    path = f"/admin/registration/edit/?id={refused.id}"
    assert "/admin/registration/edit/" not in client.get("/admin/registration/").get_data(
        as_text=True
    )
    assert client.get(path).status_code == 302
    client.post(path, data={"reason": "Autre motif", "csrf_token": token})
    db.session.expire_all()
    kept = db.session.get(Registration, refused.id)
    assert (kept.status, kept.reason) == (RegistrationStatus.REFUSED, "Dossier incomplet")
    (alert,) = db.session.scalars(select(Alert).where(Alert.family_id == family.id))
    assert alert.message.endswith("Motif : Dossier incomplet")
