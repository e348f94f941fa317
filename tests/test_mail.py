"""Email delivery through a real SMTP server (aiosmtpd on 127.0.0.1), and the jobs command."""

from __future__ import annotations

import logging
import ssl
import subprocess
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from extensions import db
from models import AccountToken, AlertKind, AuthSession, OutboxEmail, TokenPurpose, utcnow
from services import accounts, mail, notifications
from tests import factories
from tests.conftest import CSRF_RE, csrf_token
from tests.services_redis import require_binary
from tests.services_smtp import Inbox, SmtpServer

DIGEST = timedelta(minutes=6)  # past TestConfig's 5-minute window


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


# --- Alerts and the digest -----------------------------------------------------------------


def test_an_alert_email_arrives_once_after_the_digest_window(family, smtp):
    now = utcnow()
    alert = notifications.notify(
        family,
        AlertKind.BOOKING,
        "Réservation enregistrée : Enfant1, restaurant scolaire, jeudi 26 novembre 2026",
        link="/reservations",
        now=now,
    )
    db.session.commit()
    assert notifications.unread_count(family.id) == 1 and alert.id

    assert mail.send_pending(now + timedelta(minutes=1)).emails == 0
    assert smtp.messages == []

    report = mail.send_pending(now + DIGEST)
    assert (report.emails, report.rows, report.failed) == (1, 1, 0)
    [received] = smtp.messages
    assert received.rcpt_tos == ["famille.a@example.org"]
    assert received.message["From"] == "Portail Famille <portail-famille@mairie.example>"
    assert received.message["Subject"].startswith("[Portail Famille] Réservations")
    for body in (received.text, received.html):
        assert "Enfant1, restaurant scolaire, jeudi 26 novembre 2026" in body
        assert "https://portail.example/reservations" in body
        assert "https://portail.example/alertes" in body

    assert mail.send_pending(now + DIGEST + timedelta(minutes=1)).emails == 0
    assert len(smtp.messages) == 1
    assert all(row.sent_at is not None for row in outbox())


def test_ten_changes_within_the_window_make_one_email_per_family(family, other_family, smtp):
    start = utcnow()
    days = [f"lundi {n} décembre 2026" for n in range(1, 11)]
    for n, day in enumerate(days):
        notifications.notify(
            family,
            AlertKind.BOOKING,
            f"Réservé : Enfant1, {day}",
            now=start + timedelta(seconds=20 * n),
        )
    notifications.notify(other_family, AlertKind.BOOKING, "Réservé : Enfant1 B", now=start)
    db.session.commit()

    report = mail.send_pending(start + DIGEST)

    assert (report.emails, report.rows) == (2, 11)
    [mine] = smtp.inbox.to("famille.a@example.org")
    [theirs] = smtp.inbox.to("famille.b@example.org")
    assert mine.message["Subject"] == "[Portail Famille] 10 nouvelles alertes"
    for day in days:
        assert f"Réservé : Enfant1, {day}" in mine.text
        assert f"Réservé : Enfant1, {day}" in mine.html
    assert "Enfant1 B" not in mine.text
    assert "famille.a" not in theirs.text and "décembre" not in theirs.text
    assert mail.send_pending(start + DIGEST).emails == 0
    assert len(smtp.messages) == 2


def test_email_alert_kinds_are_respected_at_delivery(family, smtp):
    factories.guardian(family, "Camille", "camille@example.org")
    family.accounts[0].email_alert_kinds = "invoice"
    db.session.commit()
    now = utcnow()
    notifications.notify(family, AlertKind.BOOKING, "Réservation enregistrée", now=now)
    notifications.notify(family, AlertKind.INVOICE, "Facture 2026-000042 émise", now=now)
    db.session.commit()

    mail.send_pending(now + DIGEST)

    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "camille@example.org",
        "famille.a@example.org",
    ]
    for received in smtp.messages:
        assert "Facture 2026-000042 émise" in received.text
        assert "Réservation enregistrée" not in received.text


def test_a_plain_email_is_neither_delayed_nor_merged_with_alerts(family, smtp):
    now = utcnow()
    notifications.notify(family, AlertKind.ACCOUNT, "Adresse modifiée", now=now)
    mail.queue_email("famille.a@example.org", "Portail Famille : un message", "Texte seul.")
    db.session.commit()

    mail.send_pending(now + timedelta(seconds=1))

    [plain] = smtp.messages
    assert plain.message["Subject"] == "Portail Famille : un message"
    assert plain.text.strip() == "Texte seul."

    mail.send_pending(now + DIGEST)
    assert [m.message["Subject"] for m in smtp.messages][1].startswith("[Portail Famille] Compte")


