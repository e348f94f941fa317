"""INSCRIPTIONS (/inscriptions): each child's registrations, requests and cancellations, and
a page that never lets "inscrit" pass for "réservé"."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from extensions import db
from models import Registration, RegistrationStatus
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)  # Monday 9 November 2026, 9:00 in Paris


@pytest.fixture
def world(app, family, other_family, pin_clock):
    """This year and the next, a canteen (two options) and an evening care; nothing asked."""
    pin_clock(NOW)
    year = factories.school_year()
    next_year = factories.school_year("2027-2028", date(2027, 9, 1), date(2028, 7, 7))
    canteen = factories.activity()
    care = factories.activity("care_evening", "Accueil du soir", options=("jusqu-17h30",))
    return year, next_year, canteen, care


@pytest.fixture
def parent(client, auth, world):
    assert auth.login("famille.a").status_code == 302
    return client


def text_of(response) -> str:
    """The page's words, tags dropped and spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def card(parent, registration_key: str) -> str:
    """The words of one activity's card (`i-<child>-<activity>-<year>`)."""
    page = parent.get("/inscriptions").get_data(as_text=True)
    match = re.search(
        rf'<li class="reg" id="{registration_key}">(.*?)</li>\s*(?=<li|</ul>)', page, re.S
    )
    assert match, registration_key
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))))


def ask(parent, child, activity, year, weekdays, option=None):
    data = {
        "activity": str(activity.id),
        "year": str(year.id),
        "weekdays": [str(day) for day in weekdays],
        "csrf_token": csrf_token(parent, "/inscriptions"),
    }
    if option is not None:
        data["option"] = str(option.id)
    return parent.post(f"/inscriptions/{child.id}/demande", data=data)


def registrations_of(child) -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(select(Registration).where(Registration.child_id == child.id)))


def test_every_activity_of_both_years_is_listed_for_each_child(parent, world, family):
    year, next_year, canteen, care = world
    page = text_of(parent.get("/inscriptions"))
    assert "Inscriptions" in page and "Année scolaire 2026-2027" in page
    assert "Année scolaire 2027-2028" in page
    for child in family.children:
        for activity in (canteen, care):
            for each in (year, next_year):
                assert f'id="i-{child.id}-{activity.id}-{each.id}"' in parent.get(
                    "/inscriptions"
                ).get_data(as_text=True)
    assert page.count("Pas d'inscription") == 8
    assert "Enfant1 B" not in page  # the other family's child


def test_a_family_requests_a_registration_with_its_usual_days_and_option(parent, world, family):
    year, next_year, canteen, care = world
    child = family.children[0]
    response = ask(parent, child, canteen, year, [1, 2, 4], canteen.options[1])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/inscriptions#i-{child.id}-{canteen.id}-{year.id}"
    )
    (asked,) = registrations_of(child)
    assert (asked.status, asked.weekdays, asked.option_id) == (
        RegistrationStatus.REQUESTED,
        "1,2,4",
        canteen.options[1].id,
    )
    flashed = text_of(parent.get("/inscriptions"))
    assert "Demande envoyée pour Enfant1 : Restaurant scolaire 2026-2027" in flashed
    words = card(parent, f"i-{child.id}-{canteen.id}-{year.id}")
    assert "Demande envoyée" in words
    assert "Jours demandés : lundi, mardi et jeudi ; formule sans-viande." in words
    assert "Aucun jour n'est réservé tant que le service n'a pas accepté" in words
    assert "Retirer la demande" in words


def test_a_duplicate_request_is_refused_in_french(parent, world, family):
    year, next_year, canteen, care = world
    child = family.children[0]
    ask(parent, child, canteen, year, [1])
    response = ask(parent, child, canteen, year, [2])
    assert response.status_code == 302
    assert "Enfant1 a déjà une inscription ou une demande en cours" in text_of(
        parent.get("/inscriptions")
    )
    assert [r.weekdays for r in registrations_of(child)] == ["1"]


def test_bad_days_and_options_are_refused_and_nothing_is_written(parent, world, family):
    year, next_year, canteen, care = world
    child = family.children[0]
    ask(parent, child, canteen, year, [3])  # no class on Wednesday at Chalmel
    assert "n'a pas classe tous ces jours-là" in text_of(parent.get("/inscriptions"))
    ask(parent, child, canteen, year, [1], care.options[0])
    assert "Choisissez une formule parmi celles proposées." in text_of(parent.get("/inscriptions"))
    ask(parent, child, canteen, year, [])
    assert "Choisissez au moins un jour de la semaine." in text_of(parent.get("/inscriptions"))
    assert registrations_of(child) == []


