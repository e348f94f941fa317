"""Requests per second of the month page against a hello app, both under gunicorn and wrk.

    .venv/bin/python bench/month_vs_hello.py [--duration 10] [--rounds 3] [--warmup 2]

Builds a temporary SQLite file with the demo data, serves the app (bench/wsgi_month.py: test
settings, no throttling, the demo clock pinned to tests/e2e/harness.py's DEMO_NOW) and
bench/hello_app.py, each under gunicorn with 2 sync workers on a free 127.0.0.1 port. Signs in
as famille.demo through the real /login form, finds the first child's December 2026 page, then
loads each server with `wrk -t2 -c8` for `duration` seconds, alternating, `rounds` times.
Prints the median requests/s of each, the ratio month/hello and the page's size; fails if the
month page answers anything but the page (a redirect to /login, a 429, an error). Each round
also shows the 1-minute load average: wrk and both servers share this machine's cores, so
anything else running (a test suite) lowers the figures, the month page's the most.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wsgi_month import build_demo_database  # noqa: E402
from demo import FAMILY_PASSWORD  # noqa: E402

WRK = "/usr/bin/wrk"
MONTH = "2026-12"
WORKERS = 2
UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


class BenchError(RuntimeError):
    """The benchmark cannot measure what it claims to: stop loudly."""


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    bytes_read: float
    non_2xx: int
    socket_errors: str
    latency: str


# -- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(stack: ExitStack, name: str, target: str, env: dict, workdir: Path) -> Server:
    """`target` under gunicorn, 2 sync workers; stopped when `stack` closes."""
    port = free_port()
    log = workdir / f"{name}.log"
    command = [
        sys.executable, "-m", "gunicorn", "--chdir", str(ROOT),
        "--workers", str(WORKERS), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--log-level", "warning",
        target,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    stack.callback(stop, process)
    server = Server(name, port, log)
    wait_until_up(server, process)
    return server


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the master (it stops its workers); SIGKILL to its group if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_until_up(server: Server, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"{server.name} did not listen within {timeout} s")


# -- signing in through the real form ----------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError, so their Location can be checked."""

    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, url: str, data: dict | None = None) -> tuple[int, dict, bytes]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


AGENT = "portail-bench/1"


def sign_in(base: str, username: str, password: str) -> tuple[object, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    # the same agent as wrk's: Flask-Login ties the session to it, as a browser keeps one
    opener.addheaders = [("User-Agent", AGENT)]
    status, _, html = fetch(opener, f"{base}/login")
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    if status != 200 or not match:
        raise BenchError(f"GET /login answered {status} without a CSRF token")
    form = {"csrf_token": match.group(1).decode(), "username": username, "password": password}
    status, headers, _ = fetch(opener, f"{base}/login", form)
    if status != 302 or "/login" in headers.get("Location", ""):
        raise BenchError(f"sign-in failed: {status} -> {headers.get('Location')}")
    return opener, jar


def month_url(opener, base: str) -> str:
    """/reservations redirects to the first child's current month; take its child id."""
    status, headers, _ = fetch(opener, f"{base}/reservations")
    match = re.search(r"/reservations/(\d+)/\d{4}-\d{2}", headers.get("Location", ""))
    if status != 302 or not match:
        raise BenchError(f"/reservations answered {status} -> {headers.get('Location')}")
    return f"{base}/reservations/{match.group(1)}/{MONTH}"


def check_page(opener, url: str) -> int:
    """The month page answers 200 with its cells; returns its size in bytes."""
    status, headers, html = fetch(opener, url)
    if status != 200:
        raise BenchError(f"{url} answered {status} (Location: {headers.get('Location')})")
    if b"data-date=" not in html:
        raise BenchError(f"{url} answered 200 without any data-date= cell")
    return len(html)


def cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


# -- wrk ---------------------------------------------------------------------------------


def run_wrk(url: str, duration: int, headers: list[str]) -> WrkResult:
    command = [WRK, "-t2", "-c8", f"-d{duration}s"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> WrkResult:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", output)
    if not rate or not total:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.+)", output)
    latency = re.search(r"Latency\s+(\S+)", output)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        bytes_read=float(total.group(2)) * UNITS[total.group(3)],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors.group(1) if errors else "none",
        latency=latency.group(1) if latency else "?",
    )


