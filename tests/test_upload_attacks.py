"""SECURITY.md 16–20: the attack corpus sent to DOCUMENTS, each refused in French with
nothing written to UPLOAD_FOLDER or the database; the good files a family sends accepted,
photos without their GPS position; the quota; 413 over a real HTTP server."""

from __future__ import annotations

import html
import io
import os
from datetime import date, datetime
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select

from extensions import db
from models import Booking, BookingStatus, Document, DocumentStatus
from services.uploads import check_upload
from tests import factories
from tests import uploads_corpus as corpus
from tests.conftest import CSRF_RE, AuthActions, csrf_token
from tests.payments_world import live_server


@pytest.fixture
def folder(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


@pytest.fixture
def signed_in(client, auth, family):
    auth.login("famille.a")
    return client


def send(client, name: str, content: bytes, doc_type: str = "other", **fields):
    data = {
        "csrf_token": csrf_token(client, "/documents"),
        "doc_type": doc_type,
        "upload": (io.BytesIO(content), name),
        **fields,
    }
    return client.post("/documents", data=data, content_type="multipart/form-data")


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def document_count() -> int:
    return db.session.scalar(select(func.count(Document.id)))


NOT_A_DOC = "n'est pas un document Word (.doc) valide"
DOC_MACROS = "Ce fichier Word contient des macros : enregistrez-le en PDF ou en .docx sans macros"
QUOTA_FULL = "Votre espace de documents est plein"

ATTACKS = {
    "html renamed .pdf": ("attestation.pdf", corpus.HTML, "page web"),
    "x.pdf.html": ("x.pdf.html", corpus.HTML, "type de fichier n'est pas accepté"),
    "x.php.pdf holding php": ("x.php.pdf", b"<?php system($_GET['c']); ?>", "ne correspond pas"),
    "a png sent as .pdf": ("scan.pdf", corpus.png(), "ne correspond pas à son extension"),
    "an empty file": ("vide.pdf", b"", "Le fichier est vide"),
    "a docx zip bomb": ("bombe.docx", corpus.docx_bomb(), "anormalement compressé"),
    "a docx with too many entries": ("trop.docx", corpus.docx_many_entries(), "trop d'éléments"),
    "a docx with ../ entries": ("sortie.docx", corpus.docx_escaping(), "mal formé"),
    "../../app.py as a name": ("../../app.py", b"print('pwned')\n", "n'est pas accepté"),
    "an image decompression bomb": ("photo.png", corpus.png_bomb(), "trop de pixels"),
    "an svg with script": ("dessin.svg", corpus.SVG, "n'est pas accepté"),
    "an svg with script named .png": ("dessin.png", corpus.SVG, "page web ou une image SVG"),
    "a docx that is no zip": ("faux.docx", corpus.pdf(), "ne correspond pas"),
    "a .doc that is only an OLE2 header": ("vide.doc", corpus.ole2_header_only(), NOT_A_DOC),
    "an .xls renamed .doc": ("tableau.doc", corpus.spreadsheet(), NOT_A_DOC),
    "an Outlook .msg renamed .doc": ("message.doc", corpus.outlook_message(), NOT_A_DOC),
    "a workbook holding a Word document": (
        "objet.doc",
        corpus.word_doc_embedded_in_spreadsheet(),
        NOT_A_DOC,
    ),
    "a .doc with Word macros": ("macro.doc", corpus.word_doc_with_macros(), DOC_MACROS),
    "a .doc with a VBA project as Excel keeps it": (
        "macro.doc",
        corpus.word_doc_with_excel_style_macros(),
        DOC_MACROS,
    ),
}


@pytest.mark.parametrize("name, content, message", ATTACKS.values(), ids=ATTACKS.keys())
def test_each_attack_is_refused_in_french_and_leaves_nothing(
    signed_in, folder, name, content, message
):
    before = listing(folder)
    response = send(signed_in, name, content)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert message in body
    assert "flash-error" in body
    assert listing(folder) == before
    assert document_count() == 0


def test_a_name_with_folders_is_stored_under_a_random_name_inside_the_folder(
    app, signed_in, folder
):
    app_py = Path(app.root_path, "app.py").read_bytes()
    response = send(signed_in, "../../app.pdf", corpus.pdf())
    assert response.status_code == 303
    document = db.session.scalar(select(Document))
    assert document.original_name == "app.pdf"
    assert listing(folder) == [document.stored_name]
    assert len(document.stored_name) == 32 and "app" not in document.stored_name
    assert Path(app.root_path, "app.py").read_bytes() == app_py


def test_a_phone_photo_is_kept_without_its_gps_position(signed_in, folder):
    photo = corpus.jpeg_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(corpus.GPS_IFD)
    response = signed_in.post(
        "/documents",
        data={
            "csrf_token": csrf_token(signed_in, "/documents"),
            "doc_type": "insurance",
            "photo": (io.BytesIO(photo), "IMG_0001.JPG"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    document = db.session.scalar(select(Document))
    assert (document.content_type, document.status) == ("image/jpeg", DocumentStatus.RECEIVED)
    stored = Image.open(folder / document.stored_name)
    assert stored.size == (64, 48)
    assert not stored.getexif()
    assert b"PhoneMaker" not in (folder / document.stored_name).read_bytes()
    assert b"rue des Exemples" not in (folder / document.stored_name).read_bytes()


def test_a_multi_picture_phone_photo_is_stored_as_the_jpeg_it_says_it_is(signed_in, folder):
    photo = corpus.multi_picture_jpeg()
    assert Image.open(io.BytesIO(photo)).format == "MPO"
    response = signed_in.post(
        "/documents",
        data={
            "csrf_token": csrf_token(signed_in, "/documents"),
            "doc_type": "insurance",
            "photo": (io.BytesIO(photo), "PXL_0001.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    document = db.session.scalar(select(Document))
    assert document.content_type == "image/jpeg"
    assert Image.open(folder / document.stored_name).format == "JPEG"


GOOD = {
    "pdf": ("attestation.pdf", corpus.pdf(), "application/pdf"),
    "docx": (
        "attestation.docx",
        corpus.docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "doc": ("attestation.doc", corpus.word_doc(), "application/msword"),
    "png": ("scan.PNG", corpus.png(), "image/png"),
}


@pytest.mark.parametrize("name, content, content_type", GOOD.values(), ids=GOOD.keys())
def test_good_files_are_received(signed_in, folder, name, content, content_type):
    response = send(signed_in, name, content, doc_type="quotient-familial")
    assert response.status_code == 303
    page = signed_in.get("/documents").get_data(as_text=True)
    assert "Document reçu" in page and name in page and "Reçu" in page
    document = db.session.scalar(select(Document))
    assert (document.original_name, document.content_type) == (name, content_type)
    assert listing(folder) == [document.stored_name]


def test_the_family_quota_refuses_past_the_number_of_files(app, signed_in, folder):
    app.config["DOCUMENT_QUOTA_FILES"] = 2
    for index in range(2):
        assert send(signed_in, f"a{index}.pdf", corpus.pdf()).status_code == 303
    before = listing(folder)
    response = send(signed_in, "a3.pdf", corpus.pdf())
    assert "Votre espace de documents est plein" in html.unescape(response.get_data(as_text=True))
    assert listing(folder) == before and document_count() == 2


def test_the_family_quota_refuses_past_its_size(app, signed_in, folder):
    app.config["DOCUMENT_QUOTA_MB"] = 1
    assert send(signed_in, "a.pdf", corpus.pdf() + b"\0" * 700_000).status_code == 303
    response = send(signed_in, "b.pdf", corpus.pdf() + b"\0" * 400_000)
    assert "Votre espace de documents est plein" in html.unescape(response.get_data(as_text=True))
    assert document_count() == 1


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_broken_photo_with_room_left_reaches_the_decoder(signed_in):
    """The control of the two tests below: this photo fails only once decoded."""
    response = send(signed_in, "photo.jpg", corpus.truncated_jpeg())
    assert "Cette image est illisible ou abîmée" in page_text(response)


def test_a_family_at_its_number_of_files_is_refused_before_its_photo_is_decoded(
    app, signed_in, folder
):
    app.config["DOCUMENT_QUOTA_FILES"] = 1
    assert send(signed_in, "a.pdf", corpus.pdf()).status_code == 303
    before = listing(folder)
    response = send(signed_in, "photo.jpg", corpus.truncated_jpeg())
    body = page_text(response)
    assert QUOTA_FULL in body and "illisible" not in body
    assert listing(folder) == before and document_count() == 1


def test_a_family_at_its_size_quota_is_refused_before_its_photo_is_decoded(app, signed_in, folder):
    app.config["DOCUMENT_QUOTA_MB"] = 1
    almost_full = corpus.pdf().ljust(1024 * 1024 - 100, b"\0")
    assert send(signed_in, "a.pdf", almost_full).status_code == 303
    response = send(signed_in, "photo.jpg", corpus.truncated_jpeg())
    body = page_text(response)
    assert QUOTA_FULL in body and "illisible" not in body
    assert document_count() == 1


def test_the_quota_counts_the_photo_as_stored_once_encoded_again(app, signed_in, folder):
    """A photo sent small may be stored bigger (encoded again at quality 90): the quota is
    counted again on what would be stored."""
    photo = _small_jpeg_that_grows()
    assert check_upload("photo.jpg", photo, 1024 * 1024).size > len(photo) + 10
    app.config["DOCUMENT_QUOTA_MB"] = 1
    used = 1024 * 1024 - len(photo) - 10
    assert send(signed_in, "a.pdf", corpus.pdf().ljust(used, b"\0")).status_code == 303
    response = send(signed_in, "photo.jpg", photo)
    assert QUOTA_FULL in page_text(response)
    assert document_count() == 1


def _small_jpeg_that_grows() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((128, 128), 64).convert("RGB").save(out, "JPEG", quality=20)
    return out.getvalue()


def test_the_eleventh_send_in_a_minute_gets_429_in_french_and_writes_nothing(
    app, signed_in, folder, other_family
):
    """Each test's app starts with its own in-memory limiter storage (Flask-Limiter's
    init_app in create_app), so these sends count for this test only."""
    for index in range(10):
        assert send(signed_in, f"a{index}.pdf", corpus.pdf()).status_code == 303
    before = listing(folder)
    response = send(signed_in, "a10.pdf", corpus.pdf())
    assert response.status_code == 429
    assert "Vous avez envoyé beaucoup de documents en peu de temps" in page_text(response)
    assert listing(folder) == before and document_count() == 10
    assert signed_in.get("/documents").status_code == 200, "the page itself stays open"
    other = app.test_client()
    AuthActions(other).login("famille.b")
    assert send(other, "b.pdf", corpus.pdf()).status_code == 303, "counted per family"


def test_a_certificate_sent_with_an_absence_counts_in_the_same_allowance(
    app, client, auth, family, other_family, folder, pin_clock
):
    """The absence form takes a medical certificate too: past the family's allowance it
    is not checked nor decoded either, and the absence is left undeclared."""
    pin_clock(datetime(2026, 11, 19, 6, 30))
    canteen, _care = factories.portal_activities(family, other_family)
    child = family.children[0]
    factories.booking(child, canteen, date(2026, 11, 19), BookingStatus.REGISTERED)
    auth.login("famille.a")
    for index in range(10):
        assert send(client, f"a{index}.pdf", corpus.pdf()).status_code == 303
    before = listing(folder)
    form = {
        "csrf_token": csrf_token(client, "/reservations/absence"),
        "child": str(child.id),
        "start": "2026-11-19",
        "reason": "maladie",
        "certificate": (io.BytesIO(corpus.jpeg_with_gps()), "certificat.jpg"),
    }
    response = client.post("/reservations/absence", data=form, content_type="multipart/form-data")
    assert response.status_code == 429
    assert "Vous avez envoyé beaucoup de documents en peu de temps" in page_text(response)
    assert listing(folder) == before and document_count() == 10
    db.session.expire_all()
    assert db.session.scalar(select(Booking.attendance)) is None
    assert client.get("/reservations/absence").status_code == 200, "the form stays open"


def test_a_failed_commit_leaves_no_file(app, signed_in, folder, monkeypatch):
    def broken_commit():
        raise RuntimeError("database gone")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    response = send(signed_in, "a.pdf", corpus.pdf())
    assert response.status_code == 500
    monkeypatch.undo()
    assert listing(folder) == [] and document_count() == 0


def test_an_oversized_file_gets_413_in_french_over_a_real_server(app, family, folder):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    with live_server(app) as live:
        browser = requests.Session()
        login = browser.get(f"{live.url}/login").text
        browser.post(
            f"{live.url}/login",
            data={
                "username": "famille.a",
                "password": "Correct-horse-2026",
                "csrf_token": CSRF_RE.search(login).group(1),
            },
        )
        page = browser.get(f"{live.url}/documents").text
        response = browser.post(
            f"{live.url}/documents",
            data={"csrf_token": CSRF_RE.search(page).group(1), "doc_type": "other"},
            files={"upload": ("gros.pdf", b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024))},
            timeout=30,
        )
    assert response.status_code == 413
    assert "Le fichier dépasse 1 Mo" in html.unescape(response.text)
    assert listing(folder) == [] and document_count() == 0
