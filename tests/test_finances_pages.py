"""FINANCES over HTTP: what a parent relies on.

The balance at the top, the unpaid invoices first (oldest first, overdue marked), every
bill with where it stands, every règlement with what it paid, the tax certificates, and a
fixed number of queries whatever the number of invoices and payments.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from extensions import db
from models import (
    AlertKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Tariff,
    TaxCertificate,
)
from mollie_simulator import start_simulator
from services import billing, finance_documents, ledger, notifications, staff_payments
from tests import factories
from tests.conftest import csrf_token

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


def text_of(markup: str) -> str:
    """What a person reads: no tags, one space between words, none before a comma."""
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    return re.sub(r" ([,.])", r"\1", text)


def page_text(client) -> str:
    response = client.get("/finances")
    assert response.status_code == 200
    return text_of(response.get_data(as_text=True))


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
    # Paid for no invoice (they were paid otherwise): the 12,00 € kept are the family's.
    kept = "À vous rembourser par la mairie : 12,00 €"
    assert f"3 novembre 2026 En ligne · 20,00 € {returned} {kept}" in payments
    assert "En ligne · 9,00 € En cours de confirmation" in payments
    assert payments.count("9,00 €") == 1  # failed and expired attempts paid nothing


def test_a_credit_note_after_payment_says_what_the_mairie_will_refund(signed_in, family, staff):
    october = bill(family, 10, 9600, **finance_documents.billed_identity(family))
    cheque = paid(family, [october], 9600)
    billing.issue_credit_note(october, 250, "Repas du 16 annulé (grève)", staff, NOW)

    text = page_text(signed_in)

    assert "Votre compte est à jour" in text
    assert "La mairie vous doit 2,50 € : elle vous les rembourse" in text
    payments = section(text, "Vos règlements", "Attestations fiscales")
    assert "À vous rembourser par la mairie : 2,50 €" in payments
    staff_payments.refund_payment(cheque, 250, "Repas du 16 annulé", staff, NOW)
    after = page_text(signed_in)
    assert "À vous rembourser" not in after and "La mairie vous doit" not in after


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


def priced_canteen() -> None:
    """A canteen with two options: 1,20 € or 4,10 € a meal by quotient, 6,00 € without
    booking; the evening care, a flat 2,50 €."""
    canteen = factories.activity(options=("standard", "sans-viande"))
    for low, high, cents in ((0, 700, 120), (701, 999999, 410)):
        db.session.add(
            Tariff(
                activity=canteen, qf_min=low, qf_max=high, unit_price_cents=cents,
                walk_in_price_cents=600, valid_from=date(2026, 9, 1),
            )
        )  # fmt: skip
    care = factories.activity("care_evening", "Accueil du soir", options=("17h30",))
    db.session.add(Tariff(activity=care, unit_price_cents=250, valid_from=date(2026, 9, 1)))
    db.session.commit()


@pytest.mark.parametrize(
    ("quotient", "meal", "said"),
    [
        (500, "1,20 €", "Selon votre quotient familial (500)"),
        (None, "4,10 €", "Sans quotient familial en cours de validité, le tarif le plus élevé"),
    ],
)
def test_the_family_sees_its_own_prices(signed_in, family, quotient, meal, said):
    family.quotient_familial = quotient
    db.session.commit()
    priced_canteen()

    prices = section(page_text(signed_in), "Vos tarifs")

    assert said in prices
    assert f"Restaurant scolaire standard {meal} Présence sans réservation : 6,00 €" in prices
    assert f"Restaurant scolaire sans-viande {meal}" in prices
    assert "Accueil du soir 2,50 €" in prices  # one option: not named; no penalty price


def test_finances_runs_a_fixed_number_of_queries(signed_in, family):
    def queries() -> int:
        with factories.counted_queries() as statements:
            assert signed_in.get("/finances").status_code == 200
        return len(statements)

    def add_month(month: int) -> None:
        invoice = bill(family, month, 1000 * month, year=2025)
        paid(family, [invoice], 500 * month, method=PaymentMethod.CASH)

    priced_canteen()
    for month in (1, 2):
        add_month(month)
    db.session.add(TaxCertificate(family_id=family.id, year=2025, total_cents=1, issued_at=NOW))
    db.session.commit()
    few = queries()
    for month in range(3, 13):
        add_month(month)
    many = queries()

    # the session (with the unread alerts), the bills, what they owe (2), the balance, the
    # payments and their allocations (2), the certificates, the activities and their
    # options (2), the tariffs
    assert few == many == 11


def test_the_payment_page_runs_a_fixed_number_of_queries(signed_in, family):
    """Found in review: the invoices a paid payment names are read in one statement,
    however many it paid."""

    def queries(payment) -> int:
        db.session.expire_all()
        with factories.counted_queries() as statements:
            assert signed_in.get(f"/finances/paiements/{payment.id}").status_code == 200
        return len(statements)

    one = paid(family, [bill(family, 1, 1000)], 1000, method=PaymentMethod.ONLINE)
    months = [bill(family, month, 1000) for month in range(2, 9)]
    seven = paid(family, months, 7000, method=PaymentMethod.ONLINE)

    assert queries(one) == queries(seven)


def test_the_payment_page_of_a_partly_refunded_payment_never_says_its_invoice_is_settled(
    signed_in, family
):
    """Found in review: after a refund the invoice owes again; the payment's page says what
    came back instead of « réglée »."""
    october = bill(family, 10, 9600)
    payment = paid(family, [october], 9600, method=PaymentMethod.ONLINE)
    payment.refunded_cents = 2000
    ledger.take_back(payment, 2000)
    db.session.commit()

    page = text_of(signed_in.get(f"/finances/paiements/{payment.id}").get_data(as_text=True))

    assert "réglée" not in page
    assert "Remboursé depuis : 20,00 €" in page
    assert "Ce que vos factures doivent encore est dans Finances" in page


# --- Paying online: the form, the checkout, the way back ------------------------------------


@pytest.fixture
def mollie(app):
    """The Mollie simulator on a real local port, its webhooks switched off: the return
    page must ask Mollie itself (the webhook has its own tests)."""
    with start_simulator() as running:
        running.simulator.set_webhooks_sent(False)
        app.config["MOLLIE_API_ENDPOINT"] = running.url
        yield running


def pay(client, *invoice_ids, token: str | None = None):
    token = token or csrf_token(client, "/finances")
    return client.post(
        "/finances/payer", data={"csrf_token": token, "invoice_ids": [str(i) for i in invoice_ids]}
    )


def payments_of(family) -> list[Payment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Payment).where(Payment.family_id == family.id)))


def test_each_unpaid_invoice_has_its_payer_button_and_several_can_be_ticked(signed_in, family):
    october, november = bill(family, 10, 9600), bill(family, 11, 4250)

    page = signed_in.get("/finances").get_data(as_text=True)

    assert page.count('action="/finances/payer"') == 3  # one per invoice, and the selection
    assert f'name="invoice_ids" value="{october.id}" form="selection"' in page
    assert f'value="{november.id}" form="selection" data-due-cents="4250"' in page
    assert '<script src="/static/js/finances.js" defer></script>' in page  # the total, ticked
    text = page_text(signed_in)
    assert "Payer 96,00 €" in text and "Payer 42,50 €" in text and "Payer la sélection" in text


def test_one_unpaid_invoice_has_its_payer_button_and_nothing_to_tick(signed_in, family):
    bill(family, 10, 9600)

    page = signed_in.get("/finances").get_data(as_text=True)

    assert "Payer 96,00 €" in page_text(signed_in)
    assert 'type="checkbox"' not in page and "Payer la sélection" not in page
    assert "<script" not in page


def test_payer_sends_the_family_to_the_checkout_for_what_the_ticked_invoices_owe(
    signed_in, family, mollie
):
    october, november = bill(family, 10, 9600), bill(family, 11, 4250)

    response = pay(signed_in, october.id, november.id)

    assert response.status_code == 303
    assert response.headers["Location"].startswith(mollie.url + "/checkout/")
    [payment] = payments_of(family)
    assert payment.status == PaymentStatus.OPEN and payment.amount_cents == 13850
    assert response.headers["Location"] == payment.checkout_url


def test_a_double_click_on_payer_reuses_the_open_payment(signed_in, family, mollie):
    october = bill(family, 10, 9600)
    token = csrf_token(signed_in, "/finances")

    first, second = pay(signed_in, october.id, token=token), pay(signed_in, october.id, token=token)

    assert first.headers["Location"] == second.headers["Location"]
    assert len(payments_of(family)) == 1


def test_payer_redirects_only_to_the_checkout_origin_the_page_allows(signed_in, family, mollie):
    """Found in review: a checkout address stored from elsewhere than Mollie's checkout (a
    tampered answer, a wrong setting) is never a redirect out of the portal."""
    october = bill(family, 10, 9600)
    token = csrf_token(signed_in, "/finances")
    pay(signed_in, october.id, token=token)
    [payment] = payments_of(family)
    payment.checkout_url = f"{mollie.url}@evil.example/checkout/x"
    db.session.commit()

    response = pay(signed_in, october.id, token=token)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/finances/paiements/{payment.id}"


@pytest.mark.parametrize(
    "chosen",
    [
        pytest.param(lambda mine, theirs: [], id="nothing ticked"),
        pytest.param(lambda mine, theirs: ["abc"], id="not a number"),
        pytest.param(lambda mine, theirs: [mine, "-1"], id="negative"),
        pytest.param(lambda mine, theirs: [theirs], id="another family's"),
        pytest.param(lambda mine, theirs: [mine, theirs], id="mixed with another family's"),
        pytest.param(lambda mine, theirs: ["9" * 30], id="huge"),
    ],
)
def test_a_bad_choice_is_refused_in_french_and_nothing_is_created(
    signed_in, family, other_family, mollie, chosen
):
    mine, theirs = bill(family, 10, 9600).id, bill(other_family, 10, 7700, number="B-1").id

    response = pay(signed_in, *chosen(mine, theirs))

    assert response.status_code == 302 and response.headers["Location"] == "/finances"
    assert Payment.query.count() == 0
    page = signed_in.get("/finances").get_data(as_text=True)
    assert 'class="flash flash-error"' in page
    assert "77,00" not in page


def test_a_paid_invoice_is_not_paid_again(signed_in, family, mollie):
    september = bill(family, 9, 5000)
    paid(family, [september], 5000)

    response = pay(signed_in, september.id)

    assert response.headers["Location"] == "/finances"
    assert "déjà réglées" in html.unescape(signed_in.get("/finances").get_data(as_text=True))
    assert len(payments_of(family)) == 1


def test_only_finances_lets_a_form_redirect_to_the_checkout(signed_in, app, mollie):
    """Browsers check a form's redirects against form-action: "Payer" goes to the checkout."""
    finances = signed_in.get("/finances").headers["Content-Security-Policy"]
    account = signed_in.get("/compte").headers["Content-Security-Policy"]

    assert f"form-action 'self' {mollie.url}" in finances
    assert account.endswith("form-action 'self'")
    app.config["MOLLIE_API_ENDPOINT"] = ""  # production: Mollie's own checkout
    finances = signed_in.get("/finances").headers["Content-Security-Policy"]
    assert finances.endswith("form-action 'self' https://www.mollie.com")


