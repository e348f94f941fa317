"""Issue 9, point 7: money received at the counter, refunds, reminders, the treasurer's
exports (services.staff_payments)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from mollie.api.client import Client
from sqlalchemy import func, select

from extensions import db
from models import (
    Alert,
    AlertKind,
    AuditEvent,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OutboxEmail,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    StaffNotice,
    StaffUser,
)
from mollie_simulator import MollieSimulator
from services import billing, finance_documents, ledger, payments
from services import staff_payments as counter
from services.formatting import money
from services.staff_payments import StaffPaymentError
from tests.payments_world import fresh, payment_alerts, post_to, simulated_mollie

NOW = datetime(2026, 11, 26, 9, 0)  # Thursday 26 November 2026, 10:00 in Paris
TODAY = date(2026, 11, 26)


def make_invoice(family, month: int, cents: int, due_on=date(2026, 11, 30), **fields) -> Invoice:
    values = {
        "number": f"2026-{month:06d}",
        "status": InvoiceStatus.ISSUED,
        "issued_at": datetime(2026, month + 1, 2, 7),
        **finance_documents.billed_identity(family),  # as services.billing issues it
        **fields,
    }
    invoice = Invoice(
        family=family, period_month=date(2026, month, 1), due_on=due_on, total_cents=cents, **values
    )
    db.session.add(invoice)
    db.session.commit()
    return invoice


def record(family, staff, cents, invoices, method=PaymentMethod.CHEQUE, **fields):
    arguments = {
        "received_on": TODAY,
        "reference": "Chèque n° 0000042",
        "now": NOW,
        "ip": "203.0.113.9",
        **fields,
    }
    return counter.record_payment(
        family, method, cents, invoice_ids=[i.id for i in invoices], staff=staff, **arguments
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_written() -> bool:
    return all(count(model) == 0 for model in (Payment, PaymentAllocation, Alert, AuditEvent))


@pytest.fixture
def invoices(family):
    return make_invoice(family, 9, 4000), make_invoice(family, 10, 3000)


# --- Recording ------------------------------------------------------------------------


def test_a_cheque_pays_the_chosen_invoices_in_the_order_given(family, staff, invoices):
    september, october = invoices

    payment = record(family, staff, 5000, [october, september])

    assert (payment.status, payment.method, payment.recorded_by_id) == (
        PaymentStatus.PAID,
        PaymentMethod.CHEQUE,
        staff.id,
    )
    # October first, as chosen: it is paid in full, September owes what is left.
    assert ledger.due_cents([september, october]) == {september.id: 2000, october.id: 0}
    assert (october.status, september.status) == (InvoiceStatus.PAID, InvoiceStatus.ISSUED)
    assert ledger.balance_cents(family.id) == 2000


def test_the_family_is_told_and_gets_an_email(family, staff, invoices):
    record(family, staff, 4500, invoices)

    alert = db.session.scalar(select(Alert))
    assert alert.kind == AlertKind.PAYMENT
    assert alert.link == "/finances"
    assert alert.message.startswith(f"Votre règlement par chèque de {money(4500)} a été enregistré")
    assert "2026-000009 et 2026-000010" in alert.message
    assert count(OutboxEmail) == 1


def test_the_recording_is_journaled_with_what_it_allocated(family, staff, invoices):
    payment = record(family, staff, 4500, invoices)

    event = db.session.scalar(select(AuditEvent))
    assert (event.action, event.entity, event.entity_id) == (
        "payment-recorded",
        "Payment",
        str(payment.id),
    )
    assert (event.actor, event.ip) == (staff.username, "203.0.113.9")
    changes = json.loads(event.changes)
    assert changes["amount_cents"] == [None, 4500]
    assert changes["allocations"] == [None, {"2026-000009": 4000, "2026-000010": 500}]


@pytest.mark.parametrize(
    "method", [PaymentMethod.CASH, PaymentMethod.CESU, PaymentMethod.TRANSFER, "cash"]
)
def test_each_counter_method_is_recorded(family, staff, invoices, method):
    payment = record(family, staff, 1000, invoices, method=method)
    assert payment.method == PaymentMethod(method)


@pytest.mark.parametrize(
    "cents, fields, message",
    [
        (4000, {"method": PaymentMethod.ONLINE}, "Mollie"),
        (4000, {"method": "bitcoin"}, "Mode de règlement inconnu"),
        (0, {}, "supérieur à 0,00"),
        (-500, {}, "supérieur à 0,00"),
        (7001, {}, "dépasse ce que doivent les factures choisies"),
        (4000, {"received_on": None}, "Indiquez le jour"),
        (4000, {"received_on": date(2026, 11, 27)}, "futur"),
        (4000, {"reference": "x" * 121}, "120 caractères"),
    ],
)
def test_a_refused_payment_writes_nothing(family, staff, invoices, cents, fields, message):
    with pytest.raises(StaffPaymentError) as refused:
        record(family, staff, cents, invoices, **fields)

    assert message in refused.value.message
    assert nothing_written()
    assert ledger.balance_cents(family.id) == 7000


def test_the_refusal_of_an_amount_too_high_says_both_amounts(family, staff, invoices):
    with pytest.raises(StaffPaymentError) as refused:
        record(family, staff, 7001, invoices)
    assert money(7001) in refused.value.message and money(7000) in refused.value.message


def test_an_invoice_of_another_family_is_refused(family, other_family, staff):
    theirs = make_invoice(other_family, 10, 3000)

    with pytest.raises(StaffPaymentError, match="pas une facture émise de cette famille"):
        record(family, staff, 1000, [theirs])
    assert nothing_written()


def test_a_credit_note_a_draft_or_no_invoice_cannot_be_paid(family, staff, invoices):
    october = invoices[1]
    note = make_invoice(
        family,
        10,
        500,
        number="2026-000099",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=october.id,
    )
    draft = make_invoice(family, 11, 800, number=None, status=InvoiceStatus.DRAFT)
    for chosen in ([note], [draft]):
        with pytest.raises(StaffPaymentError, match="pas une facture émise"):
            record(family, staff, 100, chosen)
    with pytest.raises(StaffPaymentError, match="au moins une facture"):
        record(family, staff, 100, [])
    assert nothing_written()


def test_an_invoice_already_paid_is_refused_by_its_number(family, staff, invoices):
    september, october = invoices
    record(family, staff, 4000, [september])

    with pytest.raises(StaffPaymentError, match="2026-000009 est déjà réglée"):
        record(family, staff, 1000, [september, october])
    assert count(Payment) == 1


def test_a_credit_note_lowers_what_may_be_paid(family, staff, invoices):
    october = invoices[1]
    make_invoice(
        family,
        10,
        1200,
        number="2026-000099",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=october.id,
    )
    with pytest.raises(StaffPaymentError, match="dépasse"):
        record(family, staff, 3000, [october])

    record(family, staff, 1800, [october])
    assert october.status == InvoiceStatus.PAID


# --- Refunds --------------------------------------------------------------------------


def test_a_refund_makes_the_last_invoice_owe_again(family, staff, invoices):
    september, october = invoices
    payment = record(family, staff, 6000, [september, october])

    counter.refund_payment(payment, 1500, "Erreur de saisie", staff, NOW, "203.0.113.9")

    assert payment.refunded_cents == 1500
    assert sum(a.amount_cents for a in payment.allocations) == 4500
    assert ledger.due_cents([september, october]) == {september.id: 0, october.id: 2500}
    assert october.status == InvoiceStatus.ISSUED
    assert ledger.balance_cents(family.id) == 2500


def test_a_refund_is_told_and_journaled_with_its_reason(family, staff, invoices):
    payment = record(family, staff, 4000, invoices[:1])

    counter.refund_payment(payment, 4000, "Chèque  rejeté\npar la banque", staff, NOW)

    alert = db.session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert alert.kind == AlertKind.PAYMENT and alert.link == "/finances"
    assert f"Nous vous avons remboursé {money(4000)}" in alert.message
    assert "26 novembre 2026" in alert.message
    assert alert.message.endswith("Motif : Chèque rejeté par la banque")
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "refund"
    assert json.loads(event.changes) == {
        "refunded_cents": [0, 4000],
        "reason": [None, "Chèque rejeté par la banque"],
    }
    assert payment.allocations == []
    assert invoices[0].status == InvoiceStatus.ISSUED


def test_refunds_add_up_to_the_amount_and_no_further(family, staff, invoices):
    payment = record(family, staff, 4000, invoices[:1])
    counter.refund_payment(payment, 2500, "Trop perçu", staff, NOW)

    with pytest.raises(StaffPaymentError, match=f"Au plus {money(1500)}"):
        counter.refund_payment(payment, 1501, "Trop perçu", staff, NOW)
    counter.refund_payment(payment, 1500, "Trop perçu", staff, NOW)

    assert payment.refunded_cents == 4000
    assert payment.allocations == []


@pytest.mark.parametrize(
    "cents, reason, message",
    [(0, "Motif", "supérieur à 0,00"), (100, "  ", "motif"), (100, "x" * 301, "300 caractères")],
)
def test_a_refused_refund_writes_nothing(family, staff, invoices, cents, reason, message):
    payment = record(family, staff, 4000, invoices[:1])
    events = count(AuditEvent)

    with pytest.raises(StaffPaymentError, match=message):
        counter.refund_payment(payment, cents, reason, staff, NOW)

    db.session.expire_all()
    assert payment.refunded_cents == 0
    assert sum(a.amount_cents for a in payment.allocations) == 4000
    assert count(AuditEvent) == events


# --- Refunding an online payment through Mollie (the simulator, the real client) -----------

KEY = "k" * 32  # the refund form's key


@pytest.fixture
def mollie(app):
    with simulated_mollie(app, MollieSimulator(post=post_to(app))) as running:
        yield running


@pytest.fixture
def paid_online(family, invoices, mollie) -> Payment:
    """70,00 € paid online for September (40,00 €) then October (30,00 €)."""
    payment = payments.start_online_payment(family, [i.id for i in invoices], NOW)
    mollie.choose(payment.mollie_id, "paid")  # the webhook records it
    payment = fresh(payment)
    assert payment.status == PaymentStatus.PAID
    return payment


def refund_online(payment, staff, cents, key=KEY, reason="Trop perçu"):
    return counter.refund_payment(payment, cents, reason, staff, NOW, "203.0.113.9", key)


def refunds_at_mollie(mollie, payment) -> list[int]:
    return [refund.cents for refund in mollie.payment(payment.mollie_id).refunds]


def journaled_refunds() -> list[dict]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "refund").order_by(AuditEvent.id)
    )
    return [json.loads(event.changes) for event in events]


def test_staff_refund_an_online_payment_in_full_through_mollie(
    family, staff, invoices, paid_online, mollie
):
    refund_online(paid_online, staff, 7000, reason="Inscription  annulée")

    [refund] = mollie.payment(paid_online.mollie_id).refunds
    assert (refund.cents, refund.description) == (7000, "Remboursement : Inscription annulée")
    payment = fresh(paid_online)
    assert (payment.status, payment.refunded_cents, payment.allocations) == (
        PaymentStatus.PAID,
        7000,
        [],
    )
    assert ledger.balance_cents(family.id) == 7000
    assert {invoice.status for invoice in invoices} == {InvoiceStatus.ISSUED}
    alert = payment_alerts(family)[-1]
    assert f"Un remboursement de {money(7000)}" in alert
    assert alert.endswith("Motif : Inscription annulée")
    assert journaled_refunds() == [
        {
            "refunded_cents": [0, 7000],
            "reason": [None, "Inscription annulée"],
            "mollie_refund": [None, refund.id],
            "form_key": [None, KEY],
        }
    ]


def test_a_long_reason_still_refunds_online_and_is_journaled_whole(
    family, staff, paid_online, mollie
):
    reason = "Inscription annulée " + "x" * 250  # the form allows 300 characters

    refund_online(paid_online, staff, 1000, reason=reason)

    # Mollie takes 140 characters at most on a refund; the journal keeps the whole reason.
    [refund] = mollie.payment(paid_online.mollie_id).refunds
    assert refund.description == f"Remboursement : {reason}"[:140]
    assert fresh(paid_online).refunded_cents == 1000
    assert journaled_refunds()[0]["reason"] == [None, reason]


def test_a_partial_online_refund_makes_the_last_invoice_owe_again(
    family, staff, invoices, paid_online, mollie
):
    september, october = invoices

    refund_online(paid_online, staff, 1250)

    assert refunds_at_mollie(mollie, paid_online) == [1250]
    assert mollie.payment(paid_online.mollie_id).remaining_cents == 5750
    assert fresh(paid_online).refunded_cents == 1250
    assert ledger.due_cents(invoices) == {september.id: 0, october.id: 1250}
    assert (september.status, october.status) == (InvoiceStatus.PAID, InvoiceStatus.ISSUED)
    assert ledger.balance_cents(family.id) == 1250
    assert len(payment_alerts(family)) == 2  # paid, then refunded


def test_the_refund_webhook_after_a_staff_refund_counts_nothing_twice(
    family, staff, invoices, paid_online, mollie
):
    refund_online(paid_online, staff, 3000)

    assert mollie.settle_refunds(paid_online.mollie_id)  # Mollie calls the webhook
    mollie.send_webhook(paid_online.mollie_id)
    mollie.send_webhook(paid_online.mollie_id)

    assert [call.status_code for call in mollie.webhook_calls][-3:] == [200, 200, 200]
    assert fresh(paid_online).refunded_cents == 3000
    assert ledger.balance_cents(family.id) == 3000
    assert len(payment_alerts(family)) == 2
    assert len(journaled_refunds()) == 1


def test_a_refund_webhook_arriving_before_mollie_answers_counts_nothing_twice(
    family, staff, paid_online, mollie, monkeypatch
):
    create_refund = payments._create_refund

    def refund_then_call_the_webhook(*arguments):
        made = create_refund(*arguments)
        mollie.send_webhook(paid_online.mollie_id)  # before staff's request reads Mollie
        return made

    monkeypatch.setattr(payments, "_create_refund", refund_then_call_the_webhook)

    refund_online(paid_online, staff, 3000)

    assert mollie.webhook_calls[-1].status_code == 200
    assert fresh(paid_online).refunded_cents == 3000
    assert ledger.balance_cents(family.id) == 3000
    assert len(payment_alerts(family)) == 2
    [journaled] = journaled_refunds()
    assert journaled["refunded_cents"] == [0, 3000]


def test_the_same_refund_form_sent_twice_refunds_once(family, staff, paid_online, mollie):
    refund_online(paid_online, staff, 3000)
    refund_online(paid_online, staff, 3000)  # a double click: the same key

    assert refunds_at_mollie(mollie, paid_online) == [3000]
    assert fresh(paid_online).refunded_cents == 3000
    assert ledger.balance_cents(family.id) == 3000
    assert len(journaled_refunds()) == 1

    refund_online(paid_online, staff, 3000, key="n" * 32)  # a new form: a second refund
    assert refunds_at_mollie(mollie, paid_online) == [3000, 3000]
    assert ledger.balance_cents(family.id) == 6000
    assert len(journaled_refunds()) == 2


def test_the_same_refund_form_sent_again_once_refunded_says_it_is_done(
    family, staff, paid_online, mollie
):
    refund_online(paid_online, staff, 5000)
    # The double click's second request, after the first was recorded: 20,00 € are left,
    # yet the form asked for 50,00 € once and that is done (no « Au plus 20,00 € »).
    payment = refund_online(paid_online, staff, 5000)

    assert payment.refunded_cents == 5000
    assert refunds_at_mollie(mollie, paid_online) == [5000]
    assert ledger.balance_cents(family.id) == 5000
    assert len(journaled_refunds()) == 1

    # The same form sent back with another amount: refused, it cannot claim that refund.
    with pytest.raises(StaffPaymentError, match="déjà servi à rembourser 50,00"):
        refund_online(paid_online, staff, 1000)
    assert refunds_at_mollie(mollie, paid_online) == [5000]
    assert fresh(paid_online).refunded_cents == 5000


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "keys, refunded",
    [(("k" * 32, "k" * 32), [5000]), (("a" * 32, "b" * 32), [5000])],
    ids=["a double click", "two agents at once"],
)
def test_two_refunds_of_one_online_payment_at_once_refund_once(
    app, race_app, family, staff, paid_online, mollie, keys, refunded
):
    race_app.config["MOLLIE_API_ENDPOINT"] = app.config["MOLLIE_API_ENDPOINT"]
    payment_id, staff_id = paid_online.id, staff.id
    start = threading.Barrier(2)

    def submit(key: str) -> str:
        with race_app.app_context():
            payment, agent = (
                db.session.get(Payment, payment_id),
                db.session.get(StaffUser, staff_id),
            )
            db.session.rollback()
            start.wait(timeout=30)
            try:
                counter.refund_payment(payment, 5000, "Trop perçu", agent, NOW, None, key)
            except StaffPaymentError as error:
                return error.message
            return "refunded"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(submit, keys))

    assert "refunded" in outcomes
    assert refunds_at_mollie(mollie, paid_online) == refunded
    assert fresh(paid_online).refunded_cents == 5000
    assert ledger.balance_cents(family.id) == 5000
    assert len(journaled_refunds()) == 1


@pytest.mark.postgres_only
def test_a_refund_racing_a_credit_note_keeps_the_money_it_freed_to_refund(
    monkeypatch, race_app, family, staff, invoices
):
    """The refund holds the payment and waits for the invoice; the credit note, which asks
    for the payment's refund, must wait for it rather than hold the invoice (a deadlock)."""
    september, _october = invoices
    payment = record(family, staff, 4000, [september])
    ids = payment.id, september.id, staff.id
    refund_read = threading.Event()
    real_lock = ledger.lock_invoices

    def lock_invoices(invoice_ids):
        if threading.current_thread().name == "refund":
            refund_read.set()  # the payment is locked and its allocations read
            time.sleep(1.5)  # the credit note starts meanwhile
        return real_lock(invoice_ids)

    monkeypatch.setattr(ledger, "lock_invoices", lock_invoices)

    def refund() -> None:
        threading.current_thread().name = "refund"
        with race_app.app_context():
            paid, agent = db.session.get(Payment, ids[0]), db.session.get(StaffUser, ids[2])
            counter.refund_payment(paid, 500, "Erreur de saisie", agent, NOW, None)

    def credit() -> None:
        assert refund_read.wait(timeout=30)
        with race_app.app_context():
            invoice, agent = db.session.get(Invoice, ids[1]), db.session.get(StaffUser, ids[2])
            billing.issue_credit_note(invoice, 2000, "Repas annulés", agent, NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for outcome in [pool.submit(refund), pool.submit(credit)]:
            outcome.result(timeout=60)

    db.session.expire_all()
    paid = db.session.get(Payment, ids[0])
    assert sum(a.amount_cents for a in paid.allocations) == 2000
    assert ledger.unallocated_cents(paid) == 1500  # freed 2000, refunded 500: 1500 to go
    assert ledger.balance_cents(family.id) == 3000  # october only
    notice = db.session.scalar(select(StaffNotice).where(StaffNotice.payment_id == ids[0]))
    assert notice.resolved_at is None


@pytest.mark.parametrize(
    "cents, key, reason, message",
    [
        (7001, KEY, "Trop perçu", f"Au plus {money(7000)}"),
        (0, KEY, "Trop perçu", "supérieur à 0,00"),
        (100, KEY, " ", "motif"),
        (100, "", "Trop perçu", "formulaire a expiré"),
        (100, "../../v2/payments", "Trop perçu", "formulaire a expiré"),
    ],
)
def test_a_refused_online_refund_asks_mollie_nothing(
    family, staff, paid_online, mollie, cents, key, reason, message
):
    with pytest.raises(StaffPaymentError, match=message):
        refund_online(paid_online, staff, cents, key, reason)

    assert refunds_at_mollie(mollie, paid_online) == []
    assert fresh(paid_online).refunded_cents == 0
    assert ledger.balance_cents(family.id) == 0
    assert journaled_refunds() == []


def test_mollie_down_refunds_nothing_and_says_so(family, staff, paid_online, mollie):
    mollie.set_api_down(True)

    with pytest.raises(StaffPaymentError, match="Mollie est injoignable"):
        refund_online(paid_online, staff, 3000)

    mollie.set_api_down(False)
    assert refunds_at_mollie(mollie, paid_online) == []
    assert fresh(paid_online).refunded_cents == 0
    assert ledger.balance_cents(family.id) == 0
    assert (len(payment_alerts(family)), journaled_refunds()) == (1, [])

    refund_online(paid_online, staff, 3000)  # the same form sent again, Mollie back
    assert refunds_at_mollie(mollie, paid_online) == [3000]
    assert ledger.balance_cents(family.id) == 3000


def test_mollie_refusing_the_refund_is_a_french_message(app, family, staff, paid_online, mollie):
    # 60,00 € refunded in Mollie's dashboard, whose webhook has not come yet.
    at_mollie = Client(api_endpoint=app.config["MOLLIE_API_ENDPOINT"])
    at_mollie.set_api_key("test_simulator")
    at_mollie.payments.get(paid_online.mollie_id).refunds.create(
        {"amount": {"currency": "EUR", "value": "60.00"}}
    )

    with pytest.raises(StaffPaymentError, match="Mollie a refusé ce remboursement"):
        refund_online(paid_online, staff, 3000)  # 10,00 € remain at Mollie

    assert refunds_at_mollie(mollie, paid_online) == [6000]
    assert journaled_refunds() == []
    # What made Mollie refuse is recorded: the form now offers the 10,00 € left.
    payment = fresh(paid_online)
    assert (payment.refunded_cents, counter.refundable_cents(payment)) == (6000, 1000)
    assert ledger.balance_cents(family.id) == 6000


def test_a_refund_mollie_made_but_could_not_confirm_comes_with_its_webhook(
    family, staff, paid_online, mollie, monkeypatch
):
    refund = mollie.refund

    def refund_then_fall_down(*arguments):
        made = refund(*arguments)
        mollie.set_api_down(True)
        return made

    monkeypatch.setattr(mollie, "refund", refund_then_fall_down)

    with pytest.raises(StaffPaymentError, match="Ne le refaites pas"):
        refund_online(paid_online, staff, 3000)
    assert fresh(paid_online).refunded_cents == 0

    mollie.set_api_down(False)
    mollie.settle_refunds(paid_online.mollie_id)  # the webhook brings it
    assert fresh(paid_online).refunded_cents == 3000
    assert ledger.balance_cents(family.id) == 3000


def test_an_unpaid_online_payment_cannot_be_refunded(family, staff):
    failed = Payment(
        family=family,
        method=PaymentMethod.CHEQUE,
        status=PaymentStatus.FAILED,
        amount_cents=4000,
    )
    db.session.add(failed)
    db.session.commit()
    with pytest.raises(StaffPaymentError, match="encaissé"):
        counter.refund_payment(failed, 1000, "Motif", staff, NOW)


# --- Unpaid invoices and reminders ----------------------------------------------------


def test_the_unpaid_list_holds_what_is_owed_and_the_days_late(family, other_family, staff):
    late = make_invoice(family, 9, 4000, due_on=date(2026, 10, 31))
    not_yet = make_invoice(family, 10, 3000, due_on=date(2026, 11, 30))
    paid = make_invoice(other_family, 9, 2000, number="2026-000020", due_on=date(2026, 10, 31))
    record(other_family, staff, 2000, [paid])
    record(family, staff, 1000, [late])

    rows = {row.invoice.id: row for row in counter.unpaid_invoices(TODAY)}

    assert set(rows) == {late.id, not_yet.id}
    assert (rows[late.id].owing_cents, rows[late.id].days_late) == (3000, 26)
    assert (rows[not_yet.id].owing_cents, rows[not_yet.id].days_late) == (3000, 0)


def test_the_unpaid_list_searches_and_filters_by_days_late(family, other_family):
    make_invoice(family, 9, 4000, due_on=date(2026, 10, 31))
    make_invoice(family, 10, 3000, due_on=date(2026, 11, 20))
    make_invoice(other_family, 10, 2000, number="2026-000030", due_on=date(2026, 11, 20))

    def numbers(**filters):
        return sorted(row.invoice.number for row in counter.unpaid_invoices(TODAY, **filters))

    assert numbers(min_days_late=7) == ["2026-000009"]
    assert numbers(min_days_late=6) == ["2026-000009", "2026-000010", "2026-000030"]
    assert numbers(search=other_family.name.lower()) == ["2026-000030"]
    assert numbers(search="000010") == ["2026-000010"]
    assert numbers(search="%") == []


def test_one_reminder_per_family_lists_its_invoices(family, other_family, staff):
    mine = make_invoice(family, 9, 4000), make_invoice(family, 10, 3000)
    theirs = make_invoice(other_family, 10, 2000, number="2026-000030")

    outcome = counter.send_reminders([i.id for i in (*mine, theirs)], staff, NOW, "203.0.113.9")

    assert (outcome.families, len(outcome.reminded), outcome.skipped) == (2, 3, [])
    alerts = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).all()
    assert len(alerts) == 1
    assert alerts[0].kind == AlertKind.INVOICE and alerts[0].link == "/finances"
    assert alerts[0].message.startswith(f"Relance : 2 factures restent à régler ({money(7000)}")
    assert [line.split(" (")[0] for line in alerts[0].details.splitlines()] == [
        "Facture n° 2026-000009",
        "Facture n° 2026-000010",
    ]
    assert count(OutboxEmail) == 2
    for invoice in (*mine, theirs):
        assert (invoice.reminder_count, invoice.last_reminder_at) == (1, NOW)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reminder")).all()
    assert len(events) == 3


