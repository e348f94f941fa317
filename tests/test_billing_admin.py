"""Finances › Facturation in the back office: the month's preview, « Lancer la facturation »
once, a bad month answered in French, and « Émettre un avoir » from the invoice view."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Attendance, InvoiceKind, PaymentMethod, StaffNotice, StaffUser, Tariff
from services import billing, staff_payments
from tests import factories
from tests.conftest import csrf_token
from tests.test_billing import (
    MONDAY,
    NOVEMBER,
    RUN_AT,
    TUESDAY,
    _book,
    _invoices,
    priced,
)

SCREEN = "/admin/facturation/"


@pytest.fixture
def world(booking_world):
    return priced(booking_world)


@pytest.fixture
def agent(client, auth, world, pin_clock):
    pin_clock(RUN_AT)
    factories.staff_user("agent.a")
    auth.login("agent.a")
    return client


def _run_on_screen(client, month="2026-11"):
    token = csrf_token(client, f"{SCREEN}?month=2026-11")
    return client.post(
        f"{SCREEN}lancer", data={"csrf_token": token, "month": month}, follow_redirects=True
    )


def test_the_screen_previews_the_month_per_family(agent, world):
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.ABSENT_JUSTIFIED)
    _book(world.a, world.canteen, TUESDAY, attendance=Attendance.ABSENCE_DECLARED)

    page = agent.get(f"{SCREEN}?month=2026-11").get_data(as_text=True)

    assert "Facturation novembre 2026" in page
    assert "1 facture à émettre, 3,00\u00a0€ en tout." in page
    assert "Restaurant scolaire (standard) — Enfant1 A" in page
    assert (
        "lundi 16 novembre — Enfant1 A, Restaurant scolaire (standard) : absence justifiée" in page
    )
    assert "Absence déclarée non examinée" in page
    assert "Lancer la facturation" in page
    assert _invoices() == []


def test_the_screen_runs_the_month_once(agent, world):
    _book(world.a, world.canteen, MONDAY)

    first = _run_on_screen(agent).get_data(as_text=True)
    second = _run_on_screen(agent).get_data(as_text=True)

    assert "1 facture émise, n° 2026-000001 à 2026-000001" in first
    assert "Déjà facturée : n° 2026-000001" in first
    assert "Aucune facture émise : rien n&#39;a changé" in second
    assert len(_invoices()) == 1


@pytest.mark.parametrize("month", ["2026-13", "nov", "0000-01", "2026-11-01", "9" * 40])
def test_a_bad_month_on_the_screen_gets_a_french_message(agent, world, month):
    _book(world.a, world.canteen, MONDAY)

    shown = agent.get(f"{SCREEN}?month={month}")
    ran = _run_on_screen(agent, month)

    assert shown.status_code == ran.status_code == 200
    assert "Mois invalide" in shown.get_data(as_text=True)
    assert "Facturation non lancée : Mois invalide" in ran.get_data(as_text=True)
    assert _invoices() == []


def test_running_needs_the_csrf_token(agent, world):
    _book(world.a, world.canteen, MONDAY)

    response = agent.post(f"{SCREEN}lancer", data={"month": "2026-11"})

    assert response.status_code == 400
    assert _invoices() == []


def test_families_never_reach_the_screen(client, auth, world):
    auth.login("famille.a")

    assert client.get(SCREEN).status_code == 404
    assert client.get(f"{SCREEN}avoir?invoice=1").status_code == 404


def test_a_credit_note_is_issued_from_the_invoice_view(agent, world):
    _book(world.a, world.canteen, MONDAY)
    _book(world.a, world.canteen, TUESDAY)
    billing.run_billing(NOVEMBER, RUN_AT)
    (invoice,) = _invoices()
    details = agent.get(f"/admin/invoice/details/?id={invoice.id}").get_data(as_text=True)
    assert f"{SCREEN}avoir?invoice={invoice.id}" in details

    token = csrf_token(agent, f"{SCREEN}avoir?invoice={invoice.id}")
    refused = agent.post(
        f"{SCREEN}avoir",
        data={"csrf_token": token, "invoice": invoice.id, "amount": "6,01", "reason": "Geste"},
    ).get_data(as_text=True)
    done = agent.post(
        f"{SCREEN}avoir",
        data={"csrf_token": token, "invoice": invoice.id, "amount": "2,50", "reason": "Geste"},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert "Avoir non émis : L&#39;avoir ne peut pas dépasser" in refused
    assert "Avoir n° 2026-000002 de 2,50\u00a0€ émis sur la facture n° 2026-000001" in done
    (note,) = _invoices(InvoiceKind.CREDIT_NOTE)
    assert note.total_cents == 250


def test_a_paid_invoice_takes_a_credit_note_and_staff_are_told_what_to_refund(agent, world):
    _book(world.a, world.canteen, MONDAY)
    _book(world.a, world.canteen, TUESDAY)
    billing.run_billing(NOVEMBER, RUN_AT)
    (invoice,) = _invoices()
    staff = db.session.scalar(select(StaffUser))
    cash = staff_payments.record_payment(
        world.family,
        PaymentMethod.CASH,
        invoice.total_cents,
        RUN_AT.date(),
        "",
        [invoice.id],
        staff,
        RUN_AT,
    )
    form_url = f"{SCREEN}avoir?invoice={invoice.id}"
    page = agent.get(form_url).get_data(as_text=True)
    assert 'id="credit-note-form"' in page and "rembourser" in page.lower()

    data = {"csrf_token": csrf_token(agent, form_url), "invoice": invoice.id, "reason": "Grève"}
    done = agent.post(f"{SCREEN}avoir", data={**data, "amount": "2,50"}, follow_redirects=True)

    assert "2,50\u00a0€ déjà payés sont à rembourser depuis le règlement" in done.get_data(
        as_text=True
    )
    (notice,) = db.session.scalars(select(StaffNotice)).all()
    assert notice.kind == billing.CREDIT_TO_REFUND
    notices = agent.get("/admin/staffnotice/").get_data(as_text=True)
    assert "À rembourser à la famille" in notices
    assert "Avoir sur une facture payée : à rembourser" in notices  # not « credit-to-refund »
    refund_form = agent.get(f"/admin/guichet/rembourser?payment={cash.id}").get_data(as_text=True)
    assert "2,50\u00a0€ de ce règlement ne sont affectés à aucune facture" in refund_form


def test_staff_mark_a_notice_as_dealt_with(agent, world):
    family = world.family
    notices = [
        StaffNotice(kind=kind, message=f"Anomalie {kind}", family_id=family.id)
        for kind in ("amount-mismatch", "chargeback")
    ]
    db.session.add_all(notices)
    db.session.commit()
    token = csrf_token(agent, "/admin/staffnotice/")
    form = {"action": "resolve", "rowid": [str(notices[0].id)], "csrf_token": token}

    done = agent.post("/admin/staffnotice/action/", data=form, follow_redirects=True)

    assert "1 anomalie traitée" in done.get_data(as_text=True)
    db.session.expire_all()
    assert notices[0].resolved_at is not None and notices[1].resolved_at is None
    assert db.session.get(StaffUser, notices[0].resolved_by_id).username == "agent.a"
    again = agent.post("/admin/staffnotice/action/", data=form, follow_redirects=True)
    assert "0 anomalies traitées" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("invoice", "amount"), [("abc", "1,00"), ("999999", "1,00"), (None, "1,00"), ("1", "1,001")]
)
def test_a_bad_credit_note_form_gets_a_french_message(agent, world, invoice, amount):
    _book(world.a, world.canteen, MONDAY)
    billing.run_billing(NOVEMBER, RUN_AT)
    token = csrf_token(agent, SCREEN)
    data = {"csrf_token": token, "amount": amount, "reason": "Geste"}
    if invoice is not None:
        data["invoice"] = invoice

    response = agent.post(f"{SCREEN}avoir", data=data, follow_redirects=True)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Facture introuvable" in page or "Avoir non émis : Montant invalide" in page
    assert _invoices(InvoiceKind.CREDIT_NOTE) == []


# --- Tariffs --------------------------------------------------------------------------------


def _tariff_form(client, world, **fields):
    form = {
        "activity": str(world.canteen.id),
        "label": "Repas sans viande",
        "qf_min": "0",
        "qf_max": "999999",
        "unit_price_cents": "3,10",
        "valid_from": "2026-09-01",
        "csrf_token": csrf_token(client, "/admin/tariff/new/"),
        **fields,
    }
    return client.post("/admin/tariff/new/", data=form, follow_redirects=True)


def test_staff_price_an_option_with_its_penalty_prices(agent, world):
    veggie = world.canteen.options[1]

    _tariff_form(agent, world, option=str(veggie.id), walk_in_price_cents="6,50")

    tariff = db.session.scalar(select(Tariff).where(Tariff.option_id == veggie.id))
    assert (tariff.unit_price_cents, tariff.walk_in_price_cents) == (310, 650)
    assert tariff.late_cancel_price_cents is None
    listing = agent.get("/admin/tariff/").get_data(as_text=True)
    assert "Restaurant scolaire — sans-viande" in listing and "prix unitaire" in listing


def test_an_option_of_another_activity_is_refused(agent, world):
    page = _tariff_form(agent, world, option=str(world.care.options[0].id))

    assert "n&#39;est pas une formule de la prestation choisie" in page.get_data(as_text=True)
    assert db.session.scalar(select(Tariff).where(Tariff.option_id.is_not(None))) is None
