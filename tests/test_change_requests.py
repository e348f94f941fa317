"""MON COMPTE's changes validated by staff (services.change_requests, SECURITY.md check 30):
a family asks field by field, staff accept or refuse in the back office, each decision is
applied only to what the family saw, journaled and alerted."""

from __future__ import annotations

import json
from datetime import datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from wtforms import Form, StringField

from extensions import db
from models import Alert, AlertKind, AuditEvent, ChangeRequest, Guardian, RequestStatus
from services import audit, change_requests
from services.change_requests import ChangeRequestError
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 9, 8, 0)
LATER = datetime(2026, 11, 10, 9, 0)


@pytest.fixture
def guardian(family) -> Guardian:
    return family.guardians[0]


def ask(family, entity, target, values, now=NOW):
    return change_requests.request_changes(family, entity, target.id, values, now)


def requests_of(family) -> list[ChangeRequest]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.family_id == family.id)
            .order_by(ChangeRequest.id)
        )
    )


# --- The family asks ------------------------------------------------------------------------


def test_one_request_per_changed_field_keeping_old_and_new(family, guardian):
    guardian.phone_mobile = "06 11 11 11 11"
    db.session.commit()
    written = ask(
        family,
        "Guardian",
        guardian,
        {"phone_mobile": "+33 6 12 34 56 78", "phone_work": "", "email": guardian.email},
    )
    assert [(r.field, r.old_value, r.new_value) for r in written] == [
        ("phone_mobile", "06 11 11 11 11", "06 12 34 56 78")
    ]
    assert written[0].status == RequestStatus.WAITING
    # Nothing is applied before staff validate.
    assert db.session.get(Guardian, guardian.id).phone_mobile == "06 11 11 11 11"


def test_an_unchanged_value_asks_nothing(family):
    assert ask(family, "Family", family, {"city": " Saint-Exemple ", "postcode": ""}) == []
    assert requests_of(family) == []


def test_a_second_request_on_a_field_replaces_the_waiting_one(family):
    ask(family, "Family", family, {"city": "Rennes"})
    ask(family, "Family", family, {"city": "Nantes"}, LATER)
    ask(family, "Family", family, {"city": "Nantes"}, LATER)  # the same again: nothing new
    (only,) = requests_of(family)
    assert (only.old_value, only.new_value, only.created_at) == ("Saint-Exemple", "Nantes", LATER)


@pytest.mark.parametrize(
    ("entity", "field", "value", "message"),
    [
        ("Guardian", "phone_mobile", "12345", "numéro de téléphone n'est pas valide"),
        ("Guardian", "phone_work", "06 12 34 56 7a", "numéro de téléphone n'est pas valide"),
        ("Guardian", "email", "pas-une-adresse", "adresse email n'est pas valide"),
        ("Family", "postcode", "3500", "cinq chiffres"),
        ("Family", "address_line", "x" * 201, "trop long"),
        ("Child", "allergies", "arachide\x07", "caractères invalides"),
        ("Guardian", "last_name", "Dupont", "ne peut pas être modifié"),
        ("Child", "health_note", "asthme", "ne peut pas être modifié"),
    ],
)
def test_bad_values_are_refused_in_french_nothing_written(
    family, guardian, entity, field, value, message
):
    target = {"Guardian": guardian, "Family": family, "Child": family.children[0]}[entity]
    with pytest.raises(ChangeRequestError, match=message) as refused:
        ask(
            family,
            entity,
            target,
            {"city" if entity == "Family" else field: "Rennes"} | {field: value},
        )
    assert refused.value.field == field
    db.session.rollback()
    assert requests_of(family) == []


def test_another_familys_fiche_is_refused(family, other_family):
    for entity, target in (
        ("Family", other_family),
        ("Guardian", other_family.guardians[0]),
        ("Child", other_family.children[0]),
    ):
        with pytest.raises(ChangeRequestError, match="n'appartient pas à votre foyer"):
            change_requests.request_changes(family, entity, target.id, {}, NOW)
    with pytest.raises(ChangeRequestError):
        change_requests.request_changes(family, "StaffUser", 1, {}, NOW)


# --- Staff decide -------------------------------------------------------------------------------


