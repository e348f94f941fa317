"""Online payment (services.payments) against the Mollie simulator over a real local port,
through the real `mollie-api-python` client; webhooks come back through the app's own
POST /webhooks/mollie. SECURITY.md 21–27 have their own tests in test_webhook_security.py.
"""

from __future__ import annotations

import http.client
import threading
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from mollie.api.client import Client
from sqlalchemy import select, update

from app import create_app
from extensions import db
from models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    utcnow,
)
from mollie_simulator import MollieSimulator
from services import ledger, payments
from tests.payments_world import (
    NOW,
    count,
    fresh,
    issued_invoice,
    payment_alerts,
    post_to,
    simulated_mollie,
)

MOLLIE_NOW = datetime(2026, 11, 30, 8, 58, tzinfo=UTC)  # the simulator's clock


@pytest.fixture
def simulator(app):
    return MollieSimulator(clock=lambda: MOLLIE_NOW, post=post_to(app))


@pytest.fixture
def mollie(app, simulator):
    with simulated_mollie(app, simulator) as running:
        yield running


@pytest.fixture
def invoices(family):
    return issued_invoice(family, 9, 4800), issued_invoice(family, 10, 4800)


def ids(invoices) -> list[int]:
    return [invoice.id for invoice in invoices]


# --- Starting a payment -----------------------------------------------------------------


def test_paying_two_invoices_asks_mollie_for_their_total_with_our_addresses(
    app, family, invoices, mollie
):
    payment = payments.start_online_payment(family, [str(i) for i in ids(invoices)], NOW)

    assert payment.method == PaymentMethod.ONLINE and payment.status == PaymentStatus.OPEN
    assert payment.amount_cents == 9600
    assert sorted(a.invoice_id for a in payment.allocations) == ids(invoices)
    asked = mollie.payment(payment.mollie_id)
    assert payment.checkout_url.endswith(f"/checkout/{payment.mollie_id}")
    assert asked.request.cents == 9600
    assert asked.request.description == "Portail Famille — factures 2026-000009, 2026-000010"
    assert asked.request.redirect_url == f"https://portail.example/finances/paiements/{payment.id}"
    assert asked.request.webhook_url == "https://portail.example/webhooks/mollie"
    assert asked.request.metadata == {
        "payment_id": payment.id,
        "invoices": ["2026-000009", "2026-000010"],
    }
    # The idempotency key went with it: the same key and body give Mollie's same payment.
    client = Client(api_endpoint=app.config["MOLLIE_API_ENDPOINT"])
    client.set_api_key("test_simulator")
    again = client.payments.create(
        payments.mollie_request(payment), idempotency_key=payment.idempotency_key
    )
    assert again.id == payment.mollie_id
    # Open, it pays nothing yet.
    assert ledger.balance_cents(family.id) == 9600


def test_the_paid_checkout_pays_both_invoices_and_tells_the_family_once(family, invoices, mollie):
    payment = payments.start_online_payment(family, ids(invoices), NOW)

    mollie.choose(payment.mollie_id, "paid")

    payment = fresh(payment)
    assert payment.status == PaymentStatus.PAID
    assert payment.paid_at == MOLLIE_NOW.replace(tzinfo=None)  # Mollie's paidAt
    assert payment.received_on == date(2026, 11, 30)
    assert {a.invoice_id: a.amount_cents for a in payment.allocations} == {
        invoices[0].id: 4800,
        invoices[1].id: 4800,
    }
    assert [i.status for i in db.session.scalars(select(Invoice))] == [InvoiceStatus.PAID] * 2
    assert ledger.balance_cents(family.id) == 0
    assert payment_alerts(family) == [
        "Votre paiement de 96,00\u00a0€ est confirmé (factures 2026-000009, 2026-000010). Merci !"
    ]
    with pytest.raises(payments.NothingToPay) as refused:
        payments.start_online_payment(family, ids(invoices), NOW)
    assert refused.value.message == "Ces factures sont déjà réglées : il n'y a rien à payer."


def test_an_invoice_partly_paid_by_cheque_is_asked_for_what_it_still_owes(family, invoices, mollie):
    cheque = Payment(
        family_id=family.id,
        method=PaymentMethod.CHEQUE,
        amount_cents=1000,
        status=PaymentStatus.PAID,
    )
    db.session.add(cheque)
    ledger.allocate(cheque, ledger.lock_invoices([invoices[0].id]))
    db.session.commit()

    payment = payments.start_online_payment(family, ids(invoices), NOW)

    assert payment.amount_cents == 8600
    assert mollie.payment(payment.mollie_id).request.cents == 8600


