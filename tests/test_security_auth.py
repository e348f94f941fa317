"""SECURITY.md checks 1-7, 11, 12, 14: accounts, sessions, CSRF, headers, error pages."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import abort

from app import create_app
from extensions import db
from models import AuthSession, FamilyAccount, StaffUser, TokenPurpose, utcnow
from services import accounts
from tests import factories
from tests.conftest import csrf_token

COOKIE = "portail_session"


def account(username: str) -> FamilyAccount:
    return db.session.query(FamilyAccount).filter_by(username=username).one()


@pytest.fixture
def verify_calls(monkeypatch):
    """Counts password-hash verifications (the expensive work a login costs)."""
    calls = []
    real = accounts._verify

    def counting(password_hash, password):
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", counting)
    return calls


# --- 1. hashing ---------------------------------------------------------------------------


def test_password_is_stored_as_argon2id(app, family):
    assert account("famille.a").password_hash.startswith("$argon2id$")


def test_a_weaker_hash_is_upgraded_at_login(client, auth, family):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    account("famille.a").password_hash = weak.hash(factories.PASSWORD)
    db.session.commit()
    assert auth.login("famille.a").status_code == 302
    db.session.expire_all()
    assert "m=65536,t=3" in account("famille.a").password_hash


# --- 2. password policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, accepted",
    [
        ("court-11car", False),
        ("douze-caract", True),
        ("motdepasse123", False),
        ("aaaaaaaaaaaaaaaa", False),
        ("une phrase toute simple sans chiffre", True),
    ],
)
def test_password_policy_is_length_and_commonness_only(password, accepted):
    if accepted:
        accounts.check_password_policy(password)
    else:
        with pytest.raises(accounts.PasswordRejected):
            accounts.check_password_policy(password)


def test_a_long_password_must_be_entered_whole(app, client, auth, family):
    long_password = "x1-" + "portail-famille-" * 5
    assert len(long_password) >= 80
    accounts.set_password(account("famille.a"), long_password, utcnow())
    db.session.commit()
    assert "Identifiant ou mot de passe incorrect" in auth.login(
        "famille.a", long_password[:-1]
    ).get_data(as_text=True)
    assert auth.login("famille.a", long_password).status_code == 302


# --- 3. throttling and lockout -------------------------------------------------------------


def test_eleventh_attempt_in_a_minute_from_one_address_gets_429_unchecked(
    client, auth, verify_calls
):
    for _ in range(10):
        assert auth.login("inconnu", "mauvais-mot-de-passe").status_code == 200
    checked = len(verify_calls)
    response = auth.login("inconnu", "mauvais-mot-de-passe")
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert len(verify_calls) == checked


@pytest.fixture
def behind_proxy(app):
    """The app as deployed behind one TLS proxy (X-Forwarded-For trusted one hop deep)."""
    proxied = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            "TRUSTED_PROXIES": 1,
        }
    )
    return proxied.test_client()


def test_rotating_forged_forwarded_for_does_not_reset_the_account_throttle(
    app, family, behind_proxy
):
    statuses = []
    for attempt in range(30):
        token = csrf_token(behind_proxy)
        response = behind_proxy.post(
            "/login",
            data={"username": "famille.a", "password": "pas-le-bon-mot", "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
        )
        statuses.append(response.status_code)
    assert 429 in statuses
    token = csrf_token(behind_proxy)
    final = behind_proxy.post(
        "/login",
        data={"username": "famille.a", "password": factories.PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert final.status_code != 302, "the right password must not get through the throttle"


def test_five_failures_lock_the_account_for_a_growing_time(app, family, caplog):
    now = utcnow()
    caplog.set_level(logging.WARNING, logger="services.accounts")
    for _ in range(5):
        assert accounts.authenticate("famille.a", "mauvais-mot-de-passe", now) is None
    with pytest.raises(accounts.AccountLocked) as locked:
        accounts.authenticate("famille.a", factories.PASSWORD, now + timedelta(seconds=59))
    assert locked.value.until >= now + timedelta(minutes=1)
    assert "account locked" in caplog.text

    later = locked.value.until + timedelta(seconds=1)
    assert accounts.authenticate("famille.a", "encore-mauvais", later) is None
    assert account("famille.a").locked_until >= later + timedelta(minutes=2)
    assert accounts.authenticate("famille.a", factories.PASSWORD, later + timedelta(hours=1))


def test_the_right_password_is_refused_while_locked_over_http(client, auth, family):
    for _ in range(5):
        auth.login("famille.a", "mauvais-mot-de-passe")
    response = auth.login("famille.a")
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in response.get_data(as_text=True)


def test_a_locked_account_can_still_reset_its_password(app, family):
    now = utcnow()
    for _ in range(5):
        accounts.authenticate("famille.a", "mauvais-mot-de-passe", now)
    assert account("famille.a").locked_until > now
    token = accounts.issue_token(account("famille.a"), TokenPurpose.RESET, now, timedelta(hours=2))
    db.session.commit()
    accounts.reset_password_with_token(token, "un tout nouveau mot de passe", now)
    assert accounts.authenticate("famille.a", "un tout nouveau mot de passe", now)


# --- 4. no enumeration ---------------------------------------------------------------------


def test_unknown_login_and_wrong_password_look_the_same(client, auth, family, verify_calls):
    unknown = auth.login("personne.inconnue", "mauvais-mot-de-passe")
    unknown_checks = len(verify_calls)
    wrong = auth.login("famille.a", "mauvais-mot-de-passe")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown_checks == 1 and len(verify_calls) == 2

    def visible(response):
        return (
            response.get_data(as_text=True)
            .replace(csrf_token_in(response), "")
            .replace('value="personne.inconnue"', "")
            .replace('value="famille.a"', "")
        )

    assert visible(unknown) == visible(wrong)


def csrf_token_in(response) -> str:
    from tests.conftest import CSRF_RE

    return CSRF_RE.search(response.get_data(as_text=True)).group(1)


def test_forgotten_password_answers_the_same_for_unknown_logins(client, family):
    answers = []
    for username in ("famille.a", "personne.inconnue"):
        token = csrf_token(client, "/mot-de-passe-oublie")
        response = client.post(
            "/mot-de-passe-oublie",
            data={"username": username, "csrf_token": token},
            follow_redirects=True,
        )
        answers.append(response.get_data(as_text=True).replace(csrf_token_in(response), ""))
    assert answers[0] == answers[1]
    assert "Si cet identifiant existe" in answers[0]


# --- 5. tokens -----------------------------------------------------------------------------


def test_reset_token_is_single_use_and_expires(app, family):
    now = utcnow()
    user = account("famille.a")
    token = accounts.issue_token(user, TokenPurpose.RESET, now, timedelta(hours=2))
    expired = accounts.issue_token(user, TokenPurpose.RESET, now, timedelta(hours=2))
    db.session.commit()
    accounts.reset_password_with_token(token, "premier nouveau mot de passe", now)
    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(token, "second nouveau mot de passe", now)
    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(
            expired, "second nouveau mot de passe", now + timedelta(hours=3)
        )


def test_reset_token_dies_when_the_password_changes(app, family):
    now = utcnow()
    user = account("famille.a")
    token = accounts.issue_token(user, TokenPurpose.RESET, now, timedelta(hours=2))
    accounts.set_password(user, "changé autrement entre-temps", now)
    db.session.commit()
    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(token, "mot de passe du pirate", now)


# --- 6. sessions ---------------------------------------------------------------------------
# "Rester connecté sur ce téléphone" (the pf_appareil cookie): tests/test_remembered_devices.py
# and tests/e2e/test_remembered_phone.py.


def test_login_rotates_the_session(client, auth, family):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    auth.login("famille.a")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_a_replayed_cookie_is_refused_after_logout(client, auth, family):
    auth.login("famille.a")
    stolen = client.get_cookie(COOKIE).value
    assert client.get("/").status_code == 200
    auth.logout()
    client.set_cookie(COOKIE, stolen)
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_password_change_ends_the_other_sessions_only(app, family):
    phone, laptop = app.test_client(), app.test_client()
    from tests.conftest import AuthActions

    AuthActions(phone).login("famille.a")
    AuthActions(laptop).login("famille.a")
    token = csrf_token(laptop, "/compte")
    response = laptop.post(
        "/compte/mot-de-passe",
        data={
            "current": factories.PASSWORD,
            "new": "un nouveau mot de passe sûr",
            "confirm": "un nouveau mot de passe sûr",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


def test_a_disabled_account_is_out_at_once(client, auth, family):
    auth.login("famille.a")
    accounts.disable_account(account("famille.a"), utcnow())
    db.session.commit()
    assert client.get("/").status_code == 302
    assert auth.login("famille.a").status_code == 200


def _session_row() -> AuthSession:
    return db.session.query(AuthSession).filter(AuthSession.revoked_at.is_(None)).one()


def test_staff_sessions_end_after_30_idle_minutes(client, auth, staff):
    auth.login("agent.a")
    row = _session_row()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_every_session_ends_after_12_hours(client, auth, family):
    auth.login("famille.a")
    row = _session_row()
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    row.last_seen_at = utcnow()
    db.session.commit()
    assert client.get("/").status_code == 302


def test_family_sessions_survive_a_quiet_half_hour(client, auth, family):
    auth.login("famille.a")
    row = _session_row()
    row.last_seen_at = utcnow() - timedelta(minutes=45)
    db.session.commit()
    assert client.get("/").status_code == 200


# --- 7. open redirects ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
    ],
)
def test_next_never_leaves_the_site(client, family, target):
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "famille.a", "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_on_the_site_is_kept(client, family):
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": "/compte"},
        data={"username": "famille.a", "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/compte"


# --- 10. families and staff are different accounts ----------------------------------------


def test_staff_land_in_the_back_office_and_families_never_do(client, auth, family, staff):
    assert auth.login("agent.a").headers["Location"] == "/admin/"
    assert client.get("/").status_code == 302
    auth.logout(form_page="/admin/")
    auth.login("famille.a")
    assert client.get("/admin/").status_code == 404


def test_staff_users_and_family_accounts_are_separate_tables(app, family, staff):
    assert db.session.query(StaffUser).filter_by(username="famille.a").count() == 0
    assert db.session.query(FamilyAccount).filter_by(username="agent.a").count() == 0


# --- 11. CSRF ------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(client, family):
    response = client.post("/login", data={"username": "famille.a", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_logout_without_csrf_token_keeps_the_session(client, auth, family):
    auth.login("famille.a")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_password_change_without_csrf_token_changes_nothing(client, auth, family):
    auth.login("famille.a")
    before = account("famille.a").password_hash
    response = client.post(
        "/compte/mot-de-passe",
        data={"current": factories.PASSWORD, "new": "x" * 20, "confirm": "x" * 20},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert account("famille.a").password_hash == before


# --- 12 and 14. headers and error pages ---------------------------------------------------


@pytest.fixture
def failing_app(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    return app


@pytest.mark.parametrize(
    "path", ["/login", "/nope", "/boom", "/forbidden", "/healthz", "/static/css/portail.css"]
)
def test_every_response_carries_the_security_headers(failing_app, path):
    response = failing_app.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_pages_with_personal_data_are_not_cached(client, auth, family):
    auth.login("famille.a")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/compte").headers["Cache-Control"] == "no-store"


def test_a_crash_shows_a_french_page_without_traceback(failing_app):
    response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Erreur du serveur" in body
    assert "Traceback" not in body and "secret internals" not in body


def test_not_found_is_french(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_the_payment_simulator(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    with pytest.raises(RuntimeError, match="simulator"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_sends_hsts_and_has_debug_off(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    production = create_app(
        {
            "APP_ENV": "production",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "MOLLIE_API_KEY": "live_exampleexampleexample",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",  # not reached by a GET
            "UPLOAD_FOLDER": str(tmp_path),
        }
    )
    assert production.debug is False
    response = production.test_client().get("/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
