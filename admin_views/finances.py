"""Finances: tariffs, invoices and their lines, payments and their allocations.

Invoices are issued by the billing run (gapless numbers, never edited once issued) and
payments are allocated by the payment service: here they are read, never written by hand.
Staff record the money they receive at the counter (cheque, cash, CESU, transfer).
"""

from __future__ import annotations

from flask import flash, request, url_for
from flask_admin import Admin
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup
from wtforms.validators import ValidationError

from admin_views.base import ReadOnlyView, StaffModelView
from admin_views.billing import credit_note_link
from admin_views.fields import MoneyField, money_columns, month_cell, related_cell, row_id
from admin_views.finance_documents import pdf_link
from admin_views.labels import COLUMN_LABELS
from admin_views.payments import PaymentCounterActions
from extensions import db
from models import (
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    StaffNotice,
    Tariff,
    TaxCertificate,
    utcnow,
)
from services import staff_notices
from services.formatting import money, plural
from services.staff_payments import refundable_cents
from vocabulary import NOTICE_KINDS, enum_label, label

CATEGORY = "Finances"


def line_text(line: InvoiceLine) -> str:
    return f"{line.label} : {line.quantity} × {money(line.unit_price_cents)}"


def payment_text(payment: Payment) -> str:
    return f"{enum_label(payment.method)} de {money(payment.amount_cents)}, {payment.family}"


def allocation_text(allocation: PaymentAllocation) -> str:
    return f"{allocation.invoice} : {money(allocation.amount_cents)}"


def penalty_cell(_view, _context, model, name) -> str:
    """A penalty price, or the words saying that the unit price applies."""
    value = getattr(model, name)
    return "prix unitaire" if value is None else money(value)


def option_label(option) -> str:
    return f"{option.activity.name} — {option.label}"


class TariffView(StaffModelView):
    """A price per quotient bracket and period (services.tariffs): for a whole activity, or
    for one of its options (which then beats the activity's); a penalty price left empty
    is the unit price."""

    column_list = (
        "activity",
        "option",
        "label",
        "qf_min",
        "qf_max",
        "unit_price_cents",
        "walk_in_price_cents",
        "late_cancel_price_cents",
        "valid_from",
        "valid_to",
    )
    column_filters = ("activity.name", "valid_from", "valid_to")
    column_default_sort = [("valid_from", True), ("qf_min", False)]
    column_formatters = {
        **money_columns("unit_price_cents"),
        "option": related_cell(option_label),
        "walk_in_price_cents": penalty_cell,
        "late_cancel_price_cents": penalty_cell,
    }
    form_columns = column_list
    form_overrides = dict.fromkeys(
        ("unit_price_cents", "walk_in_price_cents", "late_cancel_price_cents"), MoneyField
    )
    form_args = {"option": {"get_label": option_label}}

    def on_model_change(self, form, model, is_created) -> None:
        if model.option is not None and model.option.activity_id != model.activity.id:
            raise ValidationError("Cette formule n'est pas une formule de la prestation choisie.")
        super().on_model_change(form, model, is_created)


class InvoiceView(ReadOnlyView):
    column_list = (
        "number",
        "family",
        "kind",
        "period_month",
        "status",
        "issued_at",
        "due_on",
        "total_cents",
        "pdf",
    )
    column_details_list = (*column_list, "lines", "created_at", "credit_note")
    column_export_exclude_list = ("pdf",)
    column_labels = {**COLUMN_LABELS, "credit_note": "Avoir"}
    column_searchable_list = ("number", "family.name")
    column_filters = ("status", "period_month", "kind", "issued_at")
    column_default_sort = [("period_month", True), ("number", True)]
    column_formatters = {
        **money_columns("total_cents"),
        "period_month": month_cell,
        "lines": related_cell(line_text),
        "pdf": pdf_link("invoice", "PDF"),
        "credit_note": credit_note_link,
    }


class InvoiceLineView(ReadOnlyView):
    column_list = (
        "invoice",
        "child",
        "activity",
        "label",
        "unit_price_cents",
        "quantity",
        "amount_cents",
    )
    column_searchable_list = ("invoice.number", "label")
    column_filters = ("activity.name",)
    column_default_sort = ("id", True)
    column_formatters = money_columns("unit_price_cents", "amount_cents")


