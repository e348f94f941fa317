"""Finances › Facturation: the month's preview per family, « Lancer la facturation », and
« Émettre un avoir » on an issued invoice.

Views parse what staff typed and call services.billing, which checks the rules and
writes (one transaction per family, gapless numbers), or refuses in French with nothing
written. A bad month typed in the address shows the French reason, never an error page.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form

from admin_views.base import StaffAccessMixin
from admin_views.fields import MoneyField, row_id
from extensions import db
from models import Invoice, InvoiceKind, utcnow
from services import billing, ledger
from services.billing import BillingError
from services.calendar import paris_today
from services.formatting import money
from vocabulary import enum_label

CATEGORY = "Finances"
ENDPOINT = "facturation"


def previous_month(today: date) -> date:
    """The month a run at the start of a month bills: the one before."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def chosen_month(text: str | None, today: date) -> date:
    """The month of the address (?month=2026-11), the previous one by default; a bad
    value is flashed in French and the default shown."""
    if not text:
        return previous_month(today)
    try:
        return billing.parse_month(text)
    except BillingError as error:
        flash(error.message, "error")
        return previous_month(today)


class _AmountForm(Form):
    amount = MoneyField()


def parse_amount(text: str | None) -> int:
    """Cents from « 12,50 » as staff type it (MoneyField's rules), or a French refusal."""
    form = _AmountForm(MultiDict([("amount", text or "")]))
    if not form.validate():
        raise BillingError(form.amount.errors[0])
    if form.amount.data is None:
        raise BillingError("Indiquez le montant de l'avoir.")
    return form.amount.data


class BillingView(StaffAccessMixin, BaseView):
    """Facturation: choose a month, read what it bills, then issue the invoices."""

    @expose("/")
    def index(self):
        now = utcnow()
        month = chosen_month(request.args.get("month"), paris_today(now))
        return self.render(
            "admin/billing/index.html",
            month=month,
            preview=billing.preview_month(month, now),
            label=enum_label,
        )

    @expose("/lancer", methods=("POST",))
    def run(self):
        try:
            month = billing.parse_month(request.form.get("month"))
            report = billing.run_billing(month, utcnow())
        except BillingError as error:
            flash(f"Facturation non lancée : {error.message}", "error")
            return redirect(url_for(".index"))
        flash(report.summary(), "success" if report.issued else "info")
        return redirect(url_for(".index", month=month.strftime("%Y-%m")))

    @expose("/avoir", methods=("GET", "POST"))
    def credit_note(self):
        invoice_id = row_id(request.values.get("invoice"))
        invoice = db.session.get(Invoice, invoice_id) if invoice_id is not None else None
        if invoice is None or invoice.kind is not InvoiceKind.INVOICE:
            flash("Facture introuvable : choisissez-la dans la liste des factures.", "error")
            return redirect(url_for("invoice.index_view"))
        if request.method == "POST":
            note = self._credit(invoice)
            if note is not None:
                return redirect(url_for("invoice.details_view", id=note.id))
        return self.render(
            "admin/billing/credit_note.html",
            invoice=invoice,
            owed=ledger.due_cents([invoice])[invoice.id],
            creditable=billing.creditable_cents(invoice),
            label=enum_label,
            typed=request.form,
        )

    def _credit(self, invoice: Invoice) -> Invoice | None:
        owed = max(ledger.due_cents([invoice])[invoice.id], 0)
        try:
            note = billing.issue_credit_note(
                invoice,
                parse_amount(request.form.get("amount")),
                request.form.get("reason", ""),
                current_user,
                utcnow(),
                request.remote_addr,
            )
        except BillingError as error:
            flash(f"Avoir non émis : {error.message}", "error")
            return None
        to_refund = note.total_cents - owed
        refund = (
            f" {money(to_refund)} déjà payés sont à rembourser depuis le règlement "
            "(Finances › Anomalies de paiement)."
            if to_refund > 0
            else ""
        )
        flash(
            f"Avoir n° {note.number} de {money(note.total_cents)} émis sur la facture "
            f"n° {invoice.number} ; la famille est prévenue.{refund}",
            "success",
        )
        return note


def credit_note_link(_view, _context, model, _name) -> str:
    """The invoice view's door to « Émettre un avoir » (issued invoices only)."""
    if model.kind is not InvoiceKind.INVOICE or model.status not in ledger.BILLED:
        return ""
    url = url_for(f"{ENDPOINT}.credit_note", invoice=model.id)
    return Markup(
        '<a href="{}" class="btn btn-sm btn-outline-primary">Émettre un avoir</a>'
    ).format(url)


def add_views(admin: Admin) -> None:
    admin.add_view(
        BillingView(name="Facturation", endpoint=ENDPOINT, url=ENDPOINT, category=CATEGORY)
    )
