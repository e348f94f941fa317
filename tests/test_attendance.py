"""Pointage: attendance, children who came without a booking, the day's list for the kitchen."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from admin_views.base import csv_safe
from extensions import db
from models import Attendance, AuditEvent, Booking, BookingStatus
from services import attendance as svc
from services.booking import BookingError, DayClosed, InvalidTransition
from tests import factories
from tests.conftest import csrf_token

DAY = date(2026, 11, 19)  # a Thursday
NOW = datetime(2026, 11, 19, 10, 30)  # 11:30 in Paris, that day
WEDNESDAY = date(2026, 11, 18)
OPTION_COUNTS = re.compile(
    r'<tr data-option="([^"]+)">\s*<td>[^<]*</td><td>(\d+)</td><td>(\d+)</td><td><strong>(\d+)<'
)
ROW = re.compile(r'<tr id="enfant-(\d+)" data-booking="(\d+)" data-attendance="([a-z-]*)"')


@pytest.fixture
def world(booking_world, staff, pin_clock):
    """Chalmel (three children), Sainte-Thérèse (one), a canteen with two options."""
    pin_clock(NOW)
    world = booking_world
    world.standard, world.meatless = world.canteen.options
    world.elsewhere = factories.child(world.other_family, "Zoé", world.other_school)
    world.staff = staff
    return world


def booked(child, activity, status=BookingStatus.REGISTERED, day=DAY, option=None, **fields):
    booking = factories.booking(child, activity, day, status, option=option)
    for name, value in fields.items():
        setattr(booking, name, value)
    db.session.commit()
    return booking


def reload(booking: Booking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def journal() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def bookings_count() -> int:
    return db.session.scalar(select(func.count(Booking.id)))


# --- The rules (services/attendance.py) ------------------------------------------------------


def test_a_booked_child_is_marked_present_then_corrected_absent(world):
    booking = booked(world.a, world.canteen)
    svc.record_attendance(booking, True, world.staff, NOW, ip="10.0.0.7")
    assert reload(booking).attendance == Attendance.PRESENT
    svc.record_attendance(booking, False, world.staff, NOW)
    assert reload(booking).attendance == Attendance.ABSENT_UNJUSTIFIED
    first, second = journal()
    assert (first.actor, first.entity_id, first.ip) == ("agent.a", str(booking.id), "10.0.0.7")
    assert json.loads(first.changes) == {"attendance": [None, "present"]}
    assert json.loads(second.changes) == {"attendance": ["present", "absent-unjustified"]}


def test_marking_twice_changes_nothing(world):
    booking = booked(world.a, world.canteen)
    svc.record_attendance(booking, True, world.staff, NOW)
    svc.record_attendance(booking, True, world.staff, NOW)
    assert reload(booking).attendance == Attendance.PRESENT
    assert len(journal()) == 1


@pytest.mark.parametrize("kept", [Attendance.ABSENCE_DECLARED, Attendance.ABSENT_JUSTIFIED])
def test_a_declared_or_justified_absence_is_kept(world, kept):
    booking = booked(world.a, world.canteen, attendance=kept)
    with pytest.raises(InvalidTransition, match="absence a été déclarée"):
        svc.record_attendance(booking, True, world.staff, NOW)
    assert reload(booking).attendance == kept
    assert journal() == []


def test_a_change_or_cancel_request_still_holds_the_place(world):
    change = booked(world.a, world.canteen, BookingStatus.CHANGE_REQUESTED)
    cancel = booked(world.b, world.canteen, BookingStatus.CANCEL_REQUESTED)
    svc.record_attendance(change, True, world.staff, NOW)
    svc.record_attendance(cancel, False, world.staff, NOW)
    assert reload(change).attendance == Attendance.PRESENT
    assert reload(cancel).attendance == Attendance.ABSENT_UNJUSTIFIED


@pytest.mark.parametrize("status", [BookingStatus.PENDING, BookingStatus.CANCELLED])
def test_a_booking_without_a_place_is_not_marked(world, status):
    booking = booked(world.a, world.canteen, status)
    with pytest.raises(InvalidTransition, match="pas de réservation"):
        svc.record_attendance(booking, True, world.staff, NOW)


def test_attendance_is_never_taken_ahead(world):
    booking = booked(world.a, world.canteen, day=date(2026, 11, 20))
    with pytest.raises(svc.FutureDay):
        svc.record_attendance(booking, True, world.staff, NOW)
    # 23:30 UTC on the 19th is already the 20th in Paris.
    svc.record_attendance(booking, True, world.staff, datetime(2026, 11, 19, 23, 30))
    assert reload(booking).attendance == Attendance.PRESENT


def test_a_walk_in_is_registered_present_and_journaled(world):
    booking = svc.add_walk_in(
        world.a, world.canteen, DAY, world.school, world.staff, NOW, world.meatless, "10.0.0.7"
    )
    booking = reload(booking)
    assert (booking.status, booking.attendance) == (BookingStatus.REGISTERED, Attendance.PRESENT)
    assert booking.is_walk_in and booking.option_id == world.meatless.id
    assert (booking.school_id, booking.requested_at) == (world.school.id, NOW)
    (event,) = journal()
    assert (event.action, event.entity_id, event.ip) == ("create", str(booking.id), "10.0.0.7")
    assert json.loads(event.changes)["is_walk_in"] == [None, True]


def test_adding_the_same_walk_in_twice_changes_nothing(world):
    first = svc.add_walk_in(world.a, world.canteen, DAY, world.school, world.staff, NOW)
    again = svc.add_walk_in(world.a, world.canteen, DAY, world.school, world.staff, NOW)
    assert again.id == first.id
    assert bookings_count() == 1 and len(journal()) == 1
    assert reload(first).option_id == world.standard.id, "the default option"


@pytest.mark.parametrize(
    "status", [BookingStatus.CANCELLED, BookingStatus.REFUSED, BookingStatus.PENDING]
)
def test_a_walk_in_reuses_the_days_row(world, status):
    row = booked(world.a, world.canteen, status, refusal_reason="Complet")
    booking = svc.add_walk_in(world.a, world.canteen, DAY, world.school, world.staff, NOW)
    assert booking.id == row.id and bookings_count() == 1
    booking = reload(booking)
    assert booking.status == BookingStatus.REGISTERED and booking.is_walk_in
    assert booking.refusal_reason == ""


def test_a_booked_child_is_not_added_as_a_walk_in(world):
    booked(world.a, world.canteen)
    with pytest.raises(InvalidTransition, match="déjà une réservation"):
        svc.add_walk_in(world.a, world.canteen, DAY, world.school, world.staff, NOW)


def test_a_walk_in_of_another_school_is_refused(world):
    with pytest.raises(svc.OtherSchool, match="pas inscrit dans cette école"):
        svc.add_walk_in(world.elsewhere, world.canteen, DAY, world.school, world.staff, NOW)
    assert bookings_count() == 0 and journal() == []


@pytest.mark.parametrize(
    ("day", "error"), [(WEDNESDAY, DayClosed), (date(2026, 11, 20), svc.FutureDay)]
)
def test_a_walk_in_needs_a_past_open_day(world, day, error):
    with pytest.raises(error):
        svc.add_walk_in(world.a, world.canteen, day, world.school, world.staff, NOW)
    assert issubclass(error, BookingError)
    assert bookings_count() == 0


def test_an_option_of_another_activity_is_refused(world):
    with pytest.raises(BookingError, match="formule"):
        svc.add_walk_in(
            world.a, world.canteen, DAY, world.school, world.staff, NOW, world.care.options[0]
        )


# --- The pointage page ------------------------------------------------------------------------


@pytest.fixture
def agent(client, auth, world):
    auth.login("agent.a")
    return client


def pointage(world, path: str = "", **args) -> str:
    """A pointage URL at Chalmel for the canteen (the day: today in Paris unless given)."""
    query = urlencode({"school": world.school.id, "activity": world.canteen.id, **args})
    return f"/admin/pointage/{path}?{query}"


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def rows(client, world, **args) -> list[tuple[int, int, str]]:
    html = html_of(client, pointage(world, **args))
    return [(int(c), int(b), state) for c, b, state in ROW.findall(html)]


def post(client, world, path: str, **data):
    """A pointage form for DAY at Chalmel for the canteen."""
    selection = {"date": DAY.isoformat(), "school": world.school.id, "activity": world.canteen.id}
    token = csrf_token(client, pointage(world))
    return client.post(f"/admin/pointage/{path}", data={**selection, **data, "csrf_token": token})


def test_the_page_lists_todays_children_in_paris_time(agent, auth, world, pin_clock):
    booked(world.b, world.canteen)
    tomorrow = booked(world.a, world.canteen, day=date(2026, 11, 20))
    booked(world.c, world.canteen, BookingStatus.PENDING)
    booked(world.c, world.canteen, BookingStatus.CANCELLED, day=date(2026, 11, 20))
    assert [child for child, _, _ in rows(agent, world)] == [world.b.id]
    pin_clock(datetime(2026, 11, 19, 23, 30))  # 00:30 in Paris: already Friday there
    auth.login("agent.a")  # the morning's session ended after 30 idle minutes
    assert [booking for _, booking, _ in rows(agent, world)] == [tomorrow.id]


def test_the_page_shows_the_diet_note_never_the_health_note(agent, world):
    world.a.diet_note = "Sans porc"
    world.a.health_note = "Asthme sévère"
    db.session.commit()
    booked(world.a, world.canteen, option=world.meatless)
    html = html_of(agent, pointage(world))
    assert "Sans porc" in html and "sans-viande" in html and "CE1" in html
    assert "Asthme" not in html


def test_the_page_is_usable_on_a_tablet(agent, world):
    booked(world.a, world.canteen)
    html = html_of(agent, pointage(world))
    assert "/static/css/admin-print.css" in html
    assert html.count("btn-lg btn-touch") >= 4
    css = agent.get("/static/css/admin-print.css").get_data(as_text=True)
    assert "min-height: 48px" in css


def test_an_agent_marks_children_present_and_absent(agent, world):
    first = booked(world.a, world.canteen)
    second = booked(world.b, world.canteen)
    response = post(agent, world, "marquer", booking=first.id, present="1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#enfant-{world.a.id}")
    post(agent, world, "marquer", booking=second.id, present="0")
    assert rows(agent, world) == [
        (world.a.id, first.id, "present"),
        (world.b.id, second.id, "absent-unjustified"),
    ]
    assert [event.ip for event in journal()] == ["127.0.0.1", "127.0.0.1"]
    assert "1 présent, 1 absent, 0 à pointer" in html_of(agent, pointage(world))


def test_a_declared_absence_has_no_buttons_and_is_not_overwritten(agent, world):
    booking = booked(world.a, world.canteen, attendance=Attendance.ABSENCE_DECLARED)
    html = html_of(agent, pointage(world))
    assert "Absence à décider" in html and 'name="present"' not in html
    response = post(agent, world, "marquer", booking=booking.id, present="1")
    assert "absence a été déclarée" in html_of(agent, response.headers["Location"])
    assert reload(booking).attendance == Attendance.ABSENCE_DECLARED


def test_a_walk_in_is_added_from_the_schools_other_children(agent, world):
    booked(world.a, world.canteen)
    html = html_of(agent, pointage(world))
    walk_in_form = html.split('id="walk-in"')[1]
    offered = [
        int(v) for v in re.findall(r'<option value="(\d+)">', walk_in_form.split("</select>")[0])
    ]
    assert offered == [world.b.id, world.c.id], "Chalmel's children not on the list, by name"
    post(agent, world, "ajouter", child=world.b.id, option=world.meatless.id)
    post(agent, world, "ajouter", child=world.b.id, option=world.meatless.id)
    walk_in = db.session.scalar(select(Booking).where(Booking.child_id == world.b.id))
    assert walk_in.is_walk_in and walk_in.attendance == Attendance.PRESENT
    assert bookings_count() == 2
    html = html_of(agent, pointage(world))
    assert "Sans réservation" in html


def test_a_walk_in_of_another_school_is_refused_on_the_page(agent, world):
    response = post(agent, world, "ajouter", child=world.elsewhere.id)
    html = html_of(agent, response.headers["Location"])
    assert "pas inscrit dans cette école" in html
    assert bookings_count() == 0


@pytest.mark.parametrize("query", ["date=19-11-2026", "school=999", "activity=999", "school=abc"])
def test_a_bad_selection_is_not_found(agent, world, query):
    assert agent.get(f"/admin/pointage/?{query}").status_code == 404


def test_unknown_rows_are_not_found(agent, world):
    assert post(agent, world, "marquer", booking="999", present="1").status_code == 404
    assert post(agent, world, "marquer", present="1").status_code == 404
    assert post(agent, world, "ajouter", child="999").status_code == 404


# --- The day's list and its CSV ------------------------------------------------------------


@pytest.fixture
def kitchen_day(world):
    """Standard: a (present), b (absent, declared); meatless: c (walk-in); Zoé elsewhere."""
    booked(world.a, world.canteen, option=world.standard, attendance=Attendance.PRESENT)
    booked(
        world.b, world.canteen, BookingStatus.CANCEL_REQUESTED, option=world.standard,
        attendance=Attendance.ABSENCE_DECLARED,
    )  # fmt: skip
    booked(world.c, world.canteen, option=world.meatless, is_walk_in=True)
    booked(world.elsewhere, world.canteen, option=world.meatless)
    booked(world.a, world.canteen, BookingStatus.PENDING, day=date(2026, 11, 20))
    return world


def test_the_daily_list_counts_per_option(agent, kitchen_day):
    world = kitchen_day
    query = f"date=2026-11-19&school={world.school.id}&activity={world.canteen.id}"
    html = agent.get(f"/admin/pointage/liste?{query}").get_data(as_text=True)
    counts = {label: numbers for label, *numbers in OPTION_COUNTS.findall(html)}
    assert counts == {"standard": ["2", "1", "1"], "sans-viande": ["1", "0", "1"]}
    assert "jeudi 19 novembre 2026" in html and "Zoé" not in html
    assert "Restaurant scolaire" in html


def test_the_daily_list_prints_without_the_admin_chrome(agent, kitchen_day):
    html = html_of(agent, pointage(kitchen_day, "liste"))
    assert '<link href="/static/css/admin-print.css"' in html
    css = agent.get("/static/css/admin-print.css").get_data(as_text=True)
    print_rules = css.split("@media print")[1]
    assert ".navbar" in print_rules and "display: none" in print_rules
    assert "<style" not in html


def exported(client, world, **args) -> tuple[dict, list[list[str]]]:
    response = client.get(pointage(world, "liste.csv", **args))
    assert response.status_code == 200
    assert (response.mimetype, response.mimetype_params) == ("text/csv", {"charset": "utf-8"})
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # French Excel reads UTF-8 only after this mark
    rows = csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")
    return response.headers, list(rows)


def test_the_csv_holds_the_children_and_the_counts(agent, kitchen_day):
    world = kitchen_day
    headers, table = exported(agent, world, date="2026-11-19")
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"liste-2026-11-19-canteen-ecole{world.school.id}.csv" in disposition
    header, *children = table[: table.index([])]
    assert header[:3] == ["Formule", "Nom", "Prénom"]
    assert [(row[0], row[2], row[5], row[6]) for row in children] == [
        ("standard", "Enfant1", "Présent", "Réservé"),
        ("standard", "Enfant2", "Absence déclarée", "Réservé"),
        ("sans-viande", "Enfant1", "", "Sans réservation"),
    ]
    counts = table[table.index([]) + 1 :]
    assert counts == [
        ["Formule", "Réservés", "Absents", "Attendus"],
        ["standard", "2", "1", "1"],
        ["sans-viande", "1", "0", "1"],
        ["Total", "3", "1", "2"],
    ]


def test_the_csv_opens_in_french_excel_with_its_accents(agent, world):
    """Semicolons between cells (French Excel's list separator) and the names intact."""
    world.a.last_name, world.a.first_name = "Lefèvre", "Éloïse, dite Lou"
    db.session.commit()
    booked(world.a, world.canteen)
    body = agent.get(pointage(world, "liste.csv")).get_data().decode("utf-8-sig")
    header, first = body.splitlines()[:2]
    assert header == "Formule;Nom;Prénom;Classe;Régime alimentaire;Présence;Réservation"
    assert first == "Sans formule;Lefèvre;Éloïse, dite Lou;CE1;;;Réservé"


def test_the_csv_defuses_formulas(agent, world):
    world.a.last_name = '=HYPERLINK("http://evil.example")'
    world.a.first_name = "+33"
    world.a.class_name = "@CE1"
    world.a.diet_note = "-1 sans sel"
    db.session.commit()
    booked(world.a, world.canteen)
    _, table = exported(agent, world)
    row = table[1]
    assert row[1:5] == ['\'=HYPERLINK("http://evil.example")', "'+33", "'@CE1", "'-1 sans sel"]


def test_a_negative_amount_stays_a_number_and_a_formula_does_not():
    # « -5,00 » (a credit) adds up in the treasurer's spreadsheet; « -5,00+A1 » would run.
    assert [csv_safe(cell) for cell in ("-5,00", "-12", "-5,00+A1", "-A1", "-")] == [
        "-5,00",
        "-12",
        "'-5,00+A1",
        "'-A1",
        "'-",
    ]
