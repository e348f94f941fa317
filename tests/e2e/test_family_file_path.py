"""The family file, end to end (issue 10's done-when), at the demo clock (Thursday
26 November 2026, 9:00 in Paris).

On a phone famille.demo asks Léa's morning care with its usual days, asks for a new mobile
number for Camille, sends a photo of a medical certificate and a PDF, and sees both
received; agent.demo, at a desk, accepts the registration, validates the number, accepts
the photo and refuses the PDF with a reason, from the back office's lists; the family then
sees every outcome on its pages, and one alert for each.

The path owns a live server of its own: the other browser tests share one, and two of them
change the same registration and guardian on it."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from reportlab.pdfgen import canvas

from demo import FAMILY_PASSWORD, STAFF_PASSWORD
from tests.conftest import ON_POSTGRES
from tests.e2e import harness

NEW_PHONE = "0611223344"
REFUSAL = "Le document est illisible : merci d'envoyer une copie nette."


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    if ON_POSTGRES:
        pytest.skip("browser tests run once, in the SQLite pass")
    with harness.live_demo_server(tmp_path_factory.mktemp("family-file")) as server:
        yield server


@pytest.fixture
def files(tmp_path):
    """A small JPEG (Pillow) and a one-page PDF (reportlab), written where the browser reads."""
    photo, pdf = tmp_path / "certificat-lea.jpg", tmp_path / "attestation-employeur.pdf"
    Image.new("RGB", (64, 48), (200, 180, 160)).save(photo, "JPEG")
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer)
    sheet.drawString(72, 720, "Attestation employeur")
    sheet.save()
    pdf.write_bytes(buffer.getvalue())
    return photo, pdf


def new_page(browser, server, viewport):
    context = browser.new_context(base_url=server.url, viewport=viewport, locale="fr-FR")
    context.set_default_timeout(10_000)
    return context.new_page()


def test_the_family_file_from_request_to_every_outcome(browser, own_server, files):
    family = new_page(browser, own_server, harness.PHONE)
    harness.sign_in(family, "famille.demo", FAMILY_PASSWORD)
    ask_for_the_morning_care(family)
    ask_for_a_new_phone(family)
    send_the_documents(family, *files)

    staff = new_page(browser, own_server, harness.DESKTOP)
    harness.sign_in(staff, "agent.demo", STAFF_PASSWORD)
    staff.on("dialog", lambda dialog: dialog.accept())
    accept_the_registration(staff)
    accept_the_phone(staff)
    decide_the_documents(staff)
    staff.context.close()

    sees_the_registration_and_its_days(family)
    sees_the_new_phone(family)
    sees_the_documents_decided(family)
    sees_an_alert_for_each_outcome(family)
    family.context.close()


# --- The family asks ------------------------------------------------------------------------


def morning_care(page):
    return page.locator("section.reg-child", has_text="Léa").locator(
        "li.reg", has_text="Accueil périscolaire du matin"
    )


def ask_for_the_morning_care(page) -> None:
    page.goto("/inscriptions")
    card = morning_care(page)
    expect(card).to_contain_text("Pas d'inscription")
    card.get_by_text("Demander l'inscription").click()
    card.get_by_label("lundi").check()
    card.get_by_label("jeudi").check()
    card.get_by_role("button", name="Envoyer la demande").click()
    expect(morning_care(page)).to_contain_text("Demande envoyée")


def camille(page):
    return page.locator("#responsables .fiche", has_text="Camille")


def ask_for_a_new_phone(page) -> None:
    page.goto("/compte")
    camille(page).locator("summary").click()
    camille(page).get_by_label("Téléphone portable").fill(NEW_PHONE)
    camille(page).get_by_role("button", name="Envoyer les modifications").click()
    expect(page.locator(".flash-success")).to_contain_text("1 modification envoyée")
    expect(camille(page).locator(".pending")).to_contain_text(
        "en attente de validation : 06 11 22 33 44"
    )


def send_the_documents(page, photo, pdf) -> None:
    page.goto("/documents")
    page.get_by_label("Type de document").select_option(label="Certificat médical")
    page.get_by_label("Enfant concerné").select_option(label="Léa")
    page.get_by_label("Prendre une photo").set_input_files(photo)
    page.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator(".flashes")).to_contain_text(f"Document reçu : {photo.name}")

    page.get_by_label("Type de document").select_option(label="Autre document")
    page.get_by_label("Ou choisir un fichier").set_input_files(pdf)
    page.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator(".flashes")).to_contain_text(f"Document reçu : {pdf.name}")
    for name in (photo.name, pdf.name):
        expect(sent(page, name).locator(".standing")).to_have_text("Reçu")


def sent(page, name: str):
    return page.locator("li.row", has_text=name)


# --- agent.demo decides, from the back office's lists ----------------------------------------


def tick_and_apply(staff, row, action: str) -> None:
    """Tick one row of a Flask-Admin list and run one action from « Avec la sélection »."""
    row.locator("input.action-checkbox").check()
    staff.get_by_role("button", name="Avec la sélection").click()
    staff.locator(".dropdown-item", has_text=action).first.click()
    staff.wait_for_load_state()


def accept_the_registration(staff) -> None:
    staff.goto("/admin/registration/?flt0_0=requested")
    row = staff.locator("tr", has_text="Léa").filter(has_text="Accueil périscolaire du matin")
    tick_and_apply(staff, row, "Accepter")
    expect(staff.locator("body")).to_contain_text("1 demande acceptée.")


def accept_the_phone(staff) -> None:
    staff.goto("/admin/changerequest/")
    row = staff.locator("tr", has_text="Téléphone portable").filter(has_text="33 44")
    expect(row).to_have_count(1)
    tick_and_apply(staff, row, "Accepter")
    expect(staff.locator("body")).to_contain_text("1 modification acceptée")


def decide_the_documents(staff) -> None:
    staff.goto("/admin/document/")
    tick_and_apply(staff, staff.locator("tr", has_text="certificat-lea.jpg"), "Accepter")
    expect(staff.locator("body")).to_contain_text("1 pièce acceptée")

    tick_and_apply(staff, staff.locator("tr", has_text="attestation-employeur.pdf"), "Refuser")
    expect(staff.get_by_role("heading", name="Refuser 1 pièce")).to_be_visible()
    staff.get_by_label("Motif du refus").fill(REFUSAL)
    staff.get_by_role("button", name="Refuser").click()
    expect(staff.locator("body")).to_contain_text("1 pièce refusée")


# --- The family sees every outcome -----------------------------------------------------------


def sees_the_registration_and_its_days(page) -> None:
    page.goto("/inscriptions")
    card = morning_care(page)
    expect(card).to_contain_text("Inscription acceptée")
    # from Monday 30 November (the days before are past the deadline) to the year's end
    expect(card).to_contain_text("47 jours réservés d'ici au 1er juillet 2027 (lun., jeu.)")
    card.get_by_role("link", name="Voir le mois").click()
    page.wait_for_url(re.compile(r"/reservations/\d+/2026-11$"))
    monday = page.locator('td[data-date="2026-11-30"][data-activity="care_morning"]')
    expect(monday).to_have_attribute("data-status", "registered")
    page.goto(page.url.replace("2026-11", "2026-12"))
    booked = page.locator('td[data-activity="care_morning"][data-status="registered"]')
    expect(booked.first).to_be_visible()
    assert booked.count() >= 5  # the Mondays and Thursdays of December before the holidays


def sees_the_new_phone(page) -> None:
    page.goto("/compte")
    expect(camille(page)).to_contain_text("06 11 22 33 44")
    expect(camille(page).locator(".pending")).to_have_count(0)


def sees_the_documents_decided(page) -> None:
    page.goto("/documents")
    expect(sent(page, "certificat-lea.jpg").locator(".standing")).to_have_text("Accepté")
    refused = sent(page, "attestation-employeur.pdf")
    expect(refused.locator(".standing")).to_have_text("Refusé")
    expect(refused.locator(".refusal")).to_have_text(f"Motif du refus : {REFUSAL}")
    fits_the_phone(page)


def sees_an_alert_for_each_outcome(page) -> None:
    page.goto("/alertes")
    alerts = page.locator("li.alert-item.unread")
    for words in (
        "Inscription acceptée : Accueil périscolaire du matin",
        "Votre modification est validée",
        "(certificat-lea.jpg) : pièce acceptée",
        f"(attestation-employeur.pdf) : pièce refusée. Motif : {REFUSAL}",
    ):
        expect(alerts.filter(has_text=words)).to_have_count(1)
    fits_the_phone(page)


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]
