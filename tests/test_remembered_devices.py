"""SECURITY.md check 6, "rester connecté sur ce téléphone": a family's phone stays signed in
for 30 days through the pf_appareil cookie, its token replaced at each use, listed and
revocable in MON COMPTE, ended by a password change or a disabled account; never for staff.

Through the real forms and cookies (the Flask test client), the clock pinned.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from extensions import db
from models import AuthSession, FamilyAccount, RememberedDevice, TokenPurpose
from services import accounts, remembered_devices
from tests import factories
from tests.conftest import AuthActions, csrf_token

COOKIE = "pf_appareil"
NOW = datetime(2026, 11, 26, 8, 0)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def now(pin_clock):
    pin_clock(NOW)
    return NOW


def sign_in(client, username="famille.a", remember=True, user_agent=IPHONE):
    data = {"username": username, "password": factories.PASSWORD}
    data["csrf_token"] = csrf_token(client)
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, headers={"User-Agent": user_agent})


def set_cookie_line(response) -> str | None:
    """The response's Set-Cookie line for pf_appareil, if any."""
    lines = [line for line in response.headers.getlist("Set-Cookie") if line.startswith(COOKIE)]
    assert len(lines) <= 1
    return lines[0] if lines else None


def cookie_value(client) -> str:
    return client.get_cookie(COOKIE).value


def phone_with(app, value: str):
    """Another browser holding only this pf_appareil cookie (a copy, or the phone later)."""
    browser = app.test_client()
    browser.set_cookie(COOKIE, value)
    return browser


def devices() -> list[RememberedDevice]:
    db.session.expire_all()
    return db.session.query(RememberedDevice).order_by(RememberedDevice.id).all()


def family_account(username="famille.a") -> FamilyAccount:
    return db.session.query(FamilyAccount).filter_by(username=username).one()


def later(pin_clock, **delta) -> datetime:
    moment = NOW + timedelta(**delta)
    pin_clock(moment)
    return moment


def signed_in(browser) -> bool:
    response = browser.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


# --- The cookie ---------------------------------------------------------------------------


def test_ticking_the_box_sets_an_httponly_lax_cookie_for_30_days(client, family, now):
    response = sign_in(client)
    assert response.status_code == 302
    line = set_cookie_line(response)
    assert line is not None
    attributes = [part.strip() for part in line.split(";")]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert f"Max-Age={30 * 24 * 3600}" in attributes
    assert "Path=/" in attributes
    assert "Secure" not in attributes  # plain http in tests; production: the next test
    assert devices()[0].expires_at == NOW + timedelta(days=30)


