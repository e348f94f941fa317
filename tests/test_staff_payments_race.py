"""Two agents at once (PostgreSQL row locks): the same cheque recorded twice pays the
invoice once, a payment refunded twice at once is refunded once, a reminder sent twice at
once goes once (services.staff_payments)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Alert, AlertKind, Family, Invoice, Payment, PaymentMethod, StaffUser
from services import ledger
from services import staff_payments as counter
from tests.test_staff_payments import make_invoice

pytestmark = pytest.mark.postgres_only

NOW = datetime(2026, 11, 26, 9, 0)
AGENTS = 8


def race(race_app, act) -> list[str]:
    """`act()` in AGENTS threads started together; what each ended with."""
    start = threading.Barrier(AGENTS)

    def one(_n: int) -> str:
        with race_app.app_context():
            try:
                return act(start)
            except counter.StaffPaymentError as error:
                return error.message

    with ThreadPoolExecutor(max_workers=AGENTS) as pool:
        return list(pool.map(one, range(AGENTS)))


def test_the_same_cheque_recorded_at_once_pays_the_invoice_once(app, race_app, family, staff):
    invoice = make_invoice(family, 10, 3000)
    family_id, staff_id, invoice_id = family.id, staff.id, invoice.id

    def record(start) -> str:
        family, agent = db.session.get(Family, family_id), db.session.get(StaffUser, staff_id)
        db.session.rollback()
        start.wait(timeout=30)
        counter.record_payment(
            family, PaymentMethod.CHEQUE, 3000, date(2026, 11, 26), "", [invoice_id], agent, NOW
        )
        return "recorded"

    outcomes = race(race_app, record)

    assert outcomes.count("recorded") == 1
    assert outcomes.count("La facture n° 2026-000010 est déjà réglée.") == AGENTS - 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert ledger.due_cents([db.session.get(Invoice, invoice_id)]) == {invoice_id: 0}


def test_a_payment_refunded_twice_at_once_is_refunded_once(app, race_app, family, staff):
    invoice = make_invoice(family, 10, 3000)
    payment = counter.record_payment(
        family, PaymentMethod.CASH, 3000, date(2026, 11, 26), "", [invoice.id], staff, NOW
    )
    payment_id, staff_id = payment.id, staff.id

    def refund(start) -> str:
        payment, agent = db.session.get(Payment, payment_id), db.session.get(StaffUser, staff_id)
        db.session.rollback()
        start.wait(timeout=30)
        counter.refund_payment(payment, 3000, "Erreur", agent, NOW)
        return "refunded"

    outcomes = race(race_app, refund)

    assert outcomes.count("refunded") == 1
    db.session.expire_all()
    payment = db.session.get(Payment, payment_id)
    assert (payment.refunded_cents, payment.allocations) == (3000, [])
    assert ledger.balance_cents(family.id) == 3000


def test_one_partial_refund_form_sent_at_once_refunds_once(app, race_app, family, staff):
    """A double click on « Rembourser » for 10,00 € of a 30,00 € cash payment."""
    invoice = make_invoice(family, 10, 3000)
    payment = counter.record_payment(
        family, PaymentMethod.CASH, 3000, date(2026, 11, 26), "", [invoice.id], staff, NOW
    )
    payment_id, staff_id, key = payment.id, staff.id, counter.refund_key()

    def refund(start) -> str:
        payment, agent = db.session.get(Payment, payment_id), db.session.get(StaffUser, staff_id)
        db.session.rollback()
        start.wait(timeout=30)
        counter.refund_payment(payment, 1000, "Erreur", agent, NOW, refund_key=key)
        return "done"

    assert race(race_app, refund) == ["done"] * AGENTS  # each click answered « done »
    db.session.expire_all()
    assert db.session.get(Payment, payment_id).refunded_cents == 1000
    assert ledger.balance_cents(family.id) == 1000


def test_a_reminder_sent_twice_at_once_goes_once(app, race_app, family, staff):
    invoice_id, staff_id = make_invoice(family, 10, 3000).id, staff.id

    def remind(start) -> str:
        agent = db.session.get(StaffUser, staff_id)
        db.session.rollback()
        start.wait(timeout=30)
        return str(len(counter.send_reminders([invoice_id], agent, NOW).reminded))

    outcomes = race(race_app, remind)

    assert sorted(outcomes) == ["0"] * (AGENTS - 1) + ["1"]
    db.session.expire_all()
    assert db.session.get(Invoice, invoice_id).reminder_count == 1
    reminders = select(func.count(Alert.id)).where(Alert.kind == AlertKind.INVOICE)
    assert db.session.scalar(reminders) == 1
