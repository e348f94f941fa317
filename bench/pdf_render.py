"""Median time to make an invoice, a receipt and a tax certificate as PDF.

    .venv/bin/python bench/pdf_render.py [--runs 50]

First the layout alone: the documents of tests/test_pdf_documents.py rendered by
services.pdf (the invoice given a third line per child: 2 children × 3 lines). Then the
whole download: the same documents made from database rows by services.finance_documents
(a throw-away SQLite database; the statements included). Each `runs` times after one
warm-up; prints the median and 95th percentile in milliseconds, the median CPU time
(which a machine loaded by other work does not inflate), and the PDF's size.
The target (issue 9): one invoice PDF in 50 ms or less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from extensions import db  # noqa: E402
from services import finance_documents, tax_certificates  # noqa: E402
from services.pdf import BilledLine, render_pdf  # noqa: E402
from tests import factories  # noqa: E402
from tests.test_finance_documents import activities, invoice, line, pay  # noqa: E402
from tests.test_pdf_documents import (  # noqa: E402
    CERTIFICATE,
    INVOICE,
    LEA,
    RECEIPT,
    TOM,
    sixty_line_invoice,
)

EXTRA = BilledLine("Accueil périscolaire du mercredi", "Journée", 3, 1200, 3600)
INVOICE_2_BY_3 = replace(
    INVOICE,
    children=(replace(TOM, lines=(*TOM.lines, EXTRA)), replace(LEA, lines=(*LEA.lines, EXTRA))),
)
LAYOUT = {
    "invoice, 2 children × 3 lines": lambda: render_pdf(INVOICE_2_BY_3),
    "invoice, 60 lines (3 pages)": lambda: render_pdf(sixty_line_invoice()),
    "receipt": lambda: render_pdf(RECEIPT),
    "tax certificate": lambda: render_pdf(CERTIFICATE),
}
TODAY = date(2027, 1, 15)


def from_the_database(app) -> dict:
    """A family of two children under 6, a paid invoice of 2 × 3 lines, its receipt and
    the 2026 certificate; what makes each PDF from the rows."""
    family = factories.family_with_children(app, "famille.bench", children=2)
    for child in family.children:
        child.birth_date = child.birth_date.replace(year=2022)
    canteen, care = activities()
    bill = invoice(
        family,
        [
            line(child, activity, quantity, 350)
            for child in family.children
            for activity, quantity in ((canteen, 16), (care, 8), (care, 4))
        ],
        month=11,
    )
    payment = pay(family, [bill], bill.total_cents)
    tax_certificates.issue_year(2026, None, datetime(2027, 1, 15, 8))
    certificate = db.session.scalars(db.select(tax_certificates.TaxCertificate)).one()
    return {
        "invoice, 2 children × 3 lines": lambda: finance_documents.invoice_pdf(bill, TODAY),
        "receipt": lambda: finance_documents.receipt_pdf(payment, TODAY),
        "tax certificate": lambda: finance_documents.tax_certificate_pdf(certificate),
    }


def report(title: str, makers: dict, runs: int) -> None:
    print(f"\n{title}\n{'document':32} {'median':>9} {'p95':>9} {'CPU':>9} {'size':>9}")
    for name, make in makers.items():
        size = len(make())  # warm-up: imports, font metrics, statement cache
        spent, cpu = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            make()
            spent.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        p95 = statistics.quantiles(spent, n=20)[-1]
        median, median_cpu = statistics.median(spent), statistics.median(cpu)
        print(f"{name:32} {median:7.1f}ms {p95:7.1f}ms {median_cpu:7.1f}ms {size / 1024:7.1f}kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    report("Layout only (services.pdf.render_pdf)", LAYOUT, runs)
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/bench.db"
        app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            makers = from_the_database(app)
            report("From the database (services.finance_documents)", makers, runs)


if __name__ == "__main__":
    main()
