"""Fixtures: a fresh app and database per test, on SQLite or PostgreSQL.

PORTAIL_TEST_DB=postgres runs the suite on an embedded PostgreSQL server.
"""

from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import text

import clock
from app import create_app
from blueprints.bookings.rendered import WEEKS
from extensions import db
from tests import factories

IN_CI = os.environ.get("CI") == "true"
ON_POSTGRES = os.environ.get("PORTAIL_TEST_DB") == "postgres"

# Hypothesis under CI=true: the same examples on every run (a new random draw can never
# turn CI red), no example database carried between runs, and a failure printed with the
# blob that replays it (@reproduce_failure); no deadline either, a slow CI machine being
# one more random draw. Outside CI the draws stay random, so local runs keep exploring.
# Loaded here, before pytest imports any test module: a `settings(max_examples=...)` built
# at import time inherits every field it does not set from this profile (derandomize
# included); `--hypothesis-profile` still overrides.
settings.register_profile(
    "portail-ci",
    settings.get_profile("default"),
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
)
settings.load_profile("portail-ci" if IN_CI else "default")


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL (row locks, races)")


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PORTAIL_TEST_DB=postgres pass")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if ON_POSTGRES:
        from tests.services_pg import start_postgres

        return start_postgres()
    return "sqlite://"


class RequestIsolatedClient(FlaskClient):
    """Each request gets its own app context, hence its own `g` and database session.

    The app fixture keeps a context open for the test's own queries; without this, requests
    would share it and Flask-Login's per-request user cache would leak between requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    app.test_client_class = RequestIsolatedClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        if ON_POSTGRES:
            _truncate_all()
        else:
            db.drop_all()
        db.engine.dispose()


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _clock_runs_again():
    """A test that pinned the clock leaves it running for the next one."""
    yield
    clock.pin(None)


@pytest.fixture(autouse=True)
def _no_kept_month_pages():
    """Each test starts with the month page's cache empty, so that its query counts do not
    depend on which test ran before (identical data in two tests would share entries,
    rightly: the key is the data)."""
    WEEKS.clear()


# Connections for the most requests a race test sends at once (21, tests/test_booking_race.py)
# and the test's own.
RACE_POOL = 22


@pytest.fixture
def race_app(app, database_url, tmp_path):
    """A second app on the same database with a pool wide enough for every racer at once."""
    other = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACE_POOL, "max_overflow": 0},
            "UPLOAD_FOLDER": str(tmp_path / "race-uploads"),
        }
    )
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def pin_clock():
    """The one clock seam: `pin_clock(moment)` stops the application's clock (naive UTC)."""
    return clock.pin


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a real browser would read from the form at `path`."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token in {path}"
    return match.group(1)


class AuthActions:
    """Sign in and out through the real forms, CSRF included."""

    def __init__(self, client):
        self.client = client

    def login(self, username, password=factories.PASSWORD, **headers):
        token = csrf_token(self.client)
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            headers=headers,
        )

    def logout(self, form_page: str = "/compte"):
        token = csrf_token(self.client, form_page)
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def family(app):
    return factories.family_with_children(app, "famille.a", children=2)


@pytest.fixture
def other_family(app):
    return factories.family_with_children(app, "famille.b", children=1)


@pytest.fixture
def booking_world(family, other_family):
    """The one world of the booking tests (factories.booking_world)."""
    return factories.booking_world(family, other_family)


@pytest.fixture
def staff(app):
    return factories.staff_user("agent.a")


# --- A real SMTP server (aiosmtpd on 127.0.0.1) ---------------------------------------


@pytest.fixture
def smtp(app):
    """The app sends its outbox to a real local SMTP server; `smtp.messages` is what arrived."""
    from tests.services_smtp import SmtpServer

    server = SmtpServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False)
    yield server
    server.stop()
