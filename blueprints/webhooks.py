"""Mollie's webhook (SECURITY.md 21–25): POST /webhooks/mollie with the form field `id`.

Mollie signs nothing and cannot send a CSRF token or sign in: the view trusts only the
payment id, which services.payments fetches back from Mollie's API. It answers 200 ("ok")
when the call is dealt with, unknown or malformed ids included, and 503 when Mollie's API
could not be reached, so that Mollie calls again later. Outside the sign-in limits, but
limited per address (MOLLIE_WEBHOOK_RATE).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from extensions import csrf, limiter
from models import utcnow
from services import payments

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/mollie")
@csrf.exempt
@limiter.limit(lambda: current_app.config["MOLLIE_WEBHOOK_RATE"])
def mollie() -> Response:
    outcome = payments.handle_webhook(request.form.get("id", ""), utcnow())
    if outcome is payments.WebhookOutcome.RETRY:
        return Response("retry", status=503, mimetype="text/plain")
    return Response("ok", mimetype="text/plain")