def test_payer_without_the_form_token_changes_nothing(signed_in, family, mollie):
    october = bill(family, 10, 9600)

    response = signed_in.post("/finances/payer", data={"invoice_ids": str(october.id)})

    assert response.status_code == 400
    assert payments_of(family) == []


def test_mollie_unreachable_is_said_in_french_and_nothing_is_kept(signed_in, family, mollie):
    october = bill(family, 10, 9600)
    mollie.simulator.set_api_down(True)

    response = pay(signed_in, october.id)

    assert response.headers["Location"] == "/finances"
    page = html.unescape(signed_in.get("/finances").get_data(as_text=True))
    assert "momentanément indisponible : rien n'a été prélevé" in page
    assert payments_of(family) == []


def returned(client, payment_id: int) -> str:
    response = client.get(f"/finances/paiements/{payment_id}")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def started(client, family, *invoices) -> Payment:
    pay(client, *(invoice.id for invoice in invoices))
    [payment] = [p for p in payments_of(family) if p.status == PaymentStatus.OPEN]
    return payment


def test_back_from_a_paid_checkout_the_family_reads_which_invoices_are_paid(
    signed_in, family, mollie
):
    october, november = bill(family, 10, 9600), bill(family, 11, 4250)
    payment = started(signed_in, family, october, november)
    mollie.simulator.choose(payment.mollie_id, "paid")  # no webhook: the page asks Mollie

    page = returned(signed_in, payment.id)

    assert "Paiement reçu, merci : factures n° 2026-202610, 2026-202611 réglées." in text_of(page)
    assert f'href="/finances/reglements/{payment.id}/recu.pdf"' in page
    assert 'http-equiv="refresh"' not in page
    assert "Votre compte est à jour" in page_text(signed_in)


