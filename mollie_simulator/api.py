"""The part of Mollie's API v2 a payment integration uses, under /v2.

Every request needs `Authorization: Bearer <one of the simulator's test keys>`; POST and
DELETE honour `Idempotency-Key` like Mollie: the same key and body get the same answer,
flagged `Idempotent-Replayed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request

from mollie_simulator.errors import ApiError
from mollie_simulator.resources import (
    HAL_JSON,
    chargeback_resource,
    list_resource,
    payment_resource,
    refund_resource,
)
from mollie_simulator.simulator import MollieSimulator
from mollie_simulator.validation import (
    metadata_field,
    optional_description,
    payment_request,
    required_amount,
)

bp = Blueprint("api", __name__, url_prefix="/v2")


def simulator() -> MollieSimulator:
    return current_app.extensions["mollie_simulator"]


def root() -> str:
    """The simulator's own address as the client reached it, for `_links`."""
    return current_app.config.get("MOLLIE_SIMULATOR_PUBLIC_URL") or request.url_root


def hal(body: dict, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.content_type = HAL_JSON
    return response


@bp.before_request
def refuse_when_down_or_unknown_key() -> None:
    sim = simulator()
    if sim.api_delay_seconds:
        time.sleep(sim.api_delay_seconds)
    if sim.api_down:
        raise ApiError(503, "The Mollie API is temporarily unavailable (simulated).")
    if bearer_key() not in sim.api_keys:
        raise ApiError(401, "Missing authentication, or failed to authenticate.")


def bearer_key() -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme == "Bearer" else ""


def json_body() -> dict:
    """The request's JSON object; an empty body counts as `{}` (the fields are then missing)."""
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "The request body is not a valid JSON object.")
    return body


def idempotent(make: Callable[[], Response]) -> Response:
    """The answer to this request, or the first answer to the same Idempotency-Key."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return make()
    request_key = (bearer_key(), request.method, request.path, key)

    def first_answer() -> tuple[bytes, int]:
        response = make()
        return response.get_data(), response.status_code

    answer, replayed = simulator().answer_once(request_key, request.get_data(), first_answer)
    data, status = answer
    response = Response(data, status=status, content_type=HAL_JSON)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/payments")
def create_payment() -> Response:
    def create() -> Response:
        body = json_body()
        payment = simulator().create_payment(payment_request(body), body)
        return hal(payment_resource(payment, root()), 201)

    return idempotent(create)


@bp.get("/payments/<payment_id>")
def get_payment(payment_id: str) -> Response:
    return hal(payment_resource(simulator().payment(payment_id), root()))


@bp.delete("/payments/<payment_id>")
def cancel_payment(payment_id: str) -> Response:
    return idempotent(lambda: hal(payment_resource(simulator().cancel(payment_id), root())))


@bp.post("/payments/<payment_id>/refunds")
def create_refund(payment_id: str) -> Response:
    def create() -> Response:
        body = json_body()
        refund = simulator().refund(
            payment_id,
            required_amount(body, "amount"),
            optional_description(body),
            metadata_field(body),
        )
        return hal(refund_resource(refund, root()), 201)

    return idempotent(create)


@bp.get("/payments/<payment_id>/refunds")
def list_refunds(payment_id: str) -> Response:
    refunds = simulator().payment(payment_id).refunds
    items = [refund_resource(refund, root()) for refund in refunds]
    return hal(list_resource("refunds", items, request.base_url))


@bp.get("/payments/<payment_id>/refunds/<refund_id>")
def get_refund(payment_id: str, refund_id: str) -> Response:
    refunds = simulator().payment(payment_id).refunds
    refund = next((r for r in refunds if r.id == refund_id), None)
    if refund is None:
        raise ApiError(404, f"No refund exists with token {refund_id}.")
    return hal(refund_resource(refund, root()))


@bp.get("/payments/<payment_id>/chargebacks")
def list_chargebacks(payment_id: str) -> Response:
    chargebacks = simulator().payment(payment_id).chargebacks
    items = [chargeback_resource(chargeback, root()) for chargeback in chargebacks]
    return hal(list_resource("chargebacks", items, request.base_url))


@bp.get("/payments/<payment_id>/chargebacks/<chargeback_id>")
def get_chargeback(payment_id: str, chargeback_id: str) -> Response:
    chargebacks = simulator().payment(payment_id).chargebacks
    chargeback = next((c for c in chargebacks if c.id == chargeback_id), None)
    if chargeback is None:
        raise ApiError(404, f"No chargeback exists with token {chargeback_id}.")
    return hal(chargeback_resource(chargeback, root()))
