"""A parent on a phone pays two invoices in one online payment (issue 9's "done when").

Its own live server (the demo data, then November billed through services.billing, so that
famille.demo has two unpaid invoices: October's from the demo and November's) and a real
Mollie simulator on another local port, whose webhook reaches the live server over HTTP.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from demo import FAMILY_PASSWORD
from extensions import db
from models import FamilyAccount, Invoice, InvoiceStatus, Payment, PaymentStatus
from mollie_simulator import start_simulator
from services import billing
from tests.conftest import ON_POSTGRES
from tests.e2e import harness


@pytest.fixture(scope="module")
def paying_server(tmp_path_factory):
    """The demo app with November billed, talking to a simulator that calls it back."""
    if ON_POSTGRES:
        pytest.skip("browser tests run once, in the SQLite pass")
    with (
        harness.live_demo_server(tmp_path_factory.mktemp("finances")) as server,
        start_simulator() as mollie,
    ):
        server.app.config.update(PUBLIC_BASE_URL=server.url, MOLLIE_API_ENDPOINT=mollie.url)
        with server.app.app_context():
            billing.run_billing(date(2026, 11, 1), harness.DEMO_NOW)
            db.session.remove()
        yield server, mollie


@pytest.fixture
def parent(browser, paying_server):
    server, _mollie = paying_server
    context = browser.new_context(base_url=server.url, viewport=harness.PHONE, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    yield page
    context.close()


def unpaid_invoices(app) -> list[Invoice]:
    with app.app_context():
        family_id = db.session.scalar(
            select(FamilyAccount.family_id).where(FamilyAccount.username == "famille.demo")
        )
        invoices = db.session.scalars(
            select(Invoice)
            .where(Invoice.family_id == family_id, Invoice.status == InvoiceStatus.ISSUED)
            .order_by(Invoice.period_month)
        ).all()
        db.session.expunge_all()
        return list(invoices)


def test_a_parent_pays_two_invoices_at_once_and_sees_them_paid(parent, paying_server):
    server, mollie = paying_server
    october, november = unpaid_invoices(server.app)[:2]
    total = october.total_cents + november.total_cents

    parent.get_by_role("link", name="Finances").click()
    expect(parent.get_by_role("heading", name="Finances", level=1)).to_be_visible()
    expect(parent.get_by_text(re.compile(r"^Vous devez"))).to_be_in_viewport()
    count, report = harness.axe_violations(parent)
    assert count == 0, report
    assert parent.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]

    parent.get_by_role("checkbox", name=re.compile(f"Octobre 2026.*{october.number}")).check()
    parent.get_by_role("checkbox", name=re.compile(f"Novembre 2026.*{november.number}")).check()
    euros = f"{total // 100},{total % 100:02d}"
    selection = parent.get_by_role("button", name="Payer la sélection")
    expect(selection).to_have_text(f"Payer la sélection : {euros}\u00a0€")
    selection.click()

    # Mollie's checkout (the simulator): the amount of both invoices, one payment
    expect(parent).to_have_url(re.compile("^" + re.escape(mollie.url) + "/checkout/"))
    expect(parent.get_by_role("heading", level=1)).to_contain_text(euros)
    parent.get_by_role("button", name="Payer (paiement accepté)").click()

    # back on the portal: the payment's true state, paid once the webhook has come
    expect(parent).to_have_url(re.compile(r"/finances/paiements/\d+$"))
    expect(parent.get_by_text(re.compile("Paiement reçu|en cours de confirmation"))).to_be_visible()
    expect(parent.get_by_text(re.compile("^Paiement reçu, merci"))).to_contain_text(
        f"factures n° {october.number}, {november.number} réglées", timeout=15_000
    )
    count, report = harness.axe_violations(parent)
    assert count == 0, report

    parent.get_by_role("link", name="Retour à Finances").click()
    bills = parent.locator("#factures + ul")
    for invoice in (october, november):
        row = bills.locator("li", has_text=invoice.number)
        expect(row.locator(".standing")).to_have_text("Payée")
    payments = parent.locator("#reglements + ul")
    expect(payments.locator("li").first).to_contain_text(
        f"Factures n° {october.number}, {november.number}"
    )
    with server.app.app_context():
        online = db.session.scalars(select(Payment).where(Payment.mollie_id.is_not(None))).all()
        assert [p.status for p in online] == [PaymentStatus.PAID]
        assert db.session.get(Invoice, october.id).status == InvoiceStatus.PAID
        assert db.session.get(Invoice, november.id).status == InvoiceStatus.PAID
        db.session.remove()
    assert [call.status_code for call in mollie.simulator.webhook_calls] == [200]
