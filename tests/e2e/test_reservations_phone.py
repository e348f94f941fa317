"""A parent on a phone runs MES RÉSERVATIONS end to end (the demo clock: 26 November 2026)."""

from __future__ import annotations

import re

import pytest

from demo import FAMILY_PASSWORD
from tests.e2e import harness


def cell(page, day: str, activity: str):
    return page.locator(f'td[data-date="{day}"][data-activity="{activity}"]')


def status(page, day: str, activity: str) -> str:
    return cell(page, day, activity).get_attribute("data-status")


def flash(page) -> str:
    return page.locator(".flash").first.inner_text()


@pytest.fixture
def december(page):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    page.goto("/reservations")
    assert re.search(r"/reservations/\d+/2026-11$", page.url)
    page.get_by_role("link", name="Mois suivant").click()
    assert page.url.endswith("/2026-12")
    return page


def test_month_page_is_accessible_and_fits_a_phone(december):
    count, report = harness.axe_violations(december)
    assert count == 0, report
    width = december.evaluate("document.documentElement.scrollWidth")
    assert width <= harness.PHONE["width"]
    statuses = set(december.locator("td[data-status]").evaluate_all(
        "cells => cells.map(c => c.dataset.status)"
    ))
    assert {"available", "registered", "pending", "change-requested", "cancel-requested",
            "closed"} <= statuses


def test_a_parent_books_withdraws_cancels_and_books_many_days(december):
    page = december
    # one tap books a free morning (one option: no question asked)
    cell(page, "2026-12-01", "care_morning").get_by_role("button").click()
    assert "Réservé : Accueil périscolaire du matin, mardi 1 décembre." in flash(page)
    assert status(page, "2026-12-01", "care_morning") == "registered"

    # one tap withdraws a pending request
    cell(page, "2026-12-17", "care_evening").get_by_role("button").click()
    assert "Demande retirée" in flash(page)
    assert status(page, "2026-12-17", "care_evening") == "available"

    # a registered evening (two options) opens the day, where the parent asks to cancel
    cell(page, "2026-12-15", "care_evening").get_by_role("button").click()
    page.get_by_role("button", name="Annuler ce jour").click()
    assert "Annulation demandée" in flash(page)
    assert status(page, "2026-12-15", "care_evening") == "cancel-requested"

    # every Monday and Thursday of December, for both children, in one go
    page.get_by_role("link", name="Plusieurs jours").click()
    page.get_by_label("Prestation et formule").select_option(
        label="Accueil périscolaire du soir — jusqu'à 17h30"
    )
    page.get_by_label("Du").fill("2026-12-01")
    page.get_by_label("Au").fill("2026-12-31")
    for day in ("Mardi", "Vendredi"):
        page.get_by_label(day).uncheck()
    page.get_by_role("button", name="Voir ce qui sera fait").click()
    assert page.get_by_role("heading", name="Vérifiez avant de confirmer").is_visible()
    page.get_by_role("button", name=re.compile(r"Confirmer")).click()
    assert "en attente de validation par la mairie" in flash(page)
    assert status(page, "2026-12-07", "care_evening") == "pending"


def test_a_parent_declares_an_absence_for_today(december):
    page = december
    page.get_by_role("link", name="Mois précédent").click()
    assert status(page, "2026-11-26", "canteen") == "registered"
    assert cell(page, "2026-11-26", "canteen").get_attribute("data-editable") == "false"
    cell(page, "2026-11-26", "canteen").get_by_role("button").click()
    assert page.get_by_role("heading", name="Signaler une absence").is_visible()
    page.get_by_label("Précisions (facultatif)").fill("Fièvre ce matin")
    page.get_by_role("button", name="Signaler l'absence").click()
    assert "Absence de Tom signalée" in flash(page)