def test_accepting_applies_the_value_journals_and_alerts(family, guardian, staff):
    (change,) = ask(family, "Guardian", guardian, {"phone_mobile": "0612345678"})
    change_requests.decide(change, "accept", staff, LATER, "203.0.113.7")
    db.session.expire_all()
    assert db.session.get(Guardian, guardian.id).phone_mobile == "06 12 34 56 78"
    change = db.session.get(ChangeRequest, change.id)
    assert (change.status, change.decided_by_id, change.decided_at) == (
        RequestStatus.ACCEPTED,
        staff.id,
        LATER,
    )
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    applied = next(e for e in events if e.entity == "Guardian")
    assert (applied.actor, applied.ip, applied.entity_id) == (
        "agent.a",
        "203.0.113.7",
        str(guardian.id),
    )
    assert json.loads(applied.changes) == {"phone_mobile": ["", "06 12 34 56 78"]}
    decided = next(e for e in events if e.entity == "ChangeRequest")
    assert decided.action == "accept"
    (alert,) = db.session.scalars(select(Alert)).all()
    assert (alert.kind, alert.link) == (AlertKind.ACCOUNT, "/compte")
    assert "validée" in alert.message and "06 12 34 56 78" in alert.message


def test_an_accepted_allergy_is_journaled_without_its_values(family, staff):
    # Every agent reads the journal; a child's allergies are health data (SECURITY.md 32).
    child = family.children[0]
    child.allergies = "Kiwi"
    db.session.commit()
    (change,) = ask(family, "Child", child, {"allergies": "Arachide"})
    change_requests.decide(change, "accept", staff, LATER, None)
    db.session.expire_all()
    assert db.session.get(type(child), child.id).allergies == "Arachide"
    journal = db.session.scalars(select(AuditEvent.changes)).all()
    applied = next(json.loads(changes) for changes in journal if "allergies" in changes)
    assert applied == {"allergies": [audit.MASK, audit.MASK]}
    assert not any("Kiwi" in changes or "Arachide" in changes for changes in journal)


def test_a_value_changed_since_is_not_overwritten(family, guardian, staff):
    (change,) = ask(family, "Guardian", guardian, {"phone_mobile": "0612345678"})
    guardian.phone_mobile = "07 00 00 00 00"  # an agent typed another number meanwhile
    db.session.commit()
    with pytest.raises(ChangeRequestError, match="La valeur a changé depuis"):
        change_requests.decide(change, "accept", staff, LATER, None)
    db.session.rollback()
    assert db.session.get(Guardian, guardian.id).phone_mobile == "07 00 00 00 00"
    assert db.session.get(ChangeRequest, change.id).status == RequestStatus.WAITING
    assert db.session.scalars(select(Alert)).all() == []


def test_refusing_keeps_the_value_needs_a_reason_and_tells_it(family, staff):
    child = family.children[0]
    (change,) = ask(family, "Child", child, {"allergies": "arachide"})
    with pytest.raises(ChangeRequestError, match="motif du refus"):
        change_requests.decide(change, "refuse", staff, LATER, None)
    db.session.rollback()
    change_requests.decide(change, "refuse", staff, LATER, None, "certificat médical demandé")
    db.session.expire_all()
    assert family.children[0].allergies == ""
    change = db.session.get(ChangeRequest, change.id)
    assert (change.status, change.reason) == (RequestStatus.REFUSED, "certificat médical demandé")
    (alert,) = db.session.scalars(select(Alert)).all()
    assert "n'est pas retenue" in alert.message and "certificat médical demandé" in alert.message
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity == "ChangeRequest"))
        == "refuse"
    )
    with pytest.raises(ChangeRequestError, match="déjà été traitée"):
        change_requests.decide(change, "accept", staff, LATER, None)


# --- The back office ------------------------------------------------------------------------------


def action(client, name: str, ids: list[int], reason: str = ""):
    token = csrf_token(client, "/admin/changerequest/")
    return client.post(
        "/admin/changerequest/action/",
        data={
            "csrf_token": token,
            "action": name,
            "rowid": [str(i) for i in ids],
            "reason": reason,
        },
        follow_redirects=True,
    ).get_data(as_text=True)


def test_staff_accept_and_refuse_in_bulk_in_the_back_office(client, auth, family, staff):
    guardian = family.guardians[0]
    phone, email = ask(
        family, "Guardian", guardian, {"phone_mobile": "0612345678", "email": "alex@exemple.fr"}
    )
    (city,) = ask(family, "Family", family, {"city": "Rennes"})
    auth.login("agent.a")
    page = client.get("/admin/changerequest/").get_data(as_text=True)
    assert 'id="refusal-reason"' in page and "Accepter" in page
    assert f"Responsable légal n° {guardian.id}" in page and "Téléphone portable" in page
    assert "Indiquez le motif du refus" in action(client, "refuse", [city.id])
    assert "2 modifications acceptées" in action(client, "accept", [phone.id, email.id])
    assert "1 modification refusée" in action(client, "refuse", [city.id], "adresse hors commune")
    db.session.expire_all()
    assert (guardian.phone_mobile, guardian.email) == ("06 12 34 56 78", "alex@exemple.fr")
    assert family.city == "Saint-Exemple"
    assert len(db.session.scalars(select(Alert)).all()) == 3
    assert "déjà été traitée" in action(client, "accept", [city.id])


