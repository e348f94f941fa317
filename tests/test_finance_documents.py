"""The family's money documents made from the database (services/finance_documents.py),
read back from the PDF as a parent reads them; and staff download them from the back office."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from extensions import db
from models import (
    Activity,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from services import finance_documents, ledger
from services.finance_documents import FinanceDocumentError
from tests import factories
from tests.test_pdf_documents import pages_text

TODAY = date(2026, 12, 10)
ISSUED_AT = datetime(2026, 12, 2, 7, 0)  # 2 December 2026, 8:00 in Paris


def text(pdf: bytes) -> str:
    return "\n".join(pages_text(pdf))


def lines(pdf: bytes) -> list[str]:
    return [line.strip() for line in text(pdf).splitlines()]


def activities() -> tuple[Activity, Activity]:
    """The canteen (not childcare) and the evening périscolaire (childcare)."""
    canteen = factories.activity(options=("Standard", "Sans viande"))
    care = factories.activity(
        "care_evening", "Accueil périscolaire du soir", options=("Jusqu'à 18 h 45",)
    )
    care.is_childcare = True
    db.session.commit()
    return canteen, care


def line(child, activity, quantity: int, unit: int, option_index: int = 0) -> InvoiceLine:
    """A line as the billing run writes it: « Activity (option) — Child »."""
    option = activity.options[option_index]
    return InvoiceLine(
        child_id=child.id,
        activity_id=activity.id,
        option_id=option.id,
        label=f"{activity.name} ({option.label}) — {child}",
        unit_price_cents=unit,
        quantity=quantity,
        amount_cents=unit * quantity,
    )


def invoice(family, invoice_lines, number="2026-000002", month=11, **fields) -> Invoice:
    """An issued invoice of the month, its total the sum of its lines, issued to the family
    of that day (as services.billing issues one)."""
    item = Invoice(
        **finance_documents.billed_identity(family),
        family_id=family.id,
        number=number,
        period_month=date(2026, month, 1),
        status=fields.pop("status", InvoiceStatus.ISSUED),
        issued_at=fields.pop("issued_at", ISSUED_AT),
        due_on=fields.pop("due_on", date(2026, 12, 31)),
        total_cents=sum(each.amount_cents for each in invoice_lines),
        **fields,
    )
    item.lines.extend(invoice_lines)
    db.session.add(item)
    db.session.commit()
    return item


def pay(family, invoices, cents: int, method=PaymentMethod.CHEQUE, **fields) -> Payment:
    """A payment received and allocated to the invoices in order (services.ledger)."""
    payment = Payment(
        family_id=family.id,
        method=method,
        amount_cents=cents,
        status=PaymentStatus.PAID,
        received_on=fields.pop("received_on", date(2026, 12, 15)),
        **fields,
    )
    db.session.add(payment)
    db.session.flush()
    ledger.allocate(payment, ledger.lock_invoices(each.id for each in invoices))
    db.session.commit()
    return payment


@pytest.fixture
def canteen(family):
    family.address_line, family.postcode = "12 rue des Essais", "35999"
    return activities()[0]


@pytest.fixture
def november(family, canteen):
    return november_invoice(family, canteen)


def november_invoice(family, canteen) -> Invoice:
    """Famille A's November invoice: two children, three lines each (83,00 € + 78,00 €)."""
    care = db.session.query(Activity).filter_by(code="care_evening").one()
    tom, lea = family.children
    return invoice(
        family,
        [
            line(tom, canteen, 16, 350),
            line(tom, care, 8, 250),
            line(tom, canteen, 2, 350, option_index=1),
            line(lea, canteen, 12, 350, option_index=1),
            line(lea, care, 10, 180),
            line(lea, care, 1, 1800),
        ],
    )


def test_an_invoice_pdf_names_the_commune_the_family_and_each_childs_lines(app, november):
    read = lines(finance_documents.invoice_pdf(november, TODAY))

    for expected in [
        "Mairie de Saint-Exemple",
        "1 place de la Mairie",
        "SIRET 000 000 000 00017",
        "Famille A",
        "12 rue des Essais",
        "35999 Saint-Exemple",
        "Facture n° 2026-000002",
        "Période novembre 2026",
        "Date d'émission 2 décembre 2026",
        "Restaurant scolaire Standard 16 3,50 € 56,00 €",
        "Accueil périscolaire du soir Jusqu'à 18 h 45 8 2,50 € 20,00 €",
        "Restaurant scolaire Sans viande 2 3,50 € 7,00 €",
        "Sous-total Enfant1 A 83,00 €",
        "Sous-total Enfant2 A 78,00 €",
        "Total de la facture 161,00 €",
        "À payer avant le 31 décembre 2026 161,00 €",
    ]:
        assert expected in read
    # The eldest first; each child's lines under its name, which a label never repeats.
    tom_ends = read.index("Sous-total Enfant1 A 83,00 €")
    assert read.index("Enfant1 A") < tom_ends < read.index("Enfant2 A")
    assert not any(each.endswith("— Enfant1 A") for each in read)


