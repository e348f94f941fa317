"""The back office's review of the documents families send (admin_views/documents.py):
accepting a QF certificate records the quotient the tariffs use, a refusal needs its
reason, health documents exist only for staff allowed to see them, and each staff view
of one is journaled (SECURITY.md 30)."""

from __future__ import annotations

import html
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from extensions import db
from models import (
    Alert,
    Attendance,
    AuditEvent,
    Booking,
    Document,
    DocumentStatus,
    DocumentType,
    Family,
    StaffRole,
)
from tests import factories
from tests import uploads_corpus as corpus
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)


@pytest.fixture
def agent(app):
    return factories.staff_user("agent.a", role=StaffRole.AGENT)


@pytest.fixture
def nurse(app):
    staff = factories.staff_user("agent.sante", role=StaffRole.AGENT)
    staff.sees_health_documents = True
    db.session.commit()
    return staff


def received(app, family, doc_type, name="piece.pdf", content=None, child=None) -> Document:
    document = Document(
        family=family,
        child=child,
        doc_type=doc_type,
        original_name=name,
        stored_name=f"{len(name):02d}{name.encode().hex()}"[:32].ljust(32, "0"),
        content_type="image/png" if name.endswith(".png") else "application/pdf",
        size_bytes=10,
    )
    db.session.add(document)
    db.session.commit()
    path = Path(app.config["UPLOAD_FOLDER"]) / document.stored_name
    path.write_bytes(content or corpus.pdf())
    return document


def decide(client, document, **form):
    token = csrf_token(client, "/admin/document/")
    return client.post(
        f"/admin/document/decider/?id={document.id}", data={"csrf_token": token, **form}
    )


def fresh(document) -> Document:
    db.session.expire_all()
    return db.session.get(Document, document.id)


def test_accepting_a_qf_certificate_records_the_quotient_to_the_end_of_the_year(
    app, client, auth, agent, family, pin_clock
):
    pin_clock(NOW)
    qf = received(app, family, DocumentType.QUOTIENT, "qf.pdf")
    auth.login("agent.a")
    page = html.unescape(client.get(f"/admin/document/details/?id={qf.id}").get_data(True))
    assert "Quotient familial inscrit sur l'attestation" in page
    decide(client, qf, decision="approve", quotient="")
    assert fresh(qf).status == DocumentStatus.RECEIVED
    decide(client, qf, decision="approve", quotient="1 250")
    assert fresh(qf).status == DocumentStatus.ACCEPTED
    assert fresh(qf).expires_on == date(2026, 12, 31)
    owner = db.session.get(Family, family.id)
    assert (owner.quotient_familial, owner.quotient_valid_until) == (1250, date(2026, 12, 31))
    changes = [e.changes for e in db.session.scalars(select(AuditEvent)) if e.entity == "Family"]
    assert changes and "1250" in changes[0]


def test_a_qf_certificate_is_not_accepted_in_bulk_without_its_quotient(
    app, client, auth, agent, family
):
    qf = received(app, family, DocumentType.QUOTIENT, "qf.pdf")
    auth.login("agent.a")
    token = csrf_token(client, "/admin/document/")
    response = client.post(
        "/admin/document/action/",
        data={"action": "accept", "rowid": [str(qf.id)], "csrf_token": token},
        follow_redirects=True,
    )
    assert "Indiquez le quotient familial" in html.unescape(response.get_data(True))
    assert fresh(qf).status == DocumentStatus.RECEIVED


def test_a_refusal_needs_a_reason_and_the_family_reads_it(
    app, client, auth, agent, family, pin_clock
):
    pin_clock(NOW)
    insurance = received(app, family, DocumentType.INSURANCE, "assurance.pdf")
    auth.login("agent.a")
    response = decide(client, insurance, decision="refuse", reason="  ")
    assert fresh(insurance).status == DocumentStatus.RECEIVED
    decide(client, insurance, decision="refuse", reason="Attestation de l'an dernier")
    assert response.status_code == 302
    refused = fresh(insurance)
    assert (refused.status, refused.refusal_reason) == (
        DocumentStatus.REFUSED,
        "Attestation de l'an dernier",
    )
    alert = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).one()
    assert "Motif : Attestation de l'an dernier" in alert.message
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    auth.login("famille.a")
    page = html.unescape(client.get("/documents").get_data(True))
    assert "Refusé" in page and "Motif du refus : Attestation de l'an dernier" in page


