"""DOCUMENTS as a family uses it: what is missing or expiring, each document's status in
French, a medical certificate for a declared absence, the checked download, and a page
whose query count does not grow with the documents."""

from __future__ import annotations

import html
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from extensions import db
from models import Attendance, Booking, BookingStatus, Document, DocumentStatus, DocumentType
from tests import factories
from tests import uploads_corpus as corpus
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)


@pytest.fixture
def signed_in(client, auth, family, pin_clock):
    pin_clock(NOW)
    auth.login("famille.a")
    return client


def page(client) -> str:
    return html.unescape(client.get("/documents").get_data(as_text=True))


def send(client, doc_type: str, name="certificat.pdf", **fields):
    data = {
        "csrf_token": csrf_token(client, "/documents"),
        "doc_type": doc_type,
        "upload": (io.BytesIO(corpus.pdf()), name),
        **fields,
    }
    return client.post("/documents", data=data, content_type="multipart/form-data")


def on_file(family, doc_type, status, expires_on=None, child=None, name="a.pdf") -> Document:
    document = Document(
        family_id=family.id,
        child=child,
        doc_type=doc_type,
        status=status,
        original_name=name,
        stored_name=f"{name.encode().hex()}".ljust(32, "0")[:32],
        content_type="application/pdf",
        size_bytes=10,
        expires_on=expires_on,
    )
    db.session.add(document)
    db.session.commit()
    return document


def test_what_is_missing_is_listed_until_sent(signed_in, family):
    text = page(signed_in)
    assert "Attestation de quotient familial (pour 2026) : à envoyer" in text
    assert "le tarif le plus élevé s'applique" in text
    assert "Attestation d'assurance (pour l'année scolaire) : à envoyer" in text
    assert "Fiche sanitaire (Enfant1) : à envoyer" in text
    assert "Fiche sanitaire (Enfant2) : à envoyer" in text
    child = family.children[0]
    on_file(family, DocumentType.QUOTIENT, DocumentStatus.ACCEPTED, date(2026, 11, 30))
    on_file(family, DocumentType.INSURANCE, DocumentStatus.RECEIVED, name="b.pdf")
    on_file(family, DocumentType.HEALTH_SHEET, DocumentStatus.REFUSED, child=child, name="c.pdf")
    text = page(signed_in)
    assert "quotient familial (pour 2026) : à envoyer" not in text
    assert "Attestation de quotient familial (pour 2026) : expire le lundi 30 novembre" in text
    assert "Attestation d'assurance (pour l'année scolaire)" not in text
    assert "Fiche sanitaire (Enfant1) : à envoyer" in text


def test_each_document_shows_its_type_name_date_and_status_in_french(signed_in, family):
    on_file(family, DocumentType.RIB, DocumentStatus.ACCEPTED, name="rib.pdf")
    on_file(family, DocumentType.INSURANCE, DocumentStatus.EXPIRED, name="vieille.pdf")
    assert send(signed_in, "quotient-familial", "qf-2026.pdf").status_code == 303
    text = page(signed_in)
    assert "Document reçu : qf-2026.pdf" in text
    for words in ("RIB", "Accepté", "Expiré", "Reçu", "qf-2026.pdf", "envoyé le lundi 9 novembre"):
        assert words in text


def test_a_health_document_names_the_child(signed_in, family):
    response = send(signed_in, "health-sheet")
    assert "Indiquez l'enfant concerné" in html.unescape(response.get_data(as_text=True))
    child = family.children[1]
    assert send(signed_in, "health-sheet", child=str(child.id)).status_code == 303
    assert db.session.scalar(select(Document.child_id)) == child.id


@pytest.fixture
def absences(family, other_family):
    """A declared absence of family A's first child, and one of family B's child."""
    factories.school_year()
    canteen = factories.activity(options=("standard",))
    found = []
    for child in (family.children[0], other_family.children[0]):
        booking = factories.booking(child, canteen, date(2026, 11, 5), BookingStatus.REGISTERED)
        booking.attendance = Attendance.ABSENCE_DECLARED
        found.append(booking)
    db.session.commit()
    return found