def test_an_invoice_is_not_reminded_twice_the_same_day(family, staff):
    invoice = make_invoice(family, 9, 4000)
    counter.send_reminders([invoice.id], staff, NOW)

    # 23:30 in Paris the same day, then 00:30 the next day.
    again = counter.send_reminders([invoice.id], staff, datetime(2026, 11, 26, 22, 30))
    assert again.reminded == [] and again.skipped == [(invoice, "déjà relancée aujourd'hui")]
    assert invoice.reminder_count == 1
    assert count(Alert) == 1

    next_day = counter.send_reminders([invoice.id], staff, datetime(2026, 11, 26, 23, 30))
    assert next_day.reminded == [invoice]
    assert invoice.reminder_count == 2


def test_a_paid_invoice_or_a_credit_note_is_not_reminded(family, staff, invoices):
    september, october = invoices
    record(family, staff, 4000, [september])
    note = make_invoice(
        family,
        10,
        500,
        number="2026-000099",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=october.id,
    )

    outcome = counter.send_reminders([september.id, october.id, note.id], staff, NOW)

    assert outcome.reminded == [october]
    assert dict(outcome.skipped) == {
        september: "elle est réglée",
        note: "ce n'est pas une facture émise",
    }
    assert september.reminder_count == 0
    assert (
        f"({money(2500)})"
        in db.session.scalars(select(Alert).order_by(Alert.id.desc())).first().message
    )