def test_many_documents_are_refused_with_one_reason(app, client, auth, agent, family):
    first = received(app, family, DocumentType.RIB, "rib.pdf")
    second = received(app, family, DocumentType.OTHER, "autre.pdf")
    auth.login("agent.a")
    token = csrf_token(client, "/admin/document/")
    ids = f"{first.id},{second.id}"
    client.post("/admin/document/refuser/", data={"ids": ids, "reason": "", "csrf_token": token})
    assert fresh(first).status == DocumentStatus.RECEIVED
    client.post(
        "/admin/document/refuser/", data={"ids": ids, "reason": "Illisible", "csrf_token": token}
    )
    assert [fresh(d).refusal_reason for d in (first, second)] == ["Illisible", "Illisible"]


def test_health_documents_are_hidden_from_staff_without_the_right(app, client, auth, agent, family):
    sheet = received(app, family, DocumentType.HEALTH_SHEET, "fiche-sanitaire.pdf")
    received(app, family, DocumentType.RIB, "rib.pdf")
    auth.login("agent.a")
    listing = client.get("/admin/document/").get_data(True)
    assert "rib.pdf" in listing and "fiche-sanitaire.pdf" not in listing
    for path in ("details", "fichier", "apercu"):
        assert client.get(f"/admin/document/{path}/?id={sheet.id}").status_code in (302, 404)
        assert "fiche-sanitaire" not in client.get(f"/admin/document/{path}/?id={sheet.id}").text
    decide(client, sheet, decision="approve")
    assert fresh(sheet).status == DocumentStatus.RECEIVED
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_the_back_office_home_counts_only_the_documents_its_reader_may_see(
    app, client, auth, agent, nurse, family
):
    received(app, family, DocumentType.HEALTH_SHEET, "fiche-sanitaire.pdf")
    received(app, family, DocumentType.RIB, "rib.pdf")

    for username, count in (("agent.a", "1"), ("agent.sante", "2")):
        auth.login(username)
        home = client.get("/admin/").get_data(True)
        card = home[home.index('id="count-documents_to_review"') :]
        assert card.split("<strong", 1)[1].split(">", 1)[1].startswith(count), username
        auth.logout(form_page="/admin/")


def test_each_staff_view_of_a_health_document_is_journaled(app, client, auth, nurse, family):
    photo = corpus.png()
    sheet = received(app, family, DocumentType.MEDICAL_CERTIFICATE, "certificat.png", photo)
    auth.login("agent.sante")
    assert "certificat.png" in client.get("/admin/document/").get_data(True)
    assert client.get(f"/admin/document/details/?id={sheet.id}").status_code == 200
    preview = client.get(f"/admin/document/apercu/?id={sheet.id}")
    download = client.get(f"/admin/document/fichier/?id={sheet.id}")
    assert preview.data == photo and download.data == photo
    assert preview.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor, e.entity, e.entity_id) for e in events] == [
        ("view", "agent.sante", "Document", str(sheet.id)),
        ("preview", "agent.sante", "Document", str(sheet.id)),
        ("download", "agent.sante", "Document", str(sheet.id)),
    ]


def test_an_admin_lets_an_agent_see_health_documents(app, client, auth, agent, family):
    factories.staff_user("admin.a", role=StaffRole.ADMIN)
    sheet = received(app, family, DocumentType.HEALTH_SHEET, "fiche-sanitaire.pdf")
    auth.login("admin.a")
    path = f"/admin/staffuser/edit/?id={agent.id}"
    form = {
        "csrf_token": csrf_token(client, path),
        "username": "agent.a",
        "full_name": "Agent agent.a",
        "email": "agent.a@mairie.example",
        "role": "agent",
        "sees_health_documents": "y",
    }
    assert client.post(path, data=form).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    auth.login("agent.a")
    assert "fiche-sanitaire.pdf" in client.get("/admin/document/").get_data(True)
    assert client.get(f"/admin/document/details/?id={sheet.id}").status_code == 200


def test_an_accepted_medical_certificate_justifies_its_absence(
    app, client, auth, nurse, family, pin_clock
):
    pin_clock(NOW)
    factories.school_year()
    canteen = factories.activity(options=("standard",))
    child = family.children[0]
    absence = factories.booking(child, canteen, date(2026, 11, 5))
    absence.attendance = Attendance.ABSENCE_DECLARED
    db.session.commit()
    certificate = received(app, family, DocumentType.MEDICAL_CERTIFICATE, "certif.pdf", None, child)
    certificate.booking_id = absence.id
    db.session.commit()
    auth.login("agent.sante")
    decide(client, certificate, decision="approve")
    assert fresh(certificate).status == DocumentStatus.ACCEPTED
    assert db.session.get(Booking, absence.id).attendance == Attendance.ABSENT_JUSTIFIED
    alert = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).one()
    assert "L'absence du jeudi 5 novembre 2026 est justifiée" in alert.message
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["approve", "absence-justified"]
