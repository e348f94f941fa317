"""The treasurer's CSV exports over a real HTTP server (SECURITY.md check 15), after a cheque
recorded through the counter's form, as an agent's browser would do it.

Like tests/test_admin_exports_live.py: the demo app served by tests/e2e/harness.py, the
whole body read and parsed as French Excel does (UTF-8 with its byte order mark, semicolons),
the list's header, no cell a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from datetime import date

import pytest
from sqlalchemy import select

from admin_views.base import FORMULA_PREFIXES
from extensions import db
from models import Family, Invoice
from services import staff_payments as counter
from tests.conftest import CSRF_RE, ON_POSTGRES
from tests.e2e import harness
from tests.test_admin_exports_live import NUMBER, download_bytes, signed_in_opener

# Accented too: the name must come out defused and intact (no « LefÃ¨vre »).
FORMULA_NAME = '=HYPERLINK("http://evil.example","Lefèvre-Éloïse")'
FORMULA_REFERENCE = "+33 6 00 00 00 00"
PERIOD = {"start": "2026-09-01", "end": "2026-11-30"}
DAYS = (date(2026, 9, 1), date(2026, 11, 30))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if ON_POSTGRES:
        pytest.skip("served over a SQLite file: runs once, in the SQLite pass")
    with harness.live_demo_server(tmp_path_factory.mktemp("treasurer")) as server:
        yield server


def demo_invoice(app, number: str) -> tuple[int, int, str]:
    """(family id, invoice id, name it was issued to) of a demo invoice; the family then
    renamed as a formula."""
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
        db.session.get(Family, invoice.family_id).name = FORMULA_NAME
        found = invoice.family_id, invoice.id, invoice.billed_name
        db.session.commit()
        db.session.remove()
    return found


def record_cheque(opener, url: str, family_id: int, invoice_id: int) -> str:
    """Post the counter's form as the browser does; where it redirects."""
    page = opener.open(f"{url}/admin/guichet/?family={family_id}").read().decode()
    assert f'value="{invoice_id}"' in page
    fields = {
        "csrf_token": CSRF_RE.search(page).group(1),
        "family": family_id,
        "ids": invoice_id,
        "method": "cheque",
        "amount": "10,00",
        "received_on": "2026-11-26",
        "reference": FORMULA_REFERENCE,
    }
    with opener.open(
        f"{url}/admin/guichet/enregistrer", urllib.parse.urlencode(fields).encode()
    ) as response:
        return response.url


def french_excel_rows(body: bytes) -> list[list[str]]:
    """The rows French Excel reads: UTF-8 announced by its byte order mark, cells split on
    semicolons (its list separator)."""
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]
    first_line = body.decode("utf-8-sig").splitlines()[0]
    assert first_line.count(";") >= 5 and "," not in first_line, first_line
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_exports_download_whole_after_a_cheque_at_the_counter(live):
    opener = signed_in_opener(live.url)
    family_id, invoice_id, billed_name = demo_invoice(live.app, "2026-000002")

    landed = record_cheque(opener, live.url, family_id, invoice_id)
    assert "/admin/payment/details/" in landed

    query = urllib.parse.urlencode(PERIOD)
    invoices = download_bytes(opener, f"{live.url}/admin/exports-tresorier/factures.csv?{query}")
    payments = download_bytes(opener, f"{live.url}/admin/exports-tresorier/reglements.csv?{query}")
    invoice_header, *invoice_rows = french_excel_rows(invoices)
    payment_header, *payment_rows = french_excel_rows(payments)

    assert invoice_header == list(counter.INVOICE_HEADER)
    assert payment_header == list(counter.PAYMENT_HEADER)
    october = next(row for row in invoice_rows if row[0] == "2026-000002")
    assert october[1] == billed_name != ""  # as issued, before the renaming
    assert october[9] == "10,00"  # paid
    cheque = next(row for row in payment_rows if row[3] == "'" + FORMULA_REFERENCE)
    assert cheque[:3] == ["26/11/2026", "'" + FORMULA_NAME, "Chèque"]
    assert cheque[4] == "10,00" and cheque[7] == "2026-000002 : 10,00"
    with live.app.app_context():
        assert len(invoice_rows) == len(counter.invoice_rows(*DAYS)) - 1
        assert len(payment_rows) == len(counter.payment_rows(*DAYS)) - 1
        db.session.remove()
    for cell in {cell for row in invoice_rows + payment_rows for cell in row}:
        assert not cell.startswith(FORMULA_PREFIXES) or NUMBER.match(cell), cell
