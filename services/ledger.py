"""The family's account: what each invoice still owes, the balance, and the allocation of
money received to invoices (DOMAIN.md, Billing).

- An invoice owes its total, less the credit notes crediting it, less the allocations of
  the payments that are paid. A payment that is open, failed, canceled or expired pays
  nothing, even if it names invoices.
- Balance of a family = issued invoices − credit notes − allocations of paid payments.
  Positive: the family owes; zero: settled. It is never negative: money is allocated only
  up to what invoices owe, and what is left over is reported to staff, not kept as credit.
- A refund or a chargeback takes back allocations, the one made last first, so that the
  invoices it paid owe again; the payment's allocations never sum to more than its amount
  less what was refunded and charged back (less, by what found no invoice).
- An invoice's status follows what it owes: `paid` at zero, `issued` otherwise.

These functions write in the caller's transaction and never commit: the billing,
payment and counter services own their commits. A payment is locked before its invoices,
and invoices in id order, so that two services never wait on each other in opposite orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import case, func, select, text

from extensions import db
from models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentStatus,
)

# The invoices a family is asked to pay: issued ones (a draft is not yet a bill).
BILLED = (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def _credited(invoice_ids: Sequence[int]):
    return (
        select(Invoice.credits_invoice_id, func.sum(Invoice.total_cents))
        .where(
            Invoice.kind == InvoiceKind.CREDIT_NOTE,
            Invoice.credits_invoice_id.in_(invoice_ids),
            Invoice.status.in_(BILLED),
        )
        .group_by(Invoice.credits_invoice_id)
    )


def _allocated(invoice_ids: Sequence[int]):
    return (
        select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id.in_(invoice_ids), Payment.status == PaymentStatus.PAID)
        .group_by(PaymentAllocation.invoice_id)
    )


def due_cents(invoices: Iterable[Invoice]) -> dict[int, int]:
    """What each invoice still owes, by id (two statements whatever their number)."""
    invoices = list(invoices)
    ids = [invoice.id for invoice in invoices]
    if not ids:
        return {}
    credited = dict(db.session.execute(_credited(ids)).all())
    allocated = dict(db.session.execute(_allocated(ids)).all())
    return {
        invoice.id: invoice.total_cents - credited.get(invoice.id, 0) - allocated.get(invoice.id, 0)
        for invoice in invoices
    }


def balance_cents(family_id: int) -> int:
    """Issued invoices − credit notes − allocations of paid payments (one statement)."""
    signed_total = case(
        (Invoice.kind == InvoiceKind.CREDIT_NOTE, -Invoice.total_cents),
        else_=Invoice.total_cents,
    )
    billed = (
        select(func.coalesce(func.sum(signed_total), 0))
        .where(Invoice.family_id == family_id, Invoice.status.in_(BILLED))
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.family_id == family_id, Payment.status == PaymentStatus.PAID)
        .scalar_subquery()
    )
    return int(db.session.execute(select(billed - paid)).scalar_one())


def serialize_writes() -> None:
    """SQLite ignores FOR UPDATE: a first write takes its database-wide write lock, so that
    concurrent requests decide one after the other (PostgreSQL locks rows instead)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE payment SET id = id WHERE 1 = 0"))


