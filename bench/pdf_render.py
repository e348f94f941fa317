"""Median time to render an invoice, a receipt and a tax certificate as PDF.

    .venv/bin/python bench/pdf_render.py [--runs 50]

Renders the documents of tests/test_pdf_documents.py with services.pdf (the invoice given
a third line per child: 2 children × 3 lines), `runs` times each after one warm-up, and
prints the median and 95th percentile in milliseconds and the PDF's size.
The target (issue 9): one invoice PDF in 50 ms or less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.pdf import BilledLine, render_pdf  # noqa: E402
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
DOCUMENTS = {
    "invoice, 2 children × 3 lines": INVOICE_2_BY_3,
    "invoice, 60 lines (3 pages)": sixty_line_invoice(),
    "receipt": RECEIPT,
    "tax certificate": CERTIFICATE,
}


def timings(document, runs: int) -> tuple[list[float], int]:
    size = len(render_pdf(document))  # warm-up: imports, font metrics
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        render_pdf(document)
        spent.append((time.perf_counter() - start) * 1000)
    return spent, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    print(f"{'document':32} {'median':>9} {'p95':>9} {'size':>9}")
    for name, document in DOCUMENTS.items():
        spent, size = timings(document, runs)
        p95 = statistics.quantiles(spent, n=20)[-1]
        median = statistics.median(spent)
        print(f"{name:32} {median:7.1f}ms {p95:7.1f}ms {size / 1024:7.1f}kB")


if __name__ == "__main__":
    main()
