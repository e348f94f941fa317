"""SECURITY.md checks 21–27: Mollie's webhook and the payment path, one test (or a few)
per check, against the Mollie simulator over a real local port through the real client.

Webhooks reach POST /webhooks/mollie through the app's test client, one at a time; the
ones that come at once go over HTTP to a live server (PostgreSQL: a second app on the
test's database; SQLite: an app over a database file).
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mollie.api.client import Client

from app import create_app
from extensions import db
from models import Family, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from mollie_simulator import MollieSimulator
from services import ledger, payments
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.payments_world import (
    NOW,
    WEBHOOK,
    count,
    fresh,
    issued_invoice,
    live_server,
    notices,
    payment_alerts,
    post_to,
    simulated_mollie,
)

LATER = NOW + payments.RECONCILE_AFTER * 3


@pytest.fixture
def simulator(app):
    return MollieSimulator(post=post_to(app))


@pytest.fixture
def mollie(app, simulator):
    with simulated_mollie(app, simulator) as running:
        yield running


@pytest.fixture
def invoices(family):
    return issued_invoice(family, 9, 4800), issued_invoice(family, 10, 4800)


@pytest.fixture
def open_payment(family, invoices, mollie) -> Payment:
    """96,00 € asked for both invoices, open at Mollie."""
    return payments.start_online_payment(family, [i.id for i in invoices], NOW)


@pytest.fixture
def paid_payment(open_payment, mollie) -> Payment:
    mollie.choose(open_payment.mollie_id, "paid")
    payment = fresh(open_payment)
    assert payment.status == PaymentStatus.PAID
    return payment


@pytest.fixture
def live(request, tmp_path):
    """A live app server on a database the test shares (see the module's docstring)."""
    if ON_POSTGRES:
        served = request.getfixturevalue("race_app")
    else:
        served = create_app(
            {
                "APP_ENV": "test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}",
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            }
        )
        with served.app_context():
            db.create_all()
    with live_server(served) as server, served.app_context():
        yield server
        db.session.remove()
    with served.app_context():
        db.engine.dispose()


def webhook(client, payment_id: str, **other_fields: str):
    return client.post(WEBHOOK, data={"id": payment_id, **other_fields})


# --- 21. Only the id is trusted ----------------------------------------------------------


def test_21_the_webhook_fetches_the_payment_and_ignores_every_other_field(
    client, family, open_payment, mollie
):
    forged = {"status": "paid", "amount": "96.00", "amountRefunded[value]": "96.00"}

    answer = webhook(client, open_payment.mollie_id, **forged)

    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "ok")
    assert fresh(open_payment).status == PaymentStatus.OPEN  # Mollie says open
    assert ledger.balance_cents(family.id) == 9600

    mollie.set_webhooks_sent(False)
    mollie.choose(open_payment.mollie_id, "paid")
    webhook(client, open_payment.mollie_id, status="failed", amount="0.01")
    assert fresh(open_payment).status == PaymentStatus.PAID  # Mollie says paid


MALFORMED = [
    "",
    "tr_",
    "ord_abcdef",
    "tr_abc-def",
    "tr_abc\n",
    " tr_abcdef",
    "tr_abc/../../v2/payments",
    "tr_abc?testmode=true",
    "tr_" + "a" * 300,
    "TR_abcdef",
]


def test_21_a_malformed_id_is_answered_200_without_any_call_to_mollie(
    client, family, open_payment, mollie
):
    # Mollie is down: any call to it would turn the answer into a 503.
    mollie.set_api_down(True)

    answers = [webhook(client, malformed) for malformed in MALFORMED]
    answers.append(client.post(WEBHOOK, data={"payment": open_payment.mollie_id}))
    answers.append(client.post(WEBHOOK, json={"id": open_payment.mollie_id}))

    assert {(a.status_code, a.get_data(as_text=True)) for a in answers} == {(200, "ok")}
    assert fresh(open_payment).status == PaymentStatus.OPEN


ANY_FORM_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=ANY_FORM_TEXT)
def test_21_whatever_the_id_the_answer_is_200_and_never_a_500(app, client, raw):
    app.config["MOLLIE_WEBHOOK_RATE"] = "1000 per minute"
    answer = client.post(WEBHOOK, data={"id": raw})
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "ok")


def test_21_an_unknown_id_is_answered_200_and_changes_nothing(client, family, paid_payment, mollie):
    stranger = Client(api_endpoint=client.application.config["MOLLIE_API_ENDPOINT"])
    stranger.set_api_key("test_simulator")
    theirs = stranger.payments.create(
        {
            "amount": {"currency": "EUR", "value": "96.00"},
            "description": "Pas chez nous",
            "redirectUrl": "https://evil.example/",
        }
    )
    mollie.choose(theirs.id, "paid")

    for unknown in (theirs.id, "tr_Unknown1234"):
        assert webhook(client, unknown).status_code == 200
    assert count(Payment) == 1 and fresh(paid_payment).amount_cents == 9600
    assert len(payment_alerts(family)) == 1


