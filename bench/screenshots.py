"""Screenshots of the parent portal for the README: `.venv/bin/python bench/screenshots.py`.

Not a test: the same machinery as tests/e2e (demo data, live server, Debian's Chromium),
writing docs/screenshots/login-phone.png, home-phone.png, reservations-phone.png,
alertes-phone.png (390x844),
home-desktop.png and reservations-desktop.png (1280x800).
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


def shoot(browser, base_url: str, viewport: dict, shots: list[tuple[str, bool, str]]) -> None:
    """Open a fresh context at `viewport`; (name, sign in first, then open path), in order."""
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="fr-FR")
    page = context.new_page()
    for name, signed_in, path in shots:
        if signed_in:
            harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
        if path:
            page.goto(path)
        full = name.startswith("reservations")
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
        print(f"{OUT.relative_to(ROOT)}/{name}.png")
    context.close()


def decide_leas_requests() -> None:
    """Staff decide Léa's December requests, so ALERTES shows what each flow sends."""
    from sqlalchemy import select

    from extensions import db
    from models import Booking, BookingStatus, Child
    from services import booking

    lea = db.session.scalar(select(Child).where(Child.first_name == "Léa"))
    waiting = db.session.scalars(
        select(Booking)
        .where(Booking.child_id == lea.id, Booking.status != BookingStatus.REGISTERED)
        .order_by(Booking.day)
    ).all()
    for request in waiting:
        if request.status == BookingStatus.PENDING:
            booking.refuse(request, "plus de place ce soir-là", harness.DEMO_NOW)
        elif request.status in (BookingStatus.CHANGE_REQUESTED, BookingStatus.CANCEL_REQUESTED):
            booking.approve(request, harness.DEMO_NOW)


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
        december = "/reservations/1/2026-12"  # Tom, the demo's first child: all five colours
        shoot(
            browser,
            server.url,
            harness.PHONE,
            [("login-phone", False, "/login"), ("home-phone", True, ""),
             ("reservations-phone", False, december)],
        )
        with server.app.app_context():
            decide_leas_requests()
        shoot(browser, server.url, harness.PHONE, [("alertes-phone", True, "/alertes")])
        shoot(browser, server.url, harness.DESKTOP, [("home-desktop", True, ""),
                                                     ("reservations-desktop", False, december)])
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
