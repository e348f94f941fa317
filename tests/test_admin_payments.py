"""Issue 9, point 7 in the back office: « Enregistrer un règlement », « Rembourser »,
« Impayés » with its reminders, and the treasurer's CSV exports (admin_views.payments).

Every bad input gets a French message, never a 500, and writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    Alert,
    AlertKind,
    AuditEvent,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from mollie_simulator import MollieSimulator
from services import finance_documents, ledger
from services import payments as online_payments
from services import staff_payments as counter
from tests.conftest import csrf_token
from tests.payments_world import fresh, post_to, simulated_mollie
from tests.test_admin_bad_input import SQL_WORDS

NOW = datetime(2026, 11, 26, 9, 0)  # Thursday 26 November 2026, 10:00 in Paris


def make_invoice(family, month: int, cents: int, number: str, due_on=date(2026, 11, 20)):
    invoice = Invoice(
        family=family,
        number=number,
        period_month=date(2026, month, 1),
        status=InvoiceStatus.ISSUED,
        issued_at=datetime(2026, month + 1, 2, 7),
        due_on=due_on,
        total_cents=cents,
        **finance_documents.billed_identity(family),  # as services.billing issues it
    )
    db.session.add(invoice)
    db.session.commit()
    return invoice


@pytest.fixture
def agent(client, auth, staff, pin_clock):
    pin_clock(NOW)
    assert auth.login("agent.a").status_code == 302
    return client


@pytest.fixture
def owing(family, other_family):
    return (
        make_invoice(family, 9, 4000, "2026-000001", due_on=date(2026, 10, 31)),
        make_invoice(family, 10, 3000, "2026-000002"),
        make_invoice(other_family, 10, 2500, "2026-000003"),
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def payments() -> int:
    return db.session.scalar(select(func.count(Payment.id)))


def payment_form(client, family, invoices, **fields) -> dict:
    return {
        "family": str(family.id),
        "ids": [str(invoice.id) for invoice in invoices],
        "method": "cheque",
        "amount": "45,00",
        "received_on": "2026-11-26",
        "reference": "Chèque n° 0000042",
        "csrf_token": csrf_token(client, f"/admin/guichet/?family={family.id}"),
        **fields,
    }


# --- Recording ------------------------------------------------------------------------


def test_staff_find_the_family_and_see_what_it_owes(agent, family, owing):
    found = text(agent.get(f"/admin/guichet/?q={family.name.lower()}"))
    assert f"/admin/guichet/?family={family.id}" in found

    page = text(agent.get(f"/admin/guichet/?family={family.id}"))
    assert "n° 2026-000001" in page and "n° 2026-000002" in page
    assert "2026-000003" not in page  # the other family's
    assert "26 j de retard" in page
    # Online payments come from Mollie only.
    assert 'value="cheque"' in page and 'value="online"' not in page


def test_a_cheque_recorded_at_the_counter_pays_the_ticked_invoices(agent, family, owing, staff):
    september, october, _theirs = owing
    form = payment_form(agent, family, [september, october])

    response = agent.post("/admin/guichet/enregistrer", data=form)

    payment = db.session.scalars(select(Payment)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/payment/details/?id={payment.id}")
    assert (payment.method, payment.amount_cents, payment.recorded_by_id) == (
        PaymentMethod.CHEQUE,
        4500,
        staff.id,
    )
    assert ledger.due_cents([september, october]) == {september.id: 0, october.id: 2500}
    details = text(agent.get(response.headers["Location"]))
    assert "Enregistré : règlement par chèque de 45,00" in details
    alert = db.session.scalars(select(Alert)).one()
    assert alert.kind == AlertKind.PAYMENT and alert.family_id == family.id


def test_a_counter_refund_form_sent_twice_refunds_once(agent, cheque, owing):
    page = text(agent.get(f"/admin/guichet/rembourser?payment={cheque.id}"))
    key = re.search(r'name="refund_key" value="([^"]+)"', page).group(1)
    form = refund_form(agent, cheque, refund_key=key)

    responses = [agent.post("/admin/guichet/rembourser", data=form) for _click in range(2)]

    assert [response.status_code for response in responses] == [302, 302]
    db.session.expire_all()
    assert cheque.refunded_cents == 2000
    assert ledger.due_cents(owing[:2]) == {owing[0].id: 0, owing[1].id: 2000}
    another = refund_form(agent, cheque, refund_key=counter.refund_key())
    assert agent.post("/admin/guichet/rembourser", data=another).status_code == 302
    db.session.expire_all()
    assert cheque.refunded_cents == 4000  # a new form is a new refund


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"amount": "abc"}, "Montant invalide"),
        ({"amount": "1e30"}, "Montant trop élevé"),
        ({"amount": "-5"}, "supérieur à 0,00"),
        ({"amount": ""}, "Indiquez le montant"),
        ({"amount": "70,01"}, "dépasse ce que doivent les factures choisies"),
        ({"method": "online"}, "Mollie"),
        ({"method": "x" * 400}, "Mode de règlement inconnu"),
        ({"ids": []}, "au moins une facture"),
        ({"ids": ["abc", "9" * 20]}, "au moins une facture"),
        ({"received_on": "2026-02-30"}, "Indiquez le jour"),
        ({"received_on": "2026-11-27"}, "futur"),
        ({"reference": "x" * 121}, "120 caractères"),
    ],
)
def test_a_bad_payment_form_is_refused_in_french(agent, family, owing, fields, message):
    form = payment_form(agent, family, owing[:2], **fields)

    response = agent.post("/admin/guichet/enregistrer", data=form)

    body = text(response)
    assert response.status_code == 200
    assert "Règlement non enregistré" in body and message in body
    assert not any(word in body for word in SQL_WORDS)
    assert payments() == 0
    # What staff typed is still there to correct.
    assert 'value="Chèque n° 0000042"' in body or fields.get("reference")


def test_an_invoice_of_another_family_is_refused(agent, family, owing):
    form = payment_form(agent, family, [owing[2]], amount="10,00")
    body = text(agent.post("/admin/guichet/enregistrer", data=form))
    assert "pas une facture émise de cette famille" in body
    assert payments() == 0


@pytest.mark.parametrize("family_id", ["", "abc", "9" * 20, "999999"])
def test_an_unknown_family_is_a_french_message(agent, family, owing, family_id):
    form = {**payment_form(agent, family, owing[:1]), "family": family_id}
    response = agent.post("/admin/guichet/enregistrer", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "Famille introuvable" in text(response)
    assert payments() == 0


def test_the_generic_creation_form_leads_to_the_counter(agent, family, owing):
    assert agent.get("/admin/payment/new/").headers["Location"].endswith("/admin/guichet/")
    form = {
        "family": str(family.id),
        "method": "cheque",
        "amount_cents": "12,50",
        "csrf_token": csrf_token(agent, "/admin/payment/"),
    }
    assert agent.post("/admin/payment/new/", data=form).status_code == 302
    assert payments() == 0


# --- Refunds --------------------------------------------------------------------------


@pytest.fixture
def cheque(family, owing, staff):
    return counter.record_payment(
        family,
        PaymentMethod.CHEQUE,
        7000,
        date(2026, 11, 20),
        "Chèque 7",
        [i.id for i in owing[:2]],
        staff,
        NOW,
    )


def refund_form(client, payment, **fields) -> dict:
    return {
        "payment": str(payment.id),
        "amount": "20,00",
        "reason": "Trop perçu",
        "csrf_token": csrf_token(client, f"/admin/guichet/rembourser?payment={payment.id}"),
        **fields,
    }


def test_the_refund_action_opens_the_refund_form(agent, cheque):
    token = csrf_token(agent, "/admin/payment/")
    response = agent.post(
        "/admin/payment/action/",
        data={"action": "refund", "rowid": [str(cheque.id)], "csrf_token": token},
    )
    assert response.headers["Location"].endswith(f"/admin/guichet/rembourser?payment={cheque.id}")
    page = text(agent.get(response.headers["Location"]))
    assert "Au plus 70,00" in page and 'id="refund-form"' in page


def test_a_payments_page_opens_its_refund_form_while_something_is_left(agent, cheque):
    details = f"/admin/payment/details/?id={cheque.id}"
    page = text(agent.get(details))
    assert "Factures réglées" in page and "2026-000002 : 30,00" in page
    link = f'href="/admin/guichet/rembourser?payment={cheque.id}">Rembourser ce règlement</a>'
    assert link in page

    form = refund_form(agent, cheque, amount="70,00")
    assert agent.post("/admin/guichet/rembourser", data=form).status_code == 302
    assert "Rembourser ce règlement" not in text(agent.get(details))


def test_a_refund_through_the_back_office(agent, cheque, owing):
    response = agent.post("/admin/guichet/rembourser", data=refund_form(agent, cheque))

    assert response.status_code == 302
    db.session.expire_all()
    assert cheque.refunded_cents == 2000
    assert ledger.due_cents(owing[:2]) == {owing[0].id: 0, owing[1].id: 2000}
    assert "Remboursement de 20,00" in text(agent.get(response.headers["Location"]))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"amount": "70,01"}, "Au plus 70,00"),
        ({"amount": "0"}, "supérieur à 0,00"),
        ({"amount": "1e30"}, "Montant trop élevé"),
        ({"reason": " "}, "motif"),
    ],
)
def test_a_bad_refund_is_refused_in_french(agent, cheque, fields, message):
    response = agent.post("/admin/guichet/rembourser", data=refund_form(agent, cheque, **fields))

    assert response.status_code == 200
    assert message in text(response)
    db.session.expire_all()
    assert cheque.refunded_cents == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "refund")) == 0


@pytest.fixture
def mollie(app):
    with simulated_mollie(app, MollieSimulator(post=post_to(app))) as running:
        yield running


@pytest.fixture
def paid_online(family, owing, mollie):
    """70,00 € paid online for the family's two invoices."""
    payment = online_payments.start_online_payment(family, [i.id for i in owing[:2]], NOW)
    mollie.choose(payment.mollie_id, "paid")
    return fresh(payment)


