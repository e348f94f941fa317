"""Staff create a family's login, send the invitation, disable and re-enable it."""

from __future__ import annotations

import re

from sqlalchemy import select

from extensions import db
from models import AuditEvent, Family, FamilyAccount
from tests.conftest import AuthActions, csrf_token

LINK = re.compile(r"https://portail\.example/mot-de-passe/(\S+)")


def account_action(client, name: str, account_id: int):
    token = csrf_token(client, "/admin/familyaccount/")
    return client.post(
        "/admin/familyaccount/action/",
        data={"csrf_token": token, "action": name, "rowid": [str(account_id)]},
        follow_redirects=True,
    )


def test_agent_creates_a_login_invites_and_the_parent_signs_in(app, client, auth, staff, smtp):
    family = Family(name="Nouvelle-Famille", city="Saint-Exemple")
    db.session.add(family)
    db.session.commit()
    auth.login("agent.a")
    token = csrf_token(client, "/admin/familyaccount/new/")
    client.post(
        "/admin/familyaccount/new/",
        data={
            "csrf_token": token,
            "family": str(family.id),
            "username": "famille.nouvelle",
            "email": "nouvelle@example.org",
            "is_enabled": "y",
        },
    )
    account = db.session.scalar(
        select(FamilyAccount).where(FamilyAccount.username == "famille.nouvelle")
    )
    assert account is not None and account.password_hash is None

    page = account_action(client, "invite", account.id).get_data(as_text=True)
    assert "Invitation envoyée : famille.nouvelle." in page
    from models import utcnow
    from services import mail

    mail.send_pending(utcnow())
    [email] = smtp.inbox.to("nouvelle@example.org")
    assert "famille.nouvelle" in email.text
    link_token = LINK.search(email.text).group(1)
    assert "$argon2" not in email.text  # a link, never a password or its hash

    parent = app.test_client()
    path = f"/mot-de-passe/{link_token}"
    form = csrf_token(parent, path)
    chosen = "quatre chats sous la pluie"
    answer = parent.post(path, data={"csrf_token": form, "password": chosen, "confirm": chosen})
    assert answer.headers["Location"] == "/login"
    assert parent.get(path, follow_redirects=True).request.path == "/mot-de-passe-oublie"
    assert AuthActions(parent).login("famille.nouvelle", chosen).headers["Location"] == "/"
    events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "FamilyAccount")
    )
    assert {"create", "invite"} <= set(events)


def test_disabling_ends_the_sessions_at_once_and_enabling_lets_in_again(
    app, client, auth, staff, family
):
    parent = app.test_client()
    AuthActions(parent).login("famille.a")
    assert parent.get("/").status_code == 200
    account_id = family.accounts[0].id

    auth.login("agent.a")
    assert "Compte désactivé : famille.a." in account_action(
        client, "disable", account_id
    ).get_data(as_text=True)
    assert parent.get("/").status_code == 302
    assert AuthActions(app.test_client()).login("famille.a").status_code == 200

    account_action(client, "enable", account_id)
    assert AuthActions(app.test_client()).login("famille.a").headers["Location"] == "/"
    journal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "disable")).one()
    assert '"is_enabled": [true, false]' in journal.changes


def test_an_account_without_email_gets_a_clear_message(app, client, auth, staff, family):
    account = family.accounts[0]
    account.email = ""
    db.session.commit()
    auth.login("agent.a")
    page = account_action(client, "invite", account.id).get_data(as_text=True)
    assert "n&#39;a pas d&#39;adresse email" in page or "n'a pas d'adresse email" in page