def test_back_before_mollie_has_decided_the_page_says_so_and_reloads(
    signed_in, family, mollie, pin_clock
):
    payment = started(signed_in, family, bill(family, 10, 9600))

    page = returned(signed_in, payment.id)

    assert "Paiement en cours de confirmation" in page
    assert '<meta http-equiv="refresh" content="5">' in page
    text = page_text(signed_in)
    assert "Vous devez 96,00 €" in text
    assert "Un paiement en ligne de cette facture attend la confirmation de la banque." in text
    assert "En cours de confirmation" in section(text, "Vos règlements")
    pin_clock(NOW + timedelta(minutes=11))  # no webhook yet: the page stops reloading
    later = returned(signed_in, payment.id)
    assert "Paiement en cours de confirmation" in later and "http-equiv" not in later


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("canceled", "Paiement abandonné"),
        ("expired", "Le délai pour payer est dépassé"),
        ("failed", "Le paiement a été refusé"),
    ],
)
def test_back_from_a_failed_checkout_nothing_was_charged_and_retry_is_offered(
    signed_in, family, mollie, status, said
):
    october = bill(family, 10, 9600)
    payment = started(signed_in, family, october)
    mollie.simulator.choose(payment.mollie_id, status)

    page = returned(signed_in, payment.id)

    assert said in page
    assert "Rien n'a été prélevé : facture n° 2026-202610 reste à payer." in text_of(page)
    assert f'name="invoice_ids" value="{october.id}"' in page and "Réessayer" in page
    assert "Vous devez 96,00 €" in page_text(signed_in)
    retry = signed_in.post(
        "/finances/payer",
        data={"csrf_token": csrf_token(signed_in, "/finances"), "invoice_ids": str(october.id)},
    )
    assert retry.status_code == 303 and retry.headers["Location"] != payment.checkout_url