# --- 22. Idempotent ------------------------------------------------------------------------


def test_22_the_same_paid_webhook_twice_records_one_payment_and_one_alert(
    client, family, invoices, paid_payment, mollie
):
    mollie.send_webhook(paid_payment.mollie_id)
    webhook(client, paid_payment.mollie_id)

    payment = fresh(paid_payment)
    assert payment.status == PaymentStatus.PAID
    assert sum(a.amount_cents for a in payment.allocations) == 9600
    assert ledger.balance_cents(family.id) == 0
    assert len(payment_alerts(family)) == 1
    assert [call.status_code for call in mollie.webhook_calls] == [200, 200]


def test_22_five_paid_webhooks_at_once_record_one_payment_and_one_alert(live):
    family = factories.family_with_children(live.app, "famille.live", children=1)
    invoices = [issued_invoice(family, 9, 4800), issued_invoice(family, 10, 4800)]
    with simulated_mollie(live.app, MollieSimulator()) as mollie:
        mollie.set_webhooks_sent(False)
        payment = payments.start_online_payment(family, [i.id for i in invoices], NOW)
        mollie.choose(payment.mollie_id, "paid")

        calls = mollie.send_webhook(payment.mollie_id, times=5)

    assert [call.status_code for call in calls] == [200] * 5
    payment = fresh(payment)
    assert payment.status == PaymentStatus.PAID
    assert sorted(a.amount_cents for a in payment.allocations) == [4800, 4800]
    assert ledger.balance_cents(family.id) == 0
    assert len(payment_alerts(family)) == 1
    assert notices(payments.PAID_TWICE) == []


# --- 23. Nothing stale, nothing unexpected ----------------------------------------------------


def test_23_a_stale_status_after_paid_does_not_undo_the_payment(
    client, family, paid_payment, mollie
):
    for stale in ("expired", "failed", "canceled", "open"):
        mollie.set_status(paid_payment.mollie_id, stale)
        assert webhook(client, paid_payment.mollie_id).status_code == 200

    payment = fresh(paid_payment)
    assert payment.status == PaymentStatus.PAID
    assert ledger.balance_cents(family.id) == 0
    assert len(payment_alerts(family)) == 1


@pytest.mark.parametrize(("cents", "currency"), [(960, "EUR"), (9600, "USD"), (9601, "EUR")])
def test_23_an_amount_or_currency_that_does_not_match_is_not_applied_and_staff_are_told(
    client, family, open_payment, mollie, cents, currency
):
    mollie.set_amount(open_payment.mollie_id, cents, currency)

    mollie.choose(open_payment.mollie_id, "paid")
    webhook(client, open_payment.mollie_id)

    assert fresh(open_payment).status == PaymentStatus.OPEN
    assert ledger.balance_cents(family.id) == 9600
    assert payment_alerts(family) == []
    [notice] = notices(payments.AMOUNT_MISMATCH)
    assert notice.payment_id == open_payment.id and notice.family_id == family.id
    assert "96,00" in notice.message and currency in notice.message


# --- 24. Refunds and chargebacks, once ----------------------------------------------------------


def test_24_a_refund_and_a_chargeback_correct_the_balance_once(
    client, family, invoices, paid_payment, mollie
):
    september, october = invoices
    at_mollie = Client(api_endpoint=client.application.config["MOLLIE_API_ENDPOINT"])
    at_mollie.set_api_key("test_simulator")
    # Staff refund 30,00 € in Mollie's dashboard; Mollie does not call for it, the next
    # webhook or two carry the new total.
    at_mollie.payments.get(paid_payment.mollie_id).refunds.create(
        {"amount": {"currency": "EUR", "value": "30.00"}}
    )
    webhook(client, paid_payment.mollie_id)
    webhook(client, paid_payment.mollie_id)

    assert fresh(paid_payment).refunded_cents == 3000
    assert ledger.due_cents(invoices) == {september.id: 0, october.id: 3000}
    assert ledger.balance_cents(family.id) == 3000

    mollie.add_chargeback(paid_payment.mollie_id, 2000)  # Mollie calls the webhook
    webhook(client, paid_payment.mollie_id)

    payment = fresh(paid_payment)
    assert (payment.status, payment.charged_back_cents) == (PaymentStatus.PAID, 2000)
    # taken back from the last invoice first: October's 18,00 €, then 2,00 € of September's
    assert ledger.due_cents(invoices) == {september.id: 200, october.id: 4800}
    assert ledger.balance_cents(family.id) == 5000
    assert sum(a.amount_cents for a in payment.allocations) == 9600 - 3000 - 2000
    assert len(notices(payments.CHARGEBACK)) == 1
    assert len(payment_alerts(family)) == 3  # confirmed, refunded, charged back


# --- 25. Mollie down: 503 so that it retries, and the reconciliation ------------------------


