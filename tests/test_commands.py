"""The CLI: seed-demo loads the documented demo, create-staff applies the password policy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import demo
from extensions import db
from models import Activity, Child, Family, FamilyAccount, School, StaffRole, StaffUser

STAFF_PASSWORD_INPUT = "Un-mot-de-passe-solide\nUn-mot-de-passe-solide\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def test_seed_demo_loads_the_documented_contract(seeded):
    family = db.session.scalar(
        select(Family).join(FamilyAccount).where(FamilyAccount.username == "famille.demo")
    )
    assert len(family.children) == 2
    assert {child.school.name for child in family.children} == {
        "École Théodore Chalmel",
        "École Sainte-Thérèse",
    }
    codes = set(db.session.scalars(select(Activity.code)))
    assert codes == {"canteen", "care_morning", "care_evening"}
    assert count(School) == 2
    assert count(Family) >= 2


@pytest.mark.parametrize(
    ("username", "password", "lands_on"),
    [
        ("famille.demo", demo.FAMILY_PASSWORD, "/"),
        ("famille.test", demo.FAMILY_PASSWORD, "/"),
        ("agent.demo", demo.STAFF_PASSWORD, "/admin/"),
        ("agent.saisie", demo.STAFF_PASSWORD, "/admin/"),
    ],
)
def test_demo_logins_sign_in_through_the_form(seeded, auth, username, password, lands_on):
    response = auth.login(username, password)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_famille_demo_sees_its_two_children_only(seeded, client, auth):
    auth.login("famille.demo", demo.FAMILY_PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert "Tom Martin-Exemple" in page and "Léa Martin-Exemple" in page
    assert "Durand-Essai" not in page


def test_staff_roles_are_the_documented_ones(seeded):
    roles = dict(db.session.execute(select(StaffUser.username, StaffUser.role)).all())
    assert roles["agent.demo"] == StaffRole.ADMIN
    assert roles["agent.saisie"] == StaffRole.AGENT


def test_seed_demo_if_empty_is_idempotent(seeded, runner):
    before = (count(Family), count(Child))
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "non chargées" in result.output
    assert (count(Family), count(Child)) == before


def test_seed_demo_is_refused_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "refusé en production" in result.output
    assert count(Family) == 0


def test_demo_logins_lists_the_documented_accounts(runner):
    result = runner.invoke(args=["demo-logins"])
    assert result.exit_code == 0
    for login in ("famille.demo", "famille.test", "agent.demo", "Demo-famille-2026"):
        assert login in result.output


def test_create_staff_stores_an_argon2id_hash(runner):
    result = runner.invoke(
        args=["create-staff", "agent.nouveau", "--role", "admin", "--email", "n@mairie.example"],
        input=STAFF_PASSWORD_INPUT,
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "agent.nouveau"))
    assert user.role == StaffRole.ADMIN
    assert user.password_hash.startswith("$argon2id$")
    assert "Un-mot-de-passe-solide" not in result.output


def test_create_staff_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["create-staff", "agent.court", "--role", "agent", "--email", "c@mairie.example"],
        input="court\ncourt\n",
    )
    assert result.exit_code == 1
    assert "au moins 12 caractères" in result.output
    assert count(StaffUser) == 0


def test_create_staff_refuses_a_taken_login(runner, staff):
    result = runner.invoke(
        args=["create-staff", "agent.a", "--role", "agent", "--email", "a@mairie.example"],
        input=STAFF_PASSWORD_INPUT,
    )
    assert result.exit_code == 1
    assert "déjà utilisé" in result.output
