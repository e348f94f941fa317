"""SECURITY.md checks 3-5 against a guesser: every form that checks a password counts
toward the account's lockout, the owner cannot be locked out for good, and "mot de passe
oublié" does the same work for any login, at most 3 emails per account and hour."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import event, func, select

from app import create_app
from extensions import db
from models import FamilyAccount, OutboxEmail, TokenPurpose, utcnow
from services import accounts, mail, password_reset
from tests import factories
from tests.conftest import AuthActions, csrf_token
from tests.services_redis import start_redis

NEW_PASSWORD = "un nouveau mot de passe sûr"


def account(username: str = "famille.a") -> FamilyAccount:
    db.session.expire_all()
    return db.session.query(FamilyAccount).filter_by(username=username).one()


@pytest.fixture
def verify_calls(monkeypatch):
    """The password-hash verifications (the expensive work a guess costs): (hash, password)."""
    calls = []
    real = accounts._verify

    def counting(password_hash, password):
        calls.append((password_hash, password))
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


# --- 2. the owner cannot be locked out for good --------------------------------------------

BROWSER_COOKIE = "pf_navigateur"


def login_from(client, address: str, username="famille.a", password=factories.PASSWORD):
    """A sign-in through the real form, from the client address `address`."""
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def guess_from_many_addresses(app, username="famille.a", attempts=30) -> list[int]:
    """A stranger's wrong passwords for `username`, one address each (no per-IP limit)."""
    stranger = app.test_client()
    return [
        login_from(stranger, f"203.0.113.{n}", username, "pas-le-bon-mot").status_code
        for n in range(attempts)
    ]


def browser_that_signed_in_before(app, browser=None):
    """A browser (a new one by default) where the owner signed in, then out."""
    browser = browser or app.test_client()
    assert login_from(browser, "192.0.2.10").status_code == 302
    assert browser.get_cookie(BROWSER_COOKIE) is not None
    AuthActions(browser).logout()
    return browser


def test_failures_from_elsewhere_do_not_block_a_browser_that_signed_in_before(app, family):
    owner = browser_that_signed_in_before(app)
    assert 429 in guess_from_many_addresses(app)
    assert account().locked_until > utcnow()

    assert login_from(owner, "192.0.2.10").status_code == 302
    assert login_from(app.test_client(), "192.0.2.11").status_code == 429, "others still wait"


def test_a_password_reset_clears_the_account_counters(app, family):
    assert 429 in guess_from_many_addresses(app)
    token = accounts.issue_token(account(), TokenPurpose.RESET, utcnow(), timedelta(hours=2))
    db.session.commit()
    owner = app.test_client()
    response = owner.post(
        f"/mot-de-passe/{token}",
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(owner, f"/mot-de-passe/{token}"),
        },
    )
    assert response.headers["Location"] == "/login"

    assert login_from(owner, "192.0.2.10", password=NEW_PASSWORD).status_code == 302


def test_a_known_browser_has_a_counter_of_its_own(app, family, verify_calls):
    owner = browser_that_signed_in_before(app)
    for _ in range(5):
        assert login_from(owner, "192.0.2.10", password="pas-le-bon-mot").status_code == 200
    checked = len(verify_calls)

    assert login_from(owner, "192.0.2.10").status_code == 200, "this browser waits"
    checked_hashes = [password_hash for password_hash, _ in verify_calls[checked:]]
    assert account().password_hash not in checked_hashes, "its password was not checked"
    assert account().failed_logins == 0, "the account's own counter is untouched"
    assert login_from(app.test_client(), "192.0.2.11").status_code == 302


@pytest.mark.parametrize("forgery", ["other login", "other key", "tampered"])
def test_a_browser_cookie_for_another_login_or_forged_counts_for_nothing(
    app, family, other_family, forgery
):
    browser = app.test_client()
    if forgery == "other login":
        assert login_from(browser, "192.0.2.10", username="famille.b").status_code == 302
        AuthActions(browser).logout()
    else:
        browser_that_signed_in_before(app, browser)
        value = browser.get_cookie(BROWSER_COOKIE).value
        if forgery == "other key":
            other_key = URLSafeSerializer("une-autre-clé", salt="known-browser")
            value = other_key.dumps(["famille.a", "un-nonce-choisi"])
        else:
            value = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
        browser.set_cookie(BROWSER_COOKIE, value)
    assert 429 in guess_from_many_addresses(app)

    assert login_from(browser, "192.0.2.10").status_code == 429


def test_with_redis_the_counters_hold_across_workers_and_a_reset_clears_them(tmp_path):
    process, redis_url = start_redis(tmp_path)
    try:
        database = f"sqlite:///{tmp_path / 'shared.db'}"
        first, second = (worker(database, redis_url, tmp_path) for _ in range(2))
        with first.app_context():
            factories.family_with_children(first, "famille.a", children=1)
        owner = browser_that_signed_in_before(first)
        assert 429 in guess_from_many_addresses(second)

        assert login_from(first.test_client(), "192.0.2.11").status_code == 429
        assert login_from(owner, "192.0.2.10").status_code == 302
        with second.app_context():
            accounts.set_password(account(), NEW_PASSWORD, utcnow())
            db.session.commit()
        new_browser = first.test_client()
        assert login_from(new_browser, "192.0.2.12", password=NEW_PASSWORD).status_code == 302
    finally:
        process.terminate()
        process.wait(timeout=10)


def worker(database_url: str, redis_url: str, tmp_path):
    """An app instance, as a gunicorn worker would be: one database, one Redis for all."""
    instance = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "RATELIMIT_STORAGE_URI": redis_url,
        }
    )
    with instance.app_context():
        db.create_all()
    return instance


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


def test_a_new_password_frees_a_known_browser_its_own_failures_locked(app, family):
    owner = browser_that_signed_in_before(app)
    for _ in range(5):
        login_from(owner, "192.0.2.10", password="pas-le-bon-mot")
    assert login_from(owner, "192.0.2.10").status_code == 200, "this browser waits"
    token = accounts.issue_token(account(), TokenPurpose.RESET, utcnow(), timedelta(hours=2))
    db.session.commit()
    owner.post(
        f"/mot-de-passe/{token}",
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(owner, f"/mot-de-passe/{token}"),
        },
    )
    assert login_from(owner, "192.0.2.10", password=NEW_PASSWORD).status_code == 302