def test_25_mollie_unreachable_makes_the_webhook_answer_503_until_it_is_back(
    app, client, family, open_payment, mollie
):
    mollie.set_webhooks_sent(False)
    mollie.choose(open_payment.mollie_id, "paid")

    mollie.set_api_down(True)
    down = webhook(client, open_payment.mollie_id)
    mollie.set_api_down(False)
    app.config["MOLLIE_TIMEOUT_SECONDS"] = 1
    mollie.set_api_delay(3)
    slow = webhook(client, open_payment.mollie_id)
    mollie.set_api_delay(0)

    assert (down.status_code, down.get_data(as_text=True)) == (503, "retry")
    assert slow.status_code == 503
    assert fresh(open_payment).status == PaymentStatus.OPEN

    assert webhook(client, open_payment.mollie_id).status_code == 200
    assert fresh(open_payment).status == PaymentStatus.PAID


def test_25_the_reconciliation_settles_a_payment_whose_webhook_never_came(
    family, open_payment, mollie
):
    mollie.set_webhooks_sent(False)
    mollie.choose(open_payment.mollie_id, "paid")

    mollie.set_api_down(True)
    assert payments.reconcile_open_payments(LATER, dry_run=False).startswith("Mollie injoignable")
    assert fresh(open_payment).status == PaymentStatus.OPEN

    mollie.set_api_down(False)
    line = payments.reconcile_open_payments(LATER, dry_run=False)

    assert line == "1 paiement(s) en ligne vérifié(s) auprès de Mollie, 1 réglé(s)"
    assert fresh(open_payment).status == PaymentStatus.PAID
    assert ledger.balance_cents(family.id) == 0
    assert len(payment_alerts(family)) == 1
    assert payments.reconcile_open_payments(LATER, dry_run=False).startswith("0 paiement")


# --- 26. One open payment per selection; an invoice paid twice is reported ------------------


def test_26_a_double_click_on_payer_reuses_the_open_payment(family, invoices, mollie):
    wanted = [i.id for i in invoices]

    first = payments.start_online_payment(family, wanted, NOW)
    second = payments.start_online_payment(family, list(reversed(wanted)), NOW)

    assert second.id == first.id and second.checkout_url == first.checkout_url
    assert count(Payment) == 1 and len(mollie.payment_requests) == 1


@pytest.mark.postgres_only
def test_26_two_payer_clicks_at_once_make_one_payment(app, race_app, family, invoices, mollie):
    race_app.config["MOLLIE_API_ENDPOINT"] = app.config["MOLLIE_API_ENDPOINT"]
    wanted, family_id = [i.id for i in invoices], family.id
    start = threading.Barrier(2)

    def click(_: int) -> tuple[int, str]:
        with race_app.app_context():
            mine = db.session.get(Family, family_id)
            db.session.rollback()
            start.wait(timeout=30)
            payment = payments.start_online_payment(mine, wanted, NOW)
            return payment.id, payment.mollie_id

    with ThreadPoolExecutor(max_workers=2) as pool:
        clicks = list(pool.map(click, range(2)))

    assert clicks[0] == clicks[1]
    assert count(Payment) == 1 and len(mollie.payment_requests) == 1


def test_26_an_invoice_paid_meanwhile_by_cheque_is_reported_to_staff(
    client, family, invoices, open_payment, mollie
):
    september = invoices[0]
    cheque = Payment(
        family_id=family.id,
        method=PaymentMethod.CHEQUE,
        status=PaymentStatus.PAID,
        amount_cents=4800,
    )
    db.session.add(cheque)
    ledger.allocate(cheque, ledger.lock_invoices([september.id]))
    db.session.commit()

    mollie.choose(open_payment.mollie_id, "paid")

    payment = fresh(open_payment)
    assert payment.status == PaymentStatus.PAID
    assert [a.invoice_id for a in payment.allocations] == [invoices[1].id]
    assert ledger.balance_cents(family.id) == 0
    assert db.session.get(Invoice, september.id).status == InvoiceStatus.PAID
    [notice] = notices(payments.PAID_TWICE)
    assert notice.payment_id == payment.id
    assert "48,00" in notice.message and "2026-000009" in notice.message


# --- 27. Amounts as two-decimal strings from cents ------------------------------------------


def test_27_the_amount_sent_to_mollie_is_a_two_decimal_string_from_cents(family, mollie):
    owed = {9: 1234, 10: 1, 11: 100}  # 12,34 € + 0,01 € + 1,00 €
    wanted = [issued_invoice(family, month, cents).id for month, cents in owed.items()]

    payments.start_online_payment(family, wanted, NOW)

    [sent] = mollie.payment_requests
    assert sent["amount"] == {"currency": "EUR", "value": "13.35"}


@given(st.integers(min_value=1, max_value=10**11))
def test_27_every_amount_in_cents_is_written_exactly(cents):
    value = payments.mollie_value(cents)
    assert re.fullmatch(r"\d+\.\d{2}", value)
    assert Decimal(value) * 100 == cents
