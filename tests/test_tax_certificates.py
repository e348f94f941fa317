"""Tax certificates (services/tax_certificates.py): the childcare paid in a year for children
under 6 on 1 January, canteen excluded; issued in bulk by staff, read back from the PDF."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Alert, AuditEvent, PaymentMethod, PaymentStatus, TaxCertificate
from services import finance_documents, ledger, tax_certificates
from services.tax_certificates import TaxCertificateError, amounts_for, issue_year, split
from tests import factories
from tests.test_finance_documents import activities, invoice, line, lines, pay

NOW = datetime(2027, 1, 15, 9, 0)  # 15 January 2027: the 2026 certificates are due


@pytest.fixture
def world(family):
    return world_of(family)


def world_of(family):
    """Famille A: Noé, 4 on 1 January 2026, and Enfant1, 8; the canteen and the périscolaire."""
    canteen, care = activities()
    older = family.children[0]
    young = factories.child(family, "Noé", birth_date=date(2021, 5, 3))
    return canteen, care, young, older


def amounts(family, year: int) -> dict[str, int]:
    return {child.name: child.amount_cents for child in amounts_for(family, year)}


def test_the_2026_certificate_counts_the_periscolaire_paid_in_2026_not_the_canteen(
    app, family, world
):
    canteen, care, young, _older = world
    january = invoice(
        family,
        [line(young, care, 10, 250), line(young, canteen, 12, 350)],
        "2026-000001",
        month=1,
        issued_at=datetime(2026, 2, 2, 7, 0),
    )
    pay(family, [january], january.total_cents, received_on=date(2026, 2, 20))

    report = issue_year(2026, None, NOW)

    assert (report.created, report.total_cents) == (1, 2500)
    certificate = db.session.scalars(select(TaxCertificate)).one()
    read = lines(finance_documents.tax_certificate_pdf(certificate))
    assert "Attestation fiscale 2026 — frais de garde" in read
    assert "Noé A 3 mai 2021 25,00 €" in read
    assert "Total payé en 2026 25,00 €" in read
    assert not any("42,00 €" in each or "67,00 €" in each for each in read)
    assert "Fait à Saint-Exemple, le 15 janvier 2027." in read
    name = finance_documents.download_name("tax-certificate", certificate)
    assert name == "attestation-fiscale-2026.pdf"


def test_a_child_six_or_older_on_first_january_is_not_counted(app, family, world):
    _canteen, care, young, older = world
    sixth = factories.child(family, "Lou", birth_date=date(2020, 1, 1))  # 6 that very day
    bill = invoice(
        family,
        [line(older, care, 4, 250), line(sixth, care, 2, 250), line(young, care, 1, 250)],
        month=3,
    )
    pay(family, [bill], bill.total_cents, received_on=date(2026, 4, 2))

    assert amounts(family, 2026) == {"Noé A": 250}


def test_money_counts_in_the_year_it_was_received_not_the_year_of_the_invoice(app, family, world):
    _canteen, care, young, _older = world
    january = invoice(family, [line(young, care, 10, 250)], month=1)
    pay(family, [january], 500, received_on=date(2025, 12, 30))
    pay(family, [january], 1500, received_on=date(2026, 1, 5))
    # Online, no day of receipt: paid at 0:30 on 1 January 2027 in Paris.
    pay(
        family,
        [january],
        400,
        method=PaymentMethod.ONLINE,
        received_on=None,
        paid_at=datetime(2026, 12, 31, 23, 30),
    )

    assert amounts(family, 2025) == {"Noé A": 500}
    assert amounts(family, 2026) == {"Noé A": 1500}
    assert amounts(family, 2027) == {"Noé A": 400}


def test_an_unpaid_or_failed_payment_counts_for_nothing(app, family, world):
    _canteen, care, young, _older = world
    bill = invoice(family, [line(young, care, 8, 250)], month=2)
    payment = pay(family, [bill], 2000, received_on=date(2026, 3, 1))
    payment.status = PaymentStatus.FAILED
    db.session.commit()

    assert amounts(family, 2026) == {}
    assert issue_year(2026, None, NOW).created == 0


def test_a_partial_payment_is_split_over_the_lines_to_the_cent(app, family, world):
    canteen, care, young, _older = world
    bill = invoice(family, [line(young, care, 4, 250), line(young, canteen, 4, 500)], month=5)
    # 10,01 € of 30,00 €: a third is 3,336…, so the childcare's share is 3,34 €.
    pay(family, [bill], 1001, received_on=date(2026, 6, 1))
    assert amounts(family, 2026) == {"Noé A": 334}

    # The rest of it: the year's payments on the invoice are split as one, 10,00 € in all.
    pay(family, [bill], 1999, received_on=date(2026, 6, 20))
    assert amounts(family, 2026) == {"Noé A": 1000}


@pytest.mark.parametrize(
    ("cents", "weights", "shares"),
    [
        (1001, [1000, 2000], [334, 667]),
        (100, [1, 1, 1], [34, 33, 33]),  # a tie goes to the earlier line
        (3000, [1000, 2000], [1000, 2000]),
        (7, [0, 5], [0, 7]),
        (5, [0, 0], [0, 0]),
    ],
)
def test_a_split_adds_up_to_the_amount_paid(cents, weights, shares):
    assert split(cents, weights) == shares


def test_issuing_twice_keeps_one_certificate_per_family_and_tells_each_family_once(
    app, family, other_family, world
):
    _canteen, care, young, _older = world
    other_young = factories.child(other_family, "Zoé", birth_date=date(2022, 2, 2))
    bills = ((family, young, "2026-000001"), (other_family, other_young, "2026-000002"))
    for owner, child, number in bills:
        bill = invoice(owner, [line(child, care, 4, 250)], number, month=9)
        pay(owner, [bill], 1000, received_on=date(2026, 10, 1))
    staff = factories.staff_user("agent.a")

    first = issue_year(2026, staff, NOW)
    again = issue_year("2026", staff, datetime(2027, 1, 16, 9, 0))

    assert (first.created, first.unchanged) == (2, 0)
    assert (again.created, again.refreshed, again.unchanged) == (0, 0, 2)
    certificates = db.session.scalars(select(TaxCertificate).order_by(TaxCertificate.id)).all()
    assert [(c.family_id, c.year, c.total_cents) for c in certificates] == [
        (family.id, 2026, 1000),
        (other_family.id, 2026, 1000),
    ]
    assert all(c.issued_at == NOW and c.issued_by_id == staff.id for c in certificates)
    alerts = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).all()
    assert [(a.link, a.message) for a in alerts] == [
        (
            "/finances",
            "Votre attestation fiscale 2026 est disponible dans FINANCES : 10,00\u00a0€ de frais "
            "de garde payés en 2026.",
        )
    ]
    journal = select(func.count(AuditEvent.id)).where(AuditEvent.entity == "TaxCertificate")
    assert db.session.scalar(journal) == 2


def test_a_payment_since_refreshes_the_certificate_as_issued(app, family, world):
    _canteen, care, young, _older = world
    bill = invoice(family, [line(young, care, 8, 250)], month=9)
    pay(family, [bill], 1000, received_on=date(2026, 10, 1))
    issue_year(2026, None, NOW)
    pay(family, [bill], 1000, received_on=date(2026, 12, 1))

    report = issue_year(2026, None, datetime(2027, 2, 1, 9, 0))

    certificate = db.session.scalars(select(TaxCertificate)).one()
    assert report.refreshed == 1 and certificate.total_cents == 2000
    assert json.loads(certificate.children_json) == [
        {"child_id": young.id, "name": "Noé A", "birth_date": "2021-05-03", "amount_cents": 2000}
    ]
    assert certificate.issued_at == datetime(2027, 2, 1, 9, 0)


def test_a_certificate_whose_money_was_refunded_is_withdrawn_and_the_family_told(
    app, family, world
):
    _canteen, care, young, _older = world
    bill = invoice(family, [line(young, care, 8, 250)], month=9)
    payment = pay(family, [bill], 2000, received_on=date(2026, 10, 1))
    issue_year(2026, None, NOW)
    payment.refunded_cents = 2000
    ledger.take_back(payment, 2000)
    db.session.commit()

    report = issue_year(2026, None, datetime(2027, 2, 1, 9, 0))

    assert (report.withdrawn, report.total_cents) == (1, 0)
    assert db.session.scalar(select(func.count(TaxCertificate.id))) == 0
    last = db.session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert last.message.startswith("Votre attestation fiscale 2026 est retirée")


@pytest.mark.parametrize(
    ("year", "said"),
    [
        ("abc", "quatre chiffres"),
        ("", "quatre chiffres"),
        ("20266", "quatre chiffres"),
        ("2028", "entre 2000 et 2027"),
        ("1999", "entre 2000 et 2027"),
    ],
)
def test_a_bad_year_is_refused_in_french(app, year, said):
    with pytest.raises(TaxCertificateError, match=said):
        tax_certificates.issue_year(year, None, NOW)