def lock_invoices(invoice_ids: Iterable[int]) -> list[Invoice]:
    """The invoices, locked and read afresh, in id order: FOR UPDATE on PostgreSQL, the
    database's write lock on SQLite (serialize_writes)."""
    serialize_writes()
    query = (
        select(Invoice)
        .where(Invoice.id.in_(sorted(set(invoice_ids))))
        .order_by(Invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(query))


def lock_paying_payments(invoice_id: int) -> None:
    """Lock the paid payments allocated to the invoice, in id order, before the invoice is
    locked: a credit note that frees their money must wait for a refund or a webhook holding
    one of them (which then waits for the invoice), not hold the invoice against it."""
    paying = select(PaymentAllocation.payment_id).where(PaymentAllocation.invoice_id == invoice_id)
    db.session.execute(
        select(Payment.id)
        .where(Payment.id.in_(paying), Payment.status == PaymentStatus.PAID)
        .order_by(Payment.id)
        .with_for_update()
    ).all()


def allocate(payment: Payment, invoices: Sequence[Invoice]) -> int:
    """Allocate a paid payment's amount to the invoices, in the order given, each up to
    what it owes; the cents left over (0 when all of it found an invoice). The invoices
    must have been locked by the caller (lock_invoices)."""
    remaining = payment.amount_cents - payment.refunded_cents - payment.charged_back_cents
    remaining -= sum(allocation.amount_cents for allocation in payment.allocations)
    owed = due_cents(invoices)
    for invoice in invoices:
        share = min(remaining, owed[invoice.id])
        if share <= 0:
            continue
        existing = next((a for a in payment.allocations if a.invoice_id == invoice.id), None)
        if existing is None:
            payment.allocations.append(PaymentAllocation(invoice=invoice, amount_cents=share))
        else:
            existing.amount_cents += share
        remaining -= share
    db.session.flush()
    refresh_statuses(invoices)
    return remaining


def take_back(payment: Payment, cents: int) -> None:
    """Remove `cents` of the payment's allocations, the one made last first (a refund or a
    chargeback), and set the invoices' statuses again."""
    allocations = sorted(payment.allocations, key=lambda a: a.id or 0, reverse=True)
    touched = lock_invoices(a.invoice_id for a in allocations)
    for allocation in allocations:
        if cents <= 0:
            break
        share = min(cents, allocation.amount_cents)
        cents -= share
        if share == allocation.amount_cents:
            payment.allocations.remove(allocation)  # delete-orphan: the row goes
        else:
            allocation.amount_cents -= share
    db.session.flush()
    refresh_statuses(touched)


def unallocated_cents(payment: Payment) -> int:
    """What a paid payment holds for no invoice (paid twice, or freed by a credit note):
    the family's money, to refund. Reads the loaded allocations."""
    if payment.status != PaymentStatus.PAID:
        return 0
    kept = payment.amount_cents - payment.refunded_cents - payment.charged_back_cents
    return max(kept - sum(allocation.amount_cents for allocation in payment.allocations), 0)


def credited_cents(invoice: Invoice) -> int:
    """What the credit notes issued on the invoice credit, together."""
    return dict(db.session.execute(_credited([invoice.id])).all()).get(invoice.id, 0)


def release(invoice: Invoice, cents: int) -> list[tuple[Payment, int]]:
    """Free `cents` of what paid payments gave the invoice (locked by the caller), the
    allocation made last first: a credit note on an invoice already paid leaves that money
    on its payments, to refund. Each payment touched, with the cents freed on it."""
    allocations = db.session.scalars(
        select(PaymentAllocation)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id == invoice.id, Payment.status == PaymentStatus.PAID)
        .order_by(PaymentAllocation.id.desc())
    ).all()
    freed: list[tuple[Payment, int]] = []
    for allocation in allocations:
        share = min(cents, allocation.amount_cents)
        if share <= 0:
            break
        cents -= share
        freed.append((allocation.payment, share))
        if share == allocation.amount_cents:
            allocation.payment.allocations.remove(allocation)  # delete-orphan: the row goes
        else:
            allocation.amount_cents -= share
    db.session.flush()
    return freed


def refresh_statuses(invoices: Iterable[Invoice]) -> None:
    """`paid` when an issued invoice owes nothing, `issued` when it owes again."""
    invoices = [i for i in invoices if i.kind == InvoiceKind.INVOICE and i.status in BILLED]
    for invoice_id, owed in due_cents(invoices).items():
        invoice = db.session.get(Invoice, invoice_id)
        invoice.status = InvoiceStatus.PAID if owed <= 0 else InvoiceStatus.ISSUED
