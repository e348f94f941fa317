"""Finances: tariffs, invoices and their lines, payments and their allocations.

Invoices are issued by the billing run (gapless numbers, never edited once issued) and
payments are allocated by the payment service: here they are read, never written by hand.
Staff record the money they receive at the counter (cheque, cash, CESU, transfer).
"""

from __future__ import annotations

from flask_admin import Admin
from flask_login import current_user

from admin_views.base import ReadOnlyView, StaffModelView
from admin_views.fields import MoneyField, money_columns, month_cell, related_cell
from extensions import db
from models import (
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    StaffNotice,
    Tariff,
    TaxCertificate,
)
from services.formatting import money
from vocabulary import enum_label

CATEGORY = "Finances"


def line_text(line: InvoiceLine) -> str:
    return f"{line.label} : {line.quantity} × {money(line.unit_price_cents)}"


def payment_text(payment: Payment) -> str:
    return f"{enum_label(payment.method)} de {money(payment.amount_cents)}, {payment.family}"


def allocation_text(allocation: PaymentAllocation) -> str:
    return f"{allocation.invoice} : {money(allocation.amount_cents)}"


class TariffView(StaffModelView):
    column_list = (
        "activity",
        "label",
        "qf_min",
        "qf_max",
        "unit_price_cents",
        "valid_from",
        "valid_to",
    )
    column_filters = ("activity.name", "valid_from", "valid_to")
    column_default_sort = [("valid_from", True), ("qf_min", False)]
    column_formatters = money_columns("unit_price_cents")
    form_columns = column_list
    form_overrides = {"unit_price_cents": MoneyField}


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
    )
    column_details_list = (*column_list, "lines", "created_at")
    column_searchable_list = ("number", "family.name")
    column_filters = ("status", "period_month", "kind", "issued_at")
    column_default_sort = [("period_month", True), ("number", True)]
    column_formatters = {
        **money_columns("total_cents"),
        "period_month": month_cell,
        "lines": related_cell(line_text),
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


class PaymentView(StaffModelView):
    """Recorded, never edited nor deleted: a mistake is corrected by a refund or a new entry."""

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
    )
    column_details_list = (*column_list, "allocations", "created_at")
    column_export_list = column_list
    column_searchable_list = ("reference", "mollie_id", "family.name")
    column_filters = ("method", "status", "received_on")
    column_default_sort = [("received_on", True), ("id", True)]
    column_formatters = {
        **money_columns("amount_cents", "refunded_cents"),
        "allocations": related_cell(allocation_text),
    }
    form_columns = ("family", "method", "amount_cents", "received_on", "reference")
    form_overrides = {"amount_cents": MoneyField}

    def create_form(self, obj=None):
        form = super().create_form(obj)
        # Online payments come from Mollie only; by hand, staff record the rest.
        form.method.choices = [
            choice for choice in form.method.choices if choice[0] != PaymentMethod.ONLINE
        ]
        return form

    def on_model_change(self, form, model, is_created) -> None:
        model.recorded_by_id = current_user.id
        super().on_model_change(form, model, is_created)


class PaymentAllocationView(ReadOnlyView):
    column_list = ("payment", "invoice", "amount_cents")
    column_searchable_list = ("invoice.number",)
    column_default_sort = ("id", True)
    column_formatters = {**money_columns("amount_cents"), "payment": related_cell(payment_text)}


class TaxCertificateView(ReadOnlyView):
    column_list = ("year", "family", "total_cents", "issued_at")
    column_searchable_list = ("family.name",)
    column_filters = ("year",)
    column_default_sort = [("year", True), ("id", False)]
    column_formatters = money_columns("total_cents")


class StaffNoticeView(ReadOnlyView):
    """Payments that need a person: amounts that do not match, invoices paid twice."""

    column_list = ("created_at", "kind", "message", "family", "payment", "resolved_at")
    column_searchable_list = ("message", "family.name")
    column_filters = ("kind", "resolved_at")
    column_default_sort = ("created_at", True)
    column_formatters = {"payment": related_cell(payment_text)}


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
