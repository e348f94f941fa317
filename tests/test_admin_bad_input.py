"""SECURITY.md checks 13 and 14 in the back office: bad input gets a French message, never a 500.

Each case below answered 500 before its fix. A value the database cannot hold is refused
before the query (ranges on ids, pages, integer fields and amounts); a change the database
refuses anyway (a constraint) comes back as a French message, without SQL on the screen
nor the row's values (names, addresses) in the log.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import func, select

from models import Activity, Closure, Payment, StaffRole
from tests import factories
from tests.conftest import csrf_token

TWENTY_DIGITS = "9" * 20
SQL_WORDS = ("INSERT", "SELECT", "UPDATE", "sqlite3", "psycopg", "[parameters")


@pytest.fixture
def admin_client(app, client, auth, family):
    factories.staff_user("admin.a", role=StaffRole.ADMIN)
    year = factories.school_year()
    canteen = factories.activity(options=("standard",))
    factories.registration(family.children[0], canteen, year)
    factories.booking(family.children[0], canteen, date(2026, 11, 19))
    auth.login("admin.a")
    return client


GETS = [
    f"/admin/family/?page={TWENTY_DIGITS}",
    "/admin/booking/?flt0_statut_equals=inconnu",
    f"/admin/family/?flt0_quotient_familial_equals={TWENTY_DIGITS}",
    f"/admin/family/edit/?id={TWENTY_DIGITS}",
    f"/admin/family/details/?id={TWENTY_DIGITS}",
    "/admin/family/details/?id=2147483648",
    f"/admin/demandes/?school={TWENTY_DIGITS}",
    "/admin/pointage/?date=9999-12-31",
    "/admin/pointage/liste?date=9999-12-31",
    # A pasted text of 1,200 words: one condition per word went past SQLite's expression limit.
    "/admin/outboxemail/?search=" + "+".join(f"mot{n}" for n in range(1200)),
]


@pytest.mark.parametrize("url", GETS)
def test_a_bad_query_string_never_gives_a_500(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code in (200, 302, 404), response.status_code
    body = admin_client.get(response.headers["Location"]) if response.status_code == 302 else None
    for page in (response, body):
        if page is not None:
            text = page.get_data(as_text=True)
            assert not any(word in text for word in SQL_WORDS)
            assert "Traceback" not in text


POSTS = [
    ("/admin/familyaccount/action/", {"action": "invite", "rowid": ["abc"]}),
    ("/admin/familyaccount/action/", {"action": "invite", "rowid": [TWENTY_DIGITS]}),
    ("/admin/newsitem/action/", {"action": "delete", "rowid": ["abc", TWENTY_DIGITS]}),
    ("/admin/demandes/decider", {"decision": "approve", "ids": ["abc", TWENTY_DIGITS]}),
    ("/admin/absences/decider", {"decision": f"justified:{TWENTY_DIGITS}"}),
    ("/admin/pointage/marquer", {"booking": TWENTY_DIGITS}),
]


@pytest.mark.parametrize("url, fields", POSTS)
def test_bad_row_ids_never_give_a_500(admin_client, url, fields):
    token = csrf_token(admin_client, "/admin/family/new/")
    response = admin_client.post(url, data={**fields, "csrf_token": token})
    assert response.status_code in (302, 400, 404), response.status_code


def payment_form(client, family, **fields) -> dict:
    """The counter's form (admin_views.payments) for the family's first invoice."""
    from tests.test_admin_payments import make_invoice

    invoice = make_invoice(family, 10, 3000, "2026-000002")
    return {
        "family": str(family.id),
        "ids": [str(invoice.id)],
        "method": "cheque",
        "amount": "12,50",
        "received_on": "2026-11-26",
        "reference": "Chèque n° 1",
        "csrf_token": csrf_token(client, f"/admin/guichet/?family={family.id}"),
        **fields,
    }


def payments() -> int:
    from extensions import db

    return db.session.scalar(select(func.count(Payment.id)))


def test_an_amount_of_1e30_is_refused_in_french(admin_client, family):
    response = admin_client.post(
        "/admin/guichet/enregistrer", data=payment_form(admin_client, family, amount="1e30")
    )
    assert response.status_code == 200
    assert "Montant trop élevé" in response.get_data(as_text=True)
    assert payments() == 0


@pytest.mark.parametrize(
    "field, value",
    [("booking_deadline_days", TWENTY_DIGITS), ("sort_order", "-1"), ("sort_order", "9" * 400)],
)
def test_integer_fields_carry_a_range(admin_client, field, value):
    form = {
        "code": "ete",
        "name": "Centre d'été",
        "validation_mode": "automatic",
        "booking_deadline_days": "2",
        "booking_deadline_time": "10:00",
        "cancel_deadline_days": "2",
        "cancel_deadline_time": "10:00",
        "sort_order": "3",
        "csrf_token": csrf_token(admin_client, "/admin/activity/new/"),
    }
    response = admin_client.post("/admin/activity/new/", data={**form, field: value})
    assert response.status_code == 200
    assert "compris entre" in response.get_data(as_text=True)
    from extensions import db

    assert db.session.scalar(select(func.count()).where(Activity.code == "ete")) == 0


def test_a_refused_change_is_french_without_sql_on_screen_or_values_in_the_log(
    admin_client, caplog
):
    """A closure ending before it starts breaks the table's check: the database refuses it."""
    reason = "Grève, voir Mme Dupont-Secret, 12 rue des Lilas"
    caplog.set_level(logging.DEBUG)
    form = {
        "starts_on": "2026-12-04",
        "ends_on": "2026-12-01",
        "reason": reason,
        "csrf_token": csrf_token(admin_client, "/admin/closure/new/"),
    }
    response = admin_client.post("/admin/closure/new/", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "pas été enregistrée" in body
    assert not any(word in body for word in SQL_WORDS)
    assert "Dupont-Secret" not in caplog.text
    from extensions import db

    assert db.session.scalar(select(func.count(Closure.id))) == 0