def test_a_long_accented_subject_arrives_as_written(family, smtp):
    """Python's default folding at 78 columns loses the spaces between encoded words
    (« a  étéenvoyé »): a long French subject must arrive word for word."""
    subject = (
        "Portail Famille : un lien pour choisir votre mot de passe a été envoyé à une "
        "adresse inscrite par la mairie, à vérifier dès réception"
    )
    mail.queue_email("famille.a@example.org", subject, "Texte.")
    db.session.commit()

    mail.send_pending(utcnow() + timedelta(seconds=1))

    [message] = smtp.messages
    assert message.message["Subject"] == subject


# --- Failures, retries, never twice ------------------------------------------------------


def test_smtp_down_keeps_everything_queued_then_each_is_delivered_once(
    family, other_family, smtp, caplog
):
    now = utcnow()
    notifications.notify(family, AlertKind.INVOICE, "Facture A émise", now=now)
    notifications.notify(other_family, AlertKind.INVOICE, "Facture B émise", now=now)
    mail.queue_email("famille.a@example.org", "Portail Famille : message", "Texte.")
    db.session.commit()
    smtp.stop()
    down_at = now + DIGEST

    report = mail.send_pending(down_at)

    assert (report.emails, report.failed) == (0, 3)
    rows = outbox()
    assert len(rows) == 3
    for row in rows:
        assert row.sent_at is None
        assert row.attempts == 1
        assert row.next_attempt_at > down_at
        assert row.last_error and len(row.last_error) <= 500
    assert "email not sent" in caplog.text

    smtp.start()
    assert mail.send_pending(down_at + timedelta(seconds=30)).emails == 0  # still backing off
    assert smtp.messages == []

    report = mail.send_pending(down_at + timedelta(minutes=2))

    assert (report.emails, report.failed) == (3, 0)
    assert sorted(m.message["Subject"] for m in smtp.messages) == [
        "Portail Famille : message",
        "[Portail Famille] Factures : Facture A émise",
        "[Portail Famille] Factures : Facture B émise",
    ]
    assert mail.send_pending(down_at + timedelta(hours=1)).emails == 0
    assert len(smtp.messages) == 3
    assert all(row.sent_at is not None and row.attempts == 2 for row in outbox())


def test_after_the_last_attempt_the_message_is_kept_unsent_and_logged(app, family, smtp, caplog):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    mail.queue_email("famille.a@example.org", "Portail Famille : message", "Texte.")
    db.session.commit()
    smtp.stop()
    now = utcnow()

    assert mail.send_pending(now).gave_up == 0
    report = mail.send_pending(now + timedelta(hours=1))

    assert report.gave_up == 1
    assert "email given up after 2 attempts" in caplog.text
    smtp.start()
    assert mail.send_pending(now + timedelta(days=1)).emails == 0
    [row] = outbox()
    assert row.sent_at is None and row.attempts == 2  # still there for staff to see
    assert smtp.messages == []


