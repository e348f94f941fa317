"""A throw-away redis-server (Debian's package) on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(name: str) -> str:
    """The binary's path; a skip on a developer's machine without it, a failure in CI."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (Debian package); .ci/run installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def start_redis(tmp_path) -> tuple[subprocess.Popen, str]:
    binary = require_binary("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"redis://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("redis-server did not start")
