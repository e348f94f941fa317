"""The live app and the browser, shared by the e2e tests and bench/screenshots.py.

The app runs in a thread (werkzeug's make_server) on a free 127.0.0.1 port, over a
temporary SQLite *file* (several threads share it; an in-memory database would not be
shared) loaded with the demo data. The browser is Debian's Chromium, driven by Playwright.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

import clock
from app import create_app
from demo import load_demo_data
from extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The browser tests and screenshots live on Thursday 26 November 2026, 9:00 in Paris,
# whatever day they run: the demo school year and its deadlines stay where they expect.
DEMO_NOW = datetime(2026, 11, 26, 8, 0)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    return None


@contextmanager
def live_demo_server(workdir: Path) -> Iterator[LiveServer]:
    """The app with the demo data, served until the block ends."""
    app = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'e2e.db'}",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            # Every browser test signs in from 127.0.0.1: the per-IP limit is not under test.
            "LOGIN_RATE_PER_IP": "1000 per minute",
            "LOGIN_RATE_PER_ACCOUNT": "1000 per hour",
        }
    )
    with app.app_context():
        db.create_all()
        load_demo_data(DEMO_NOW.date())
        db.session.remove()
    clock.pin(DEMO_NOW)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        clock.pin(None)
        with app.app_context():
            db.engine.dispose()


def launch_chromium(playwright):
    """Debian's Chromium, headless, with nothing that calls home."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def sign_in(page, username: str, password: str) -> None:
    """Through the real login form, as a parent would."""
    page.goto("/login")
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def axe_violations(page) -> tuple[int, str]:
    """Run axe-core (the copy shipped by axe-playwright-python) on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return results.violations_count, results.generate_report()
