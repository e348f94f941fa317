"""MES RÉSERVATIONS over HTTP: what a parent relies on, page by page.

The month's markup contract, until when each day can be changed, today and this week, what
a tap does, the day page offering exactly what the service allows, the message beside the
day with its undo, many days at once, absences, and a fixed number of queries.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from blueprints.bookings import pages
from extensions import db
from models import Attendance, Booking, BookingStatus
from services import booking
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)  # Monday 9 November 2026, 9:00 in Paris
DAY = date(2026, 11, 19)  # a Thursday, editable until Tuesday 17 November at 10:00
LOCKED = date(2026, 11, 10)  # a Tuesday past its deadlines (Friday 6 November at 10:00)
HOLIDAY = date(2026, 11, 11)  # Armistice


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


def row_of(child, activity, day=DAY) -> Booking | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Booking).where(
            Booking.child_id == child.id, Booking.activity_id == activity.id, Booking.day == day
        )
    )


def status_of(child, activity, day=DAY):
    row = row_of(child, activity, day)
    return row.status if row else None


def month_html(client, child, month="2026-11") -> str:
    return client.get(f"/reservations/{child.id}/{month}").get_data(as_text=True)


def cell_html(page: str, day: date, activity) -> str:
    """The <td> of one day and activity in the month page."""
    match = re.search(
        rf'<td class="[^"]*" data-date="{day.isoformat()}"[^>]*data-activity="{activity.code}"'
        r".*?</td>",
        page,
        re.S,
    )
    assert match, f"no cell for {day} {activity.code}"
    return match.group(0)


def label_of(cell: str) -> str:
    return html.unescape(re.search(r'aria-label="([^"]*)"', cell).group(1))


def offered_actions(page: str) -> set[str]:
    return set(re.findall(r'name="action" value="([^"]+)"', page))


def notice_html(page: str) -> str:
    """The message shown beside the day (up to the week it stands in)."""
    start = page.find('<div class="flash day-notice')
    assert start >= 0, "no message beside the day"
    ends = [page.find(mark, start) for mark in ("<table", '<p class="week', "</section>")]
    return html.unescape(page[start : min(end for end in ends if end > 0)])


def tap(client, child, activity, day, action, **fields):
    path = f"/reservations/{child.id}/jour/{day.isoformat()}/{activity.code}"
    token = csrf_token(client, f"/reservations/{child.id}/{day:%Y-%m}")
    return client.post(path, data={"action": action, "csrf_token": token, **fields})


def day_page(client, child, activity, day=DAY) -> str:
    path = f"/reservations/{child.id}/jour/{day.isoformat()}/{activity.code}"
    return client.get(path).get_data(as_text=True)


# --- The month's markup -----------------------------------------------------------------


def test_each_cell_carries_the_markup_contract(signed_in, world):
    html_page = month_html(signed_in, world.a)
    cell = re.search(
        r'<td class="cell[^"]*" data-date="2026-11-19" data-child="(\d+)" '
        r'data-activity="canteen" data-status="(\S+)" data-editable="(\w+)">',
        html_page,
    )
    assert cell and cell.groups() == (str(world.a.id), "available", "true")
    assert re.search(
        r'data-date="2026-11-11"[^>]*data-activity="canteen" data-status="closed"', html_page
    )
    form = cell_html(html_page, DAY, world.canteen)
    assert '<form method="post"' in form and 'name="csrf_token"' in form
    assert "Légende" in html_page and "Inscrit" in html_page and "En attente" in html_page


# --- Point 6: until when, and a locked day ----------------------------------------------


def test_an_open_day_says_until_when_in_its_label_and_on_its_page(signed_in, world):
    factories.booking(world.a, world.care, DAY, BookingStatus.REGISTERED)
    page = month_html(signed_in, world.a)
    assert "réservable jusqu'au mardi 17 novembre à 10 h" in label_of(
        cell_html(page, DAY, world.canteen)
    )
    assert "modifiable jusqu'au mardi 17 novembre à 10 h" in label_of(
        cell_html(page, DAY, world.care)
    )
    assert "Modifiable jusqu'au mardi 17 novembre à 10 h" in html.unescape(
        day_page(signed_in, world.a, world.care)
    )


def test_a_day_past_its_deadline_looks_locked_says_why_and_whom_to_call(signed_in, world):
    factories.booking(world.a, world.care, LOCKED, BookingStatus.REGISTERED)
    page = month_html(signed_in, world.a)
    free, booked = cell_html(page, LOCKED, world.canteen), cell_html(page, LOCKED, world.care)
    for cell in (free, booked):
        assert 'class="cell s-' in cell and " locked" in cell
        assert 'data-editable="false"' in cell
    assert "délai de réservation dépassé" in label_of(free)
    assert "délai de modification dépassé" in label_of(booked)
    open_cell = cell_html(page, DAY, world.canteen)
    assert " locked" not in open_cell.split(">")[0]
    assert "Hachuré, avec un cadenas" in html.unescape(page)  # the legend shows the look

    detail = html.unescape(day_page(signed_in, world.a, world.canteen, LOCKED))
    assert "Ce jour ne peut plus être réservé en ligne" in detail
    assert "passé depuis le vendredi 6 novembre à 10 h" in detail
    assert "appelez le service des affaires scolaires de la mairie" in detail
    assert offered_actions(detail) == set()


# --- Point 7: today, this week, ACCUEIL's absence, withdrawing an absence ----------------


def test_the_calendar_opens_at_this_week_with_today_marked(signed_in, world):
    response = signed_in.get("/reservations")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reservations/{world.a.id}/2026-11#s-2026-11-09"
    page = month_html(signed_in, world.a)
    assert 'id="s-2026-11-09"' in page
    assert re.findall(r'<th[^>]*aria-current="date"', page) == [
        '<th scope="col" id="j-2026-11-09" class="today" aria-current="date"'
    ]
    assert label_of(cell_html(page, NOW.date(), world.canteen)).startswith("aujourd'hui, lundi")
    # the month before links to this one at this week
    october = month_html(signed_in, world.a, "2026-10")
    assert f'href="/reservations/{world.a.id}/2026-11#s-2026-11-09"' in october


@pytest.mark.parametrize(
    ("today", "anchor"),
    [
        (date(2026, 11, 9), "s-2026-11-09"),  # Monday
        (date(2026, 11, 13), "s-2026-11-09"),  # Friday
        (date(2026, 11, 14), "s-2026-11-16"),  # Saturday: the coming week
        (date(2026, 10, 31), "s-2026-10-26"),  # Saturday, the coming week in another month
    ],
)
def test_this_week_is_the_week_a_family_wants_to_see(today, anchor):
    assert pages.week_anchor(today) == anchor


def test_accueil_opens_the_absence_form_for_today(signed_in, world):
    home = html.unescape(signed_in.get("/").get_data(as_text=True))
    link = re.search(
        r'<a class="button block" href="([^"]+)">Mon enfant est absent aujourd\'hui', home
    )
    assert link and link.group(1) == "/reservations/absence"
    form = signed_in.get(link.group(1)).get_data(as_text=True)
    assert re.search(r'id="start"[^>]*value="2026-11-09"|value="2026-11-09"[^>]*id="start"', form)


def test_a_declared_absence_can_be_withdrawn_the_same_day(client, auth, world, pin_clock):
    pin_clock(datetime(2026, 11, 10, 6, 30))  # 7:30 in Paris, the day itself
    factories.booking(world.a, world.canteen, LOCKED, BookingStatus.REGISTERED)
    auth.login("famille.a")
    signed_in = client
    tap(signed_in, world.a, world.canteen, LOCKED, "absence", reason="maladie", details="fièvre")
    assert row_of(world.a, world.canteen, LOCKED).attendance == Attendance.ABSENCE_DECLARED
    detail = day_page(signed_in, world.a, world.canteen, LOCKED)
    assert offered_actions(detail) == {"withdraw-absence"}
    response = tap(signed_in, world.a, world.canteen, LOCKED, "withdraw-absence")
    assert row_of(world.a, world.canteen, LOCKED).attendance is None
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Absence retirée" in notice_html(page)


# --- The day page offers exactly what the service allows -----------------------------------

# (name, activity, day, booking status, attendance, actions, what a tap on the month does)
B, ABSENT = BookingStatus, Attendance.ABSENCE_DECLARED
CASES = [
    ("available", "canteen", DAY, None, None, {"book"}, "book"),
    ("free after deadline", "canteen", LOCKED, None, None, set(), "day"),
    ("pending", "care", DAY, B.PENDING, None, {"withdraw"}, "withdraw"),
    ("registered, 1 option", "canteen", DAY, B.REGISTERED, None, {"cancel"}, "cancel"),
    ("registered, 2 options", "care", DAY, B.REGISTERED, None, {"cancel", "change"}, "day"),
    ("change requested", "care", DAY, B.CHANGE_REQUESTED, None, {"cancel", "withdraw"}, "day"),
    ("cancel requested", "care", DAY, B.CANCEL_REQUESTED, None, {"withdraw"}, "withdraw"),
    ("booked after deadline", "canteen", LOCKED, B.REGISTERED, None, {"absence"}, "absence"),
    ("absence declared", "canteen", LOCKED, B.REGISTERED, ABSENT, {"withdraw-absence"}, "day"),
    ("pending after deadline", "care", LOCKED, B.PENDING, None, set(), "day"),
]


@pytest.mark.parametrize(
    ("code", "day", "status", "attendance", "expected", "tapped"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_day_page_and_the_tap_offer_exactly_what_the_service_allows(
    signed_in, world, code, day, status, attendance, expected, tapped
):
    activity = getattr(world, code)
    if status:
        row = factories.booking(world.a, activity, day, status, option=activity.options[0])
        row.attendance = attendance
        db.session.commit()
    grid = booking.month_grid([world.a], day.replace(day=1), NOW)[world.a.id]
    cells = next(r.cells for r in grid.activities if r.activity.id == activity.id)
    allowed = next(cell.actions for cell in cells if cell.day == day)
    assert {action.value for action in allowed} == expected

    detail = html.unescape(day_page(signed_in, world.a, activity, day))
    assert offered_actions(detail) == expected
    if expected - {"absence", "withdraw-absence"}:
        assert "délai pour modifier" not in detail and "jusqu'au" in detail
    cell = cell_html(month_html(signed_in, world.a), day, activity)
    if tapped in {"book", "cancel", "withdraw"}:
        assert '<form method="post"' in cell and offered_actions(cell) == {tapped}
    elif tapped == "absence":
        assert f'href="/reservations/absence?child={world.a.id}&amp;start={day}"' in cell
    else:
        assert f'href="/reservations/{world.a.id}/jour/{day}/{activity.code}"' in cell
    words = {"book": "réserver", "cancel": "annuler", "withdraw": "retirer la demande",
             "absence": "signaler une absence", "day": "touchez pour"}  # fmt: skip
    assert words[tapped] in label_of(cell)


def test_a_pending_option_change_can_be_withdrawn_and_the_booking_stands(signed_in, world):
    early, late = world.care.options
    row = factories.booking(world.a, world.care, DAY, BookingStatus.CHANGE_REQUESTED, option=early)
    row.requested_option_id = late.id
    db.session.commit()
    detail = html.unescape(day_page(signed_in, world.a, world.care))
    assert "Retirer ma demande" in detail and f"vous gardez la formule {early.label}" in detail
    response = tap(signed_in, world.a, world.care, DAY, "withdraw")
    row = row_of(world.a, world.care)
    assert (row.status, row.option_id, row.requested_option_id) == (
        BookingStatus.REGISTERED,
        early.id,
        None,
    )
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Demande retirée" in notice_html(page)


# --- Point 8: the message beside the day, and undo ------------------------------------------


def test_the_message_is_shown_beside_the_day_it_concerns(signed_in, world):
    response = tap(signed_in, world.a, world.canteen, DAY, "book")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reservations/{world.a.id}/2026-11#resultat"
    assert status_of(world.a, world.canteen) == BookingStatus.REGISTERED
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    week = re.search(r'<section class="week-block" id="s-2026-11-16".*?</section>', page, re.S)
    assert week and 'id="resultat"' in week.group(0)
    assert "Réservé : Restaurant scolaire, jeudi 19 novembre." in notice_html(page)
    assert 'class="flashes"' not in page  # not also at the top, off screen
    assert re.search(
        r'data-date="2026-11-19"[^>]*data-activity="canteen" data-status="registered"', page
    )
    again = signed_in.get(f"/reservations/{world.a.id}/2026-11").get_data(as_text=True)
    assert 'id="resultat"' not in again  # said once


def test_a_refused_action_says_why_beside_the_day_and_writes_nothing(signed_in, world):
    response = tap(signed_in, world.a, world.canteen, HOLIDAY, "book")
    assert status_of(world.a, world.canteen, HOLIDAY) is None
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    notice = notice_html(page)
    assert "flash-error" in notice and 'role="alert"' in notice
    assert "Il n'y a pas de service ce jour-là" in notice


def test_a_one_tap_cancellation_offers_to_undo_it(signed_in, world):
    standard = world.canteen.options[0]
    factories.booking(world.a, world.canteen, DAY, option=standard)
    response = tap(signed_in, world.a, world.canteen, DAY, "cancel")
    assert status_of(world.a, world.canteen) == BookingStatus.CANCELLED
    notice = notice_html(signed_in.get(response.headers["Location"]).get_data(as_text=True))
    assert "Réservation annulée" in notice and ">Annuler<" in notice
    assert offered_actions(notice) == {"book"}
    assert f'name="option" value="{standard.id}"' in notice
    tap(signed_in, world.a, world.canteen, DAY, "book", option=str(standard.id))
    assert (row_of(world.a, world.canteen).status, row_of(world.a, world.canteen).option_id) == (
        BookingStatus.REGISTERED,
        standard.id,
    )


def test_a_cancellation_request_offers_to_withdraw_it(signed_in, world):
    factories.booking(world.a, world.care, DAY, option=world.care.options[0])
    response = tap(signed_in, world.a, world.care, DAY, "cancel")
    assert status_of(world.a, world.care) == BookingStatus.CANCEL_REQUESTED
    notice = notice_html(signed_in.get(response.headers["Location"]).get_data(as_text=True))
    assert "Annulation demandée" in notice and offered_actions(notice) == {"withdraw"}


def test_no_undo_is_offered_once_the_day_is_past_its_deadline(signed_in, world, pin_clock):
    thursday = date(2026, 11, 12)  # editable until today (Monday 9 November) at 10:00
    factories.booking(world.a, world.canteen, thursday, option=world.canteen.options[0])
    response = tap(signed_in, world.a, world.canteen, thursday, "cancel")
    pin_clock(datetime(2026, 11, 9, 9, 30))  # 10:30 in Paris
    notice = notice_html(signed_in.get(response.headers["Location"]).get_data(as_text=True))
    assert "Réservation annulée" in notice and offered_actions(notice) == set()


# --- Point 9: one tap books the usual option, another option one tap away ------------------


def test_one_tap_books_the_usual_option(signed_in, world):
    early, late = world.care.options
    for day in (date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 8)):
        factories.booking(world.a, world.care, day, option=late)
    cell = cell_html(month_html(signed_in, world.a), DAY, world.care)
    assert offered_actions(cell) == {"book"}
    assert f'name="option" value="{late.id}"' in cell
    assert f"touchez pour réserver ({late.label})" in label_of(cell)
    tap(signed_in, world.a, world.care, DAY, "book", option=str(late.id))
    assert row_of(world.a, world.care).option_id == late.id


def test_after_a_booking_another_option_is_one_tap_away(signed_in, world, family):
    lunch = factories.activity("lunch", "Déjeuner", options=("standard", "sans-viande"))
    factories.registration(world.a, lunch, factories.school_year())
    standard, other = lunch.options
    response = tap(signed_in, world.a, lunch, DAY, "book", option=str(standard.id))
    notice = notice_html(signed_in.get(response.headers["Location"]).get_data(as_text=True))
    assert "Réservé : Déjeuner, jeudi 19 novembre (standard)." in notice
    change = f'href="/reservations/{world.a.id}/jour/{DAY}/lunch">Changer de formule'
    assert change in notice
    detail = html.unescape(day_page(signed_in, world.a, lunch))
    assert f'name="option" value="{other.id}">Passer à : {other.label}' in detail
    tap(signed_in, world.a, lunch, DAY, "change", option=str(other.id))
    assert row_of(world.a, lunch).option_id == other.id


# --- Many days ------------------------------------------------------------------------------


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

    confirmed = html.unescape(_many(signed_in, confirm="y", **fields).get_data(as_text=True))
    assert "C'est fait" in confirmed and "<strong>10</strong> jours réservés" in confirmed
    assert "Restaurant scolaire (standard) : 10 jours réservés." in confirmed
    days = db.session.scalars(
        select(Booking.day).where(Booking.child_id == world.a.id).order_by(Booking.day)
    ).all()
    # Mondays and Thursdays of December before the Christmas holidays (from the 19th)
    assert days == [date(2026, 12, d) for d in (3, 7, 10, 14, 17)]
    assert len(db.session.scalars(select(Booking).where(Booking.child_id == world.b.id)).all()) == 5


def test_many_days_preview_says_per_activity_what_will_happen(signed_in, world):
    factories.capacity(world.a.school, world.canteen, 1)
    early = world.care.options[0]
    preview = _many(
        signed_in,
        children=[str(world.a.id), str(world.b.id)],
        what=[f"{world.canteen.id}:{world.canteen.options[0].id}", f"{world.care.id}:{early.id}"],
        mode="book",
        start="2026-12-01",
        end="2026-12-18",
        weekdays=["1"],
    )
    page = html.unescape(preview.get_data(as_text=True))
    canteen = page[page.index("<h3>Restaurant scolaire") : page.index("<h3>Accueil du soir")]
    care = page[page.index("<h3>Accueil du soir") :]
    assert "Réservation immédiate" in canteen
    assert "<strong>2</strong> jours seront réservés" in canteen  # Enfant1: 7 and 14 December
    assert "<strong>2</strong> jours en liste d'attente (complet)" in canteen  # one place a day
    assert f"<h3>Accueil du soir ({early.label})</h3>" in page
    assert "Validation par la mairie" in care
    assert "<strong>4</strong> demandes à valider par la mairie" in care
    assert "Confirmer" in page


def test_many_days_confirmation_names_every_day_not_booked_and_why(signed_in, world, pin_clock):
    factories.closure(date(2026, 11, 23), date(2026, 11, 23), "Grève")
    fields = {
        "children": [str(world.a.id)],
        "what": f"{world.canteen.id}:{world.canteen.options[0].id}",
        "mode": "book",
        "start": "2026-11-09",
        "end": "2026-11-30",
        "weekdays": ["1"],
    }
    page = html.unescape(_many(signed_in, confirm="y", **fields).get_data(as_text=True))
    assert "<strong>2</strong> jours réservés" in page  # 16 and 30 November
    assert "Enfant1 — lundi 9 novembre" in page  # past the deadline
    assert "jour après le délai de réservation" in page
    assert "Enfant1 — lundi 23 novembre (Grève)" in page
    assert "jour sans service" in page


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


# --- Guards, absences, queries -------------------------------------------------------------


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
    assert response.headers["Location"].endswith("/2026-11#resultat")
    db.session.expire_all()
    booked = db.session.scalar(select(Booking).where(Booking.child_id == world.a.id))
    assert booked.attendance == Attendance.ABSENCE_DECLARED
    assert booked.absence_reason == "Maladie — fièvre"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Absence de Enfant1 signalée" in notice_html(page)


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
    # the session, the children, the month's key, the grid's six, the key again (kept if equal)
    assert empty == busy == 10
    # Seen again, unchanged: the weeks are kept, only the session, children and key are read.
    assert queries_for(world.b) == 3
