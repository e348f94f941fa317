"""Mollie's webhook call: a form-encoded POST of `id=tr_…` and nothing else.

A webhook endpoint that is down or slow must not break the checkout: each call has a short
timeout and its failure is recorded, never raised.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookCall:
    payment_id: str
    url: str
    status_code: int | None
    error: str | None = None


def post_webhook(url: str, payment_id: str, timeout: float) -> WebhookCall:
    """POST `id=<payment_id>` to url as Mollie does; the outcome, whatever it is."""
    if urlsplit(url).scheme not in ("http", "https"):
        return WebhookCall(payment_id, url, None, "not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked just above
        url,
        data=urlencode({"id": payment_id}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Mollie HTTP Webhook (simulator)",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return WebhookCall(payment_id, url, response.status)
    except urllib.error.HTTPError as error:
        return WebhookCall(payment_id, url, error.code)
    except (OSError, ValueError) as error:
        log.warning("Mollie simulator: webhook %s for %s failed: %s", url, payment_id, error)
        return WebhookCall(payment_id, url, None, str(error))


Poster = Callable[[str, str, float], WebhookCall]


def post_webhooks_at_once(
    post: Poster, url: str, payment_id: str, times: int, timeout: float
) -> list[WebhookCall]:
    """The same webhook `times` times, released together, as Mollie's retries can collide."""
    start = threading.Barrier(times)
    calls: list[WebhookCall] = []

    def call() -> None:
        start.wait()
        calls.append(post(url, payment_id, timeout))

    threads = [threading.Thread(target=call, daemon=True) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return calls
