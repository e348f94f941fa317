"""A parent on a phone runs MES RÉSERVATIONS end to end (the demo clock: Thursday 26 November
2026, 9:00 in Paris). The tests share one live server: each acts on days of its own."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demo import FAMILY_PASSWORD
from tests.e2e import harness

NARROW = {"width": 360, "height": 740}


def cell(page, day: str, activity: str):
    return page.locator(f'td[data-date="{day}"][data-activity="{activity}"]')


def tap(page, day: str, activity: str) -> None:
    cell(page, day, activity).locator("button, a").first.click()


def status(page, day: str, activity: str) -> str:
    return cell(page, day, activity).get_attribute("data-status")


def message(page):
    """The message beside the day: on screen, without scrolling."""
    notice = page.locator("#resultat")
    expect(notice).to_be_in_viewport()
    return notice


def assert_accessible(page) -> None:
    count, report = harness.axe_violations(page)
    assert count == 0, report


def assert_fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def parent(page):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    return page


@pytest.fixture
def december(parent):
    parent.goto("/reservations")
    parent.get_by_role("link", name="Mois suivant").first.click()
    assert parent.url.endswith("/2026-12")
    return parent


def test_month_page_is_accessible_and_fits_a_phone(december):
    assert_accessible(december)
    assert_fits(december, harness.PHONE["width"])
    statuses = set(
        december.locator("td[data-status]").evaluate_all(
            "cells => cells.map(c => c.dataset.status)"
        )
    )
    assert {
        "available",
        "registered",
        "pending",
        "change-requested",
        "cancel-requested",
        "closed",
    } <= statuses


def test_the_calendar_opens_at_this_week_with_today_marked_and_past_days_locked(parent):
    parent.goto("/reservations")
    assert re.search(r"/reservations/\d+/2026-11#s-2026-11-23$", parent.url)
    expect(parent.locator("#s-2026-11-23")).to_be_in_viewport()
    today = parent.locator('th[aria-current="date"]')
    expect(today).to_have_count(1)
    expect(today).to_contain_text("26")
    locked, open_day = cell(parent, "2026-11-24", "canteen"), cell(parent, "2026-11-30", "canteen")
    expect(locked).to_have_class(re.compile(r"\blocked\b"))
    expect(open_day).not_to_have_class(re.compile(r"\blocked\b"))
    label = open_day.locator("button, a").first.get_attribute("aria-label")
    assert "modifiable jusqu'au jeudi 26 novembre à 10 h" in label
    assert_accessible(parent)


def test_one_tap_books_cancels_and_undoes_beside_the_day(december):
    page = december
    tap(page, "2026-12-01", "care_morning")
    assert (
        "Réservé : Accueil périscolaire du matin, mardi 1 décembre." in message(page).inner_text()
    )
    assert status(page, "2026-12-01", "care_morning") == "registered"

    tap(page, "2026-12-01", "care_morning")  # one option: a tap cancels
    assert "Réservation annulée" in message(page).inner_text()
    assert status(page, "2026-12-01", "care_morning") == "available"
    assert_accessible(page)
    message(page).get_by_role("button", name=re.compile("^Annuler")).click()
    assert "Réservé" in message(page).inner_text()
    assert status(page, "2026-12-01", "care_morning") == "registered"

    tap(page, "2026-12-17", "care_evening")  # a pending request: a tap withdraws it
    assert "Demande retirée" in message(page).inner_text()
    assert status(page, "2026-12-17", "care_evening") == "available"


def test_the_day_page_offers_what_the_day_allows(december):
    page = december
    tap(page, "2026-12-15", "care_evening")  # registered, two options: the day page
    assert "Modifiable jusqu'au lundi 14 décembre à 12 h" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Annuler ce jour").click()
    assert "Annulation demandée" in message(page).inner_text()
    assert status(page, "2026-12-15", "care_evening") == "cancel-requested"

    tap(page, "2026-12-08", "care_evening")  # a pending option change
    page.get_by_role("button", name="Retirer ma demande").click()
    assert "Demande retirée" in message(page).inner_text()
    assert status(page, "2026-12-08", "care_evening") == "registered"


def test_the_usual_option_is_one_tap_away_and_another_one_tap_more(december):
    page = december
    tap(page, "2026-12-03", "canteen")  # registered, two options: the day page
    page.get_by_role("button", name="Annuler ce jour").click()
    assert "Réservation annulée" in message(page).inner_text()

    tap(page, "2026-12-03", "canteen")  # available: one tap books the usual option
    notice = message(page)
    assert (
        "Réservé : Restaurant scolaire, jeudi 3 décembre (Repas standard)." in notice.inner_text()
    )
    notice.get_by_role("link", name="Changer de formule").click()
    page.get_by_role("button", name="Passer à : Repas sans viande").click()
    assert "Formule changée (Repas sans viande)" in message(page).inner_text()


def test_many_days_mix_an_automatic_and_a_manual_activity(parent):
    page = parent
    page.set_viewport_size(NARROW)
    page.goto("/reservations/plusieurs-jours")
    assert_fits(page, NARROW["width"])
    page.get_by_label("Léa").uncheck()
    page.get_by_label("Accueil périscolaire du matin — 7h30 – 8h30").check()
    page.get_by_label("Accueil périscolaire du soir — jusqu'à 17h30").check()
    page.get_by_label("Du", exact=True).fill("2026-11-26")
    page.get_by_label("Au", exact=True).fill("2026-12-18")
    page.get_by_role("button", name="Voir ce qui sera fait").click()
    assert page.get_by_role("heading", name="Vérifiez avant de confirmer").is_visible()
    morning = page.locator("article", has_text="Accueil périscolaire du matin")
    evening = page.locator("article", has_text="Accueil périscolaire du soir")
    expect(morning).to_contain_text("Réservation immédiate")
    expect(morning).to_contain_text("jours seront réservés")
    expect(evening).to_contain_text("Validation par la mairie")
    expect(evening).to_contain_text("demandes à valider par la mairie")
    expect(evening).to_contain_text("jour après le délai de réservation")
    assert_fits(page, NARROW["width"])
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r"Confirmer")).click()
    assert page.get_by_role("heading", name=re.compile("C'est fait")).is_visible()
    expect(evening).to_contain_text("Tom — jeudi 26 novembre")  # not booked, and why
    assert_accessible(page)


def test_a_parent_declares_an_absence_for_today_from_accueil_and_withdraws_it(parent):
    page = parent
    page.set_viewport_size(NARROW)
    page.goto("/")
    page.get_by_role("link", name="Mon enfant est absent aujourd'hui").click()
    assert page.get_by_role("heading", name="Signaler une absence").is_visible()
    assert page.get_by_label("Premier jour d'absence").input_value() == "2026-11-26"
    assert_fits(page, NARROW["width"])
    assert_accessible(page)
    page.get_by_label("Précisions (facultatif)").fill("Fièvre ce matin")
    page.get_by_role("button", name="Signaler l'absence").click()
    assert "Absence de Tom signalée" in message(page).inner_text()

    tap(page, "2026-11-26", "canteen")
    page.get_by_role("button", name="Retirer l'absence signalée").click()
    assert "Absence retirée" in message(page).inner_text()
