"""SECURITY.md check 31: logs and console output never hold a password, a link token, a
session cookie or a health note.

Every log record (the root logger at DEBUG, so every logger that does not set its own
level) and everything written to stdout and stderr is captured while families and staff
go through the paths that handle secrets: failed logins up to a lockout, a successful
login, a password change, a forgotten password (request, email, link), an invitation
(email, link), staff reading and editing a health note, and the outbox sent to a real SMTP
server. Then none of the secrets typed, sent or set appears anywhere in what was captured.

Out of scope: the records of aiosmtpd's "mail.log" logger. That is the test's SMTP server,
standing for the recipient's mail server; it logs every line of the messages it receives
at DEBUG, as a mail server's debug log would. What the portal itself logs about mail
(services.mail: outbox ids and addresses only) is checked.

In development without MAIL_SERVER, services.mail.queue_email prints whole emails on the
console on purpose (a developer reads the links there); the tests run with APP_ENV=test,
where it must not, and neither in production.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from extensions import db, limiter
from models import Child, FamilyAccount, OutboxEmail, StaffRole, TokenPurpose, utcnow
from services import accounts, invitations, mail, password_reset
from tests import factories
from tests.conftest import csrf_token

HEALTH_NOTE = "Allergie-Zorglub-7731 : adrénaline dans le cartable"
HEALTH_NOTE_EDITED = "Asthme-Zorglub-8842 : ventoline"
WRONG_PASSWORD = "Pas-le-bon-mot-de-passe-4411"
NEW_PASSWORD = "Nouvelle-phrase-secrete-5522"
RESET_PASSWORD = "Phrase-apres-oubli-6633"
INVITED_PASSWORD = "Phrase-d-invitation-7744"
LINK = re.compile(r"https://portail\.example/mot-de-passe/([A-Za-z0-9_-]+)")
COOKIE = "portail_session"
SMTP_SERVER_LOGGER = "mail.log"  # aiosmtpd, the receiving side (see the module docstring)


class Secrets:
    """What must never be logged or printed, gathered as the scenario produces it."""

    def __init__(self, app):
        self.app = app
        self.values: dict[str, str] = {}

    def add(self, label: str, value: str | None) -> None:
        assert value, f"the scenario produced no {label}"
        self.values[label] = value

    def add_session(self, label: str, client) -> None:
        """The session cookie, and the server-side session token signed inside it."""
        cookie = client.get_cookie(COOKIE)
        assert cookie is not None, f"no session cookie for {label}"
        self.add(f"{label} cookie", cookie.value)
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        self.add(f"{label} session token", serializer.loads(cookie.value)["_user_id"])


def captured_text(caplog, capsys) -> tuple[str, list[logging.LogRecord]]:
    """Everything logged (message, arguments, extras, traceback) and printed so far."""
    out, err = capsys.readouterr()
    records = [r for r in caplog.records if not r.name.startswith(SMTP_SERVER_LOGGER)]
    parts = [out, err]
    for record in records:
        parts.append(caplog.handler.format(record))
        parts.append(repr(vars(record)))
    return "\n".join(parts), records


def assert_nothing_leaks(text: str, secrets: dict[str, str]) -> None:
    leaked = [label for label, value in secrets.items() if value in text]
    assert leaked == [], f"found in the logs or on the console: {leaked}"


@pytest.fixture
def capture(caplog, capsys):
    """Every logger at DEBUG from here on, and the console (whatever setup printed is dropped)."""
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    caplog.clear()
    return caplog


def login(client, username: str, password: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def logout(client, form_page: str = "/compte"):
    token = csrf_token(client, form_page)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def link_token(received) -> str:
    match = LINK.search(received.text)
    assert match, "no link in the email"
    return match.group(1)


def choose_password(client, token: str, password: str):
    path = f"/mot-de-passe/{token}"
    assert client.get(path).status_code == 200
    form = {"password": password, "confirm": password, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=form)


def mail_outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def account(username: str) -> FamilyAccount:
    db.session.expire_all()
    return db.session.scalar(select(FamilyAccount).where(FamilyAccount.username == username))


@pytest.fixture
def child(app, family, other_family):
    """Family A's first child, with a health note; also an admin and a login to invite."""
    child = family.children[0]
    child.health_note = HEALTH_NOTE
    factories.staff_user("admin.a", role=StaffRole.ADMIN)
    invited = FamilyAccount(
        family=other_family, username="famille.c", email="famille.c@example.org"
    )
    db.session.add(invited)
    db.session.commit()
    return child