def online_refund_form(client, payment, **fields) -> dict:
    page = client.get(f"/admin/guichet/rembourser?payment={payment.id}").get_data(as_text=True)
    [key] = re.findall(r'name="refund_key" value="([^"]+)"', page)
    return {**refund_form(client, payment), "refund_key": key, **fields}


def test_an_online_payment_is_refunded_through_mollie_from_the_back_office(
    agent, family, owing, paid_online, mollie
):
    page = text(agent.get(f"/admin/guichet/rembourser?payment={paid_online.id}"))
    assert 'id="refund-form"' in page and "Au plus 70,00" in page and "Mollie" in page
    form = online_refund_form(agent, paid_online)

    response = agent.post("/admin/guichet/rembourser", data=form)
    again = agent.post("/admin/guichet/rembourser", data=form)  # a double click

    assert (response.status_code, again.status_code) == (302, 302)
    assert [r.cents for r in mollie.payment(paid_online.mollie_id).refunds] == [2000]
    assert fresh(paid_online).refunded_cents == 2000
    assert ledger.due_cents(owing[:2]) == {owing[0].id: 0, owing[1].id: 2000}
    assert ledger.balance_cents(family.id) == 2000
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "refund")) == 1
    assert "Remboursement de 20,00" in text(agent.get(response.headers["Location"]))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"amount": "70,01"}, "Au plus 70,00"),
        ({"amount": "abc"}, "Montant"),
        ({"amount": "1e30"}, "Montant trop élevé"),
        ({"reason": ""}, "motif"),
        ({"refund_key": ""}, "formulaire a expiré"),
        ({"refund_key": "x" * 5000}, "formulaire a expiré"),
    ],
)
def test_a_bad_online_refund_is_refused_in_french(agent, paid_online, mollie, fields, message):
    form = online_refund_form(agent, paid_online, **fields)

    response = agent.post("/admin/guichet/rembourser", data=form)

    assert response.status_code == 200
    assert message in text(response)
    assert mollie.payment(paid_online.mollie_id).refunds == []
    assert fresh(paid_online).refunded_cents == 0