# --- Exports --------------------------------------------------------------------------


def test_the_invoice_export_holds_credited_paid_owing_and_whom_it_was_issued_to(
    family, staff, invoices
):
    september, october = invoices
    make_invoice(
        family,
        10,
        500,
        number="2026-000099",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=october.id,
    )
    record(family, staff, 4500, [september, october])

    billed_name = f"Famille {family.name}"
    family.name = "Nouveau-Nom"  # the family renamed after the invoices were issued
    db.session.commit()

    header, *rows = counter.invoice_rows(date(2026, 10, 1), date(2026, 11, 30))

    assert header[0] == "Numéro" and header[-1] == "Reste dû"
    assert rows == [
        (
            "2026-000009",
            billed_name,
            "09/2026",
            "02/10/2026",
            "30/11/2026",
            "Facture",
            "",
            "40,00",
            "0,00",
            "40,00",
            "0,00",
        ),
        (
            "2026-000010",
            billed_name,
            "10/2026",
            "02/11/2026",
            "30/11/2026",
            "Facture",
            "",
            "30,00",
            "5,00",
            "5,00",
            "20,00",
        ),
        (
            "2026-000099",
            billed_name,
            "10/2026",
            "02/11/2026",
            "30/11/2026",
            "Avoir",
            "2026-000010",
            "5,00",
            "",
            "",
            "",
        ),
    ]


