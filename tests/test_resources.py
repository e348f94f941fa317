"""The commune's documents: staff publish checked files; a family opens its schools' current
ones, through a download the browser never renders as the portal; ACCUEIL's weekly menu."""

from __future__ import annotations

import io
import json
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.load import tiny_pdf
from extensions import db
from models import AuditEvent, Resource
from services import resources
from services.resources import Details, ResourceRefused, Upload
from tests import factories
from tests import uploads_corpus as corpus
from tests.conftest import csrf_token

TODAY = date(2026, 11, 30)  # a Monday
NOON = datetime(2026, 11, 30, 11, 0)
PDF = tiny_pdf(["Menu de la semaine"])
PNG = corpus.png()
JPEG = corpus.jpeg_with_gps()
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'

# (the name sent, its contents): each refused with a French message, nothing written.
REFUSED = [
    ("menu.pdf", HTML),  # HTML renamed .pdf
    ("menu.pdf.html", HTML),
    ("menu.pdf", PNG),  # a PNG sent as a PDF
    ("photo.png", JPEG),
    ("menu.pdf", b""),
    ("menu.pdf", b"%PDF-" + b"0" * resources.MAX_BYTES),  # one byte over the limit
    ("../../app.py", b"print('x')"),
    ("menu.svg", SVG),
    ("menu.docx", b"PK\x03\x04"),
    ("menu.doc", corpus.word_doc_with_macros()),
    ("menu.doc", corpus.spreadsheet()),  # an .xls renamed .doc
    ("menu", PDF),  # no extension
    ("", PDF),
]


