"""SECURITY.md checks 3-5 against a guesser: every form that checks a password counts
toward the account's lockout, the owner cannot be locked out for good, and "mot de passe
oublié" does the same work for any login, at most 3 emails per account and hour."""

from __future__ import annotations

import pytest

from extensions import db
from models import FamilyAccount, utcnow
from services import accounts
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
