"""What the online payment tests share: the Mollie simulator on a real local port with the
app pointed at it, webhooks delivered to the app, issued invoices, and a live app server.

Webhooks reach the app in one of two ways: through Flask's test client (`post_to(app)`,
one at a time, on the test's database) or over HTTP to a live server (`live_server`), for
calls that come at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from extensions import db
from models import Alert, AlertKind, Invoice, InvoiceStatus, Payment, StaffNotice
from mollie_simulator import MollieSimulator, start_simulator
from mollie_simulator.server import QuietRequestHandler
from mollie_simulator.webhooks import Poster, WebhookCall

NOW = datetime(2026, 11, 30, 9, 0)  # naive UTC, 10:00 in Paris
WEBHOOK = "/webhooks/mollie"


def issued_invoice(family, month: int, cents: int) -> Invoice:
    """The family's issued invoice of `month` 2026, numbered 2026-0000<month>."""
    invoice = Invoice(
        family_id=family.id,
        number=f"2026-{month:06d}",
        period_month=date(2026, month, 1),
        status=InvoiceStatus.ISSUED,
        issued_at=datetime(2026, month, 28, 7),
        total_cents=cents,
    )
    db.session.add(invoice)
    db.session.commit()
    return invoice


def post_to(app: Flask) -> Poster:
    """A simulator's webhook poster that hands each call to the app's test client."""

    def post(url: str, payment_id: str, _timeout: float) -> WebhookCall:
        response = app.test_client().post(urlsplit(url).path, data={"id": payment_id})
        return WebhookCall(payment_id, url, response.status_code)

    return post


@contextmanager
def simulated_mollie(app: Flask, simulator: MollieSimulator) -> Iterator[MollieSimulator]:
    """The simulator served on a free port, the app's MOLLIE_API_ENDPOINT pointing at it."""
    with start_simulator(simulator) as running:
        app.config["MOLLIE_API_ENDPOINT"] = running.url
        yield simulator


@dataclass(frozen=True)
class Live:
    app: Flask
    url: str


@contextmanager
def live_server(app: Flask) -> Iterator[Live]:
    """`app` served by a threaded server on a free port; PUBLIC_BASE_URL is its address, so
    the webhookUrl sent to Mollie reaches it."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url
    try:
        yield Live(app, url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fresh(payment: Payment) -> Payment:
    """The payment as the database holds it now (another request may have changed it)."""
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def payment_alerts(family) -> list[str]:
    return list(
        db.session.scalars(
            select(Alert.message)
            .where(Alert.family_id == family.id, Alert.kind == AlertKind.PAYMENT)
            .order_by(Alert.id)
        )
    )


def notices(kind: str) -> list[StaffNotice]:
    return list(
        db.session.scalars(
            select(StaffNotice).where(StaffNotice.kind == kind).order_by(StaffNotice.id)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