def uploads(app) -> list[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(os.listdir(folder)) if folder.exists() else []


def publish(
    title="Menu",
    category="menus",
    school=None,
    valid=(None, None),
    content=PDF,
    name="menu.pdf",
    published=True,
):
    staff = db.session.scalar(select(factories.StaffUser)) or factories.staff_user("agent.r")
    details = Details(title, category, school.id if school else None, *valid, published)
    return resources.publish_resource(details, Upload(name, content), staff, "127.0.0.1")


@pytest.fixture
def today(pin_clock):
    pin_clock(NOON)
    return TODAY


@pytest.fixture
def other_school(app):
    return factories.school("École Sainte-Thérèse")


# --- Publishing ----------------------------------------------------------------------------


def test_a_published_file_is_stored_under_a_random_name_and_journaled(app):
    resource = publish(name="Menu décembre.PDF")
    stored = Path(app.config["UPLOAD_FOLDER"]) / resource.stored_name
    assert stored.read_bytes() == PDF
    assert len(resource.stored_name) == 32 and "menu" not in resource.stored_name.lower()
    assert (resource.content_type, resource.size_bytes) == ("application/pdf", len(PDF))
    assert resource.original_name == "Menu décembre.PDF"
    event = db.session.scalar(select(AuditEvent))
    assert (event.entity, event.action) == ("Resource", "create")


@pytest.mark.parametrize("name,content", [("affiche.png", PNG), ("photo.jpeg", JPEG)])
def test_images_are_accepted_with_their_type(app, name, content):
    resource = publish(name=name, content=content, category="formulaires")
    assert resource.content_type == ("image/png" if name.endswith("png") else "image/jpeg")


def test_a_published_photo_keeps_no_exif_nor_gps(app):
    resource = publish(name="menu.jpg", content=JPEG, category="menus")
    stored = (Path(app.config["UPLOAD_FOLDER"]) / resource.stored_name).read_bytes()
    assert b"PhoneMaker" not in stored and b"rue des Exemples" not in stored
    assert resource.size_bytes == len(stored)


@pytest.mark.parametrize("name,content", REFUSED, ids=[n or "no-name" for n, _ in REFUSED])
def test_a_refused_file_writes_neither_file_nor_row(app, name, content):
    factories.staff_user("agent.r")
    with pytest.raises(ResourceRefused) as refused:
        publish(name=name, content=content)
    assert refused.value.message.endswith(".") and " " in refused.value.message
    assert uploads(app) == []
    assert db.session.scalar(select(Resource)) is None


def test_a_path_in_the_sent_name_is_never_kept(app):
    resource = publish(name="../../etc/menu.pdf")
    assert resource.original_name == "menu.pdf"
    assert uploads(app) == [resource.stored_name]


@pytest.mark.parametrize(
    "details,message",
    [
        (Details("  ", "menus"), "titre"),
        (Details("Menu", "recettes"), "catégorie"),
        (Details("Menu", "menus", 999), "école"),
        (Details("Menu", "menus", None, date(2026, 12, 7), date(2026, 12, 1)), "fin de validité"),
    ],
)
def test_details_out_of_rules_are_refused_before_any_write(app, details, message):
    staff = factories.staff_user("agent.r")
    with pytest.raises(ResourceRefused) as refused:
        resources.publish_resource(details, Upload("menu.pdf", PDF), staff, None)
    assert message in refused.value.message
    assert uploads(app) == []


def test_replacing_the_file_removes_the_old_one(app):
    resource = publish()
    old = resource.stored_name
    staff = db.session.scalar(select(factories.StaffUser))
    details = Details("Menu", "menus")
    resources.update_resource(resource, details, Upload("nouveau.png", PNG), staff, None)
    assert uploads(app) == [resource.stored_name] != [old]
    assert (resource.content_type, resource.original_name) == ("image/png", "nouveau.png")
    with pytest.raises(ResourceRefused):
        resources.update_resource(resource, details, Upload("x.pdf", HTML), staff, None)
    db.session.rollback()
    assert uploads(app) == [resource.stored_name]


# --- What a family sees ---------------------------------------------------------------------


def test_a_family_sees_only_its_schools_current_published_files(app, today, family, other_school):
    own_school = family.children[0].school
    publish("Règlement", "reglement")
    publish("Menu Chalmel", school=own_school, valid=(date(2026, 11, 30), date(2026, 12, 6)))
    publish("Tarifs", "tarifs", valid=(date(2026, 9, 1), None))
    publish("Menu Thérèse", school=other_school)
    publish("Brouillon", published=False)
    publish("Ancien menu", school=own_school, valid=(date(2026, 11, 23), date(2026, 11, 29)))
    publish("Menu futur", school=own_school, valid=(date(2026, 12, 7), None))
    listed = resources.current_resources(family, today)
    assert [(f.category, f.title) for f in listed] == [
        ("Menus", "Menu Chalmel"),
        ("Tarifs", "Tarifs"),
        ("Règlement intérieur", "Règlement"),
    ]


def test_documents_links_each_file_of_the_commune(app, client, auth, today, family):
    resource = publish("Règlement intérieur 2026-2027", "reglement")
    auth.login("famille.a")
    page = client.get("/documents").get_data(as_text=True)
    assert "Règlement intérieur 2026-2027" in page
    assert f'href="/documents/commune/{resource.id}"' in page


def test_the_download_is_an_attachment_the_browser_never_runs(app, client, auth, today, family):
    resource = publish(name="menu-semaine.pdf")
    auth.login("famille.a")
    response = client.get(f"/documents/commune/{resource.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "menu-semaine.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    "kind", ["other-school", "unpublished", "expired", "future", "missing-file", "unknown"]
)
def test_a_file_the_family_may_not_open_is_not_found(
    app, client, auth, today, family, other_school, kind
):
    resource = publish(
        school=other_school if kind == "other-school" else None,
        published=kind != "unpublished",
        valid={
            "expired": (date(2026, 11, 1), date(2026, 11, 29)),
            "future": (date(2026, 12, 1), None),
        }.get(kind, (None, None)),
    )
    if kind == "missing-file":
        (Path(app.config["UPLOAD_FOLDER"]) / resource.stored_name).unlink()
    auth.login("famille.a")
    resource_id = resource.id + 1000 if kind == "unknown" else resource.id
    response = client.get(f"/documents/commune/{resource_id}")
    assert response.status_code == 404
    assert response.data != PDF


def test_signed_out_the_download_asks_to_sign_in(app, client, today):
    resource = publish()
    response = client.get(f"/documents/commune/{resource.id}")
    assert response.status_code in (302, 401)
    assert response.data != PDF


# --- ACCUEIL's menu of the week --------------------------------------------------------------


def test_accueil_links_this_weeks_menu_of_the_childs_school(
    app, client, auth, today, family, other_school
):
    own_school = family.children[0].school
    week = (date(2026, 11, 30), date(2026, 12, 6))
    publish("Menu Thérèse", school=other_school, valid=week)
    publish("Ancien menu", school=own_school, valid=(date(2026, 11, 23), date(2026, 11, 29)))
    menu = publish("Menu Chalmel", school=own_school, valid=week)
    auth.login("famille.a")
    page = client.get("/").get_data(as_text=True)
    assert page.count("Menu de la semaine") == 1
    assert f'href="/documents/commune/{menu.id}"><span>Menu de la semaine (PDF)' in page


def test_accueil_names_the_children_each_menu_is_for(
    app, client, auth, today, family, other_school
):
    factories.child(family, "Léa", where=other_school)
    publish("Menu Chalmel", school=family.children[0].school)
    publish("Menu Thérèse", school=other_school)
    auth.login("famille.a")
    page = client.get("/").get_data(as_text=True)
    assert page.count("Menu de la semaine") == 2
    assert page.index("Menu de la semaine de Enfant1 et Enfant2 (PDF)") < page.index(
        "Menu de la semaine de Léa (PDF)"
    )


def test_a_school_without_its_own_menu_gets_the_one_for_every_school(
    app, client, auth, today, family, other_school
):
    factories.child(family, "Léa", where=other_school)
    publish("Menu Thérèse", school=other_school)
    shared = publish("Menu commun", content=PNG, name="menu.png")
    auth.login("famille.a")
    page = client.get("/").get_data(as_text=True)
    assert "Menu de la semaine de Léa (PDF)" in page
    assert (
        f'href="/documents/commune/{shared.id}"><span>Menu de la semaine de Enfant1 et Enfant2'
        " (image)" in page
    )


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (datetime(2026, 12, 4, 11, 0), "this week"),  # Friday
        (datetime(2026, 12, 5, 11, 0), "next week"),  # Saturday: the family plans Monday
        (datetime(2026, 12, 6, 19, 0), "next week"),  # Sunday evening
    ],
)
def test_at_the_weekend_accueil_links_the_coming_weeks_menu(
    app, client, auth, pin_clock, family, now, shown
):
    school = family.children[0].school
    menus = {
        "this week": publish("Semaine 1", school=school, valid=(TODAY, date(2026, 12, 6))),
        "next week": publish("Semaine 2", school=school, valid=(date(2026, 12, 7), None)),
    }
    pin_clock(now)
    auth.login("famille.a")
    page = client.get("/").get_data(as_text=True)
    assert page.count("Menu de la semaine") == 1
    assert f'href="/documents/commune/{menus[shown].id}"' in page


