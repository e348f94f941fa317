"""The family's account (services.ledger): what invoices owe, allocations, refunds."""

from __future__ import annotations

from datetime import date, datetime

from extensions import db
from models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
)
from services import ledger

ISSUED = datetime(2026, 11, 3, 7)


def _invoice(family, month: int, cents: int, **fields) -> Invoice:
    invoice = Invoice(
        family=family,
        number=f"2026-{month:06d}" if "number" not in fields else fields.pop("number"),
        period_month=date(2026, month, 1),
        status=InvoiceStatus.ISSUED,
        issued_at=ISSUED,
        total_cents=cents,
        **fields,
    )
    db.session.add(invoice)
    db.session.flush()
    return invoice


def _payment(family, cents: int, status=PaymentStatus.PAID) -> Payment:
    payment = Payment(family=family, method=PaymentMethod.CHEQUE, amount_cents=cents, status=status)
    db.session.add(payment)
    db.session.flush()
    return payment


def test_a_payment_pays_the_invoices_in_order_and_reports_what_is_left(family):
    september, october = _invoice(family, 9, 4000), _invoice(family, 10, 3000)
    payment = _payment(family, 5000)

    left = ledger.allocate(payment, ledger.lock_invoices([september.id, october.id]))

    assert left == 0
    assert ledger.due_cents([september, october]) == {september.id: 0, october.id: 2000}
    assert (september.status, october.status) == (InvoiceStatus.PAID, InvoiceStatus.ISSUED)
    assert ledger.balance_cents(family.id) == 2000


def test_money_beyond_what_the_invoices_owe_is_not_allocated(family):
    october = _invoice(family, 10, 3000)
    payment = _payment(family, 3500)

    assert ledger.allocate(payment, ledger.lock_invoices([october.id])) == 500
    assert ledger.balance_cents(family.id) == 0
    assert sum(a.amount_cents for a in payment.allocations) == 3000


def test_a_credit_note_lowers_what_its_invoice_owes_and_the_balance(family):
    october = _invoice(family, 10, 3000)
    _invoice(
        family,
        10,
        1200,
        number="2026-000099",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=october.id,
    )

    assert ledger.due_cents([october]) == {october.id: 1800}
    assert ledger.balance_cents(family.id) == 1800


def test_an_open_or_failed_payment_pays_nothing(family):
    october = _invoice(family, 10, 3000)
    for status in (PaymentStatus.OPEN, PaymentStatus.FAILED, PaymentStatus.EXPIRED):
        payment = _payment(family, 3000, status=status)
        payment.allocations.append(PaymentAllocation(invoice=october, amount_cents=3000))
    db.session.flush()

    assert ledger.due_cents([october]) == {october.id: 3000}
    assert ledger.balance_cents(family.id) == 3000


def test_a_refund_takes_back_the_last_invoice_first(family):
    september, october = _invoice(family, 9, 4000), _invoice(family, 10, 3000)
    payment = _payment(family, 7000)
    ledger.allocate(payment, ledger.lock_invoices([september.id, october.id]))

    payment.refunded_cents = 3500
    ledger.take_back(payment, 3500)

    assert ledger.due_cents([september, october]) == {september.id: 500, october.id: 3000}
    assert (september.status, october.status) == (InvoiceStatus.ISSUED, InvoiceStatus.ISSUED)
    assert [a.amount_cents for a in payment.allocations] == [3500]
    assert ledger.balance_cents(family.id) == 3500


def test_another_family_s_money_never_counts(family, other_family):
    october = _invoice(family, 10, 3000)
    _invoice(other_family, 10, 5000, number="2026-000050")
    ledger.allocate(_payment(other_family, 1000), [])

    assert ledger.balance_cents(family.id) == 3000
    assert ledger.due_cents([october]) == {october.id: 3000}
