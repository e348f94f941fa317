"""Where the month page spends its time: cProfile over Flask's test client.

    .venv/bin/python bench/month_profile.py [--runs 200] [--top 40] [--sort cumulative]

Same app as bench/month_vs_hello.py (bench/wsgi_month.py: demo data in a temporary SQLite
file, the demo clock pinned), signed in as famille.demo through /login; profiles `runs`
requests of the first child's December 2026 page after a warm-up, and prints the top
functions with their share of the profiled time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wsgi_month import build_demo_database, make_app, pin_demo_clock  # noqa: E402
from demo import FAMILY_PASSWORD  # noqa: E402

MONTH = "2026-12"


def signed_in_client(app):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    form = {
        "username": "famille.demo",
        "password": FAMILY_PASSWORD,
        "csrf_token": token,
    }
    if client.post("/login", data=form).status_code != 302:
        raise SystemExit("sign-in failed")
    return client


def month_page(client) -> str:
    location = client.get("/reservations").headers["Location"]
    child_id = re.search(r"/reservations/(\d+)/", location).group(1)
    page = f"/reservations/{child_id}/{MONTH}"
    response = client.get(page)
    if response.status_code != 200 or b"data-date=" not in response.data:
        raise SystemExit(f"{page} answered {response.status_code}")
    return page


def profile(client, page: str, runs: int) -> tuple[pstats.Stats, float]:
    for _ in range(10):  # warm-up: templates compiled, caches filled
        client.get(page)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(runs):
        client.get(page)
    profiler.disable()
    return pstats.Stats(profiler), time.perf_counter() - start


def where(key: tuple) -> str:
    filename, line, function = key
    path = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
    return f"{function} ({path}:{line})"


def print_top(stats: pstats.Stats, total: float, runs: int, top: int, sort: str) -> None:
    column = {"cumulative": 3, "tottime": 2}[sort]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][column], reverse=True)
    print(f"{'share':>6} {'ms/req':>7} {'self ms':>7} {'calls/req':>9}  function")
    for key, (_, calls, self_time, cumulative, _) in rows[:top]:
        print(
            f"{cumulative / total:6.1%} {cumulative / runs * 1000:7.2f} "
            f"{self_time / runs * 1000:7.2f} {calls / runs:9.1f}  {where(key)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = make_app(build_demo_database(workdir), str(workdir / "uploads"))
        pin_demo_clock()
        client = signed_in_client(app)
        page = month_page(client)
        stats, total = profile(client, page, args.runs)
    print(
        f"{page}: {args.runs} requests in {total:.2f} s under cProfile, "
        f"{total / args.runs * 1000:.1f} ms per request\n"
    )
    print_top(stats, total, args.runs, args.top, args.sort)
    return 0


if __name__ == "__main__":
    sys.exit(main())
