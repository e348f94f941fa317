"""Accounts staff create: the invitation link (never a password by email), enable, disable."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from extensions import db
from models import FamilyAccount, OutboxEmail, StaffUser, utcnow
from services import accounts, invitations, mail, password_reset
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 26, 9, 30)
NEW_PASSWORD = "Quatre-chats-sous-la-pluie"
LINK = re.compile(r"https://portail\.example/mot-de-passe/([A-Za-z0-9_-]+)")


@pytest.fixture
def invited(family) -> FamilyAccount:
    """A family account staff created: an address, no password yet."""
    account = family.accounts[0]
    account.password_hash = None
    db.session.commit()
    return account


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def tokens() -> list[str]:
    return [LINK.search(row.body_text).group(1) for row in outbox()]


def set_password_form(client, path: str):
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return client.post(path, data={**form, "csrf_token": csrf_token(client, "/login")})


def test_an_invited_parent_chooses_a_password_once_and_signs_in(client, auth, invited, smtp):
    invitations.send_invitation(invited, utcnow())

    assert mail.send_pending(utcnow()).emails == 1
    [received] = smtp.messages
    assert received.rcpt_tos == ["famille.a@example.org"]
    assert received.message["Subject"] == "Portail Famille : votre accès au portail"
    [link] = [word for word in received.text.split() if "/mot-de-passe/" in word]
    assert link.startswith("https://portail.example/mot-de-passe/")
    assert f'href="{link}"' in received.html
    for body in (received.text, received.html):
        assert "famille.a" in body  # the login
        assert "72 heures" in body
        assert "https://portail.example/login" in body
    path = urlsplit(link).path

    assert client.get(path).status_code == 200
    first = set_password_form(client, path)
    assert first.status_code == 302 and first.headers["Location"] == "/login"

    again = set_password_form(client, path)
    assert again.headers["Location"] == "/mot-de-passe-oublie"
    assert client.get(path).headers["Location"] == "/mot-de-passe-oublie"

    signed_in = auth.login("famille.a", NEW_PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    assert "Bonjour" in client.get("/").get_data(as_text=True)


def test_the_email_never_carries_a_password(invited):
    invited.password_hash = accounts.hash_password(factories.PASSWORD)
    db.session.commit()

    invitations.send_invitation(invited, NOW)

    [row] = outbox()
    for body in (row.body_text, row.body_html):
        assert factories.PASSWORD not in body
        assert invited.password_hash not in body
        assert "Votre identifiant" in body


def test_the_link_dies_after_72_hours(invited):
    expires_at = invitations.send_invitation(invited, NOW)
    [token] = tokens()

    assert expires_at == NOW + timedelta(hours=72)
    assert password_reset.token_is_live(token, NOW + timedelta(hours=71))
    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(token, NEW_PASSWORD, NOW + timedelta(hours=73))
    db.session.expire_all()
    assert invited.password_hash is None


def test_the_link_works_within_72_hours(invited):
    invitations.send_invitation(invited, NOW)
    [token] = tokens()

    accounts.reset_password_with_token(token, NEW_PASSWORD, NOW + timedelta(hours=71))

    assert accounts.authenticate("famille.a", NEW_PASSWORD, NOW + timedelta(hours=72))


def test_sending_again_kills_the_previous_link(invited):
    invitations.send_invitation(invited, NOW)
    invitations.send_invitation(invited, NOW + timedelta(hours=1))
    first, second = tokens()

    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(first, NEW_PASSWORD, NOW + timedelta(hours=2))
    accounts.reset_password_with_token(second, NEW_PASSWORD, NOW + timedelta(hours=2))


def test_a_password_set_another_way_kills_the_invitation(invited):
    invitations.send_invitation(invited, NOW)
    password_reset.send_reset_link("famille.a", NOW)
    invitation, reset = tokens()

    accounts.reset_password_with_token(reset, NEW_PASSWORD, NOW)

    assert not password_reset.token_is_live(invitation, NOW)


@pytest.mark.parametrize("problem", ["no address", "disabled"])
def test_no_invitation_without_an_address_or_for_a_disabled_account(invited, problem):
    if problem == "no address":
        invited.email = "  "
    else:
        invited.is_enabled = False
    db.session.commit()

    with pytest.raises(invitations.InvitationImpossible, match="famille.a"):
        invitations.send_invitation(invited, NOW)
    assert outbox() == []


def test_staff_users_are_invited_the_same_way(app):
    agent = factories.staff_user("agent.nouveau")

    invitations.send_invitation(agent, NOW)

    [row] = outbox()
    assert row.to_address == "agent.nouveau@mairie.example" and row.family_id is None
    [token] = tokens()
    assert accounts.reset_password_with_token(token, NEW_PASSWORD, NOW) == agent
    assert isinstance(accounts.authenticate("agent.nouveau", NEW_PASSWORD, NOW), StaffUser)


def test_disabling_ends_the_sessions_at_once_and_enabling_lets_the_parent_back(
    client, auth, family
):
    auth.login("famille.a")
    assert client.get("/").status_code == 200

    invitations.disable_account(family.accounts[0], utcnow())

    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    refused = auth.login("famille.a")
    assert refused.status_code == 200 and "incorrect" in refused.get_data(as_text=True)

    invitations.enable_account(family.accounts[0])

    assert auth.login("famille.a").headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_disabling_kills_a_pending_invitation(invited):
    invitations.send_invitation(invited, NOW)
    [token] = tokens()

    invitations.disable_account(invited, NOW + timedelta(minutes=5))
    invitations.enable_account(invited)

    assert not password_reset.token_is_live(token, NOW + timedelta(minutes=10))


def test_enabling_forgets_an_old_lockout(family):
    account = family.accounts[0]
    account.failed_logins, account.locked_until = 7, NOW + timedelta(hours=1)
    account.is_enabled = False
    db.session.commit()

    invitations.enable_account(account)

    assert accounts.authenticate("famille.a", factories.PASSWORD, NOW) is not None
