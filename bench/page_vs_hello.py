"""Requests per second of any signed-in family page against the hello app (gunicorn + wrk).

    .venv/bin/python bench/page_vs_hello.py [--path /compte] [--duration 10] [--rounds 3]

bench/month_vs_hello.py for another page: the same servers, data, sign-in and wrk load, but
for `path` (default /compte, a page with almost nothing of its own), so that the fixed cost
every signed-in page pays (session check, unread count, base.html, headers) shows on its own.
Fails if the page answers anything but 200 with the navigation of a signed-in family.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import month_vs_hello as bench  # noqa: E402
from demo import FAMILY_PASSWORD  # noqa: E402


def check_page(opener, url: str) -> int:
    status, headers, html = bench.fetch(opener, url)
    if status != 200 or b'class="mainnav"' not in html:
        raise bench.BenchError(f"{url} answered {status} (Location: {headers.get('Location')})")
    return len(html)


def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        month, hello = bench.start_servers(stack, Path(tmp))
        opener, jar = bench.sign_in(month.url, "famille.demo", FAMILY_PASSWORD)
        url = f"{month.url}{args.path}"
        page_bytes = check_page(opener, url)
        check_page(opener, url)  # the cookie as it stays once the CSRF token is in it
        bench.wait_for_pinned_clocks(month)
        cookie = bench.cookie_header(jar)
        check = {
            "month": lambda result: bench.check_month_load(result, page_bytes, url, cookie),
            "hello": bench.check_hello_load,
        }
        rates = bench.measure(args, url, f"{hello.url}/", cookie, check)
        bench.report(rates, page_bytes, url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/compte")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    try:
        run(parser.parse_args())
    except bench.BenchError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