def test_another_familys_child_cannot_be_registered(parent, world, other_family):
    year, next_year, canteen, care = world
    assert ask(parent, other_family.children[0], canteen, year, [1]).status_code == 404
    assert registrations_of(other_family.children[0]) == []


def test_a_family_asks_to_cancel_an_accepted_registration(parent, world, family):
    year, next_year, canteen, care = world
    child = family.children[0]
    accepted = factories.registration(child, canteen, year)
    factories.booking(child, canteen, date(2026, 11, 12))
    token = csrf_token(parent, "/inscriptions")
    response = parent.post(f"/inscriptions/{accepted.id}/annulation", data={"csrf_token": token})
    assert response.status_code == 302
    assert registrations_of(child)[0].status == RegistrationStatus.CANCEL_REQUESTED
    words = card(parent, f"i-{child.id}-{canteen.id}-{year.id}")
    assert "Désinscription demandée" in words
    assert (
        "Vos jours restent réservés jusqu'à la décision du service : "
        "1 jour réservé d'ici au 12 novembre 2026 (jeu.)"
    ) in words


def test_a_waiting_request_is_withdrawn(parent, world, family):
    year, next_year, canteen, care = world
    child = family.children[0]
    ask(parent, child, care, next_year, [5])
    (asked,) = registrations_of(child)
    token = csrf_token(parent, "/inscriptions")
    parent.post(f"/inscriptions/{asked.id}/annulation", data={"csrf_token": token})
    assert registrations_of(child)[0].status == RegistrationStatus.CANCELLED
    assert "Demande d'inscription retirée." in text_of(parent.get("/inscriptions"))


def test_each_state_reads_in_french_and_booked_days_are_never_implied(parent, world, family):
    year, next_year, canteen, care = world
    a, b = family.children[:2]
    accepted = factories.registration(a, canteen, year)
    for day in (12, 16, 17, 19, 23):
        factories.booking(a, canteen, date(2026, 11, day))
    factories.booking(a, canteen, date(2026, 11, 5))  # past: not counted
    factories.registration(a, care, year)  # accepted, nothing booked
    refused = factories.registration(b, canteen, year, RegistrationStatus.REFUSED)
    refused.reason = "Dossier incomplet"
    db.session.commit()
    factories.registration(b, care, year, RegistrationStatus.CANCELLED)
    booked = card(parent, f"i-{a.id}-{canteen.id}-{year.id}")
    assert "Inscription acceptée" in booked
    assert "5 jours réservés d'ici au 23 novembre 2026 (lun., mar., jeu.). Voir le mois" in booked
    page = parent.get("/inscriptions").get_data(as_text=True)
    assert f'href="/reservations/{a.id}/2026-11">Voir le mois</a>' in page
    assert accepted.id
    nothing = card(parent, f"i-{a.id}-{care.id}-{year.id}")
    assert "Inscription acceptée" in nothing
    assert "Aucun jour réservé pour l'instant : l'inscription seule ne réserve rien." in nothing
    assert "Se désinscrire" in nothing
    refused_words = card(parent, f"i-{b.id}-{canteen.id}-{year.id}")
    assert "Inscription refusée" in refused_words and "Motif : Dossier incomplet" in refused_words
    assert "Demander à nouveau" in refused_words
    cancelled = card(parent, f"i-{b.id}-{care.id}-{year.id}")
    assert "Inscription annulée" in cancelled and "Demander à nouveau" in cancelled
    assert "Pas d'inscription" in card(parent, f"i-{b.id}-{care.id}-{next_year.id}")


def test_the_page_runs_a_fixed_number_of_queries(app, parent, world, family):
    year, next_year, canteen, care = world

    def queries() -> int:
        with factories.counted_queries() as statements:
            assert parent.get("/inscriptions").status_code == 200
        return len(statements)

    empty = queries()
    for child in family.children:
        factories.registration(child, canteen, year)
        factories.registration(child, care, next_year, RegistrationStatus.REQUESTED)
        for day in (12, 16, 17, 19):
            factories.booking(child, canteen, date(2026, 11, day))
    factories.child(family, "Enfant3")
    busy = queries()
    # the session, then the children, years, activities, options, registrations and days
    assert empty == busy == 7
