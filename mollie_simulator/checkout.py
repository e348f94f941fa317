"""The hosted checkout page: the customer picks how the payment ends.

After the choice Mollie calls the webhook and sends the browser back to the redirectUrl
(the cancelUrl, when given, after a cancel).
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request

from mollie_simulator.api import simulator
from mollie_simulator.money import format_cents
from mollie_simulator.payments import Payment

bp = Blueprint("checkout", __name__, url_prefix="/checkout", template_folder="templates")

CHOICES = (
    ("paid", "Payer (paiement accepté)"),
    ("failed", "Simuler un refus de la banque"),
    ("canceled", "Annuler le paiement"),
    ("expired", "Laisser le paiement expirer"),
)
STATUS_WORDS = {
    "open": "en attente",
    "pending": "en cours de traitement",
    "authorized": "autorisé",
    "paid": "payé",
    "canceled": "annulé",
    "expired": "expiré",
    "failed": "refusé",
}


def french_amount(cents: int) -> str:
    """1230 → `12,30 €` (with a no-break space)."""
    return format_cents(cents).replace(".", ",") + "\u00a0€"


@bp.get("/<payment_id>")
def page(payment_id: str) -> str:
    payment = simulator().payment(payment_id)
    return render_template(
        "checkout.html",
        payment=payment,
        amount=french_amount(payment.request.cents),
        status_word=STATUS_WORDS[payment.status],
        choices=CHOICES,
    )


@bp.post("/<payment_id>")
def choose(payment_id: str) -> Response:
    payment = simulator().choose(payment_id, request.form.get("status", ""))
    return redirect(return_url(payment), code=303)


def return_url(payment: Payment) -> str:
    if payment.status == "canceled" and payment.request.cancel_url:
        return payment.request.cancel_url
    return payment.request.redirect_url


def error_page(error) -> tuple[str, int]:
    """An unknown or closed payment, in French, for the browser."""
    return render_template("checkout_error.html", error=error), error.status