def test_the_status_is_never_a_field_staff_edit(client, auth, family, staff):
    (change,) = ask(family, "Family", family, {"city": "Rennes"})
    auth.login("agent.a")
    assert client.get(f"/admin/changerequest/edit/?id={change.id}").status_code in (302, 404)


# --- MON COMPTE -----------------------------------------------------------------------------------


def test_the_family_asks_from_mon_compte_and_sees_it_waiting(client, auth, family, guardian):
    auth.login("famille.a")
    token = csrf_token(client, "/compte")
    response = client.post(
        f"/compte/responsables/{guardian.id}",
        data={
            "csrf_token": token,
            f"responsable{guardian.id}-phone_mobile": "06 12 34 56 78",
            f"responsable{guardian.id}-email": guardian.email,
        },
    )
    assert response.status_code == 302
    page = client.get("/compte").get_data(as_text=True)
    assert "1 modification envoyée" in page
    assert "en attente de validation" in page and "06 12 34 56 78" in page


def test_a_bad_phone_shows_the_form_again_with_the_message(client, auth, family, guardian):
    auth.login("famille.a")
    token = csrf_token(client, "/compte")
    response = client.post(
        f"/compte/responsables/{guardian.id}",
        data={"csrf_token": token, f"responsable{guardian.id}-phone_mobile": "12"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Exemple : 06 12 34 56 78" in page and '<details class="change" open>' in page
    assert requests_of(family) == []


class Tags(HTMLParser):
    """Each start tag's attributes, by the tag's id."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.by_id[attributes["id"]] = {"tag": tag, **attributes}


def test_a_bad_phones_message_is_tied_to_its_input(client, auth, family, guardian):
    """A screen reader on the input reads the error: the error's id in aria-describedby."""
    auth.login("famille.a")
    name = f"responsable{guardian.id}-phone_mobile"
    token = csrf_token(client, "/compte")
    response = client.post(
        f"/compte/responsables/{guardian.id}", data={"csrf_token": token, name: "12"}
    )
    tags = Tags(response.get_data(as_text=True)).by_id
    phone = tags[name]
    assert phone["aria-invalid"] == "true"
    (error_id,) = phone["aria-describedby"].split()
    assert tags[error_id]["tag"] == "p" and tags[error_id]["class"] == "field-error"
    other = tags[f"responsable{guardian.id}-phone_work"]
    assert "aria-invalid" not in other and "aria-describedby" not in other


def test_an_errors_id_follows_the_help_text_the_page_gives(app):
    """A field whose page describes it (documents: « aide-fichier ») keeps that description."""
    form = Form(prefix="envoi")
    form.upload = StringField("Fichier").bind(form, "upload", prefix="envoi-")
    form.upload.process(None)
    form.upload.errors = ["Choisissez un fichier.", "PDF, PNG ou JPEG."]
    markup = app.jinja_env.from_string(
        '{% from "macros.html" import field %}'
        "{{ field(form.upload, **{'aria-describedby': 'aide-fichier'}) }}"
    ).render(form=form)
    upload = Tags(markup).by_id["envoi-upload"]
    assert upload["aria-describedby"] == "aide-fichier envoi-upload-erreur-1 envoi-upload-erreur-2"
    assert "envoi-upload-erreur-2" in Tags(markup).by_id


def test_another_familys_guardian_or_child_is_a_404(client, auth, family, other_family):
    auth.login("famille.a")
    token = csrf_token(client, "/compte")
    for path in (
        f"/compte/responsables/{other_family.guardians[0].id}",
        f"/compte/enfants/{other_family.children[0].id}",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404
    assert requests_of(other_family) == []


def test_mon_compte_runs_the_same_queries_for_one_child_or_five(client, auth, family):
    auth.login("famille.a")

    def queries() -> int:
        with factories.counted_queries() as statements:
            assert client.get("/compte").status_code == 200
        return len(statements)

    few = queries()
    for name in ("Chloé", "Jules", "Inès"):
        factories.child(family, name)
    factories.guardian(family, "Sam")
    ask(family, "Family", family, {"city": "Rennes"})
    assert queries() == few