def test_the_cookie_is_secure_in_production(monkeypatch, tmp_path, pin_clock):
    pin_clock(NOW)
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    production = create_app(
        {
            "APP_ENV": "production",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.db'}",
            "MOLLIE_API_KEY": "live_exampleexampleexample",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",  # not reached by a GET
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with production.app_context():
        db.create_all()
        family = factories.family_with_children(production, "famille.a", children=1)
        cookie = remembered_devices.open_remembered_session(family.accounts[0], NOW, "", IPHONE)
        # The phone comes back over https: the cookie restores a session and is rewritten.
        browser = production.test_client()
        browser.set_cookie(COOKIE, cookie.value, domain="portail.example")
        response = browser.get("/", base_url="https://portail.example")
        db.session.remove()
    assert response.status_code == 200
    attributes = [part.strip() for part in set_cookie_line(response).split(";")]
    assert "Secure" in attributes and "HttpOnly" in attributes and "SameSite=Lax" in attributes


def test_without_the_box_there_is_no_cookie_and_no_device(client, family, now):
    response = sign_in(client, remember=False)
    assert response.status_code == 302
    assert set_cookie_line(response) is None
    assert devices() == []


def test_the_database_holds_only_hashes_of_the_cookie(client, family, now):
    sign_in(client)
    series, token = cookie_value(client).split(".")
    device = devices()[0]
    stored = " ".join(str(getattr(device, c.key)) for c in RememberedDevice.__table__.columns)
    assert series not in stored and token not in stored
    assert device.series_hash == hashlib.sha256(series.encode()).hexdigest()
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()


# --- Restoring, rotation, replay -----------------------------------------------------------


def test_the_phone_is_signed_in_again_after_its_session_ended(app, client, family, pin_clock):
    pin_clock(NOW)
    sign_in(client)
    first = cookie_value(client)
    later(pin_clock, hours=13)  # the 12-hour session is over
    response = client.get("/")
    assert response.status_code == 200
    assert cookie_value(client) != first, "the token must be replaced at each use"
    assert devices()[0].last_used_at == NOW + timedelta(hours=13)
    assert (
        db.session.query(AuthSession).filter_by(remembered_device_id=devices()[0].id).count() == 2
    )


def test_a_fresh_browser_with_the_cookie_alone_is_signed_in_and_gets_a_new_token(app, family, now):
    phone = app.test_client()
    sign_in(phone)
    value = cookie_value(phone)
    response = phone_with(app, value).get("/compte")
    assert response.status_code == 200
    assert set_cookie_line(response).split(";")[0] != f"{COOKIE}={value}"


def test_the_rotated_cookie_keeps_the_30_days_from_the_sign_in(app, client, family, pin_clock):
    pin_clock(NOW)
    sign_in(client)
    later(pin_clock, days=29)
    response = client.get("/")
    assert response.status_code == 200
    assert f"Max-Age={24 * 3600}" in set_cookie_line(response)


def test_the_device_expires_after_30_days(app, client, family, pin_clock):
    pin_clock(NOW)
    sign_in(client)
    later(pin_clock, days=30)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Max-Age=0" in set_cookie_line(response), "the dead cookie is deleted"


def test_a_replayed_old_token_ends_the_device_and_its_sessions(app, family, pin_clock, caplog):
    caplog.set_level(logging.WARNING, logger="services.remembered_devices")
    pin_clock(NOW)
    phone = app.test_client()
    sign_in(phone)
    stolen = cookie_value(phone)
    later(pin_clock, hours=13)
    assert signed_in(phone), "the phone uses its token: it is replaced"
    later(pin_clock, hours=14)
    thief = phone_with(app, stolen)
    response = thief.get("/")
    assert response.status_code == 302
    assert "Max-Age=0" in set_cookie_line(response)
    assert devices()[0].revoked_at == NOW + timedelta(hours=14)
    assert not signed_in(phone), "the session the device opened ends with it"
    assert "token replayed" in caplog.text
    assert stolen not in caplog.text


def test_a_thief_who_uses_the_cookie_first_is_thrown_out_when_the_phone_comes_back(
    app, family, pin_clock
):
    pin_clock(NOW)
    phone = app.test_client()
    sign_in(phone)
    thief = phone_with(app, cookie_value(phone))
    later(pin_clock, hours=13)
    assert signed_in(thief)
    later(pin_clock, hours=14)
    assert not signed_in(phone)
    assert not signed_in(thief), "the thief's session and new token end with the device"
    assert devices()[0].revoked_at is not None


def test_a_duplicate_request_just_after_the_rotation_is_refused_without_ending_the_device(
    app, family, pin_clock
):
    pin_clock(NOW)
    phone = app.test_client()
    sign_in(phone)
    old = cookie_value(phone)
    later(pin_clock, hours=13)
    assert signed_in(phone)
    later(pin_clock, hours=13, seconds=5)
    second_tab = phone_with(app, old)
    response = second_tab.get("/")
    assert response.status_code == 302
    assert set_cookie_line(response) is None, "the phone already holds the new cookie: kept"
    assert devices()[0].revoked_at is None
    assert signed_in(phone)


def test_a_made_up_cookie_signs_nobody_in(app, family, now):
    sign_in(app.test_client())
    for value in ("", "nonsense", "x.y", "." * 3, devices()[0].series_hash):
        response = phone_with(app, value).get("/")
        assert response.status_code == 302


# --- Signing out, MON COMPTE --------------------------------------------------------------


def test_signing_out_ends_the_device_and_a_replayed_cookie_no_longer_works(
    app, client, family, now
):
    sign_in(client)
    kept = cookie_value(client)
    response = AuthActions(client).logout()
    assert "Max-Age=0" in set_cookie_line(response)
    assert devices()[0].revoked_at == NOW
    assert not signed_in(phone_with(app, kept))


def test_mon_compte_lists_the_devices_with_label_and_dates(app, family, pin_clock):
    pin_clock(NOW)
    phone, tablet = app.test_client(), app.test_client()
    sign_in(phone, user_agent=IPHONE)
    later(pin_clock, hours=2)
    sign_in(tablet, user_agent=ANDROID_CHROME)
    page = tablet.get("/compte").get_data(as_text=True)
    section = page.split('id="appareils"')[1].split("</section>")[0]
    assert "Appareils connectés" in page
    assert "iPhone · Safari" in section and "Android · Chrome" in section
    assert section.index("Android · Chrome") < section.index("iPhone · Safari"), "latest first"
    assert section.count("(cet appareil)") == 1
    assert section.index("Android · Chrome") < section.index("(cet appareil)")
    assert section.index("(cet appareil)") < section.index("iPhone · Safari")
    assert 'Connecté le <span class="nowrap">26 nov. 2026, 09:00</span>' in section  # Paris time
    assert "26 déc. 2026, 09:00" in section  # until
    assert section.count("Déconnecter cet appareil") == 2


def test_this_device_comes_first_among_devices_used_at_the_same_time(app, family, now):
    phone, tablet = app.test_client(), app.test_client()
    sign_in(phone, user_agent=IPHONE)
    sign_in(tablet, user_agent=ANDROID_CHROME)
    for browser, label in ((phone, "iPhone · Safari"), (tablet, "Android · Chrome")):
        section = browser.get("/compte").get_data(as_text=True).split('id="appareils"')[1]
        first_device = section.split('class="device-name"')[1]
        assert first_device.split("</p>")[0].endswith(
            f'{label} <span class="muted">(cet appareil)</span>'
        )


def test_mon_compte_says_when_no_device_stays_signed_in(client, family, now):
    sign_in(client, remember=False)
    page = client.get("/compte").get_data(as_text=True)
    assert "Aucun appareil ne reste connecté" in page


def disconnect(browser, device_id: int):
    token = csrf_token(browser, "/compte")
    return browser.post(f"/compte/appareils/{device_id}/deconnecter", data={"csrf_token": token})


def test_disconnecting_a_device_ends_its_token_and_its_session(app, family, now):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone)
    phone_cookie = cookie_value(phone)
    sign_in(laptop, remember=False)
    response = disconnect(laptop, devices()[0].id)
    assert response.status_code == 302
    assert "est déconnecté" in laptop.get("/compte").get_data(as_text=True)
    assert not signed_in(phone)
    assert not signed_in(phone_with(app, phone_cookie))
    assert signed_in(laptop)


def test_disconnecting_this_phone_signs_it_out(app, client, family, now):
    sign_in(client)
    response = disconnect(client, devices()[0].id)
    assert response.headers["Location"] == "/login"
    assert "Max-Age=0" in set_cookie_line(response)
    assert not signed_in(client)


def test_a_family_cannot_disconnect_another_familys_device(app, family, other_family, now):
    theirs = app.test_client()
    sign_in(theirs, username="famille.b")
    mine = app.test_client()
    sign_in(mine, remember=False)
    assert disconnect(mine, devices()[0].id).status_code == 404
    assert devices()[0].revoked_at is None
    assert signed_in(theirs)


def test_disconnecting_without_csrf_token_changes_nothing(client, family, now):
    sign_in(client)
    response = client.post(f"/compte/appareils/{devices()[0].id}/deconnecter")
    assert response.status_code == 400
    assert devices()[0].revoked_at is None


# --- Password change, reset, disabled account -------------------------------------------


def test_a_password_change_ends_every_remembered_device(app, family, now):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone)
    phone_cookie = cookie_value(phone)
    sign_in(laptop)
    response = laptop.post(
        "/compte/mot-de-passe",
        data={
            "current": factories.PASSWORD,
            "new": "un nouveau mot de passe sûr",
            "confirm": "un nouveau mot de passe sûr",
            "csrf_token": csrf_token(laptop, "/compte"),
        },
    )
    assert response.status_code == 302
    assert all(device.revoked_at == NOW for device in devices())
    assert signed_in(laptop), "the session that changed the password goes on"
    assert not signed_in(phone_with(app, phone_cookie))


