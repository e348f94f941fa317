"""FINANCES: the family's balance, bills, règlements and tax certificates; paying online."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from blueprints.guards import current_family, family_required, payment_of_current_family
from models import PaymentMethod, PaymentStatus, utcnow
from services import family_finances, payments
from services.calendar import paris_today
from vocabulary import enum_label

bp = Blueprint("finances", __name__)

# While an online payment waits for Mollie's webhook, its page reloads itself this often.
RELOAD_SECONDS = 5


@bp.get("/finances")
@family_required
def index():
    finances = family_finances.overview(current_family(), paris_today(utcnow()))
    return render_template("finances/index.html", finances=finances, label=enum_label)


@bp.post("/finances/payer")
@family_required
def pay():
    """The ticked invoices (`invoice_ids`, repeated) paid in one online payment: off to its
    checkout page; a double click gets the same open payment back (services.payments)."""
    try:
        payment = payments.start_online_payment(
            current_family(), request.form.getlist("invoice_ids"), utcnow()
        )
    except payments.PaymentError as error:
        flash(error.message, "error")
        return redirect(url_for("finances.index"))
    if not payment.checkout_url:
        return redirect(url_for("finances.payment_return", payment_id=payment.id), 303)
    return redirect(payment.checkout_url, 303)


@bp.get("/finances/paiements/<int:payment_id>")
@family_required
def payment_return(payment_id: int):
    """Where Mollie sends the family back: the payment's true state, asked of Mollie."""
    payment = payment_of_current_family(payment_id)
    if payment.method != PaymentMethod.ONLINE:
        abort(404)
    payment = payments.refresh_payment(payment, utcnow())
    still_open = payment.status == PaymentStatus.OPEN
    return render_template(
        "finances/payment.html",
        payment=payment,
        numbers=payments.invoice_numbers(payment),
        reload_seconds=RELOAD_SECONDS if still_open else None,
    )