class PaymentView(PaymentCounterActions, StaffModelView):
    """Recorded at the counter (admin_views.payments) or by Mollie, never edited nor
    deleted: a mistake is corrected by a refund or a new entry."""

    can_edit = False
    can_delete = False
    column_list = (
        "received_on",
        "family",
        "method",
        "status",
        "amount_cents",
        "refunded_cents",
        "reference",
        "mollie_id",
        "pdf",
    )
    column_details_list = (*column_list, "allocations", "created_at", "refund")
    column_export_list = column_list[:-1]
    column_searchable_list = ("reference", "mollie_id", "family.name")
    column_filters = ("method", "status", "received_on")
    column_default_sort = [("received_on", True), ("id", True)]
    column_formatters = {
        **money_columns("amount_cents", "refunded_cents"),
        "allocations": related_cell(allocation_text),
        "pdf": pdf_link("receipt", "Reçu"),
        "refund": lambda _view, _context, model, _name: refund_link(model),
    }


def refund_link(payment: Payment) -> str:
    """On a payment's page, the door to its refund form while something is left to refund."""
    if payment.status != PaymentStatus.PAID or refundable_cents(payment) <= 0:
        return "—"
    url = url_for("guichet.refund", payment=payment.id)
    return Markup(
        '<a class="btn btn-sm btn-outline-primary" href="{}">Rembourser ce règlement</a>'
    ).format(url)


class PaymentAllocationView(ReadOnlyView):
    column_list = ("payment", "invoice", "amount_cents")
    column_searchable_list = ("invoice.number",)
    column_default_sort = ("id", True)
    column_formatters = {**money_columns("amount_cents"), "payment": related_cell(payment_text)}


class TaxCertificateView(ReadOnlyView):
    """Issued in bulk by « Émettre les attestations fiscales » (admin_views.finance_documents)."""

    column_list = ("year", "family", "total_cents", "issued_at", "pdf")
    column_export_exclude_list = ("pdf",)
    column_searchable_list = ("family.name",)
    column_filters = ("year",)
    column_default_sort = [("year", True), ("id", False)]
    column_formatters = {
        **money_columns("total_cents"),
        "pdf": pdf_link("tax_certificate", "PDF"),
    }


def notice_kind(kind: str) -> str:
    return label(NOTICE_KINDS.get(kind, kind))


class StaffNoticeView(ReadOnlyView):
    """Payments that need a person (services.staff_notices): amounts that do not match,
    money to give back, chargebacks. A refund resolves the notices asking for it; staff
    mark the others « Traitée »."""

    column_list = ("created_at", "kind", "message", "family", "payment", "resolved_at")
    column_searchable_list = ("message", "family.name")
    column_filters = ("kind", "resolved_at")
    column_default_sort = [("resolved_at", False), ("created_at", True)]
    column_formatters = {
        "payment": related_cell(payment_text),
        "kind": lambda _view, _context, notice, _name: notice_kind(notice.kind),
    }

    @action("resolve", "Marquer comme traitée")
    def action_resolve(self, ids):
        chosen = [found for found in (row_id(value) for value in ids) if found is not None]
        count = staff_notices.resolve(chosen, current_user, utcnow(), request.remote_addr)
        flash(f"{plural(count, 'anomalie traitée', 'anomalies traitées')}.", "success")


def add_views(admin: Admin) -> None:
    admin.add_views(
        TariffView(Tariff, db, name="Tarifs", category=CATEGORY),
        InvoiceView(Invoice, db, name="Factures", category=CATEGORY),
        InvoiceLineView(InvoiceLine, db, name="Lignes de facture", category=CATEGORY),
        PaymentView(Payment, db, name="Règlements", category=CATEGORY),
        PaymentAllocationView(
            PaymentAllocation, db, name="Affectations des règlements", category=CATEGORY
        ),
        TaxCertificateView(TaxCertificate, db, name="Attestations fiscales", category=CATEGORY),
        StaffNoticeView(StaffNotice, db, name="Anomalies de paiement", category=CATEGORY),
    )
