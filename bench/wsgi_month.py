"""WSGI entry for gunicorn: the app over a demo database, the demo clock pinned.

    BENCH_DATABASE_URL=sqlite:////tmp/x/bench.db BENCH_UPLOAD_FOLDER=/tmp/x/uploads \\
        .venv/bin/gunicorn --chdir . 'bench.wsgi_month:serve()'

The database must already hold the demo data (build_demo_database). Each worker pins the
application's one clock (clock.pin, as tests/e2e/harness.py does) to DEMO_NOW, so pages are
rendered, and sessions opened, as of Thursday 26 November 2026. Also imported by
bench/month_vs_hello.py and bench/month_profile.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import clock  # noqa: E402
from app import create_app  # noqa: E402
from demo import load_demo_data  # noqa: E402
from extensions import db  # noqa: E402
from tests.e2e.harness import DEMO_NOW  # noqa: E402


def make_app(database_url: str, upload_folder: str) -> Flask:
    """The test settings over `database_url`, with no throttling of the load."""
    return create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": upload_folder,
            "RATELIMIT_ENABLED": False,
            "LOGIN_RATE_PER_IP": "1000 per minute",
            "LOGIN_RATE_PER_ACCOUNT": "1000 per hour",
        }
    )


def build_demo_database(workdir: Path) -> str:
    """A SQLite file under `workdir` loaded with the demo data; returns its URL."""
    url = f"sqlite:///{workdir / 'bench.db'}"
    app = make_app(url, str(workdir / "uploads"))
    with app.app_context():
        db.create_all()
        load_demo_data(DEMO_NOW.date())
        db.session.remove()
        db.engine.dispose()
    return url


def pin_demo_clock() -> str:
    """Stop the application's one clock (clock.py) at DEMO_NOW, as tests/e2e/harness.py does."""
    clock.pin(DEMO_NOW)
    if clock.utcnow() != DEMO_NOW:
        raise RuntimeError("clock.pin did not stop the clock")
    return f"{DEMO_NOW:%Y-%m-%d %H:%M} UTC"


def serve() -> Flask:
    """gunicorn's factory: the app over BENCH_DATABASE_URL, the demo clock pinned."""
    app = make_app(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_UPLOAD_FOLDER"])
    print(f"demo clock pinned to {pin_demo_clock()}", file=sys.stderr)
    return app