def test_a_medical_certificate_justifies_one_of_the_familys_declared_absences(
    signed_in, family, absences
):
    own, others = absences
    text = page(signed_in)
    assert "Enfant1 — jeudi 5 novembre 2026 (Restaurant scolaire)" in text
    response = send(signed_in, "medical-certificate", absence=str(others.id))
    assert "Choisissez l'absence dans la liste" in html.unescape(response.get_data(as_text=True))
    response = send(signed_in, "rib", absence=str(own.id))
    assert "Seul un certificat médical justifie une absence" in html.unescape(
        response.get_data(as_text=True)
    )
    assert db.session.scalar(select(Document.id)) is None
    assert send(signed_in, "medical-certificate", absence=str(own.id)).status_code == 303
    document = db.session.scalars(select(Document)).one()
    assert (document.booking_id, document.child_id) == (own.id, own.child_id)


def test_a_family_downloads_its_own_document_only(app, signed_in, family, other_family):
    mine = on_file(family, DocumentType.RIB, DocumentStatus.RECEIVED, name="mon-rib.pdf")
    theirs = on_file(other_family, DocumentType.RIB, DocumentStatus.RECEIVED, name="leur.pdf")
    for document in (mine, theirs):
        Path(app.config["UPLOAD_FOLDER"], document.stored_name).write_bytes(corpus.pdf())
    response = signed_in.get(f"/documents/{mine.id}/fichier")
    assert response.status_code == 200 and response.data == corpus.pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=mon-rib.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in response.headers["Cache-Control"]
    assert signed_in.get(f"/documents/{theirs.id}/fichier").status_code == 404


def test_the_page_costs_the_same_queries_for_two_or_twelve_documents(signed_in, family):
    def queries() -> int:
        with factories.counted_queries() as statements:
            assert signed_in.get("/documents").status_code == 200
        return len(statements)

    for index in range(2):
        on_file(family, DocumentType.OTHER, DocumentStatus.RECEIVED, name=f"a{index}.pdf")
    few = queries()
    for index in range(10):
        on_file(family, DocumentType.OTHER, DocumentStatus.ACCEPTED, name=f"b{index}.pdf")
    assert queries() == few


@pytest.fixture
def booked_day(family, other_family, pin_clock):
    """Enfant1 booked at the canteen on Thursday 19 November; 7:30 that morning in Paris."""
    pin_clock(datetime(2026, 11, 19, 6, 30))
    canteen, _care = factories.portal_activities(family, other_family)
    child = family.children[0]
    factories.booking(child, canteen, date(2026, 11, 19), BookingStatus.REGISTERED)
    return child


def declare(client, child, certificate: tuple[bytes, str] | None):
    data = {
        "csrf_token": csrf_token(client, "/reservations/absence"),
        "child": str(child.id),
        "start": "2026-11-19",
        "reason": "maladie",
    }
    if certificate:
        data["certificate"] = (io.BytesIO(certificate[0]), certificate[1])
    return client.post("/reservations/absence", data=data, content_type="multipart/form-data")


def test_the_absence_form_takes_the_medical_certificate_too(client, auth, booked_day):
    auth.login("famille.a")
    response = declare(client, booked_day, (corpus.jpeg_with_gps(), "certificat.jpg"))
    assert response.status_code == 302
    notice = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Certificat médical reçu" in notice
    document = db.session.scalars(select(Document)).one()
    absence = db.session.get(Booking, document.booking_id)
    assert document.doc_type == DocumentType.MEDICAL_CERTIFICATE
    assert (absence.child_id, absence.attendance) == (booked_day.id, Attendance.ABSENCE_DECLARED)


def test_a_refused_certificate_leaves_the_absence_undeclared(app, client, auth, booked_day):
    auth.login("famille.a")
    response = declare(client, booked_day, (corpus.HTML, "certificat.pdf"))
    assert "page web" in html.unescape(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.scalar(select(Booking.attendance)) is None
    assert db.session.scalar(select(Document.id)) is None
    assert list(Path(app.config["UPLOAD_FOLDER"]).iterdir()) == []