def test_the_invoice_export_keeps_to_the_paris_days_asked(family):
    make_invoice(family, 9, 4000, issued_at=datetime(2026, 10, 31, 23, 30))  # 1 Nov in Paris
    numbers = [row[0] for row in counter.invoice_rows(date(2026, 11, 1), date(2026, 11, 1))[1:]]
    assert numbers == ["2026-000009"]
    assert counter.invoice_rows(date(2026, 10, 31), date(2026, 10, 31))[1:] == []


def test_the_payment_export_holds_refunds_and_allocations(family, staff, invoices):
    september, october = invoices
    payment = record(family, staff, 5000, [september, october], method=PaymentMethod.TRANSFER)
    counter.refund_payment(payment, 500, "Trop perçu", staff, NOW)
    record(family, staff, 500, [october], received_on=date(2026, 11, 2), reference="")
    online = Payment(
        family=family,
        method=PaymentMethod.ONLINE,
        status=PaymentStatus.PAID,
        amount_cents=100,
        mollie_id="tr_WDqYK6vllg",
        paid_at=datetime(2026, 11, 25, 23, 10),  # 26 November in Paris
    )
    open_one = Payment(family=family, method=PaymentMethod.ONLINE, amount_cents=900)
    open_one.status = PaymentStatus.OPEN
    db.session.add_all([online, open_one])
    db.session.commit()

    header, *rows = counter.payment_rows(date(2026, 11, 26), date(2026, 11, 26))

    assert header == counter.PAYMENT_HEADER
    assert rows == [
        (
            "26/11/2026",
            family.name,
            "Virement",
            "Chèque n° 0000042",
            "50,00",
            "5,00",
            "0,00",
            "2026-000009 : 40,00 ; 2026-000010 : 5,00",
        ),
        ("26/11/2026", family.name, "En ligne", "tr_WDqYK6vllg", "1,00", "0,00", "0,00", ""),
    ]


def test_an_export_needs_an_ordered_period():
    with pytest.raises(StaffPaymentError, match="commence après sa fin"):
        counter.payment_rows(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(StaffPaymentError, match="deux dates"):
        counter.invoice_rows(None, date(2026, 11, 1))
