"""INSCRIPTIONS on a phone (the demo clock: Thursday 26 November 2026, 9:00 in Paris):
famille.demo asks Léa's morning care with its usual days, agent.demo accepts it in the back
office, and the family reads which days that booked, then sees them in the month."""

from __future__ import annotations

from playwright.sync_api import expect

from demo import FAMILY_PASSWORD, STAFF_PASSWORD
from tests.e2e import harness


def open_every_form(page) -> None:
    """The request and cancellation forms are folded: axe checks them unfolded."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


def test_inscriptions_is_accessible_and_fits_a_phone(page):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    page.goto("/inscriptions")
    open_every_form(page)
    count, report = harness.axe_violations(page)
    assert count == 0, report
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]


def test_a_registration_asked_on_a_phone_and_accepted_books_its_usual_days(
    page, browser, live_server
):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    page.goto("/inscriptions")
    card = page.locator("section.reg-child", has_text="Léa").locator(
        "li.reg", has_text="Accueil périscolaire du matin"
    )
    expect(card).to_contain_text("Pas d'inscription")
    card.get_by_text("Demander l'inscription").click()
    card.get_by_label("lundi").check()
    card.get_by_label("jeudi").check()
    card.get_by_role("button", name="Envoyer la demande").click()
    expect(card).to_contain_text("Demande envoyée")
    expect(card).to_contain_text("Aucun jour n'est réservé tant que le service n'a pas accepté")

    accept_in_the_back_office(browser, live_server.url, "Léa")

    page.reload()
    expect(card).to_contain_text("Inscription acceptée")
    # from Monday 30 November (the days before are past the deadline) to the year's end
    expect(card).to_contain_text("47 jours réservés d'ici au 1er juillet 2027 (lun., jeu.)")
    card.get_by_role("link", name="Voir le mois").click()
    assert page.url.endswith("/2026-11")
    morning = page.locator('td[data-date="2026-11-30"][data-activity="care_morning"]')
    assert morning.get_attribute("data-status") == "registered"
    page.goto("/alertes")
    expect(page.locator("main")).to_contain_text("Inscription acceptée : Accueil périscolaire")


def accept_in_the_back_office(browser, base_url: str, child: str) -> None:
    """agent.demo ticks the child's request in Réservations › Inscriptions and accepts it."""
    context = browser.new_context(base_url=base_url, viewport=harness.DESKTOP, locale="fr-FR")
    staff = context.new_page()
    staff.goto("/login")
    staff.get_by_label("Identifiant", exact=True).fill("agent.demo")
    staff.get_by_label("Mot de passe", exact=True).fill(STAFF_PASSWORD)
    staff.get_by_role("button", name="Se connecter").click()
    staff.goto("/admin/registration/?flt0_0=requested")
    row = staff.locator("tr", has_text=child).filter(has_text="Accueil périscolaire du matin")
    row.locator("input.action-checkbox").check()
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.get_by_role("button", name="Avec la sélection").click()
    staff.locator(".dropdown-item", has_text="Accepter").click()
    expect(staff.locator("body")).to_contain_text("1 demande acceptée.")
    context.close()