def test_a_payment_page_is_only_for_the_familys_own_online_payments(
    signed_in, family, other_family
):
    cheque = paid(family, [bill(family, 9, 5000)], 5000)
    theirs = paid(other_family, [], 1234, method=PaymentMethod.ONLINE)

    assert signed_in.get(f"/finances/paiements/{cheque.id}").status_code == 404
    assert signed_in.get(f"/finances/paiements/{theirs.id}").status_code == 404


# --- The PDFs ---------------------------------------------------------------------------


def pdf_text(response) -> str:
    pages = PdfReader(io.BytesIO(response.get_data())).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def assert_download(response, name: str) -> None:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_each_bill_downloads_as_its_pdf(signed_in, family, staff):
    october = bill(family, 10, 9600, number="2026-000002")
    note = billing.issue_credit_note(october, 1200, "Fermeture du 12 octobre", staff, NOW)
    page = signed_in.get("/finances").get_data(as_text=True)

    for invoice, name in ((october, "facture-2026-000002.pdf"), (note, f"avoir-{note.number}.pdf")):
        path = f"/finances/factures/{invoice.id}.pdf"
        assert f'href="{path}"' in page
        response = signed_in.get(path)
        assert_download(response, name)
        assert invoice.number in pdf_text(response)


def test_a_paid_reglement_downloads_its_receipt_and_an_open_one_has_none(signed_in, family):
    september = bill(family, 9, 5000, number="2026-000001")
    cheque = paid(family, [september], 5000)
    online = Payment(
        family_id=family.id, method=PaymentMethod.ONLINE, amount_cents=900,
        status=PaymentStatus.OPEN,
    )  # fmt: skip
    db.session.add(online)
    db.session.commit()
    page = signed_in.get("/finances").get_data(as_text=True)

    path = f"/finances/reglements/{cheque.id}/recu.pdf"
    assert f'href="{path}"' in page
    response = signed_in.get(path)
    assert_download(response, finance_documents.download_name("receipt", cheque))
    assert "2026-000001" in pdf_text(response)
    assert f"/finances/reglements/{online.id}/recu.pdf" not in page
    assert signed_in.get(f"/finances/reglements/{online.id}/recu.pdf").status_code == 404


def test_a_tax_certificate_downloads_by_its_year(signed_in, family):
    child = {"name": "Enfant1 A", "birth_date": "2020-03-14", "amount_cents": 31050}
    certificate = TaxCertificate(
        family_id=family.id,
        year=2025,
        total_cents=31050,
        children_json=json.dumps([child]),
        issued_at=NOW,
    )
    db.session.add(certificate)
    db.session.commit()

    response = signed_in.get("/finances/attestations/2025.pdf")

    assert 'href="/finances/attestations/2025.pdf"' in signed_in.get("/finances").get_data(
        as_text=True
    )
    assert_download(response, "attestation-fiscale-2025.pdf")
    assert "310,50" in pdf_text(response)
    assert signed_in.get("/finances/attestations/2024.pdf").status_code == 404


def test_a_draft_has_no_pdf(signed_in, family):
    draft = bill(family, 11, 3000, status=InvoiceStatus.DRAFT, number=None)

    assert signed_in.get(f"/finances/factures/{draft.id}.pdf").status_code == 404
