"""SECURITY.md check 8: family A reaches none of family B's things, on every route with an id.

The walk covers every rule of app.url_map that takes an integer id, outside /admin and
/static, for GET and POST. A new route with an id parameter this test does not know fails
it, so whoever adds one says which family owns the id.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from extensions import db
from models import (
    Alert,
    BookingStatus,
    Document,
    DocumentType,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    RememberedDevice,
    TaxCertificate,
    utcnow,
)
from services import remembered_devices, resources
from tests import factories
from tests.conftest import csrf_token

B_INVOICE = "2026-000999"
PLAIN_VALUES = {
    "month": "2026-11",
    "day": "2026-11-19",
    "activity_code": "canteen",
    "token": "x" * 43,
}


@pytest.fixture
def b_things(app, other_family):
    """One of everything family B owns, by the route parameter naming its id."""
    year = factories.school_year()
    canteen = factories.activity(options=("standard",))
    child = other_family.children[0]
    registration = factories.registration(child, canteen, year)
    booking = factories.booking(child, canteen, date(2026, 11, 19), BookingStatus.REGISTERED)
    alert = Alert(family_id=other_family.id, kind="booking", message="Secret de B", link="/")
    db.session.add(alert)
    db.session.commit()
    remembered_devices.open_remembered_session(other_family.accounts[0], utcnow(), "", "")
    invoice, payment, certificate = _b_money(other_family)
    document = Document(
        family_id=other_family.id,
        doc_type=DocumentType.HEALTH_SHEET,
        original_name="fiche-de-B.pdf",
        stored_name="b" * 32,
        content_type="application/pdf",
        size_bytes=9,
    )
    db.session.add(document)
    db.session.commit()
    (Path(app.config["UPLOAD_FOLDER"]) / document.stored_name).write_bytes(b"Secret de B")
    return {
        "resource_id": _b_school_resource().id,
        "document_id": document.id,
        "child_id": child.id,
        "guardian_id": other_family.guardians[0].id,
        "registration_id": registration.id,
        "booking_id": booking.id,
        "alert_id": alert.id,
        "device_id": db.session.scalar(select(RememberedDevice.id)),
        "invoice_id": invoice.id,
        "payment_id": payment.id,
        "year": certificate.year,
    }


def _b_school_resource():
    """A published, current file of a school none of A's children attends."""
    therese = factories.school("École Sainte-Thérèse")
    staff = factories.staff_user("agent.walk")
    details = resources.Details("Secret de B", "menus", therese.id)
    return resources.publish_resource(details, resources.Upload("m.pdf", b"%PDF-1.4"), staff, None)


def _b_money(other_family):
    """B's invoice, its online payment and its tax certificate (FINANCES)."""
    invoice = Invoice(
        family_id=other_family.id,
        number=B_INVOICE,
        period_month=date(2026, 10, 1),
        status=InvoiceStatus.ISSUED,
        total_cents=4200,
    )
    payment = Payment(
        family_id=other_family.id,
        method=PaymentMethod.ONLINE,
        status=PaymentStatus.PAID,
        amount_cents=4200,
        allocations=[PaymentAllocation(invoice=invoice, amount_cents=4200)],
    )
    certificate = TaxCertificate(
        family_id=other_family.id, year=2025, total_cents=4200, issued_at=utcnow()
    )
    db.session.add_all([invoice, payment, certificate])
    db.session.commit()
    return invoice, payment, certificate


def id_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/admin", "/static")):
            continue
        if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values()):
            yield rule


def test_every_id_route_refuses_another_familys_ids(app, client, auth, family, b_things):
    auth.login("famille.a")
    token = csrf_token(client, "/compte")
    walked = 0
    for rule in id_rules(app):
        values = {}
        for name in rule.arguments:
            if name in b_things:
                values[name] = b_things[name]
            elif name in PLAIN_VALUES:
                values[name] = PLAIN_VALUES[name]
            else:
                pytest.fail(f"{rule.rule}: say whose id '{name}' is in b_things")
        path = rule.build(values)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(
                path, method=method, data={"csrf_token": token, "action": "book"}
            )
            body = response.get_data(as_text=True)
            assert response.status_code in (403, 404), f"{method} {path}: {response.status_code}"
            assert "Enfant1 B" not in body and "Secret de B" not in body
            assert B_INVOICE not in body
            walked += 1
    assert walked >= 3
