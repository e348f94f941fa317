"""The journal (SECURITY.md check 30): each staff change, old → new, in the change's transaction."""

from __future__ import annotations

import json
from datetime import date

import pytest

from extensions import db
from models import AuditEvent, Child, Family, FamilyAccount, NewsItem, School, SchoolYear, StaffRole
from services import audit
from tests import factories
from tests.conftest import csrf_token

HEALTH_NOTE = "Asthme, ventoline dans le cartable"


@pytest.fixture
def admin(app):
    return factories.staff_user("admin.a", role=StaffRole.ADMIN)


def journal() -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.query(AuditEvent).order_by(AuditEvent.id).all()


def fresh(model, id_: int):
    """The row as the database has it now (the requests ran in their own sessions)."""
    db.session.expire_all()
    return db.session.get(model, id_)


def post_form(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


# --- The rule -----------------------------------------------------------------------------


def test_changes_list_old_and_new_values(family):
    family.name = "Martin"
    family.quotient_familial = 750
    assert audit.changes_of(family) == {"name": ["A", "Martin"], "quotient_familial": [None, 750]}


def test_a_value_set_again_is_no_change(family, staff):
    family.name = "A"
    assert audit.changes_of(family) == {}
    assert audit.record_change(staff, family, created=False, ip="127.0.0.1") is None


def test_a_child_moved_to_another_school_records_the_school_ids(family):
    child = family.children[0]
    before = child.school_id
    other = factories.school("École Sainte-Thérèse")
    child.school = other
    assert audit.changes_of(child) == {"school_id": [before, other.id]}


def test_secrets_are_never_recorded(family):
    account = db.session.query(FamilyAccount).one()
    account.password_hash = "$argon2id$something"
    account.email = "nouvelle@example.org"
    assert audit.changes_of(account) == {"email": ["famille.a@example.org", "nouvelle@example.org"]}
    assert "password_hash" not in audit.snapshot_of(account)


def test_a_health_note_is_recorded_as_changed_but_masked(family):
    family.children[0].health_note = HEALTH_NOTE
    assert audit.changes_of(family.children[0]) == {"health_note": ["(masqué)", "(masqué)"]}


def test_a_new_row_is_flushed_so_the_event_names_it(staff):
    year = SchoolYear(label="2026-2027", starts_on=date(2026, 9, 1), ends_on=date(2027, 7, 3))
    db.session.add(year)
    event = audit.record_change(staff, year, created=True, ip="192.0.2.7")
    assert event.entity == "SchoolYear"
    assert event.entity_id == str(year.id)
    assert event.actor == "agent.a" and event.staff_user_id == staff.id
    assert event.ip == "192.0.2.7"
    assert json.loads(event.changes)["starts_on"] == [None, "2026-09-01"]


def test_an_event_rolls_back_with_its_change(family, staff):
    family.name = "Martin"
    audit.record_change(staff, family, created=False, ip="127.0.0.1")
    db.session.rollback()
    assert journal() == []
    assert db.session.get(Family, family.id).name == "A"


# --- Through the back office --------------------------------------------------------------


def family_form(family: Family, **changes) -> dict:
    fields = {
        "name": family.name,
        "address_line": family.address_line,
        "postcode": family.postcode,
        "city": family.city,
        "quotient_familial": "",
    }
    return {**fields, **changes}


def test_editing_a_family_writes_who_what_and_from_where(client, auth, staff, family):
    auth.login("agent.a")
    url = f"/admin/family/edit/?id={family.id}"
    response = post_form(client, url, family_form(family, name="Martin", quotient_familial="750"))
    assert response.status_code == 302
    (event,) = journal()
    assert (event.staff_user_id, event.actor, event.action) == (staff.id, "agent.a", "update")
    assert (event.entity, event.entity_id, event.ip) == ("Family", str(family.id), "127.0.0.1")
    assert json.loads(event.changes) == {"name": ["A", "Martin"], "quotient_familial": [None, 750]}
    assert fresh(Family, family.id).name == "Martin"


def test_saving_an_unchanged_form_writes_nothing(client, auth, staff, family):
    auth.login("agent.a")
    response = post_form(client, f"/admin/family/edit/?id={family.id}", family_form(family))
    assert response.status_code == 302
    assert journal() == []


def test_creating_and_deleting_are_journaled(client, auth, admin):
    auth.login("admin.a")
    post_form(
        client,
        "/admin/newsitem/new/",
        {"title": "Rentrée", "body": "Bonne rentrée", "published_on": "2026-09-01"},
    )
    news_id = str(db.session.query(NewsItem).one().id)
    token = csrf_token(client, "/admin/newsitem/")
    client.post("/admin/newsitem/delete/", data={"id": news_id, "csrf_token": token})
    created, deleted = journal()
    assert (created.action, created.entity_id) == ("create", news_id)
    assert json.loads(created.changes)["title"] == [None, "Rentrée"]
    assert (deleted.action, deleted.entity_id) == ("delete", news_id)
    assert json.loads(deleted.changes)["title"] == ["Rentrée", None]
    assert db.session.query(NewsItem).count() == 0


def test_a_change_that_fails_leaves_no_event(client, auth, admin, family):
    taken = family.children[0].school.name
    other = factories.school("École Sainte-Thérèse")
    auth.login("admin.a")
    url = f"/admin/school/edit/?id={other.id}"
    post_form(client, url, {"name": taken, "class_weekdays": "1,2,4,5", "address": ""})
    assert journal() == []
    assert fresh(School, other.id).name == "École Sainte-Thérèse"


def test_a_health_note_edit_is_journaled_without_the_note(client, auth, admin, staff, family):
    child = family.children[0]
    auth.login("admin.a")
    url = f"/admin/child/edit/?id={child.id}"
    form = {
        "family": str(family.id),
        "first_name": child.first_name,
        "last_name": child.last_name,
        "birth_date": child.birth_date.isoformat(),
        "school": str(child.school_id),
        "class_name": child.class_name,
        "health_note": HEALTH_NOTE,
    }
    assert post_form(client, url, form).status_code == 302
    assert fresh(Child, child.id).health_note == HEALTH_NOTE
    (event,) = journal()
    assert json.loads(event.changes) == {"health_note": ["(masqué)", "(masqué)"]}
    auth.logout(form_page="/admin/")
    auth.login("agent.a")
    assert HEALTH_NOTE not in client.get("/admin/auditevent/").get_data(as_text=True)


def test_an_account_edit_never_journals_its_password_hash(client, auth, admin, family):
    account = db.session.query(FamilyAccount).one()
    auth.login("admin.a")
    url = f"/admin/familyaccount/edit/?id={account.id}"
    form = {
        "family": str(family.id),
        "username": "famille.a",
        "email": "nouvelle@example.org",
        "is_enabled": "y",
    }
    assert post_form(client, url, form).status_code == 302
    # The other event tells the previous address (tests/test_staff_account_changes.py).
    event, _told = journal()
    assert json.loads(event.changes) == {"email": ["famille.a@example.org", "nouvelle@example.org"]}
    password_hash = account.password_hash
    assert fresh(FamilyAccount, account.id).password_hash == password_hash
