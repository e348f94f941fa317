"""SECURITY.md checks 3-5 against a guesser: every form that checks a password counts
toward the account's lockout, the owner cannot be locked out for good, and "mot de passe
oublié" does the same work for any login, at most 3 emails per account and hour."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from extensions import db
from models import FamilyAccount, OutboxEmail, utcnow
from services import accounts, mail, password_reset
from tests import factories
from tests.conftest import AuthActions, csrf_token

NEW_PASSWORD = "un nouveau mot de passe sûr"


def account(username: str = "famille.a") -> FamilyAccount:
    db.session.expire_all()
    return db.session.query(FamilyAccount).filter_by(username=username).one()


@pytest.fixture
def verify_calls(monkeypatch):
    """Counts password-hash verifications (the expensive work a guess costs)."""
    calls = []
    real = accounts._verify

    def counting(password_hash, password):
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", counting)
    return calls


def change_password(client, current: str):
    return client.post(
        "/compte/mot-de-passe",
        data={
            "current": current,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/compte"),
        },
    )


def change_email(client, password: str):
    return client.post(
        "/compte/email",
        data={
            "new_email": "ailleurs@example.org",
            "password": password,
            "csrf_token": csrf_token(client, "/compte"),
        },
    )


# --- 1. the password and email changes count toward the lockout ---------------------------


def test_wrong_current_passwords_lock_the_password_change(app, client, auth, family, verify_calls):
    auth.login("famille.a")
    for _ in range(accounts.LOCK_AFTER_FAILURES):
        assert change_password(client, "pas-le-bon-mot-de-passe").status_code == 400
    checked, before = len(verify_calls), account().password_hash

    response = change_password(client, factories.PASSWORD)

    assert response.status_code == 400
    assert "Trop d&#39;essais" in response.get_data(as_text=True)
    assert len(verify_calls) == checked, "a locked account's password is not even checked"
    assert account().password_hash == before, "the password did not change"
    assert account().locked_until > utcnow()


def test_wrong_passwords_at_the_email_change_lock_the_sign_in(app, client, auth, family):
    auth.login("famille.a")
    for _ in range(accounts.LOCK_AFTER_FAILURES):
        assert change_email(client, "pas-le-bon-mot-de-passe").status_code == 400

    elsewhere = AuthActions(app.test_client()).login("famille.a")

    assert elsewhere.status_code == 200, "the same counter as sign-in: the account is locked"
    assert account().failed_logins == accounts.LOCK_AFTER_FAILURES


# --- 3. forgotten password -----------------------------------------------------------------


@pytest.fixture
def issued_links(monkeypatch):
    """The tokens of the reset links issued, in order (the email holds them too)."""
    tokens = []
    real = accounts.issue_token

    def recording(*args, **kwargs):
        token = real(*args, **kwargs)
        tokens.append(token)
        return token

    monkeypatch.setattr(accounts, "issue_token", recording)
    return tokens


def reset_emails_to(address: str) -> int:
    return db.session.scalar(
        select(func.count(OutboxEmail.id)).where(
            OutboxEmail.to_address == address, OutboxEmail.subject.contains("mot de passe")
        )
    )


def work_of_a_reset_request(username: str, now) -> dict:
    """What answering "mot de passe oublié" for `username` costs: every SQL statement (its
    text, savepoint names aside), the hashes computed and the email templates rendered."""
    statements, digests, templates = [], [], []

    def on_statement(_conn, _cursor, statement, *_args):
        text = re.sub(r"sa_savepoint_\d+", "sp", statement)
        statements.append(re.sub(r"^(RELEASE|ROLLBACK TO) SAVEPOINT", "END SAVEPOINT", text))

    real_digest, real_render = accounts._digest, mail.render_email

    def counting_digest(token):
        digests.append(token)
        return real_digest(token)

    def counting_render(template, **context):
        templates.append(template)
        return real_render(template, **context)

    event.listen(db.engine, "before_cursor_execute", on_statement)
    accounts._digest, mail.render_email = counting_digest, counting_render
    try:
        password_reset.send_reset_link(username, now)
    finally:
        accounts._digest, mail.render_email = real_digest, real_render
        event.remove(db.engine, "before_cursor_execute", on_statement)
    return {"statements": statements, "hashes": len(digests), "templates": templates}


def test_forgotten_password_does_the_same_work_for_any_login(app, family, staff):
    now = utcnow()
    known = work_of_a_reset_request("famille.a", now)
    assert reset_emails_to("famille.a@example.org") == 1, "the known login got its email"

    for username in ("personne.inconnue", "agent.a", "famille.a"):
        for _ in range(3 if username == "famille.a" else 1):
            assert work_of_a_reset_request(username, now) == known, username

    assert known["hashes"] >= 1 and known["templates"]
    assert any(statement.startswith("INSERT") for statement in known["statements"])


def test_at_most_three_reset_emails_per_account_and_hour(app, family):
    now = utcnow()
    for minutes in (0, 1, 2, 30, 59):
        password_reset.send_reset_link("famille.a", now + timedelta(minutes=minutes))
    assert reset_emails_to("famille.a@example.org") == 3

    password_reset.send_reset_link("famille.a", now + timedelta(minutes=61))
    assert reset_emails_to("famille.a@example.org") == 4


def test_over_http_the_fourth_request_of_the_hour_sends_nothing(app, family):
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"):
        client = app.test_client()
        response = client.post(
            "/mot-de-passe-oublie",
            data={
                "username": "famille.a",
                "csrf_token": csrf_token(client, "/mot-de-passe-oublie"),
            },
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 302
    assert reset_emails_to("famille.a@example.org") == 3


def test_a_new_reset_link_ends_the_earlier_ones(app, family, issued_links):
    now = utcnow()
    password_reset.send_reset_link("famille.a", now)
    password_reset.send_reset_link("famille.a", now + timedelta(minutes=5))
    first, second = issued_links

    assert not password_reset.token_is_live(first, now + timedelta(minutes=6))
    assert password_reset.token_is_live(second, now + timedelta(minutes=6))
    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(first, NEW_PASSWORD, now + timedelta(minutes=6))
