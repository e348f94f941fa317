"""FINANCES as a family sees it: the balance, its bills, its règlements, its tax certificates.

- A bill is an invoice or a credit note once issued (a draft is not yet a bill); a
  cancelled invoice stays listed as such.
- Where an invoice stands comes from what it still owes (services.ledger): nothing → paid,
  less than its total → partly paid, its total → to pay. A credit note is deducted from
  the invoice it credits.
- An invoice is overdue when it still owes something after its due date (Paris time).
- The unpaid invoices come first, the oldest first: the order in which to pay them. One
  that an open online payment names says so (paid twice is what the family fears).
- A règlement is a payment that paid (with what it paid, refunded or had charged back) or
  an online payment still open (its webhook has not come yet). A failed, canceled or
  expired attempt paid nothing and is not a règlement. Each is dated the day it was
  received (counter), paid (online) or, while open, started; the latest first.
- The family's prices are today's, for each option of each activity of the commune, at
  the family's quotient familial (services.tariffs: the highest bracket without one).
- The page costs the same number of statements whatever the number of bills and
  payments (ten: bills, two for what they owe, the balance, payments and their
  allocations, certificates, activities and their options, tariffs).

Reads only: nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from extensions import db
from models import (
    Activity,
    Family,
    Invoice,
    InvoiceKind,
    InvoiceStanding,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    TaxCertificate,
)
from services import ledger, tariffs
from services.calendar import paris_today

# The payments FINANCES lists (see above).
LISTED_PAYMENTS = (PaymentStatus.PAID, PaymentStatus.OPEN)
OWING = (InvoiceStanding.TO_PAY, InvoiceStanding.PARTLY_PAID)


@dataclass(frozen=True)
class Bill:
    invoice: Invoice
    due_cents: int
    standing: InvoiceStanding
    overdue: bool
    credited_number: str | None  # a credit note: the number of the invoice it credits


@dataclass(frozen=True)
class Settlement:
    payment: Payment
    invoice_numbers: list[str]
    on: date  # received (counter), paid (online) or, while open, started: Paris date
    # Paid but no longer for any invoice (a credit note after it, an invoice paid twice):
    # the family's money, which staff refund.
    to_refund_cents: int = 0


@dataclass(frozen=True)
class Finances:
    balance_cents: int
    unpaid: list[Bill]
    bills: list[Bill]
    settlements: list[Settlement]
    certificates: list[TaxCertificate]
    prices: list[tariffs.FamilyPrice]
    pending: dict[int, Payment]  # invoice id → the open online payment naming it


def overview(family: Family, today: date) -> Finances:
    """Everything FINANCES shows the family on `today` (Paris date)."""
    invoices = _bills_of(family)
    bills = _standings(invoices, today)
    numbers = {invoice.id: invoice.number for invoice in invoices}
    unpaid = sorted(
        (bill for bill in bills if bill.standing in OWING),
        key=lambda bill: (bill.invoice.period_month, bill.invoice.id),
    )
    payments = _payments_of(family)
    return Finances(
        balance_cents=ledger.balance_cents(family.id),
        unpaid=unpaid,
        bills=bills,
        settlements=sorted(
            (_settlement(p, numbers) for p in payments),
            key=lambda settlement: (settlement.on, settlement.payment.id),
            reverse=True,
        ),
        certificates=_certificates_of(family),
        prices=tariffs.family_prices(family, today, _activities()),
        pending={
            allocation.invoice_id: payment
            for payment in payments
            if payment.status == PaymentStatus.OPEN
            for allocation in payment.allocations
        },
    )


def standing_of(invoice: Invoice, due_cents: int) -> InvoiceStanding:
    """Where one bill stands (see above)."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return InvoiceStanding.CREDIT_NOTE
    if invoice.status == InvoiceStatus.CANCELLED:
        return InvoiceStanding.CANCELLED
    if due_cents <= 0:
        return InvoiceStanding.PAID
    if due_cents < invoice.total_cents:
        return InvoiceStanding.PARTLY_PAID
    return InvoiceStanding.TO_PAY


def _bills_of(family: Family) -> list[Invoice]:
    query = (
        select(Invoice)
        .where(Invoice.family_id == family.id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.period_month.desc(), Invoice.id.desc())
    )
    return list(db.session.scalars(query))


def _standings(invoices: list[Invoice], today: date) -> list[Bill]:
    owing = ledger.due_cents(
        i for i in invoices if i.kind == InvoiceKind.INVOICE and i.status in ledger.BILLED
    )
    numbers = {invoice.id: invoice.number for invoice in invoices}
    bills = []
    for invoice in invoices:
        due = max(owing.get(invoice.id, 0), 0)
        standing = standing_of(invoice, due)
        late = standing in OWING and invoice.due_on is not None and invoice.due_on < today
        credited = numbers.get(invoice.credits_invoice_id) if invoice.credits_invoice_id else None
        bills.append(Bill(invoice, due, standing, late, credited))
    return bills


def _payments_of(family: Family) -> list[Payment]:
    query = (
        select(Payment)
        .where(Payment.family_id == family.id, Payment.status.in_(LISTED_PAYMENTS))
        .options(selectinload(Payment.allocations))
    )
    return list(db.session.scalars(query))


def _settlement(payment: Payment, numbers: dict[int, str | None]) -> Settlement:
    paid = [numbers.get(a.invoice_id) for a in payment.allocations]
    on = payment.received_on or paris_today(payment.paid_at or payment.created_at)
    numbers_paid = [number for number in paid if number]
    return Settlement(payment, numbers_paid, on, ledger.unallocated_cents(payment))


def _activities() -> list[Activity]:
    query = (
        select(Activity)
        .options(selectinload(Activity.options))
        .order_by(Activity.sort_order, Activity.id)
    )
    return list(db.session.scalars(query))


def _certificates_of(family: Family) -> list[TaxCertificate]:
    query = (
        select(TaxCertificate)
        .where(TaxCertificate.family_id == family.id)
        .order_by(TaxCertificate.year.desc())
    )
    return list(db.session.scalars(query))