def test_no_secret_reaches_the_logs_or_the_console(app, client, child, smtp, capture, capsys):
    secrets = Secrets(app)
    secrets.add("health note", HEALTH_NOTE)
    secrets.add("edited health note", HEALTH_NOTE_EDITED)
    for label, value in [
        ("password", factories.PASSWORD),
        ("wrong password", WRONG_PASSWORD),
        ("new password", NEW_PASSWORD),
        ("reset password", RESET_PASSWORD),
        ("invited password", INVITED_PASSWORD),
    ]:
        secrets.add(label, value)

    # Failed logins up to a lockout (logged), then a successful login.
    for _ in range(accounts.LOCK_AFTER_FAILURES):
        assert login(client, "famille.b", WRONG_PASSWORD).status_code == 200
    assert "account locked" in capture.text
    limiter.reset()  # the per-IP throttle is not what this test is about
    assert login(client, "famille.a", factories.PASSWORD).status_code == 302
    secrets.add_session("famille.a", client)
    for page in ("/", "/compte", f"/reservations/{child.id}/2026-11"):
        assert client.get(page).status_code == 200

    # A password change, then logging out.
    form = {"current": factories.PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    token = csrf_token(client, "/compte")
    response = client.post("/compte/mot-de-passe", data={**form, "csrf_token": token})
    assert response.status_code == 302
    secrets.add_session("famille.a after the change", client)
    logout(client)

    # The locked account asks for a reset link, receives it by email and uses it.
    token = csrf_token(client, "/mot-de-passe-oublie")
    response = client.post(
        "/mot-de-passe-oublie", data={"username": "famille.b", "csrf_token": token}
    )
    assert response.status_code == 302
    assert mail.send_pending(utcnow()).emails == 1
    secrets.add("reset token", link_token(smtp.messages[-1]))
    assert choose_password(client, secrets.values["reset token"], RESET_PASSWORD).status_code == 302
    assert login(client, "famille.b", RESET_PASSWORD).status_code == 302
    secrets.add_session("famille.b", client)
    logout(client)

    # Staff invite a new login; the invitation goes out, the parent chooses a password.
    invitations.send_invitation(account("famille.c"), utcnow())
    assert mail.send_pending(utcnow()).emails == 1
    secrets.add("invitation token", link_token(smtp.messages[-1]))
    response = choose_password(client, secrets.values["invitation token"], INVITED_PASSWORD)
    assert response.status_code == 302
    assert login(client, "famille.c", INVITED_PASSWORD).status_code == 302
    secrets.add_session("famille.c", client)
    logout(client)

    # An admin reads the health note and changes it (the journal records it, masked).
    limiter.reset()
    assert login(client, "admin.a", factories.PASSWORD).status_code == 302
    secrets.add_session("admin.a", client)
    details = client.get(f"/admin/child/details/?id={child.id}").get_data(as_text=True)
    assert HEALTH_NOTE in details  # the note did go through the app
    url = f"/admin/child/edit/?id={child.id}"
    form = {
        "family": str(child.family_id),
        "first_name": child.first_name,
        "last_name": child.last_name,
        "birth_date": child.birth_date.isoformat(),
        "school": str(child.school_id),
        "class_name": child.class_name,
        "health_note": HEALTH_NOTE_EDITED,
    }
    response = client.post(url, data={**form, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Child, child.id).health_note == HEALTH_NOTE_EDITED
    logout(client, form_page="/admin/")

    text, records = captured_text(capture, capsys)
    # The capture works: the portal's own records are in it.
    assert any(r.name == "services.accounts" and "account locked" in r.message for r in records)
    assert sum(r.name == "services.mail" and "email sent" in r.message for r in records) == 2
    assert_nothing_leaks(text, secrets.values)


def test_an_unexpected_error_on_a_link_page_logs_the_route_not_the_token(
    app, client, family, capture, capsys, monkeypatch
):
    """The error is logged with its traceback, but a reset link's URL is a secret."""
    link = accounts.issue_token(
        account("famille.a"), TokenPurpose.RESET, utcnow(), timedelta(hours=2)
    )
    db.session.commit()

    def database_gone(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(accounts, "reset_password_with_token", database_gone)
    response = choose_password(client, link, NEW_PASSWORD)
    assert response.status_code == 500

    text, records = captured_text(capture, capsys)
    assert any("unhandled error" in r.message and r.exc_info for r in records)
    assert "/mot-de-passe/<token>" in text  # which page failed is still known
    assert_nothing_leaks(text, {"reset token": link, "new password": NEW_PASSWORD})


# --- The console mail transport -------------------------------------------------------------


@pytest.mark.parametrize("env", ["test", "production"])
def test_queued_emails_are_not_printed_outside_development(
    app, family, capture, capsys, monkeypatch, env
):
    assert app.config["APP_ENV"] == "test" and not app.config["MAIL_SERVER"]
    monkeypatch.setitem(app.config, "APP_ENV", env)
    password_reset.send_reset_link("famille.a", utcnow())
    invitations.send_invitation(account("famille.a"), utcnow())

    [reset, invitation] = [row.body_text for row in mail_outbox()]
    tokens = {"reset token": LINK.search(reset).group(1)}
    tokens["invitation token"] = LINK.search(invitation).group(1)
    text, _ = captured_text(capture, capsys)
    assert "--- email to" not in text
    assert_nothing_leaks(text, tokens)


def test_the_console_transport_of_the_tests_prints_one_line_without_the_body(
    app, family, capture, capsys
):
    password_reset.send_reset_link("famille.a", utcnow())
    [row] = mail_outbox()
    token = LINK.search(row.body_text).group(1)

    assert mail.send_pending(utcnow()).emails == 1  # no MAIL_SERVER: the console transport

    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == (
        "--- email (console, MAIL_SERVER vide) to famille.a@example.org: "
        "Portail Famille : choisir un nouveau mot de passe"
    )
    assert token not in capture.text


def test_in_development_the_whole_email_goes_to_the_console_only(
    app, family, capture, capsys, monkeypatch
):
    """The one deliberate exception: a developer without a mail server reads the link on the
    console (stderr), never in a log."""
    monkeypatch.setitem(app.config, "APP_ENV", "development")
    password_reset.send_reset_link("famille.a", utcnow())
    [row] = mail_outbox()
    token = LINK.search(row.body_text).group(1)

    out, err = capsys.readouterr()
    assert out == "" and token in err
    assert token not in capture.text