def test_the_family_pays_only_its_own_issued_invoices(app, family, other_family, mollie):
    own = issued_invoice(family, 9, 4800)
    theirs = issued_invoice(other_family, 10, 3000)
    draft = issued_invoice(family, 11, 2000)
    draft.status = InvoiceStatus.DRAFT
    credit = issued_invoice(family, 12, 500)
    credit.kind, credit.credits_invoice_id = InvoiceKind.CREDIT_NOTE, own.id
    db.session.commit()

    for wanted in ([own.id, theirs.id], [draft.id], [credit.id], [own.id, "9x"], ["-1"], [10**12]):
        with pytest.raises(payments.NotYourInvoice) as refused:
            payments.start_online_payment(family, wanted, NOW)
        assert "introuvable" in refused.value.message
    with pytest.raises(payments.NothingToPay) as empty:
        payments.start_online_payment(family, [], NOW)
    assert empty.value.message == "Cochez au moins une facture à payer."
    assert count(Payment) == 0 and mollie.payment_requests == []


def test_when_mollie_cannot_be_reached_nothing_is_kept_and_the_family_is_told(
    app, family, invoices, mollie
):
    mollie.set_api_down(True)
    with pytest.raises(payments.PaymentProviderUnavailable) as down:
        payments.start_online_payment(family, ids(invoices), NOW)
    assert "réessayez" in down.value.message.lower()

    app.config["MOLLIE_API_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens
    with pytest.raises(payments.PaymentProviderUnavailable):
        payments.start_online_payment(family, ids(invoices), NOW)

    assert count(Payment) == 0 and count(PaymentAllocation) == 0
    assert ledger.balance_cents(family.id) == 9600


def test_a_payment_counts_from_the_paris_day_mollie_says_it_was_paid(app, family, invoices, mollie):
    mollie.set_webhooks_sent(False)
    payment = payments.start_online_payment(family, ids(invoices), NOW)
    mollie.clock = lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 in Paris
    mollie.choose(payment.mollie_id, "paid")

    payments.reconcile_open_payments(datetime(2027, 1, 2, 8), dry_run=False)

    payment = fresh(payment)
    assert payment.paid_at == datetime(2026, 12, 31, 23, 30)
    assert payment.received_on == date(2027, 1, 1)


@pytest.mark.parametrize("choice", ["failed", "canceled", "expired"])
def test_a_checkout_that_ends_unpaid_pays_nothing_and_payer_starts_anew(
    family, invoices, mollie, choice
):
    first = payments.start_online_payment(family, ids(invoices), NOW)

    mollie.choose(first.mollie_id, choice)

    assert fresh(first).status == PaymentStatus(choice)
    assert ledger.balance_cents(family.id) == 9600
    assert ledger.due_cents(invoices) == {invoices[0].id: 4800, invoices[1].id: 4800}
    again = payments.start_online_payment(family, ids(invoices), NOW)
    assert again.id != first.id and again.mollie_id != first.mollie_id
    assert again.status == PaymentStatus.OPEN


# --- The return page and the reconciliation ---------------------------------------------


def test_the_return_page_sees_the_true_state_even_before_the_webhook(family, invoices, mollie):
    mollie.set_webhooks_sent(False)
    payment = payments.start_online_payment(family, ids(invoices), NOW)
    mollie.choose(payment.mollie_id, "paid")
    assert fresh(payment).status == PaymentStatus.OPEN  # no webhook came

    mollie.set_api_down(True)
    assert payments.refresh_payment(fresh(payment), NOW).status == PaymentStatus.OPEN

    mollie.set_api_down(False)
    refreshed = payments.refresh_payment(fresh(payment), NOW)
    assert refreshed.status == PaymentStatus.PAID
    assert ledger.balance_cents(family.id) == 0
    payments.refresh_payment(refreshed, NOW)
    assert len(payment_alerts(family)) == 1


def test_an_older_open_payment_is_asked_about_before_it_is_handed_back(family, invoices, mollie):
    mollie.set_webhooks_sent(False)
    first = payments.start_online_payment(family, ids(invoices), NOW)
    mollie.set_status(first.mollie_id, "expired")

    later = NOW + payments.REUSE_UNCHECKED + timedelta(minutes=1)
    again = payments.start_online_payment(family, ids(invoices), later)

    assert fresh(first).status == PaymentStatus.EXPIRED
    assert again.id != first.id and again.status == PaymentStatus.OPEN


def test_flask_jobs_run_reconciles_only_payments_whose_webhook_is_late(
    app, family, invoices, mollie
):
    mollie.set_webhooks_sent(False)
    runner = app.test_cli_runner()
    now = utcnow()
    late = payments.start_online_payment(family, [invoices[0].id], now - timedelta(minutes=30))
    recent = payments.start_online_payment(family, [invoices[1].id], now)
    for payment in (late, recent):
        mollie.choose(payment.mollie_id, "paid")

    dry = runner.invoke(args=["jobs", "run", "--dry-run"])
    assert "mollie-reconcile: 1 paiement(s) en ligne sans nouvelles à vérifier" in dry.output
    assert fresh(late).status == PaymentStatus.OPEN

    done = runner.invoke(args=["jobs", "run"])

    assert "mollie-reconcile: 1 paiement(s) en ligne vérifié(s) auprès de Mollie, 1 réglé(s)" in (
        done.output
    )
    assert fresh(late).status == PaymentStatus.PAID
    assert fresh(recent).status == PaymentStatus.OPEN
    assert ledger.due_cents(invoices) == {invoices[0].id: 0, invoices[1].id: 4800}


# --- The webhook's door and the simulator in the demo ------------------------------------


def test_the_webhook_needs_no_sign_in_nor_csrf_token_but_is_limited(app, client, family):
    app.config["MOLLIE_WEBHOOK_RATE"] = "3 per minute"
    answers = [client.post("/webhooks/mollie", data={"id": "tr_unknown1"}) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].get_data(as_text=True) == "ok"
    assert client.get("/webhooks/mollie").status_code == 405


def test_the_simulators_checkout_calls_the_webhook_then_sends_the_family_back(
    family, invoices, mollie
):
    payment = payments.start_online_payment(family, ids(invoices), NOW)
    checkout = urlsplit(payment.checkout_url)

    connection = http.client.HTTPConnection(checkout.hostname, checkout.port, timeout=10)
    connection.request(
        "POST",
        checkout.path,
        body=urlencode({"status": "paid"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = connection.getresponse()
    connection.close()

    assert answer.status == 303
    assert answer.getheader("Location") == (
        f"https://portail.example/finances/paiements/{payment.id}"
    )
    assert [call.status_code for call in mollie.webhook_calls] == [200]
    assert fresh(payment).status == PaymentStatus.PAID


def test_development_uses_the_simulator_and_production_refuses_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MOLLIE_API_ENDPOINT", raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    base = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "UPLOAD_FOLDER": str(tmp_path)}
    production = {
        **base,
        "APP_ENV": "production",
        "MOLLIE_API_KEY": "live_exampleexampleexample",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }

    development = create_app({**base, "APP_ENV": "development"})
    assert development.config["MOLLIE_API_ENDPOINT"] == "http://127.0.0.1:5001"
    assert create_app(production).config["MOLLIE_API_ENDPOINT"] == ""
    for unsafe in (
        {"MOLLIE_API_ENDPOINT": "http://127.0.0.1:5001"},
        {"MOLLIE_API_KEY": "test_simulator"},
    ):
        with pytest.raises(RuntimeError, match="simulator"):
            create_app({**production, **unsafe})


def test_the_reconciliation_deletes_a_payment_that_never_reached_mollie(family, invoices, mollie):
    # The process died between writing the payment and hearing back from Mollie.
    unsent = Payment(
        family_id=family.id,
        method=PaymentMethod.ONLINE,
        status=PaymentStatus.OPEN,
        amount_cents=4800,
        idempotency_key="pf-never-sent",
        created_at=NOW,
        allocations=[PaymentAllocation(invoice_id=invoices[0].id, amount_cents=4800)],
    )
    db.session.add(unsent)
    db.session.commit()

    assert payments.reconcile_open_payments(NOW, dry_run=False).startswith("0 paiement")
    assert count(Payment) == 1

    payments.reconcile_open_payments(NOW + timedelta(hours=1), dry_run=False)

    assert count(Payment) == 0 and count(PaymentAllocation) == 0
    assert ledger.balance_cents(family.id) == 9600


def test_payer_again_after_an_unnoticed_paid_checkout_charges_nothing_twice(
    family, invoices, mollie
):
    """Found in review: the open payment asked about on a second « Payer » turns out paid;
    the invoices it has just settled are not sent to a second checkout."""
    mollie.set_webhooks_sent(False)
    first = payments.start_online_payment(family, ids(invoices), NOW)
    mollie.choose(first.mollie_id, "paid")

    later = NOW + payments.REUSE_UNCHECKED + timedelta(minutes=1)
    with pytest.raises(payments.NothingToPay):
        payments.start_online_payment(family, ids(invoices), later)

    assert fresh(first).status == PaymentStatus.PAID
    assert count(Payment) == 1
    assert ledger.balance_cents(family.id) == 0


@pytest.mark.postgres_only
def test_a_payment_whose_mollie_id_is_being_stored_is_never_discarded_in_half(
    race_app, family, invoices
):
    """Found in review: one request gives up on Mollie and discards the payment while another
    (a double click, same idempotency key) is storing Mollie's answer: the payment is kept
    whole, with the invoices it names, never left with a checkout and no invoice."""
    payment = Payment(
        family_id=family.id,
        method=PaymentMethod.ONLINE,
        status=PaymentStatus.OPEN,
        amount_cents=9600,
        idempotency_key="pf-review",
        created_at=NOW,
        allocations=[PaymentAllocation(invoice=i, amount_cents=4800) for i in invoices],
    )
    db.session.add(payment)
    db.session.commit()
    payment_id = payment.id
    # The other request has stored Mollie's answer and not committed yet: its row lock held.
    db.session.execute(
        update(Payment).where(Payment.id == payment_id).values(mollie_id="tr_meanwhile")
    )

    def give_up() -> None:
        with race_app.app_context():
            payments._discard(payment_id)

    discarding = threading.Thread(target=give_up)
    discarding.start()
    time.sleep(0.5)  # the discard reaches the locked row
    db.session.commit()
    discarding.join(timeout=30)

    kept = fresh(payment)
    assert kept.mollie_id == "tr_meanwhile"
    assert sorted(a.invoice_id for a in kept.allocations) == ids(invoices)
