"""FINANCES over HTTP: what a parent relies on.

The balance at the top, the unpaid invoices first (oldest first, overdue marked), every
bill with where it stands, every règlement with what it paid, the tax certificates, and a
fixed number of queries whatever the number of invoices and payments.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest

from extensions import db
from models import (
    AlertKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TaxCertificate,
)
from services import ledger, notifications
from tests import factories

NOW = datetime(2026, 11, 26, 8, 0)  # Thursday 26 November 2026, 9:00 in Paris
ISSUED = datetime(2026, 10, 2, 7, 0)


def bill(family, month: int, cents: int, year: int = 2026, **fields) -> Invoice:
    """An issued invoice of the month, due on the 1st of the month after next."""
    number = fields.pop("number", f"{year}-{year * 100 + month:06d}"[-11:])
    invoice = Invoice(
        family_id=family.id,
        number=number,
        period_month=date(year, month, 1),
        status=fields.pop("status", InvoiceStatus.ISSUED),
        issued_at=ISSUED,
        due_on=fields.pop("due_on", date(year + month // 11, month % 11 + 2, 1)),
        total_cents=cents,
        **fields,
    )
    db.session.add(invoice)
    db.session.commit()
    return invoice


def paid(family, invoices, cents: int, method=PaymentMethod.CHEQUE, **fields) -> Payment:
    """A payment received and allocated to the invoices, as the counter records one."""
    payment = Payment(
        family_id=family.id,
        method=method,
        amount_cents=cents,
        status=PaymentStatus.PAID,
        received_on=fields.pop("received_on", date(2026, 10, 12)),
        **fields,
    )
    db.session.add(payment)
    db.session.flush()
    ledger.allocate(payment, ledger.lock_invoices(i.id for i in invoices))
    db.session.commit()
    return payment


@pytest.fixture
def signed_in(client, auth, family, other_family, pin_clock):
    pin_clock(NOW)
    auth.login("famille.a")
    return client


def page_text(client) -> str:
    response = client.get("/finances")
    assert response.status_code == 200
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def section(text: str, heading: str, next_heading: str | None = None) -> str:
    start = text.index(heading)
    return text[start : text.index(next_heading, start) if next_heading else None]


def test_a_family_that_owes_sees_how_much_first_then_what_to_pay(signed_in, family):
    bill(family, 10, 9600, due_on=date(2026, 11, 20))
    bill(family, 11, 4250, due_on=date(2026, 12, 31))

    text = page_text(signed_in)

    assert text.index("Vous devez 138,50 €") < text.index("À payer")
    assert "Dont 96,00 € en retard de paiement." in text
    to_pay = section(text, "À payer", "Vos factures")
    assert to_pay.index("Octobre 2026") < to_pay.index("Novembre 2026")  # oldest first
    assert "Facture n° 2026-202610 96,00 € En retard à payer avant le 20 novembre 2026" in to_pay
    assert "Facture n° 2026-202611 42,50 € À payer avant le 31 décembre 2026" in to_pay
    assert to_pay.count("En retard") == 1


def test_a_family_that_owes_nothing_reads_that_its_account_is_up_to_date(signed_in, family):
    september = bill(family, 9, 5000)
    paid(family, [september], 5000)

    text = page_text(signed_in)

    assert "Votre compte est à jour" in text
    assert "Vous devez" not in text and "Vos factures" in text
    assert "À payer avant" not in text


def test_every_bill_says_where_it_stands(signed_in, family):
    september = bill(family, 9, 5000)
    october = bill(family, 10, 9600)
    november = bill(family, 11, 3000)
    bill(family, 8, 2000, status=InvoiceStatus.CANCELLED)
    bill(family, 7, 1000, status=InvoiceStatus.DRAFT, number=None)
    bill(
        family,
        10,
        1200,
        number="2026-000099",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=october.id,
        reason="Fermeture du 12 octobre",
    )
    paid(family, [september], 5000)
    paid(family, [november], 1000, received_on=date(2026, 11, 20))

    bills = section(page_text(signed_in), "Vos factures", "Vos règlements")

    assert "Septembre 2026 Payée Facture n° 2026-202609 · 50,00 €" in bills
    assert "Octobre 2026 Partiellement payée Facture n° 2026-202610 · 96,00 € · reste 84,00 €" in (
        bills
    )
    assert "Avoir déduit Avoir n° 2026-000099 · − 12,00 €" in bills
    assert "Déduit de la facture n° 2026-202610 : Fermeture du 12 octobre" in bills
    assert "Novembre 2026 Partiellement payée Facture n° 2026-202611 · 30,00 € · reste 20,00 €" in (
        bills
    )
    assert "Août 2026 Annulée" in bills
    assert "Juillet" not in bills  # a draft is not yet a bill


def test_every_reglement_says_how_and_what_it_paid(signed_in, family):
    september, october = bill(family, 9, 5000), bill(family, 10, 9600)
    paid(family, [september, october], 14600, refunded_cents=0)
    paid(
        family,
        [],
        2000,
        method=PaymentMethod.ONLINE,
        received_on=None,
        paid_at=datetime(2026, 11, 2, 23, 30),  # 3 November in Paris
        refunded_cents=500,
        charged_back_cents=300,
    )
    db.session.add_all(
        Payment(family_id=family.id, method=PaymentMethod.ONLINE, amount_cents=900, status=status)
        for status in (PaymentStatus.OPEN, PaymentStatus.FAILED, PaymentStatus.EXPIRED)
    )
    db.session.commit()

    payments = section(page_text(signed_in), "Vos règlements", "Attestations fiscales")

    assert "12 octobre 2026 Chèque · 146,00 € Factures n° 2026-202609, 2026-202610" in payments
    returned = "Remboursé : 5,00 € Rejeté par la banque : 3,00 €"
    assert f"3 novembre 2026 En ligne · 20,00 € {returned}" in payments
    assert "En ligne · 9,00 € En cours de confirmation" in payments
    assert payments.count("9,00 €") == 1  # failed and expired attempts paid nothing


def test_the_tax_certificates_issued_are_listed_by_year(signed_in, family):
    for year, cents in ((2025, 31050), (2024, 12000)):
        db.session.add(
            TaxCertificate(family_id=family.id, year=year, total_cents=cents, issued_at=NOW)
        )
    db.session.commit()

    certificates = section(page_text(signed_in), "Attestations fiscales")

    assert "Année 2025 310,50 €" in certificates
    assert certificates.index("2025") < certificates.index("2024")


def test_another_familys_money_never_shows(signed_in, family, other_family):
    bill(other_family, 10, 7700, number="2026-000777")
    paid(other_family, [], 1234)

    text = page_text(signed_in)

    assert "Votre compte est à jour" in text
    assert "2026-000777" not in text and "77,00" not in text and "12,34" not in text


def test_the_navigation_and_the_invoice_alert_lead_to_finances(signed_in, family):
    notifications.notify(family, AlertKind.INVOICE, "Votre facture est là.", "/finances")
    db.session.commit()

    page = signed_in.get("/finances").get_data(as_text=True)
    assert '<a href="/finances" aria-current="page">Finances</a>' in page
    alert_id = re.search(r"/alertes/(\d+)", signed_in.get("/alertes").get_data(as_text=True))
    opened = signed_in.get(f"/alertes/{alert_id.group(1)}")
    assert opened.headers["Location"] == "/finances"


def test_staff_are_sent_to_the_back_office(client, auth, staff):
    auth.login("agent.a")
    assert client.get("/finances").status_code == 302


def test_finances_runs_a_fixed_number_of_queries(signed_in, family):
    def queries() -> int:
        with factories.counted_queries() as statements:
            assert signed_in.get("/finances").status_code == 200
        return len(statements)

    def add_month(month: int) -> None:
        invoice = bill(family, month, 1000 * month, year=2025)
        paid(family, [invoice], 500 * month, method=PaymentMethod.CASH)

    for month in (1, 2):
        add_month(month)
    db.session.add(TaxCertificate(family_id=family.id, year=2025, total_cents=1, issued_at=NOW))
    db.session.commit()
    few = queries()
    for month in range(3, 13):
        add_month(month)
    many = queries()

    # the session (with the unread alerts), the bills, what they owe (2), the balance, the
    # payments and their allocations (2), the certificates
    assert few == many == 8
