"""FINANCES: the family's balance, bills, règlements and tax certificates; paying online."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from blueprints.guards import (
    current_family,
    family_required,
    invoice_of_current_family,
    payment_of_current_family,
    tax_certificate_of_current_family,
)
from models import PaymentMethod, PaymentStatus, PriceKind, utcnow
from services import family_finances, finance_documents, payments
from services.calendar import paris_today
from vocabulary import enum_label

bp = Blueprint("finances", __name__)

# While an online payment waits for Mollie's webhook, its page reloads itself this often,
# for so long after it began (later, the family reloads by hand: Mollie is asked each time,
# and the reconciliation job settles a payment whose webhook never came).
RELOAD_SECONDS = 5
RELOAD_FOR = timedelta(minutes=10)


@bp.before_request
def _pay_forms_may_go_to_the_checkout() -> None:
    """ "Payer" answers 303 to the checkout, and browsers check a form's redirects against
    the page's CSP form-action: these pages also allow the checkout's origin, Mollie's,
    or the simulator's when MOLLIE_API_ENDPOINT names one (development, tests)."""
    g.csp_form_targets = (payments.checkout_origin(),)


@bp.get("/finances")
@family_required
def index():
    family, today = current_family(), paris_today(utcnow())
    return render_template(
        "finances/index.html",
        family=family,
        today=today,
        finances=family_finances.overview(family, today),
        label=enum_label,
        price_kinds=PriceKind,
    )


@bp.get("/finances/factures/<int:invoice_id>.pdf")
@family_required
def invoice_pdf(invoice_id: int):
    invoice = invoice_of_current_family(invoice_id)
    content = finance_documents.invoice_pdf(invoice, paris_today(utcnow()))
    return _pdf(content, finance_documents.download_name("invoice", invoice))


@bp.get("/finances/reglements/<int:payment_id>/recu.pdf")
@family_required
def receipt_pdf(payment_id: int):
    """A receipt exists for a paid payment only: 404 for any other."""
    payment = payment_of_current_family(payment_id)
    if payment.status != PaymentStatus.PAID:
        abort(404)
    content = finance_documents.receipt_pdf(payment, paris_today(utcnow()))
    return _pdf(content, finance_documents.download_name("receipt", payment))


@bp.get("/finances/attestations/<int:year>.pdf")
@family_required
def tax_certificate_pdf(year: int):
    certificate = tax_certificate_of_current_family(year)
    content = finance_documents.tax_certificate_pdf(certificate)
    return _pdf(content, finance_documents.download_name("tax-certificate", certificate))


def _pdf(content: bytes, name: str) -> Response:
    """A download, never shown inline (app.py adds nosniff, and no-store: no cache keeps
    it)."""
    response = Response(content, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


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
    if not payments.is_checkout(payment.checkout_url):  # never a redirect elsewhere
        return redirect(url_for("finances.payment_return", payment_id=payment.id), 303)
    return redirect(payment.checkout_url, 303)


@bp.get("/finances/paiements/<int:payment_id>")
@family_required
def payment_return(payment_id: int):
    """Where Mollie sends the family back: the payment's true state, asked of Mollie."""
    payment = payment_of_current_family(payment_id)
    if payment.method != PaymentMethod.ONLINE:
        abort(404)
    now = utcnow()
    payment = payments.refresh_payment(payment, now)
    waiting = payment.status == PaymentStatus.OPEN and now - payment.created_at < RELOAD_FOR
    return render_template(
        "finances/payment.html",
        payment=payment,
        numbers=payments.invoice_numbers(payment),
        reload_seconds=RELOAD_SECONDS if waiting else None,
    )
