"""Screenshots of the parent portal for the README: `.venv/bin/python bench/screenshots.py`.

Not a test: the same machinery as tests/e2e (demo data, live server, Debian's Chromium, the
demo clock: Thursday 26 November 2026, 9:00 in Paris), writing to docs/screenshots/, at
390x844 unless named -desktop (1280x800):

- login-phone, home-phone (the whole of ACCUEIL: its "Mon enfant est absent aujourd'hui"
  button, this week's menu of each child, the news for the family);
- reservations-week-phone: the month as it opens, at this week: today marked, the days past
  their deadline locked beside the open ones;
- reservations-day-phone: an editable day, until when it can be changed, its actions;
- reservations-many-preview-phone: many days mixing an automatic and a manual activity;
- reservations-many-done-phone: its confirmation, the days not booked and why;
- reservations-phone and reservations-desktop: the whole of December, all five colours;
- inscriptions-phone: INSCRIPTIONS once famille.demo has asked Léa's morning care;
- compte-phone: MON COMPTE once famille.demo has asked for a new mobile number (waiting
  for staff beside the number on file);
- documents-phone: DOCUMENTS once famille.demo has sent a photo of Tom's health sheet;
- alertes-phone: ALERTES after one staff decision on several requests of the family;
- finances-phone and finances-desktop: FINANCES once November is billed (two unpaid
  invoices to tick, September paid by cheque);
- home-desktop.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo import FAMILY_PASSWORD  # noqa: E402
from tests.e2e import harness  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DECEMBER = "/reservations/1/2026-12"  # Tom, the demo's first child: all five colours


class Camera:
    """One signed-in browser context at one size, writing docs/screenshots/<name>.png."""

    def __init__(self, browser, base_url: str, viewport: dict):
        self.context = browser.new_context(base_url=base_url, viewport=viewport, locale="fr-FR")
        self.page = self.context.new_page()

    def sign_in(self) -> Camera:
        harness.sign_in(self.page, "famille.demo", FAMILY_PASSWORD)
        return self

    def shoot(self, name: str, path: str | None = None, full_page: bool = False) -> None:
        if path is not None:
            self.page.goto(path)
        self.page.wait_for_load_state()
        self.page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
        print(f"{OUT.relative_to(ROOT)}/{name}.png")

    def close(self) -> None:
        self.context.close()


def many_days(camera: Camera) -> None:
    """Tom's morning care (automatic) and evening care (manual) from today to the holidays."""
    page = camera.page
    page.goto("/reservations/plusieurs-jours")
    page.get_by_label("Léa").uncheck()
    page.get_by_label("Accueil périscolaire du matin — 7h30 – 8h30").check()
    page.get_by_label("Accueil périscolaire du soir — jusqu'à 17h30").check()
    page.get_by_label("Du", exact=True).fill("2026-11-26")
    page.get_by_label("Au", exact=True).fill("2026-12-18")
    page.get_by_role("button", name="Voir ce qui sera fait").click()
    camera.shoot("reservations-many-preview-phone", full_page=True)
    page.get_by_role("button", name="Confirmer").click()
    camera.shoot("reservations-many-done-phone", full_page=True)


def inscriptions(camera: Camera) -> None:
    """INSCRIPTIONS after famille.demo asks Léa's morning care (Mon, Tue, Thu, Fri): Tom's
    and Léa's accepted registrations say which days are booked, the new one that none is."""
    page = camera.page
    page.goto("/inscriptions")
    lea = page.locator("section.reg-child", has_text="Léa")
    card = lea.locator("li.reg", has_text="Accueil périscolaire du matin")
    card.get_by_text("Demander l'inscription").click()
    for day in ("lundi", "mardi", "jeudi", "vendredi"):
        card.get_by_label(day).check()
    card.get_by_role("button", name="Envoyer la demande").click()
    camera.shoot("inscriptions-phone", full_page=True)


def compte(camera: Camera) -> None:
    """MON COMPTE after the family sends a new mobile number for its first guardian."""
    page = camera.page
    page.goto("/compte")
    guardian = page.locator("#responsables .fiche").first
    guardian.locator("summary").click()
    guardian.get_by_label("Téléphone portable").fill("06 00 00 00 99")
    guardian.get_by_role("button", name="Envoyer les modifications").click()
    camera.shoot("compte-phone", full_page=True)


def documents(camera: Camera) -> None:
    """DOCUMENTS after famille.demo sends a photo of Tom's health sheet: received, beside the
    QF certificate accepted and the insurance waiting, and what is still to send."""
    from tests import uploads_corpus

    page = camera.page
    page.goto("/documents")
    page.get_by_label("Type de document").select_option(label="Fiche sanitaire")
    page.get_by_label("Enfant concerné").select_option(label="Tom")
    photo = {"name": "fiche-sanitaire-tom.jpg", "mimeType": "image/jpeg"}
    page.get_by_label("Prendre une photo").set_input_files(
        files=[{**photo, "buffer": uploads_corpus.jpeg_with_gps((900, 1200))}]
    )
    page.get_by_role("button", name="Envoyer le document").click()
    camera.shoot("documents-phone", full_page=True)


def decide_the_familys_requests() -> None:
    """Staff decide every waiting request of the family at once (one refused), as the
    Demandes screen does: ONE alert for the family, listing the decisions."""
    from sqlalchemy import select

    from extensions import db
    from models import Booking, BookingStatus, Child
    from services import booking
    from vocabulary import REQUEST_KINDS

    family_id = db.session.scalar(select(Child.family_id).where(Child.first_name == "Tom"))
    requests = db.session.scalars(
        select(Booking)
        .join(Booking.child)
        .where(Child.family_id == family_id, Booking.status.in_(REQUEST_KINDS))
        .order_by(Booking.day, Booking.id)
    ).all()
    decisions = [booking.Decision(request, booking.APPROVE) for request in requests]
    refused = next(d for d in decisions if d.booking.status == BookingStatus.PENDING)
    refused.decision, refused.reason = booking.REFUSE, "plus de place ce soir-là"
    booking.decide(decisions, harness.DEMO_NOW)


def bill_november() -> None:
    """The billing run of November, as staff start it: famille.demo owes two invoices."""
    from datetime import date

    from services import billing

    billing.run_billing(date(2026, 11, 1), harness.DEMO_NOW)


def main() -> int:
    reason = harness.missing_browser()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        harness.live_demo_server(Path(workdir)) as server,
        sync_playwright() as playwright,
    ):
        browser = harness.launch_chromium(playwright)
        phone = Camera(browser, server.url, harness.PHONE)
        phone.shoot("login-phone", "/login")
        phone.sign_in().shoot("home-phone", full_page=True)
        phone.shoot("reservations-week-phone", "/reservations")
        phone.shoot("reservations-day-phone", "/reservations/1/jour/2026-12-15/care_evening")
        phone.shoot("reservations-phone", DECEMBER, full_page=True)
        inscriptions(phone)
        desktop = Camera(browser, server.url, harness.DESKTOP).sign_in()
        desktop.shoot("home-desktop")
        desktop.shoot("reservations-desktop", DECEMBER, full_page=True)
        desktop.close()
        many_days(phone)
        compte(phone)
        documents(phone)
        with server.app.app_context():
            decide_the_familys_requests()
        phone.shoot("alertes-phone", "/alertes")
        with server.app.app_context():
            bill_november()
        phone.shoot("finances-phone", "/finances", full_page=True)
        phone.close()
        desktop = Camera(browser, server.url, harness.DESKTOP).sign_in()
        desktop.shoot("finances-desktop", "/finances", full_page=True)
        desktop.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