def test_an_invoice_pdf_says_how_to_pay_and_the_familys_balance(app, family, canteen, november):
    earlier = invoice(family, [line(family.children[0], canteen, 4, 350)], "2026-000001", 10)
    pay(family, [earlier], 1000)

    read = " ".join(lines(finance_documents.invoice_pdf(november, TODAY)))

    assert "Comment payer" in read
    assert "rubrique « Finances » : https://portail.example/finances" in read
    assert "par chèque à l'ordre de « Trésor public » (notez le n° 2026-000002 au dos)" in read
    assert "Solde de votre compte au 10 décembre 2026" in read
    assert "165,00 € restant à payer" in read  # 161,00 € + 14,00 € − 10,00 €


def test_a_partly_paid_invoice_pdf_shows_what_is_left(app, family, november):
    pay(family, [november], 6100)

    read = lines(finance_documents.invoice_pdf(november, TODAY))

    assert "Déjà réglé 61,00 €" in read
    assert "À payer avant le 31 décembre 2026 100,00 €" in read


def test_a_credit_note_pdf_prints_its_lines_negative_and_names_its_invoice(app, family, november):
    note = Invoice(
        **finance_documents.billed_identity(family),
        family_id=family.id,
        number="2026-000010",
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=november.id,
        period_month=date(2026, 12, 1),
        status=InvoiceStatus.ISSUED,
        issued_at=datetime(2026, 12, 9, 9, 0),
        total_cents=700,
        reason="Repas du 12 novembre facturé pendant une sortie",
    )
    note.lines.append(
        InvoiceLine(
            label="Avoir sur la facture n° 2026-000002 : repas du 12 novembre",
            unit_price_cents=700,
            quantity=1,
            amount_cents=700,
        )
    )
    db.session.add(note)
    db.session.commit()

    read = lines(finance_documents.invoice_pdf(note, TODAY))

    assert "Avoir n° 2026-000010" in read
    assert "Corrige la facture n° 2026-000002 du 2 décembre 2026" in read
    assert "Motif Repas du 12 novembre facturé pendant une sortie" in read
    assert "Toute la famille" in read
    assert "Total de l'avoir -7,00 €" in read
    assert "154,00 € restant à payer, toutes factures, avoirs et règlements comptés." in read
    assert finance_documents.download_name("invoice", note) == "avoir-2026-000010.pdf"


def test_a_receipt_pdf_lists_the_payment_and_what_it_paid(app, family, canteen, november):
    earlier = invoice(family, [line(family.children[0], canteen, 4, 350)], "2026-000001", 10)
    payment = pay(family, [earlier, november], 20000, reference="chèque n° 1234567")

    read = lines(finance_documents.receipt_pdf(payment, TODAY))

    assert f"Reçu de règlement n° 2026-{payment.id:06d}" in read
    assert "Reçu le 15 décembre 2026" in read
    assert "Mode de règlement Chèque (chèque n° 1234567)" in read
    assert "Montant 200,00 €" in read
    assert "n° 2026-000001 14,00 €" in read
    assert "n° 2026-000002 161,00 €" in read
    assert any(each.startswith("25,00 € de ce règlement ne sont affectés") for each in read)
    assert finance_documents.download_name("receipt", payment) == f"recu-2026-{payment.id:06d}.pdf"


def test_an_online_payment_is_received_on_the_paris_day_mollie_paid_it(app, family, november):
    payment = pay(
        family,
        [november],
        16100,
        method=PaymentMethod.ONLINE,
        received_on=None,
        paid_at=datetime(2026, 12, 14, 23, 30),  # 15 December, 0:30 in Paris
    )

    read = lines(finance_documents.receipt_pdf(payment, TODAY))

    assert "Reçu le 15 décembre 2026" in read
    assert "Votre compte est à jour : vous ne devez rien." in read


def test_no_pdf_for_a_draft_invoice_nor_an_unpaid_payment(app, family, november):
    november.status, november.number = InvoiceStatus.DRAFT, None
    open_payment = Payment(
        family_id=family.id,
        method=PaymentMethod.ONLINE,
        amount_cents=900,
        status=PaymentStatus.OPEN,
    )
    db.session.add(open_payment)
    db.session.commit()

    with pytest.raises(FinanceDocumentError, match="brouillon"):
        finance_documents.invoice_pdf(november, TODAY)
    with pytest.raises(FinanceDocumentError, match="pas payé"):
        finance_documents.receipt_pdf(open_payment, TODAY)


def test_an_invoice_pdf_costs_the_same_statements_whatever_its_lines(
    app, family, canteen, november
):
    care = db.session.query(Activity).filter_by(code="care_evening").one()
    many = invoice(
        family,
        [line(child, care, 1, 250) for child in family.children for _ in range(15)]
        + [line(family.children[0], canteen, 3, 350)],
        "2026-000003",
        month=10,
    )
    counts = []
    for each in (november, many):
        db.session.expire_all()
        with factories.counted_queries() as statements:
            finance_documents.invoice_pdf(db.session.get(Invoice, each.id), TODAY)
        counts.append(len(statements))

    assert counts[0] == counts[1] <= 8