def test_mollie_down_is_a_french_message_and_the_form_refunds_once_later(
    agent, paid_online, mollie
):
    form = online_refund_form(agent, paid_online)
    mollie.set_api_down(True)

    down = agent.post("/admin/guichet/rembourser", data=form)

    assert down.status_code == 200 and "Mollie est injoignable" in text(down)
    assert fresh(paid_online).refunded_cents == 0
    [kept] = re.findall(r'name="refund_key" value="([^"]+)"', text(down))
    assert kept == form["refund_key"]  # sent again, it cannot refund twice
    mollie.set_api_down(False)
    assert agent.post("/admin/guichet/rembourser", data=form).status_code == 302
    assert agent.post("/admin/guichet/rembourser", data=form).status_code == 302
    assert [r.cents for r in mollie.payment(paid_online.mollie_id).refunds] == [2000]
    assert fresh(paid_online).refunded_cents == 2000


def test_an_open_online_payment_shows_no_refund_form(agent, family):
    open_one = Payment(
        family=family,
        method=PaymentMethod.ONLINE,
        status=PaymentStatus.OPEN,
        amount_cents=4000,
        mollie_id="tr_WDqYK6vllg",
    )
    db.session.add(open_one)
    db.session.commit()
    page = text(agent.get(f"/admin/guichet/rembourser?payment={open_one.id}"))
    assert "Seul un règlement encaissé" in page and 'id="refund-form"' not in page


