"""Server time and SQL queries of the month page on the demo data.

    .venv/bin/python bench/calendar_page.py [--runs 200] [--postgres]

Signs in as famille.demo with Flask's test client (no network, no browser) and requests
Tom's December 2026 page `runs` times with the demo clock pinned; prints the median and
95th percentile of the server time, and the number of SQL statements per request.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

import clock  # noqa: E402
from app import create_app  # noqa: E402
from demo import FAMILY_PASSWORD, load_demo_data  # noqa: E402
from extensions import db  # noqa: E402
from tests.e2e.harness import DEMO_NOW  # noqa: E402

PAGE = "/reservations/1/2026-12"


def build_app(workdir: Path, postgres: bool):
    if postgres:
        from tests.services_pg import start_postgres

        url = start_postgres()
    else:
        url = f"sqlite:///{workdir / 'bench.db'}"
    app = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_FOLDER": str(workdir / "uploads"),
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_demo_data(DEMO_NOW.date())
    return app


def signed_in_client(app):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(
        "/login",
        data={"username": "famille.demo", "password": FAMILY_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, "sign-in failed"
    return client


def measure(app, runs: int) -> tuple[list[float], int]:
    client = signed_in_client(app)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    timings = []
    for _ in range(runs):
        statements.clear()
        start = time.perf_counter()
        response = client.get(PAGE)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return timings, len(statements)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    clock.pin(DEMO_NOW)
    with tempfile.TemporaryDirectory() as workdir:
        app = build_app(Path(workdir), args.postgres)
        measure(app, 10)  # warm-up: templates compiled, caches filled
        timings, queries = measure(app, args.runs)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{PAGE} on {database}: median {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms over {args.runs} requests, {queries} SQL queries per request"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
