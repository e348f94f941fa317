"""Test-only controls under /_sim/, the HTTP face of MollieSimulator's control methods.

Mollie has nothing like them: they let a test (or a person trying the demo) force a stale
status, replay the webhook, add a chargeback, settle the refunds, take the API down or lose
the webhooks.
They answer even while the API is "down", so a test can bring it back.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, jsonify, request

from mollie_simulator.api import hal, root, simulator
from mollie_simulator.errors import ApiError
from mollie_simulator.resources import (
    chargeback_resource,
    list_resource,
    payment_resource,
    refund_resource,
)
from mollie_simulator.validation import required_amount

bp = Blueprint("controls", __name__, url_prefix="/_sim")


def body() -> dict:
    given = request.get_json(silent=True)
    return given if isinstance(given, dict) else {}


@bp.get("/payments/<payment_id>")
def show_payment(payment_id: str) -> Response:
    return hal(payment_resource(simulator().payment(payment_id), root()))


@bp.post("/payments/<payment_id>/status")
def set_status(payment_id: str) -> Response:
    payment = simulator().set_status(payment_id, str(body().get("status", "")))
    return hal(payment_resource(payment, root()))


@bp.post("/payments/<payment_id>/webhook")
def send_webhook(payment_id: str) -> Response:
    times = body().get("times", 1)
    if not isinstance(times, int) or not 1 <= times <= 50:
        raise ApiError(422, "times must be an integer from 1 to 50.", "times")
    calls = simulator().send_webhook(payment_id, times)
    return jsonify({"calls": [asdict(call) for call in calls]})


@bp.post("/payments/<payment_id>/refunds/settle")
def settle_refunds(payment_id: str) -> Response:
    settled = simulator().settle_refunds(payment_id)
    return hal(list_resource("refunds", [refund_resource(r, root()) for r in settled], request.url))


@bp.post("/payments/<payment_id>/chargebacks")
def add_chargeback(payment_id: str) -> Response:
    given = body()
    cents = required_amount(given, "amount") if "amount" in given else None
    chargeback = simulator().add_chargeback(payment_id, cents)
    return hal(chargeback_resource(chargeback, root()), 201)


@bp.post("/mode")
def set_mode() -> Response:
    """`{"apiDown": bool, "webhooksSent": bool, "apiDelaySeconds": number}`, each optional."""
    sim, given = simulator(), body()
    if "apiDown" in given:
        sim.set_api_down(bool(given["apiDown"]))
    if "webhooksSent" in given:
        sim.set_webhooks_sent(bool(given["webhooksSent"]))
    if "apiDelaySeconds" in given:
        sim.set_api_delay(delay_seconds(given["apiDelaySeconds"]))
    return jsonify(
        apiDown=sim.api_down,
        webhooksSent=sim.webhooks_sent,
        apiDelaySeconds=sim.api_delay_seconds,
    )


@bp.get("/webhook-calls")
def webhook_calls() -> Response:
    with simulator().lock:
        calls = [asdict(call) for call in simulator().webhook_calls]
    return jsonify({"calls": calls})


def delay_seconds(given: object) -> float:
    if isinstance(given, bool) or not isinstance(given, int | float) or not 0 <= given <= 60:
        raise ApiError(422, "apiDelaySeconds must be a number from 0 to 60.", "apiDelaySeconds")
    return float(given)