def test_at_the_weekend_this_weeks_menu_stays_until_the_next_one_is_published(
    app, client, auth, pin_clock, family
):
    week = publish("Semaine 1", school=family.children[0].school, valid=(TODAY, date(2026, 12, 6)))
    pin_clock(datetime(2026, 12, 5, 11, 0))  # Saturday
    auth.login("famille.a")
    assert f'href="/documents/commune/{week.id}"' in client.get("/").get_data(as_text=True)


def test_accueil_shows_no_menu_button_without_a_current_menu(app, client, auth, today, family):
    publish("Règlement", "reglement")
    auth.login("famille.a")
    assert "Menu de la semaine" not in client.get("/").get_data(as_text=True)


# --- The back office ------------------------------------------------------------------------


def admin_post(client, url: str, data: dict, file: tuple[bytes, str] | None = None):
    form = {**data, "csrf_token": csrf_token(client, url)}
    if file is not None:
        form["file"] = (io.BytesIO(file[0]), file[1])
    return client.post(url, data=form, content_type="multipart/form-data")


FORM = {
    "title": "Menu de la semaine",
    "category": "menus",
    "valid_from": "2026-11-30",
    "valid_to": "2026-12-06",
    "is_published": "y",
}


def test_staff_publish_a_file_from_the_back_office(app, client, auth, staff):
    auth.login("agent.a")
    form = client.get("/admin/resource/new/").get_data(as_text=True)
    assert 'type="file"' in form and 'name="file"' in form
    assert 'enctype="multipart/form-data"' in form
    response = admin_post(client, "/admin/resource/new/", FORM, (PDF, "menu.pdf"))
    assert response.status_code == 302
    resource = db.session.scalar(select(Resource))
    assert (resource.title, resource.valid_to, resource.school_id) == (
        "Menu de la semaine",
        date(2026, 12, 6),
        None,
    )
    assert uploads(app) == [resource.stored_name]
    event = db.session.scalar(select(AuditEvent))
    assert json.loads(event.changes)["title"] == [None, "Menu de la semaine"]


@pytest.mark.parametrize(
    "file,data,message",
    [
        ((HTML, "menu.pdf"), FORM, "page web ou une image SVG"),
        ((SVG, "menu.svg"), FORM, "Type de fichier refusé"),
        (None, FORM, "Choisissez le fichier"),
        ((PDF, "menu.pdf"), {**FORM, "valid_to": "2026-11-01"}, "fin de validité"),
    ],
)
def test_the_back_office_refuses_with_a_french_message_and_writes_nothing(
    app, client, auth, staff, file, data, message
):
    auth.login("agent.a")
    response = admin_post(client, "/admin/resource/new/", data, file)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Resource)) is None
    assert uploads(app) == []


def test_staff_replace_the_file_and_unpublish_it(app, client, auth, staff):
    resource = publish()
    old = resource.stored_name
    auth.login("agent.a")
    url = f"/admin/resource/edit/?id={resource.id}"
    assert 'name="file"' in client.get(url).get_data(as_text=True)
    assert admin_post(client, url, FORM, (PNG, "menu.png")).status_code == 302
    db.session.expire_all()
    resource = db.session.get(Resource, resource.id)
    assert resource.content_type == "image/png" and uploads(app) == [resource.stored_name] != [old]
    token = csrf_token(client, "/admin/resource/")
    client.post(
        "/admin/resource/action/",
        data={"action": "unpublish", "rowid": [str(resource.id)], "csrf_token": token},
    )
    db.session.expire_all()
    assert db.session.get(Resource, resource.id).is_published is False
