"""STYLE.md: a state with rules is never a writable column of a generic back-office form.

A registration's decision, a booking's status and attendance, a document's review, an
alert's delivery: each is written by its service, which records who and when, tells the
family and journals it. The walk below builds every create and edit form the back office
registers, as an admin, and fails on any field of admin_views.base.RULED_COLUMNS; then each
decision is shown to go through its service, by a Flask-Admin action or a screen.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from flask_admin.contrib.sqla import ModelView
from flask_login import login_user
from sqlalchemy import select

from admin_views.base import RULED_COLUMNS
from extensions import db
from models import (
    Alert,
    AlertKind,
    AuditEvent,
    Booking,
    Document,
    DocumentStatus,
    DocumentType,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    StaffRole,
)
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)


@pytest.fixture
def admin(app):
    return factories.staff_user("admin.a", role=StaffRole.ADMIN)


def form_fields(app, admin) -> dict[str, set[str]]:
    """Every generic form's writable fields, by view and form."""
    found = {}
    with app.test_request_context():
        login_user(admin)
        for view in app.extensions["admin"][0]._views:
            if not isinstance(view, ModelView):
                continue
            if view.can_create:
                found[f"{view.endpoint} create"] = (view.model, set(view.create_form()._fields))
            if view.can_edit:
                found[f"{view.endpoint} edit"] = (view.model, set(view.edit_form()._fields))
    return found


def test_no_generic_form_writes_a_ruled_column(app, admin):
    forms = form_fields(app, admin)
    assert len(forms) > 15
    writable = {
        name: sorted(fields & RULED_COLUMNS.get(model, frozenset()))
        for name, (model, fields) in forms.items()
    }
    assert {name: ruled for name, ruled in writable.items() if ruled} == {}
    for model in (Registration, Booking, Document, Alert):
        assert model in RULED_COLUMNS


def post_action(client, endpoint: str, action: str, ids: list[int]):
    token = csrf_token(client, f"/admin/{endpoint}/")
    return client.post(
        f"/admin/{endpoint}/action/",
        data={"action": action, "rowid": [str(i) for i in ids], "csrf_token": token},
    )


def journal(entity: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity == entity)))


def test_a_registration_is_decided_by_an_action_that_records_who_when_and_tells(
    client, auth, admin, family, pin_clock
):
    pin_clock(NOW)
    year, canteen = factories.school_year(), factories.activity(options=("standard",))
    requested = factories.registration(
        family.children[0], canteen, year, RegistrationStatus.REQUESTED
    )
    auth.login("admin.a")
    assert post_action(client, "registration", "accept", [requested.id]).status_code == 302
    db.session.expire_all()
    decided = db.session.get(Registration, requested.id)
    assert decided.status == RegistrationStatus.ACCEPTED
    assert (decided.decided_at, decided.decided_by_id) == (NOW, admin.id)
    alert = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).one()
    assert alert.kind == AlertKind.REGISTRATION and "acceptée" in alert.message
    (event,) = journal("Registration")
    assert (event.action, event.actor) == ("approve", "admin.a")
    assert json.loads(event.changes)["status"] == ["requested", "accepted"]


def test_a_refusal_asks_its_reason_on_a_screen(client, auth, admin, family, pin_clock):
    pin_clock(NOW)
    year, canteen = factories.school_year(), factories.activity(options=("standard",))
    requested = factories.registration(
        family.children[0], canteen, year, RegistrationStatus.REQUESTED
    )
    auth.login("admin.a")
    response = post_action(client, "registration", "refuse", [requested.id])
    assert response.headers["Location"].endswith(f"/admin/registration/refuser/?ids={requested.id}")
    screen = f"/admin/registration/refuser/?ids={requested.id}"
    token = csrf_token(client, screen)
    client.post(screen, data={"ids": [str(requested.id)], "reason": " ", "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Registration, requested.id).status == RegistrationStatus.REQUESTED
    form = {"ids": [str(requested.id)], "reason": "Plus de place", "csrf_token": token}
    client.post("/admin/registration/refuser/", data=form)
    db.session.expire_all()
    assert db.session.get(Registration, requested.id).status == RegistrationStatus.REFUSED
    alert = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).one()
    assert "Plus de place" in alert.message


def test_a_document_is_reviewed_by_an_action(client, auth, admin, family, pin_clock):
    pin_clock(NOW)
    document = Document(
        family=family,
        doc_type=DocumentType.INSURANCE,
        original_name="assurance.pdf",
        stored_name="c" * 32,
        content_type="application/pdf",
        size_bytes=1000,
    )
    db.session.add(document)
    db.session.commit()
    auth.login("admin.a")
    assert post_action(client, "document", "accept", [document.id]).status_code == 302
    db.session.expire_all()
    reviewed = db.session.get(Document, document.id)
    assert reviewed.status == DocumentStatus.ACCEPTED
    assert (reviewed.reviewed_at, reviewed.reviewed_by_id) == (NOW, admin.id)
    alert = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).one()
    assert alert.kind == AlertKind.DOCUMENT
    assert [event.action for event in journal("Document")] == ["approve"]


def test_an_alert_written_by_staff_goes_out_by_email(client, auth, admin, family):
    auth.login("admin.a")
    form = {
        "family": str(family.id),
        "kind": "booking",
        "message": "La cantine ferme à midi jeudi.",
        "csrf_token": csrf_token(client, "/admin/alert/new/"),
    }
    assert client.post("/admin/alert/new/", data=form).status_code == 302
    alert = db.session.scalars(select(Alert)).one()
    assert alert.kind == AlertKind.BOOKING
    assert db.session.scalars(select(OutboxEmail)).all(), "no email queued"
    assert [event.action for event in journal("Alert")] == ["create"]
    refused = {**form, "kind": "n'importe quoi"}
    client.post("/admin/alert/new/", data=refused)
    assert len(db.session.scalars(select(Alert)).all()) == 1


def test_attendance_is_never_set_by_a_generic_form(client, auth, admin, family):
    year, canteen = factories.school_year(), factories.activity(options=("standard",))
    factories.registration(family.children[0], canteen, year)
    booking = factories.booking(family.children[0], canteen, date(2026, 11, 19))
    auth.login("admin.a")
    url = f"/admin/booking/edit/?id={booking.id}"
    assert client.get(url).status_code == 302  # no edit form: Pointage takes attendance
    token = csrf_token(client, "/admin/family/new/")
    client.post(url, data={"attendance": "present", "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).attendance is None


def test_an_accepted_registration_is_not_moved_to_another_activity(client, auth, admin, family):
    year, canteen = factories.school_year(), factories.activity(options=("standard",))
    care = factories.activity("care_evening", "Accueil du soir")
    accepted = factories.registration(family.children[0], canteen, year)
    auth.login("admin.a")
    path = f"/admin/registration/edit/?id={accepted.id}"
    form = {
        "activity": str(care.id),
        "reason": "Déménagement",
        "csrf_token": csrf_token(client, "/admin/registration/"),
    }
    assert client.post(path, data=form).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Registration, accepted.id)
    assert (kept.activity_id, kept.status) == (canteen.id, RegistrationStatus.ACCEPTED)
    assert kept.reason == ""  # nothing of a decided registration is edited