@pytest.mark.parametrize("payment_id", ["", "abc", "9" * 20])
def test_an_unknown_payment_to_refund_is_a_french_message(agent, payment_id):
    response = agent.get(f"/admin/guichet/rembourser?payment={payment_id}", follow_redirects=True)
    assert response.status_code == 200
    assert "Règlement introuvable" in text(response)


# --- Unpaid and reminders -------------------------------------------------------------


def test_the_unpaid_list_counts_filters_and_sorts(agent, family, other_family, owing):
    page = text(agent.get("/admin/impayes/"))
    assert "3 factures impayées, 95,00" in page

    late = text(agent.get("/admin/impayes/?late=15"))
    assert "1 facture impayée, 40,00" in late and "n° 2026-000001" in late

    searched = text(agent.get(f"/admin/impayes/?q={other_family.name}"))
    assert "1 facture impayée" in searched and "n° 2026-000003" in searched

    by_owing = text(agent.get("/admin/impayes/?sort=owing"))
    order = [by_owing.index(f"n° 2026-00000{n}") for n in (1, 2, 3)]
    assert order == sorted(order)


@pytest.mark.parametrize(
    "query", ["late=abc", "late=" + "9" * 20, "late=2147483647", "sort=x", "page=-3", "q=%25"]
)
def test_bad_unpaid_filters_never_give_a_500(agent, owing, query):
    assert agent.get(f"/admin/impayes/?{query}").status_code == 200


def test_reminders_in_bulk_once_a_day(agent, family, other_family, owing):
    token = csrf_token(agent, "/admin/impayes/")
    form = {"ids": [str(invoice.id) for invoice in owing], "csrf_token": token, "late": "1"}

    first = agent.post("/admin/impayes/relancer", data=form, follow_redirects=True)

    assert "Relance envoyée : 3 factures, 2 familles." in text(first)
    alerts = db.session.scalars(select(Alert).where(Alert.kind == AlertKind.INVOICE)).all()
    assert sorted(alert.family_id for alert in alerts) == sorted([family.id, other_family.id])
    again = text(agent.post("/admin/impayes/relancer", data=form, follow_redirects=True))
    assert "Non relancée (facture n° 2026-000001) : déjà relancée aujourd&#39;hui." in again
    assert db.session.scalar(select(func.count()).where(Alert.kind == AlertKind.INVOICE)) == 2


@pytest.mark.parametrize("ids", [[], ["abc"], ["9" * 20]])
def test_a_reminder_without_a_good_invoice_says_so(agent, owing, ids):
    token = csrf_token(agent, "/admin/impayes/")
    response = agent.post(
        "/admin/impayes/relancer", data={"ids": ids, "csrf_token": token}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Cochez au moins une facture" in text(response)
    assert db.session.scalar(select(func.count(Alert.id))) == 0


# --- Exports --------------------------------------------------------------------------


def download(client, path: str) -> list[list[str]]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))


def test_the_exports_download_with_their_headers(agent, family, owing, cheque):
    billed_name = f"Famille {family.name}"
    family.name = "=cmd|' /C calc'!A0"
    db.session.commit()
    period = "start=2026-10-01&end=2026-11-30"

    invoices = download(agent, f"/admin/exports-tresorier/factures.csv?{period}")
    paid = download(agent, f"/admin/exports-tresorier/reglements.csv?{period}")

    assert invoices[0] == list(counter.INVOICE_HEADER)
    assert [row[0] for row in invoices[1:]] == ["2026-000001", "2026-000002", "2026-000003"]
    assert invoices[1][1] == billed_name  # as issued, before the renaming
    assert paid[0] == list(counter.PAYMENT_HEADER)
    assert paid[1][4] == "70,00" and paid[1][1].startswith("'=")


@pytest.mark.parametrize(
    "query, message",
    [
        ("start=2026-11-30&end=2026-10-01", "commence après sa fin"),
        ("start=abc&end=2026-10-01", "deux dates"),
        ("end=" + "9" * 20, "deux dates"),
        ("", "deux dates"),
    ],
)
def test_a_bad_export_period_is_a_french_message(agent, query, message):
    for kind in ("factures", "reglements"):
        response = agent.get(f"/admin/exports-tresorier/{kind}.csv?{query}", follow_redirects=True)
        assert response.status_code == 200
        assert message in text(response)


def test_the_export_page_offers_both_files(agent):
    page = text(agent.get("/admin/exports-tresorier/"))
    assert 'value="2026-11-01"' in page and 'value="2026-11-26"' in page
    assert "/admin/exports-tresorier/factures.csv" in page
    assert "/admin/exports-tresorier/reglements.csv" in page
