"""In-process median time of signed-in family pages (Flask's test client), and their queries.

    .venv/bin/python bench/page_timing.py [--runs 300] [PATH ...]

Same app and data as bench/month_vs_hello.py (bench/wsgi_month.py: demo data in a temporary
SQLite file, the demo clock pinned), signed in as famille.demo through /login. For each path
(default: /compte, /alertes and the first child's December 2026 month page) prints the median
and 10th percentile of `runs` requests after a warm-up, and the SQL statements one request
runs. Measures the fixed cost every signed-in page pays: the session check, the navigation's
unread count, base.html, the security headers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.month_profile import month_page, signed_in_client  # noqa: E402
from bench.wsgi_month import build_demo_database, make_app, pin_demo_clock  # noqa: E402


def time_page(client, path: str, runs: int) -> list[float]:
    for _ in range(20):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - start)
    return times


def count_queries(app, client, path: str) -> int:
    from extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    app = make_app(build_demo_database(work), str(work / "uploads"))
    pin_demo_clock()
    client = signed_in_client(app)
    paths = args.paths or ["/compte", "/alertes", month_page(client)]
    for path in paths:
        times = time_page(client, path, args.runs)
        queries = count_queries(app, client, path)
        print(
            f"{path:32} median {statistics.median(times) * 1000:6.2f} ms  "
            f"p10 {statistics.quantiles(times, n=10)[0] * 1000:6.2f} ms  {queries} queries",
            flush=True,
        )


if __name__ == "__main__":
    main()