def test_a_refused_recipient_fails_alone(family, smtp):
    class RefuseOne(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("refuse"):
                return "550 5.1.1 Unknown user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    smtp.stop()
    smtp.inbox = RefuseOne()
    smtp.start()
    mail.queue_email("refuse@example.org", "Portail Famille : un", "Un.")
    mail.queue_email("famille.a@example.org", "Portail Famille : deux", "Deux.")
    db.session.commit()

    report = mail.send_pending(utcnow())

    assert (report.emails, report.failed) == (1, 1)
    refused, delivered = outbox()
    assert refused.sent_at is None and "550" in refused.last_error
    assert delivered.sent_at is not None
    assert [m.rcpt_tos for m in smtp.messages] == [["famille.a@example.org"]]


def test_with_mail_use_tls_a_server_without_starttls_gets_nothing_in_clear(app, family, smtp):
    app.config["MAIL_USE_TLS"] = True
    mail.queue_email("famille.a@example.org", "Portail Famille : message", "Texte.")
    db.session.commit()

    report = mail.send_pending(utcnow())

    assert report.failed == 1
    assert smtp.messages == []
    [row] = outbox()
    assert row.sent_at is None and "STARTTLS" in row.last_error


def self_signed_certificate(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1, made by the openssl command."""
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    extension = ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert]
    subprocess.run([*command.split(), *extension], check=True, capture_output=True)
    return cert, key


def test_starttls_and_login_are_used_when_configured(app, family, tmp_path, monkeypatch):
    require_binary("openssl")
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((session.ssl is not None, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"secret-smtp")

    server = SmtpServer(
        tls_context=tls, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this server only
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=server.port,
        MAIL_USE_TLS=True,
        MAIL_USERNAME="portail",
        MAIL_PASSWORD="secret-smtp",
    )
    try:
        mail.queue_email("famille.a@example.org", "Portail Famille : message", "Texte.")
        db.session.commit()
        report = mail.send_pending(utcnow())
    finally:
        server.stop()

    assert report.emails == 1
    assert logins == [(True, b"portail", b"secret-smtp")]
    assert len(server.messages) == 1


@pytest.mark.postgres_only
def test_two_senders_at_once_deliver_each_message_once(app, family, other_family, smtp):
    for n in range(20):
        mail.queue_email(f"parent{n}@example.org", f"Portail Famille : message {n}", "Texte.")
    db.session.commit()
    now = utcnow()
    reports = []
    barrier = threading.Barrier(2)

    def sender():
        with app.app_context():
            barrier.wait()
            reports.append(mail.send_pending(now))
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(report.emails for report in reports) == 20
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(
        f"parent{n}@example.org" for n in range(20)
    )
    assert all(row.attempts == 1 for row in outbox())


# --- Forgotten password, through the real form -----------------------------------------------


def test_reset_link_uses_public_base_url_and_works_once(client, family, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    evil = "http://evil.example"
    page = client.get("/mot-de-passe-oublie", base_url=evil).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        "/mot-de-passe-oublie",
        data={"username": "famille.a", "csrf_token": token},
        base_url=evil,
    )
    assert response.status_code == 302

    assert mail.send_pending(utcnow()).emails == 1

    [received] = smtp.messages
    assert received.rcpt_tos == ["famille.a@example.org"]
    [link] = [word for word in received.text.split() if "/mot-de-passe/" in word]
    assert link.startswith("https://portail.example/mot-de-passe/")
    assert f'href="{link}"' in received.html
    assert "evil.example" not in received.text + received.html
    secret = link.rsplit("/", 1)[1]
    # The app's own logs (aiosmtpd's "mail.log" is the test server's, it logs what it gets).
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "email sent: outbox ids=[1] to=famille.a@example.org" in ours
    assert secret not in ours and "Bonjour" not in ours

    path = urlsplit(link).path
    new_password = "Une-nouvelle-phrase-2026"
    form = {"password": new_password, "confirm": new_password}
    response = client.post(path, data={**form, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    db.session.expire_all()
    assert accounts.authenticate("famille.a", new_password, utcnow()) is not None

    again = client.post(path, data={**form, "csrf_token": csrf_token(client, "/login")})
    assert again.status_code == 302
    assert again.headers["Location"] == "/mot-de-passe-oublie"
    assert client.get(path).headers["Location"] == "/mot-de-passe-oublie"


# --- flask jobs run ----------------------------------------------------------------------------


def test_jobs_run_dry_run_sends_nothing_and_run_sends(app, family, smtp):
    mail.queue_email("famille.a@example.org", "Portail Famille : message", "Texte.")
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["jobs", "run", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "outbox: 1 email(s) à envoyer (1 message(s) de la file), rien envoyé" in result.output
    assert "purge-credentials:" in result.output
    assert smtp.messages == []
    assert outbox()[0].sent_at is None and outbox()[0].attempts == 0

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "outbox: 1 email(s) envoyé(s) (1 message(s) de la file), 0 en échec" in result.output
    assert len(smtp.messages) == 1
    assert "outbox: 0 email(s) envoyé(s)" in runner.invoke(args=["jobs", "run"]).output
    assert len(smtp.messages) == 1


def test_jobs_run_reports_a_failing_job_and_exits_non_zero(app, family):
    mail.queue_email("famille.a@example.org", "Portail Famille : message", "Texte.")
    db.session.commit()
    app.config["APP_ENV"] = "production"  # and no MAIL_SERVER

    result = app.test_cli_runner().invoke(args=["jobs", "run"])

    assert result.exit_code == 1
    assert "outbox: échec (MailNotConfigured)" in result.output
    assert "purge-credentials: 0 lien(s) et 0 session(s) supprimé(s)" in result.output
    assert outbox()[0].sent_at is None


def test_purge_removes_only_links_and_sessions_ended_long_ago(app, family):
    account = family.accounts[0]
    now = utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    for when in (old, recent):
        used = accounts.issue_token(account, TokenPurpose.RESET, when, timedelta(hours=2))
        accounts.consume_token(used, TokenPurpose.RESET, when + timedelta(minutes=5))
        accounts.issue_token(account, TokenPurpose.RESET, when, timedelta(hours=2))  # expired
    live = accounts.issue_token(account, TokenPurpose.INVITATION, now, timedelta(hours=72))
    accounts.open_session(account, old)  # passed the absolute timeout long ago
    accounts.open_session(account, now)  # live
    revoked_recently = accounts.open_session(account, recent)
    accounts.revoke_session(revoked_recently, recent)
    db.session.commit()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["jobs", "run", "--dry-run"])
    assert "purge-credentials: 2 lien(s) et 1 session(s) à supprimer, rien supprimé" in dry.output
    assert db.session.query(AccountToken).count() == 5

    done = runner.invoke(args=["jobs", "run"])
    assert "purge-credentials: 2 lien(s) et 1 session(s) supprimé(s)" in done.output
    db.session.expire_all()
    assert db.session.query(AccountToken).count() == 3
    assert db.session.query(AuthSession).count() == 2
    assert accounts.peek_token(live, TokenPurpose.INVITATION, now)
    again = runner.invoke(args=["jobs", "run"])
    assert "purge-credentials: 0 lien(s) et 0 session(s) supprimé(s)" in again.output
