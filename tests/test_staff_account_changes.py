"""Staff taking over a login are seen (SECURITY.md check 30): when an agent changes a login's
address, or sends a link that replaces its password to an address an agent put there, the
previous address is told by email and the journal says so. Through the real back office
and a real SMTP server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditEvent, FamilyAccount, utcnow
from services import mail, password_reset
from tests.conftest import csrf_token

OLD = "famille.a@example.org"
NEW = "nouvelle@example.org"
ADDRESS_CHANGED = "Portail Famille : l'adresse email de votre compte a été changée par la mairie"
PASSWORD_LINK_SENT = "Portail Famille : la mairie a envoyé un lien de mot de passe"
INVITATION = "Portail Famille : votre accès au portail"


@pytest.fixture
def agent(client, auth, staff):
    auth.login("agent.a")
    return client


def change_address(client, account: FamilyAccount, email: str):
    url = f"/admin/familyaccount/edit/?id={account.id}"
    form = {
        "family": str(account.family_id),
        "username": account.username,
        "email": email,
        "is_enabled": "y",
        "csrf_token": csrf_token(client, url),
    }
    assert client.post(url, data=form).status_code == 302


def invite(client, account: FamilyAccount) -> None:
    token = csrf_token(client, "/admin/familyaccount/")
    page = client.post(
        "/admin/familyaccount/action/",
        data={"csrf_token": token, "action": "invite", "rowid": [str(account.id)]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Invitation envoyée : {account.username}." in page


def delivered(smtp) -> list[tuple[str, str]]:
    mail.send_pending(utcnow())
    return [(m.rcpt_tos[0], m.message["Subject"]) for m in smtp.messages]


def told_events() -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == "previous-address-told")
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_an_address_changed_by_staff_is_told_to_the_previous_one(agent, staff, family, smtp):
    account = family.accounts[0]
    password_reset.send_reset_link("famille.a", utcnow())
    [(_, reset_subject)] = delivered(smtp)
    reset_token = smtp.messages[0].text.split("/mot-de-passe/")[1].split()[0]

    change_address(agent, account, NEW)

    assert delivered(smtp)[1:] == [(OLD, ADDRESS_CHANGED)]
    notice = smtp.messages[1]
    for body in (notice.text, notice.html):
        assert "famille.a" in body and "n…@example.org" in body and NEW not in body
    assert not password_reset.token_is_live(reset_token, utcnow())  # it went to the old one
    [event] = told_events()
    assert (event.actor, event.entity) == ("agent.a", "FamilyAccount")
    assert event.entity_id == str(account.id) and json.loads(event.changes) == {"email": [OLD, NEW]}
    assert event.ip == "127.0.0.1" and event.staff_user_id == staff.id
    assert "Ancienne adresse prévenue" in agent.get("/admin/auditevent/").get_data(as_text=True)


def test_a_password_link_to_an_address_staff_put_there_is_told_too(agent, family, smtp):
    account = family.accounts[0]

    change_address(agent, account, NEW)
    invite(agent, account)

    assert sorted(delivered(smtp)) == [
        (OLD, ADDRESS_CHANGED),
        (OLD, PASSWORD_LINK_SENT),
        (NEW, INVITATION),
    ]
    [notice] = [m for m in smtp.messages if m.message["Subject"] == PASSWORD_LINK_SENT]
    for body in (notice.text, notice.html):
        assert "famille.a" in body and "n…@example.org" in body and "/mot-de-passe/" not in body
    address_event, invitation_event = told_events()
    assert json.loads(invitation_event.changes) == {"email": [OLD, NEW]}
    assert invitation_event.actor == "agent.a"


def test_an_invitation_to_the_address_the_family_had_tells_nobody_else(agent, family, smtp):
    invite(agent, family.accounts[0])

    assert delivered(smtp) == [(OLD, INVITATION)]
    assert told_events() == []


def test_a_login_nobody_has_used_yet_tells_nobody(agent, family, smtp):
    account = family.accounts[0]
    account.password_hash = None  # created by staff, the invitation not used yet
    db.session.commit()

    change_address(agent, account, NEW)
    invite(agent, account)

    assert delivered(smtp) == [(NEW, INVITATION)]
    assert told_events() == []
