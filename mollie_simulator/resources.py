"""Mollie's JSON shapes (HAL, camelCase) for the simulator's records.

Every field the `mollie-api-python` objects read for a one-off payment is here; fields that
Mollie leaves out in a state are left out too (`checkout` only while open, `amountRefunded`
only once paid, `amountChargedBack` only after a chargeback).
"""

from __future__ import annotations

from datetime import UTC, datetime

from mollie_simulator.money import amount
from mollie_simulator.payments import TIMESTAMPED, Chargeback, Payment, Refund

HAL_JSON = "application/hal+json"
DOCS = "https://docs.mollie.com/reference/v2/"


def iso(moment: datetime) -> str:
    """Mollie's timestamps: `2026-11-30T09:13:37+00:00`."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def link(href: str, kind: str = HAL_JSON) -> dict[str, str]:
    return {"href": href, "type": kind}


def payment_resource(payment: Payment, root: str) -> dict:
    """The payment as `GET /v2/payments/{id}` answers it; root ends with a slash."""
    wanted = payment.request
    body = {
        "resource": "payment",
        "id": payment.id,
        "mode": "test",
        "createdAt": iso(payment.created_at),
        "amount": amount(wanted.cents, wanted.currency),
        "description": wanted.description,
        "method": payment.method,
        "metadata": wanted.metadata,
        "status": payment.status,
        "profileId": "pfl_simulator",
        "sequenceType": "oneoff",
        "redirectUrl": wanted.redirect_url,
        "webhookUrl": wanted.webhook_url,
    }
    body.update(_optional_fields(payment))
    body["_links"] = _payment_links(payment, root)
    return body


def _optional_fields(payment: Payment) -> dict:
    wanted = payment.request
    fields: dict = {}
    if wanted.cancel_url:
        fields["cancelUrl"] = wanted.cancel_url
    if wanted.locale:
        fields["locale"] = wanted.locale
    if payment.status == "open":
        fields["isCancelable"] = True
        fields["expiresAt"] = iso(payment.expires_at)
    if payment.status in TIMESTAMPED and payment.status_at is not None:
        fields[f"{payment.status}At"] = iso(payment.status_at)
    if payment.status == "paid":
        fields["amountRefunded"] = amount(payment.refunded_cents)
        fields["amountRemaining"] = amount(payment.remaining_cents)
        fields["settlementAmount"] = amount(wanted.cents, wanted.currency)
    if payment.chargebacks:
        fields["amountChargedBack"] = amount(payment.charged_back_cents)
    return fields


def _payment_links(payment: Payment, root: str) -> dict:
    self_href = f"{root}v2/payments/{payment.id}"
    links = {
        "self": link(self_href),
        "dashboard": link(f"{root}_sim/payments/{payment.id}", "application/json"),
        "documentation": link(DOCS + "payments-api/get-payment", "text/html"),
    }
    if payment.status == "open":
        links["checkout"] = link(f"{root}checkout/{payment.id}", "text/html")
    if payment.refunds:
        links["refunds"] = link(f"{self_href}/refunds")
    if payment.chargebacks:
        links["chargebacks"] = link(f"{self_href}/chargebacks")
    return links


def refund_resource(refund: Refund, root: str) -> dict:
    payment_href = f"{root}v2/payments/{refund.payment_id}"
    return {
        "resource": "refund",
        "id": refund.id,
        "amount": amount(refund.cents),
        "status": refund.status,
        "createdAt": iso(refund.created_at),
        "description": refund.description,
        "metadata": refund.metadata,
        "paymentId": refund.payment_id,
        "settlementAmount": amount(-refund.cents),
        "_links": {
            "self": link(f"{payment_href}/refunds/{refund.id}"),
            "payment": link(payment_href),
            "documentation": link(DOCS + "refunds-api/get-payment-refund", "text/html"),
        },
    }


def chargeback_resource(chargeback: Chargeback, root: str) -> dict:
    payment_href = f"{root}v2/payments/{chargeback.payment_id}"
    return {
        "resource": "chargeback",
        "id": chargeback.id,
        "amount": amount(chargeback.cents),
        "settlementAmount": amount(-chargeback.cents),
        "createdAt": iso(chargeback.created_at),
        "reason": chargeback.reason,
        "reversedAt": None,
        "paymentId": chargeback.payment_id,
        "_links": {
            "self": link(f"{payment_href}/chargebacks/{chargeback.id}"),
            "payment": link(payment_href),
            "documentation": link(DOCS + "chargebacks-api/get-payment-chargeback", "text/html"),
        },
    }


def list_resource(name: str, items: list[dict], self_href: str) -> dict:
    """A HAL list, all in one page (the simulator never holds enough to paginate)."""
    return {
        "count": len(items),
        "_embedded": {name: items},
        "_links": {
            "self": link(self_href),
            "previous": None,
            "next": None,
            "documentation": link(DOCS + f"{name}-api/list-{name}", "text/html"),
        },
    }