def test_a_password_reset_ends_every_remembered_device(app, client, family, now):
    sign_in(client)
    kept = cookie_value(client)
    token = accounts.issue_token(family_account(), TokenPurpose.RESET, NOW, timedelta(hours=2))
    db.session.commit()
    accounts.reset_password_with_token(token, "un tout nouveau mot de passe", NOW)
    assert devices()[0].revoked_at == NOW
    assert not signed_in(phone_with(app, kept))


def test_a_disabled_account_is_not_restored(app, family, now):
    phone = app.test_client()
    sign_in(phone)
    kept = cookie_value(phone)
    accounts.disable_account(family_account(), NOW)
    db.session.commit()
    assert devices()[0].revoked_at == NOW
    assert not signed_in(phone_with(app, kept))


def test_an_account_disabled_by_a_plain_edit_is_not_restored_either(app, family, now):
    phone = app.test_client()
    sign_in(phone)
    kept = cookie_value(phone)
    family_account().is_enabled = False
    db.session.commit()
    response = phone_with(app, kept).get("/")
    assert response.status_code == 302
    assert "Max-Age=0" in set_cookie_line(response)


# --- Staff --------------------------------------------------------------------------------


def test_staff_are_never_remembered_even_when_they_tick_the_box(app, client, staff, now):
    response = sign_in(client, username="agent.a")
    assert response.headers["Location"] == "/admin/"
    assert set_cookie_line(response) is None
    assert devices() == []
    assert remembered_devices.open_remembered_session(staff, NOW, "", IPHONE) is None
    assert devices() == []


