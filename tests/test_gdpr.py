"""SECURITY.md check 32: a family downloads all its data, and nothing else; staff anonymise a
family that has left, keeping what accounting law requires (services.gdpr)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from extensions import db
from models import (
    AccountToken,
    Alert,
    AuditEvent,
    AuthSession,
    BookingStatus,
    ChangeRequest,
    Child,
    Document,
    DocumentType,
    Family,
    FamilyAccount,
    Guardian,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    RememberedDevice,
    StaffRole,
    TaxCertificate,
    TokenPurpose,
)
from services import (
    accounts,
    audit,
    change_requests,
    finance_documents,
    gdpr,
    notifications,
    remembered_devices,
)
from tests import factories
from tests.conftest import csrf_token
from tests.test_pdf_documents import pages_text

NOW = datetime(2026, 11, 26, 8, 0)
STORED = "f" * 32


def bill(family: Family, number: str, cents: int, child: Child, month: int = 10) -> Invoice:
    """A paid invoice, issued as services.billing issues one: to the family of that day."""
    invoice = Invoice(
        **finance_documents.billed_identity(family),
        family_id=family.id,
        number=number,
        period_month=date(2026, month, 1),
        status=InvoiceStatus.PAID,
        issued_at=datetime(2026, 11, 2, 9),
        total_cents=cents,
        lines=[
            InvoiceLine(
                child_id=child.id,
                label=f"Restaurant scolaire — {child}",  # as services.billing writes it
                unit_price_cents=cents // 4,
                quantity=4,
                amount_cents=cents,
            )
        ],
    )
    payment = Payment(
        family_id=family.id,
        method=PaymentMethod.CHEQUE,
        amount_cents=cents,
        received_on=date(2026, 11, 5),
        reference="Chèque 1234567",
        allocations=[PaymentAllocation(invoice=invoice, amount_cents=cents)],
    )
    db.session.add_all([invoice, payment])
    db.session.commit()
    return invoice


@pytest.fixture
def full(app, family, other_family):
    """Family A with one of every kind of data (and B with its own, never exported to A)."""
    year = factories.school_year()
    canteen = factories.activity(options=("standard",))
    child = family.children[0]
    child.allergies, child.pickup_people = "Arachide", "Mamie Jo"
    child.health_note, child.diet_note = "Asthme léger", "Sans porc"
    family.address_line, family.postcode = "3 rue des Lilas", "35000"
    family.guardians[0].phone_mobile = "06 12 34 56 78"
    other_family.guardians[0].phone_mobile = "07 99 99 99 99"
    other_family.children[0].allergies = "Secret de B"
    db.session.commit()
    factories.registration(child, canteen, year)
    factories.booking(child, canteen, date(2026, 10, 15))
    bill(family, "2026-000101", 1200, child)
    bill(other_family, "2026-000999", 999, other_family.children[0])
    (upload_folder := Path(app.config["UPLOAD_FOLDER"])).mkdir(parents=True, exist_ok=True)
    (upload_folder / STORED).write_bytes(b"%PDF-1.4 attestation")
    db.session.add_all(
        [
            TaxCertificate(family_id=family.id, year=2025, total_cents=800, issued_at=NOW),
            Document(
                family_id=family.id,
                doc_type=DocumentType.QUOTIENT,
                original_name="attestation-caf.pdf",
                stored_name=STORED,
                content_type="application/pdf",
                size_bytes=20,
            ),
        ]
    )
    notifications.notify(family, "booking", "Réservation enregistrée", "/reservations", NOW)
    db.session.commit()
    change_requests.request_changes(family, "Family", family.id, {"city": "Rennes"}, NOW)
    account = family.accounts[0]
    remembered_devices.open_remembered_session(account, NOW, "", "")
    accounts.issue_token(account, TokenPurpose.RESET, NOW, timedelta(hours=2))
    db.session.commit()
    return family


def download(client) -> tuple[dict, str, object]:
    response = client.get("/compte/mes-donnees")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["mes-donnees.html", "mes-donnees.json"]
    data = json.loads(archive.read("mes-donnees.json"))
    return data, archive.read("mes-donnees.html").decode(), response


def test_the_download_holds_every_kind_of_the_familys_data(client, auth, full):
    auth.login("famille.a")
    data, summary, response = download(client)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/zip"
    for section in gdpr.SECTIONS:
        assert data[section.key], f"nothing in {section.key}"
        assert f"<h2>{section.title}</h2>" in summary
    assert data["family"][0]["address_line"] == "3 rue des Lilas"
    assert data["guardians"][0]["phone_mobile"] == "06 12 34 56 78"
    child = data["children"][0]
    assert (child["allergies"], child["pickup_people"], child["health_note"]) == (
        "Arachide",
        "Mamie Jo",
        "Asthme léger",
    )
    assert data["invoices"][0]["number"] == "2026-000101"
    assert data["payment_allocations"][0] == {
        "payment": 1,
        "invoice": "2026-000101",
        "amount_cents": 1200,
    }
    assert data["change_requests"][0]["new_value"] == "Rennes"
    assert data["documents"][0]["original_name"] == "attestation-caf.pdf"
    for shown in ("3 rue des Lilas", "Mamie Jo", "12,00", "attestation-caf.pdf", "Rennes"):
        assert shown in summary
    assert summary.startswith("<!doctype html>") and 'lang="fr"' in summary


def test_nothing_secret_and_nothing_of_another_family(client, auth, full):
    auth.login("famille.a")
    data, summary, response = download(client)
    text = json.dumps(data) + summary
    secrets = [
        *db.session.scalars(select(FamilyAccount.password_hash)),
        *db.session.scalars(select(AuthSession.token_hash)),
        *db.session.scalars(select(RememberedDevice.series_hash)),
        *db.session.scalars(select(RememberedDevice.token_hash)),
        *db.session.scalars(select(AccountToken.token_hash)),
    ]
    assert len(secrets) >= 5
    for secret in secrets:
        assert secret not in text
    keys = {key for rows in data.values() if isinstance(rows, list) for row in rows for key in row}
    assert "password_changed_at" in keys  # when, never what
    for word in ("hash", "token", "session", "series", "checkout"):
        assert not [key for key in keys if word in key]
    for other in ("2026-000999", "07 99 99 99 99", "Secret de B", "famille.b"):
        assert other not in text


def test_only_a_signed_in_family_downloads(client, auth, full, staff):
    assert client.get("/compte/mes-donnees").status_code == 302
    auth.login("agent.a")
    assert client.get("/compte/mes-donnees").status_code == 302


def test_the_export_reads_the_same_number_of_queries_whatever_the_data(app, family, other_family):
    def queries() -> int:
        db.session.expire_all()
        with factories.counted_queries() as statements:
            gdpr.export_zip(db.session.get(Family, family.id), NOW)
        return len(statements)

    with app.test_request_context():
        year = factories.school_year()
        canteen = factories.activity(options=("standard",))
        bill(family, "2026-000109", 1200, family.children[0], 9)
        few = queries()  # one bill and its payment: their lines and allocations are read
        for child in family.children:
            factories.registration(child, canteen, year)
            for day in (5, 6, 7):
                factories.booking(child, canteen, date(2026, 10, day))
        for month in (10, 11):
            bill(family, f"2026-0001{month}", 1200, family.children[0], month)
        factories.guardian(family, "Sam")
        assert queries() == few <= 14


# --- Anonymisation --------------------------------------------------------------------------------


def anonymise(family, staff):
    return gdpr.anonymise_family(family, staff, NOW, "203.0.113.7")


def test_anonymisation_keeps_the_money_and_erases_the_rest(app, full, staff):
    family_id = full.id
    money_before = db.session.execute(
        select(func.sum(Invoice.total_cents), func.sum(Payment.amount_cents))
        .select_from(Invoice)
        .join(Payment, Payment.family_id == Invoice.family_id)
        .where(Invoice.family_id == family_id)
    ).one()
    anonymise(full, staff)
    db.session.expire_all()
    family = db.session.get(Family, family_id)
    assert family.name == f"Famille anonymisée n° {family_id}"
    assert (family.address_line, family.postcode, family.city) == ("", "", "")
    assert family.anonymised_at == NOW
    guardian = family.guardians[0]
    assert (guardian.first_name, guardian.email, guardian.phone_mobile) == ("Responsable", "", "")
    child = family.children[0]
    assert child.first_name == "Enfant" and "Enfant1" not in child.last_name
    assert (child.allergies, child.pickup_people, child.health_note, child.diet_note) == (
        "",
        "",
        "",
        "",
    )
    for model in (Document, ChangeRequest, Alert):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(model.family_id == family_id)
            )
            == 0
        )
    assert not (Path(app.config["UPLOAD_FOLDER"]) / STORED).exists()
    # Kept, as accounting law requires: the bill, its line, the payment and what it paid.
    invoice = db.session.scalar(select(Invoice).where(Invoice.number == "2026-000101"))
    assert (invoice.family_id, invoice.total_cents, invoice.lines[0].amount_cents) == (
        family_id,
        1200,
        1200,
    )
    assert (
        db.session.scalar(
            select(PaymentAllocation.amount_cents)
            .join(Payment)
            .where(Payment.family_id == family_id)
        )
        == 1200
    )
    assert db.session.scalar(select(func.count(TaxCertificate.id))) == 1
    assert money_before == (1200, 1200)


def test_an_anonymised_familys_invoice_still_reads_whom_it_was_issued_to(full, staff):
    invoice = db.session.scalar(select(Invoice).where(Invoice.number == "2026-000101"))
    billed_child = str(full.children[0])

    anonymise(full, staff)
    db.session.expire_all()
    read = [
        line.strip()
        for line in "\n".join(pages_text(finance_documents.invoice_pdf(invoice))).splitlines()
    ]

    start = read.index("Famille A")
    assert read[start : start + 3] == ["Famille A", "3 rue des Lilas", "35000 Saint-Exemple"]
    assert billed_child in read  # its lines stay under the child's name as billed
    assert not any("anonymisée" in line or "Enfant n°" in line for line in read)


def test_anonymisation_ends_every_login(app, client, auth, full, staff):
    auth.login("famille.a")
    anonymise(full, staff)
    assert client.get("/compte").status_code == 302  # the open session is over
    db.session.expire_all()
    account = full.accounts[0]
    assert (account.is_enabled, account.email, account.password_hash) == (False, "", None)
    assert account.username != "famille.a"
    assert (
        db.session.scalar(
            select(func.count(AuthSession.id)).where(AuthSession.revoked_at.is_(None))
        )
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count(RememberedDevice.id)).where(RememberedDevice.revoked_at.is_(None))
        )
        == 0
    )
    assert db.session.scalar(select(func.count(AccountToken.id))) == 0
    assert auth.login("famille.a").status_code == 200  # the login is gone


def test_anonymisation_is_journaled_without_the_erased_values(full, staff):
    anonymise(full, staff)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "anonymise"))
    assert (event.actor, event.ip, event.entity, event.entity_id) == (
        "agent.a",
        "203.0.113.7",
        "Family",
        str(full.id),
    )
    assert "Lilas" not in event.changes


def test_a_family_with_a_booking_to_come_is_refused(full, staff):
    care = factories.activity("care_evening", "Accueil du soir")
    factories.booking(full.children[1], care, date(2026, 12, 3), BookingStatus.PENDING)
    with pytest.raises(gdpr.GdprError, match="réservation\\(s\\) à venir"):
        anonymise(full, staff)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Family, full.id).name == "A"
    assert db.session.get(Guardian, full.guardians[0].id).phone_mobile == "06 12 34 56 78"


def test_a_family_is_anonymised_once(full, staff):
    anonymise(full, staff)
    with pytest.raises(gdpr.GdprError, match="déjà anonymisée"):
        anonymise(full, staff)


def test_an_admin_anonymises_from_the_family_list_agents_cannot(client, auth, full, staff):
    factories.staff_user("admin.a", StaffRole.ADMIN)
    auth.login("agent.a")
    assert "Anonymiser" not in client.get("/admin/family/").get_data(as_text=True)
    auth.logout(form_page="/admin/")
    auth.login("admin.a")
    token = csrf_token(client, "/admin/family/")
    page = client.post(
        "/admin/family/action/",
        data={"csrf_token": token, "action": "anonymise", "rowid": [str(full.id)]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 famille anonymisée" in page
    db.session.expire_all()
    assert db.session.get(Family, full.id).anonymised_at is not None


def test_the_journal_keeps_who_changed_what_but_not_the_values_of_an_anonymised_family(full, staff):
    guardian, child = full.guardians[0], full.children[0]
    guardian.phone_mobile = "06 98 76 54 32"
    audit.record_change(staff, guardian, created=False, ip=None)
    db.session.commit()
    # A child's pickup people and allergies, changed by the family (accepted) and by staff.
    asked = {"pickup_people": "Tonton Marc", "allergies": "Kiwi"}
    for change in change_requests.request_changes(full, "Child", child.id, asked, NOW):
        change_requests.decide(change, "accept", staff, NOW, None)
    child.pickup_people = "Voisine Léa"
    audit.record_change(staff, child, created=False, ip=None)
    db.session.commit()
    before = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "Guardian"))
    assert "06 98 76 54 32" in before.changes
    child_events = db.session.scalars(
        select(AuditEvent.id).where(AuditEvent.entity == "Child").order_by(AuditEvent.id)
    ).all()
    assert "Tonton Marc" in " ".join(db.session.scalars(select(AuditEvent.changes)))

    anonymise(full, staff)

    db.session.expire_all()
    event = db.session.get(AuditEvent, before.id)
    assert (event.actor, event.entity_id) == ("agent.a", str(guardian.id))
    assert json.loads(event.changes) == {"phone_mobile": ["(masqué)", "(masqué)"]}
    masked = [json.loads(db.session.get(AuditEvent, id_).changes) for id_ in child_events]
    assert sorted(field for changes in masked for field in changes) == [
        "allergies",
        "pickup_people",
        "pickup_people",
    ]
    assert {tuple(values) for changes in masked for values in changes.values()} == {
        ("(masqué)", "(masqué)")
    }
    journal = " ".join(db.session.scalars(select(AuditEvent.changes)))
    for value in ("06 12 34 56 78", "06 98 76 54 32", "Mamie Jo", "Tonton Marc", "Voisine Léa"):
        assert value not in journal, value
    assert "Kiwi" not in journal and "Arachide" not in journal


def test_a_family_that_still_owes_is_not_anonymised(full, staff):
    invoice = bill(full, "2026-000102", 900, full.children[0], month=11)
    invoice.status = InvoiceStatus.ISSUED
    db.session.execute(delete(PaymentAllocation).where(PaymentAllocation.invoice_id == invoice.id))
    db.session.commit()

    with pytest.raises(gdpr.GdprError, match="doit encore 9,00"):
        anonymise(full, staff)
