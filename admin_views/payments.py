"""Finances at the counter: « Enregistrer un règlement » (a family, its invoices owing, the
cheque, cash, CESU or transfer received), « Rembourser », « Impayés » with their reminders
(relances), and the treasurer's CSV exports.

Views parse what staff typed and call services.staff_payments, which checks the rules,
writes, tells the family and journals, or refuses in French with nothing written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import Response, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form

from admin_views.base import StaffAccessMixin, csv_text
from admin_views.fields import MoneyField, row_id
from admin_views.requests import page_number, parse_date, selected_ids
from extensions import db
from models import Family, Payment, PaymentMethod, PaymentStatus, utcnow
from services import ledger
from services import staff_payments as counter
from services.calendar import paris_today
from services.formatting import money, plural
from services.staff_payments import StaffPaymentError
from vocabulary import PAYMENT_METHOD_PHRASES, enum_label

CATEGORY = "Finances"
PAGE_SIZE = 50
FAMILIES_SHOWN = 20
SEARCH_MAX = 80
MAX_DAYS_LATE = 36_500
# The unpaid list's orders: the latest days first, the largest amount, the family's name.
SORTS = {
    "late": ("Retard", lambda row: (-row.days_late, row.invoice.number)),
    "owing": ("Reste dû", lambda row: (-row.owing_cents, row.invoice.number)),
    "family": ("Famille", lambda row: (row.invoice.family.name.lower(), row.invoice.number)),
}
LATE_CHOICES = {
    0: "Toutes",
    1: "Échues",
    15: "En retard de 15 jours et plus",
    30: "De 30 jours et plus",
}


class _AmountForm(Form):
    amount = MoneyField()


def parse_amount(text: str | None) -> int:
    """Cents from « 45,00 » as staff type it (MoneyField's rules), or a French refusal."""
    form = _AmountForm(MultiDict([("amount", text or "")]))
    if not form.validate():
        raise StaffPaymentError(form.amount.errors[0])
    if form.amount.data is None:
        raise StaffPaymentError("Indiquez le montant.")
    return form.amount.data


def _family(value: str | None) -> Family | None:
    family_id = row_id(value)
    return db.session.get(Family, family_id) if family_id is not None else None


def _payment(value: str | None) -> Payment | None:
    payment_id = row_id(value)
    return db.session.get(Payment, payment_id) if payment_id is not None else None


def matching_families(search: str) -> list[Family]:
    """The first families (not archived) whose name holds `search`, by name."""
    query = (
        select(Family)
        .where(Family.archived_at.is_(None), Family.name.icontains(search, autoescape=True))
        .order_by(Family.name, Family.id)
        .limit(FAMILIES_SHOWN)
    )
    return list(db.session.scalars(query))


# --- Recording a payment, and refunds --------------------------------------------------


class CounterView(StaffAccessMixin, BaseView):
    """Enregistrer un règlement: find the family, tick the invoices it pays, say how much,
    how, when and with what reference; and refund a payment (an online one through
    Mollie)."""

    @expose("/")
    def index(self):
        family = _family(request.args.get("family"))
        if family is None:
            search = request.args.get("q", "").strip()[:SEARCH_MAX]
            families = matching_families(search) if search else []
            return self.render("admin/payments/counter.html", search=search, families=families)
        return self._form(family, {})

    def _form(self, family: Family, typed: Mapping):
        """The family's form, with what staff typed (kept after a refusal)."""
        today = paris_today(utcnow())
        owing = counter.unpaid_invoices(today, family_id=family.id)
        return self.render(
            "admin/payments/counter.html",
            family=family,
            owing=sorted(owing, key=lambda row: (row.invoice.period_month, row.invoice.id)),
            balance=ledger.balance_cents(family.id),
            methods=[(method.value, enum_label(method)) for method in counter.COUNTER_METHODS],
            typed=typed,
            checked=set(selected_ids(typed)) if typed else set(),
            today=today,
        )

    @expose("/enregistrer", methods=("POST",))
    def record(self):
        family = _family(request.form.get("family"))
        if family is None:
            flash("Famille introuvable : cherchez-la de nouveau.", "error")
            return redirect(url_for(".index"))
        try:
            payment = counter.record_payment(
                family,
                request.form.get("method", ""),
                parse_amount(request.form.get("amount")),
                parse_date(request.form.get("received_on")),
                request.form.get("reference", ""),
                selected_ids(request.form),
                current_user,
                utcnow(),
                request.remote_addr,
            )
        except StaffPaymentError as error:
            flash(f"Règlement non enregistré : {error.message}", "error")
            return self._form(family, request.form)
        flash(f"Enregistré : {describe(payment)}.", "success")
        return redirect(url_for("payment.details_view", id=payment.id))

    @expose("/rembourser", methods=("GET", "POST"))
    def refund(self):
        payment = _payment(request.values.get("payment"))
        if payment is None:
            flash("Règlement introuvable : choisissez-le dans la liste des règlements.", "error")
            return redirect(url_for("payment.index_view"))
        if request.method == "POST":
            done = self._refund(payment)
            if done:
                return redirect(url_for("payment.details_view", id=payment.id))
        return self.render(
            "admin/payments/refund.html",
            payment=payment,
            left=counter.refundable_cents(payment),
            free=ledger.unallocated_cents(payment),
            online=payment.method == PaymentMethod.ONLINE,
            paid=payment.status == PaymentStatus.PAID,
            label=enum_label,
            typed=request.form,
            refund_key=counter.refund_key(request.form.get("refund_key")),
        )

    def _refund(self, payment: Payment) -> bool:
        try:
            cents = parse_amount(request.form.get("amount"))
            counter.refund_payment(
                payment,
                cents,
                request.form.get("reason", ""),
                current_user,
                utcnow(),
                request.remote_addr,
                request.form.get("refund_key", ""),
            )
        except StaffPaymentError as error:
            flash(f"Remboursement non enregistré : {error.message}", "error")
            return False
        flash(f"Remboursement de {money(cents)} enregistré sur le {describe(payment)}.", "success")
        return True


def describe(payment: Payment) -> str:
    """« règlement par chèque de 45,00 € de la famille Martin »."""
    how = PAYMENT_METHOD_PHRASES[payment.method]
    return f"règlement {how} de {money(payment.amount_cents)} de la famille {payment.family.name}"


class PaymentCounterActions:
    """The Règlements list's doors to the counter: « Créer » opens « Enregistrer un
    règlement » (no generic form writes a payment), « Rembourser » the refund form."""

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return redirect(url_for("guichet.index"))

    @action("refund", "Rembourser")
    def action_refund(self, ids):
        if len(ids) != 1:
            flash("Cochez un seul règlement à rembourser.", "warning")
            return redirect(url_for(".index_view"))
        return redirect(url_for("guichet.refund", payment=ids[0]))


# --- Unpaid invoices and reminders -------------------------------------------------------


@dataclass(frozen=True)
class UnpaidFilters:
    """The unpaid list's search, lateness and order, from the query string or the form."""

    search: str = ""
    late: int = 0
    sort: str = "late"

    @classmethod
    def parse(cls, values: Mapping) -> UnpaidFilters:
        # Past a century late, no invoice is: and a date cannot go back 2**31 days.
        late = min(row_id(values.get("late")) or 0, MAX_DAYS_LATE)
        sort = values.get("sort", "")
        return cls(
            search=values.get("q", "").strip()[:SEARCH_MAX],
            late=late,
            sort=sort if sort in SORTS else "late",
        )

    def args(self) -> dict[str, str]:
        values = {"q": self.search, "late": self.late, "sort": self.sort}
        return {name: str(value) for name, value in values.items() if value}


@dataclass
class UnpaidPage:
    rows: list
    number: int
    total: int
    owing_cents: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def unpaid_page(filters: UnpaidFilters, number: int, today: date) -> UnpaidPage:
    rows = counter.unpaid_invoices(today, filters.search, filters.late)
    rows.sort(key=SORTS[filters.sort][1])
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    number = min(max(number, 1), pages)
    shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    return UnpaidPage(shown, number, len(rows), sum(row.owing_cents for row in rows))


class UnpaidView(StaffAccessMixin, BaseView):
    """Impayés: issued invoices that still owe, the latest first; reminders in bulk."""

    @expose("/")
    def index(self):
        filters = UnpaidFilters.parse(request.args)
        today = paris_today(utcnow())
        return self.render(
            "admin/payments/unpaid.html",
            filters=filters,
            listing=unpaid_page(filters, page_number(request.args), today),
            sorts={key: title for key, (title, _key) in SORTS.items()},
            late_choices=LATE_CHOICES,
            today=today,
        )

    @expose("/relancer", methods=("POST",))
    def remind(self):
        filters = UnpaidFilters.parse(request.form)
        ids = selected_ids(request.form)
        if not ids:
            flash("Cochez au moins une facture à relancer.", "warning")
            return redirect(url_for(".index", **filters.args()))
        outcome = counter.send_reminders(ids, current_user, utcnow(), request.remote_addr)
        for invoice, reason in outcome.skipped:
            flash(f"Non relancée (facture n° {invoice.number}) : {reason}.", "warning")
        if outcome.reminded:
            invoices = plural(len(outcome.reminded), "facture", "factures")
            families = plural(outcome.families, "famille", "familles")
            flash(f"Relance envoyée : {invoices}, {families}.", "success")
        return redirect(url_for(".index", **filters.args()))


# --- The treasurer's exports -------------------------------------------------------------

EXPORTS = {
    "factures": counter.invoice_rows,
    "reglements": counter.payment_rows,
}


class TreasurerExportView(StaffAccessMixin, BaseView):
    """Exports pour le trésorier: invoices and credit notes issued, and payments received,
    between two days, as CSV files."""

    @expose("/")
    def index(self):
        today = paris_today(utcnow())
        return self.render(
            "admin/payments/exports.html",
            start=parse_date(request.args.get("start")) or today.replace(day=1),
            end=parse_date(request.args.get("end")) or today,
        )

    @expose("/factures.csv")
    def invoices(self):
        return self._download("factures")

    @expose("/reglements.csv")
    def payments(self):
        return self._download("reglements")

    def _download(self, kind: str):
        start = parse_date(request.args.get("start"))
        end = parse_date(request.args.get("end"))
        try:
            rows = EXPORTS[kind](start, end)
        except StaffPaymentError as error:
            flash(error.message, "error")
            return redirect(url_for(".index"))
        name = f"{kind}-du-{start.isoformat()}-au-{end.isoformat()}.csv"
        return Response(
            csv_text(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def add_views(admin: Admin) -> None:
    admin.add_views(
        CounterView(
            name="Enregistrer un règlement", endpoint="guichet", url="guichet", category=CATEGORY
        ),
        UnpaidView(name="Impayés", endpoint="impayes", url="impayes", category=CATEGORY),
        TreasurerExportView(
            name="Exports pour le trésorier",
            endpoint="exports_tresorier",
            url="exports-tresorier",
            category=CATEGORY,
        ),
    )