def test_staff_keep_their_30_idle_minutes_after_ticking_the_box(app, client, staff, pin_clock):
    pin_clock(NOW)
    sign_in(client, username="agent.a")
    later(pin_clock, minutes=29)
    assert client.get("/admin/").status_code == 200
    later(pin_clock, minutes=29 + 31)
    assert client.get("/admin/").status_code == 302


# --- The device's name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_agent, label",
    [
        (IPHONE, "iPhone · Safari"),
        (ANDROID_CHROME, "Android · Chrome"),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            "Android · Samsung Internet",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1",
            "iPhone · Chrome",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Windows · Edge",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Linux · Firefox",
        ),
        ("", "Appareil non reconnu"),
        ("curl/8.5", "Appareil non reconnu"),
    ],
)
def test_the_device_is_named_after_its_user_agent(user_agent, label):
    assert remembered_devices.device_label(user_agent) == label


def test_the_purge_forgets_devices_ended_long_ago_once_their_sessions_are_gone(app, family, now):
    account = family.accounts[0]
    long_ago, recently = NOW - timedelta(days=40), NOW - timedelta(days=2)
    for when in (long_ago, recently):
        remembered_devices.open_remembered_session(account, when, "127.0.0.1", IPHONE)
        accounts.revoke_sessions(account, when + timedelta(minutes=1))  # ends its device too
    remembered_devices.open_remembered_session(account, NOW, "127.0.0.1", IPHONE)  # live
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["jobs", "run", "--dry-run"])
    # Its session is still there in a dry run: nothing can go yet, and none is claimed.
    assert "purge-devices: 0 appareil(s) à oublier, rien supprimé" in dry.output
    done = runner.invoke(args=["jobs", "run"])
    assert "purge-devices: 1 appareil(s) oublié(s)" in done.output

    db.session.expire_all()
    left = db.session.scalars(select(RememberedDevice.created_at)).all()
    assert sorted(left) == [recently, NOW]
