"""SECURITY.md check 15: every CSV export of the back office, downloaded whole over HTTP.

Flask-Admin streams an export after its view has returned; a value read from the database
at that point fails after the 200 and its headers, and the download stops short. The test
client hides it (its app context outlives the response), so this test serves the demo app
with a real server (tests/e2e/harness.py) and reads each export as a browser would: the
whole body, parsed as CSV, with the list's header and one row per row of the list, and no
cell that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import http.client
import io
import re
import urllib.parse
import urllib.request
from datetime import datetime
from http.cookiejar import CookieJar

import pytest
from flask_login import login_user
from sqlalchemy import select

from admin_views.base import FORMULA_PREFIXES
from extensions import db
from models import (
    AuditEvent,
    ChangeRequest,
    Family,
    Guardian,
    OutboxEmail,
    Payment,
    StaffNotice,
    StaffUser,
    TaxCertificate,
)
from tests.conftest import CSRF_RE, ON_POSTGRES
from tests.e2e import harness

ADMIN = ("agent.demo", "Demo-agent-2026")
# Planted in text columns of several lists: each must come out defused, with a quote.
FORMULAS = {
    "guardian": '=HYPERLINK("http://evil.example","x")',
    "payment": "+33 6 00 00 00 00",
    "changerequest": "-2+3",
    "auditevent": "@SUM(A1:A9)",
    "outboxemail": "=cmd|' /C calc'!A0",
}
NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if ON_POSTGRES:
        pytest.skip("served over a SQLite file: runs once, in the SQLite pass")
    with harness.live_demo_server(tmp_path_factory.mktemp("exports")) as server:
        with server.app.app_context():
            _plant_formulas()
        yield server


def _plant_formulas() -> None:
    family = db.session.scalars(select(Family).order_by(Family.id)).first()
    db.session.add_all(
        [
            Guardian(family=family, first_name="Camille", last_name=FORMULAS["guardian"]),
            ChangeRequest(
                family=family,
                entity="Family",
                entity_id=family.id,
                field="city",
                new_value=FORMULAS["changerequest"],
            ),
            AuditEvent(actor=FORMULAS["auditevent"], action="update", entity="Family"),
            OutboxEmail(to_address="x@example.org", subject=FORMULAS["outboxemail"], body_text=""),
            # The demo issues no certificate in November and records no anomaly: one each.
            TaxCertificate(
                family=family, year=2026, total_cents=1250, issued_at=datetime(2026, 11, 2)
            ),
            StaffNotice(kind="paid-twice", message="Facture payée deux fois", family=family),
        ]
    )
    db.session.scalars(select(Payment).order_by(Payment.id)).first().reference = FORMULAS["payment"]
    db.session.commit()
    db.session.remove()


def signed_in_opener(url: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    token = CSRF_RE.search(opener.open(f"{url}/login").read().decode()).group(1)
    fields = {"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token}
    opener.open(f"{url}/login", urllib.parse.urlencode(fields).encode())
    return opener


def model_views(app) -> list:
    return [
        view for view in app.extensions["admin"][0]._views if getattr(view, "can_export", False)
    ]


def expected(app, view) -> tuple[list[str], int]:
    """The export's header as the admin sees it, and how many rows the list holds."""
    with app.test_request_context():
        login_user(db.session.scalar(select(StaffUser).where(StaffUser.username == ADMIN[0])))
        header = [label for _name, label in view._export_columns]
        count = view.get_count_query().scalar()
        db.session.remove()
    return header, count


def download(opener, url: str) -> str:
    """The file as French Excel reads it: UTF-8 announced by its byte order mark."""
    body = download_bytes(opener, url)
    assert body.startswith(b"\xef\xbb\xbf"), url
    return body.decode("utf-8-sig")


def download_bytes(opener, url: str) -> bytes:
    try:
        with opener.open(url) as response:
            assert response.status == 200, url
            assert response.headers["Content-Type"].startswith("text/csv"), url
            return response.read()
    except (http.client.HTTPException, ValueError) as error:  # a chunk cut short
        pytest.fail(f"{url}: the download broke off ({error!r})")


def test_every_export_downloads_whole_over_a_real_server(live):
    opener = signed_in_opener(live.url)
    views = model_views(live.app)
    assert len(views) > 20
    found_formulas = set()
    for view in views:
        header, count = expected(live.app, view)
        body = download(opener, f"{live.url}/admin/{view.endpoint}/export/csv/")
        got_header, *rows = list(csv.reader(io.StringIO(body), delimiter=";"))
        assert got_header == header, view.endpoint
        assert len(rows) == count, view.endpoint
        assert count > 0, f"{view.endpoint}: an empty list proves little"
        cells = {cell for row in rows for cell in row}
        for cell in cells:
            assert not cell.startswith(FORMULA_PREFIXES) or NUMBER.match(cell), cell
        found_formulas |= {text for text in FORMULAS.values() if f"'{text}" in cells}
    assert found_formulas == set(FORMULAS.values())