def check_month_load(result: WrkResult, page_bytes: int, url: str, cookie: str) -> None:
    """wrk counts only status >= 400; a redirect shows as responses far smaller than the page."""
    per_response = result.bytes_read / max(result.requests, 1)
    if result.non_2xx or per_response < 0.9 * page_bytes:
        status, location = probe(url, cookie)
        raise BenchError(
            f"month page under load: {result.non_2xx} responses >= 400, "
            f"{per_response:.0f} bytes per response for a {page_bytes}-byte page; "
            f"with wrk's cookie it now answers {status} (Location: {location}). "
            "302 to /login: the cookie was not accepted; 429: throttling."
        )


def probe(url: str, cookie: str) -> tuple[int, str | None]:
    """One request with exactly the Cookie header that wrk sends."""
    opener = urllib.request.build_opener(NoRedirect)
    opener.addheaders = [("Cookie", cookie), ("User-Agent", AGENT)]
    status, headers, _ = fetch(opener, url)
    return status, headers.get("Location")


def check_hello_load(result: WrkResult) -> None:
    if result.non_2xx:
        raise BenchError(f"hello app: {result.non_2xx} responses >= 400")


# -- the run -----------------------------------------------------------------------------


def start_servers(stack: ExitStack, workdir: Path) -> tuple[Server, Server]:
    database_url = build_demo_database(workdir)
    month_env = dict(
        os.environ,
        APP_ENV="test",
        BENCH_DATABASE_URL=database_url,
        BENCH_UPLOAD_FOLDER=str(workdir / "uploads"),
    )
    month = start_gunicorn(stack, "month", "bench.wsgi_month:serve()", month_env, workdir)
    hello = start_gunicorn(stack, "hello", "bench.hello_app:app", dict(os.environ), workdir)
    return month, hello


def wait_for_pinned_clocks(server: Server, timeout: float = 30) -> None:
    """Every worker of the month server says it pinned the demo clock (bench/wsgi_month.py)."""
    deadline = time.monotonic() + timeout
    while server.log.read_text().count("demo clock pinned") < WORKERS:
        if time.monotonic() > deadline:
            raise BenchError(f"the workers did not pin the demo clock:\n{server.log.read_text()}")
        time.sleep(0.2)


def measure(args, month_page: str, hello_page: str, cookie: str, check) -> dict:
    rates: dict[str, list[float]] = {"month": [], "hello": []}
    loads = {
        "month": lambda seconds: run_wrk(
            month_page, seconds, [f"Cookie: {cookie}", f"User-Agent: {AGENT}"]
        ),
        "hello": lambda seconds: run_wrk(hello_page, seconds, [f"User-Agent: {AGENT}"]),
    }
    for name, load in loads.items():
        check[name](load(args.warmup))  # workers import, compile templates, fill caches
    for round_number in range(args.rounds):
        order = ["month", "hello"] if round_number % 2 == 0 else ["hello", "month"]
        for name in order:
            result = loads[name](args.duration)
            check[name](result)
            rates[name].append(result.requests_per_second)
            print(
                f"round {round_number + 1} {name:5}: {result.requests_per_second:9.1f} req/s, "
                f"latency avg {result.latency}, non-2xx {result.non_2xx}, "
                f"socket errors {result.socket_errors}, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    return rates


def report(rates: dict, page_bytes: int, url: str) -> None:
    month = statistics.median(rates["month"])
    hello = statistics.median(rates["hello"])
    print(f"\nmonth page {urllib.parse.urlsplit(url).path}: {page_bytes} bytes of HTML")
    print(f"median month: {month:.1f} req/s")
    print(f"median hello: {hello:.1f} req/s")
    print(f"ratio month/hello: {month / hello:.3f} (target >= 0.15)")


def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        month, hello = start_servers(stack, Path(tmp))
        opener, jar = sign_in(month.url, "famille.demo", FAMILY_PASSWORD)
        url = month_url(opener, month.url)
        page_bytes = check_page(opener, url)
        wait_for_pinned_clocks(month)
        print(f"signed in; {url} answers 200, {page_bytes} bytes", flush=True)
        cookie = cookie_header(jar)
        check = {
            "month": lambda result: check_month_load(result, page_bytes, url, cookie),
            "hello": check_hello_load,
        }
        rates = measure(args, url, f"{hello.url}/", cookie, check)
        report(rates, page_bytes, url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per server")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleanup runs as on Ctrl-C
    try:
        run(args)
    except BenchError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: servers stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
