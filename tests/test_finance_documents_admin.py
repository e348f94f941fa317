"""The money documents in the back office and on the command line: staff download any
invoice's or certificate's PDF, issue a year's tax certificates (« Émettre les attestations
fiscales ») or run `flask billing tax-certificates`; bad input gets a French message."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from extensions import db
from models import InvoiceStatus, TaxCertificate
from tests import factories
from tests.conftest import csrf_token
from tests.test_finance_documents import (
    activities,
    invoice,
    line,
    lines,
    november_invoice,
    pay,
    text,
)
from tests.test_tax_certificates import NOW, world_of


@pytest.fixture
def november(family):
    return november_invoice(family, activities()[0])


@pytest.fixture
def world(family):
    return world_of(family)


def test_staff_download_an_invoice_pdf_from_the_back_office(app, client, auth, november):
    factories.staff_user("agent.a")
    auth.login("agent.a")

    listing = client.get("/admin/invoice/").get_data(as_text=True)
    url = f"/admin/documents/factures/{november.id}.pdf"
    assert f'href="{url}"' in listing

    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert 'filename="facture-2026-000002.pdf"' in response.headers["Content-Disposition"]
    assert "Facture n° 2026-000002" in text(response.data)
    assert client.get("/admin/documents/factures/999999.pdf").status_code == 404


def test_staff_download_a_receipt_from_the_list_of_payments(app, client, auth, family, november):
    payment = pay(family, [november], 5000, reference="chèque n° 42")
    factories.staff_user("agent.a")
    auth.login("agent.a")

    listing = client.get("/admin/payment/").get_data(as_text=True)
    url = f"/admin/documents/reglements/{payment.id}/recu.pdf"
    assert f'href="{url}"' in listing

    response = client.get(url)
    assert response.mimetype == "application/pdf"
    assert "Mode de règlement Chèque (chèque n° 42)" in lines(response.data)


def test_a_draft_has_no_pdf_in_the_back_office_and_says_why(app, client, auth, november):
    november.status, november.number = InvoiceStatus.DRAFT, None
    db.session.commit()
    factories.staff_user("agent.a")
    auth.login("agent.a")

    response = client.get(f"/admin/documents/factures/{november.id}.pdf", follow_redirects=True)

    assert response.status_code == 200
    assert "elle n&#39;a pas encore de PDF" in response.get_data(as_text=True)


def test_a_family_cannot_reach_the_back_office_pdfs(app, client, auth, november):
    auth.login("famille.a")

    assert client.get(f"/admin/documents/factures/{november.id}.pdf").status_code == 404


def test_the_command_issues_a_year(app, runner, family, world):
    _canteen, care, young, _older = world
    bill = invoice(family, [line(young, care, 8, 250)], month=9)
    pay(family, [bill], 2000, received_on=date(2026, 10, 1))

    result = runner.invoke(args=["billing", "tax-certificates", "--year", "2026"])
    refused = runner.invoke(args=["billing", "tax-certificates", "--year", "abc"])

    assert result.exit_code == 0, result.output
    assert "Attestations fiscales 2026 : 1 émise(s)" in result.output
    assert refused.exit_code == 1 and "quatre chiffres" in refused.output


@pytest.fixture
def agent(client, auth, pin_clock):
    pin_clock(NOW)
    factories.staff_user("agent.a")
    auth.login("agent.a")
    return client


def test_staff_issue_the_year_and_download_a_certificate_in_the_back_office(
    app, agent, family, world
):
    _canteen, care, young, _older = world
    bill = invoice(family, [line(young, care, 8, 250)], month=9)
    pay(family, [bill], 2000, received_on=date(2026, 10, 1))
    screen = agent.get("/admin/attestations-fiscales/").get_data(as_text=True)
    assert "Émettre les attestations fiscales de l'année" in screen
    assert 'value="2026"' in screen  # last year, proposed

    response = agent.post(
        "/admin/attestations-fiscales/",
        data={"year": "2026", "csrf_token": csrf_token(agent, "/admin/attestations-fiscales/")},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "Attestations fiscales 2026 : 1 émise(s)" in page
    certificate = db.session.scalars(select(TaxCertificate)).one()
    url = f"/admin/documents/attestations/{certificate.id}.pdf"
    assert f'href="{url}"' in page
    download = agent.get(url)
    assert download.mimetype == "application/pdf"
    assert "Noé A 3 mai 2021 20,00 €" in lines(download.data)


def test_a_bad_year_in_the_back_office_says_why_and_writes_nothing(app, agent, family, world):
    response = agent.post(
        "/admin/attestations-fiscales/",
        data={"year": "abc", "csrf_token": csrf_token(agent, "/admin/attestations-fiscales/")},
    )

    assert response.status_code == 200
    assert "L&#39;année doit s&#39;écrire en quatre chiffres" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(TaxCertificate.id))) == 0
