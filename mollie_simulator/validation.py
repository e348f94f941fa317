"""The checks Mollie makes on a request body, answering 422 with the faulty field."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from mollie_simulator.errors import ApiError
from mollie_simulator.money import parse_cents
from mollie_simulator.payments import NewPayment

MAX_DESCRIPTION = 255
MAX_REFUND_DESCRIPTION = 140  # Mollie's create refund: « Max. 140 characters »
MAX_METADATA = 1024


def payment_request(body: dict) -> NewPayment:
    """A valid `POST /v2/payments` body, or ApiError(422) naming the field."""
    return NewPayment(
        cents=required_amount(body, "amount"),
        description=required_description(body),
        redirect_url=url_field(body, "redirectUrl", required=True),
        webhook_url=url_field(body, "webhookUrl"),
        cancel_url=url_field(body, "cancelUrl"),
        metadata=metadata_field(body),
        locale=body.get("locale"),
    )


def required_amount(body: dict, name: str) -> int:
    """Cents of `{"currency": "EUR", "value": "12.30"}`; a float value is refused."""
    given = body.get(name)
    if not isinstance(given, dict):
        raise ApiError(422, f"The {name} is required.", name)
    if given.get("currency") != "EUR":
        raise ApiError(422, "The currency is not supported.", f"{name}.currency")
    cents = parse_cents(given.get("value"))
    if cents is None:
        raise ApiError(422, f"The {name} contains an invalid value.", f"{name}.value")
    if cents < 1:
        raise ApiError(422, f"The {name} is lower than the minimum.", f"{name}.value")
    return cents


def required_description(body: dict) -> str:
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ApiError(422, "The description is required.", "description")
    if len(description) > MAX_DESCRIPTION:
        raise ApiError(422, "The description is too long.", "description")
    return description


def optional_description(body: dict) -> str:
    """A refund's description (the only optional one)."""
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_REFUND_DESCRIPTION:
        raise ApiError(422, "The description is invalid.", "description")
    return description


def url_field(body: dict, name: str, required: bool = False) -> str | None:
    url = body.get(name)
    if url is None and not required:
        return None
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ApiError(422, f"The {name} is missing or invalid.", name)
    return url


def metadata_field(body: dict) -> object:
    metadata = body.get("metadata")
    if len(json.dumps(metadata)) > MAX_METADATA:
        raise ApiError(422, "The metadata is too large.", "metadata")
    return metadata
