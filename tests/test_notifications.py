"""Alerts: notify() in the caller's transaction, who gets the email, reading alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from extensions import db
from models import Alert, AlertKind, FamilyAccount, OutboxEmail
from services import mail, notifications
from tests import factories

NOW = datetime(2026, 11, 26, 9, 30)


def outbox() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def alerts_of(family) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.family_id == family.id)))


def test_notify_writes_the_alert_and_its_email_item_in_the_callers_transaction(family):
    alert = notifications.notify(
        family, AlertKind.BOOKING, "Réservation enregistrée", "/reservations", NOW
    )
    db.session.commit()

    assert alert.id and alert.family_id == family.id and alert.read_at is None
    [item] = outbox()
    assert item.to_address == "famille.a@example.org"
    assert item.family_id == family.id
    assert item.subject.startswith(mail.ALERT_SUBJECT_PREFIX)
    assert "Réservation enregistrée" in item.body_text
    assert "https://portail.example/reservations" in item.body_text
    # Alert emails wait for the digest window before they are due.
    assert item.next_attempt_at == NOW + timedelta(minutes=5)
    assert item.sent_at is None


def test_notify_does_not_commit_a_rolled_back_transaction(family):
    notifications.notify(family, AlertKind.BOOKING, "Réservation enregistrée", now=NOW)
    db.session.rollback()

    assert alerts_of(family) == []
    assert outbox() == []


@pytest.mark.parametrize(
    "kind, link",
    [
        ("unknown", ""),
        (AlertKind.BOOKING, "https://evil.example/"),
        (AlertKind.BOOKING, "//evil.example/"),
        (AlertKind.BOOKING, "javascript:alert(1)"),
    ],
)
def test_notify_refuses_unknown_kinds_and_links_off_the_portal(family, kind, link):
    with pytest.raises(ValueError):
        notifications.notify(family, kind, "Message", link, NOW)


def test_a_long_message_is_cut_to_the_column_and_the_subject_to_its_limit(family):
    alert = notifications.notify(family, AlertKind.DOCUMENT, "mot " * 400, now=NOW)
    db.session.commit()

    assert len(alert.message) == notifications.MESSAGE_MAX
    assert len(outbox()[0].subject) <= mail.SUBJECT_MAX


def test_guardians_and_accounts_get_the_email_once_per_address(family):
    factories.guardian(family, "Camille", "Camille.Autre@Example.org")
    factories.guardian(family, "Sans-email", "")
    factories.guardian(family, "Doublon", "FAMILLE.A@example.org")

    notifications.notify(family, AlertKind.INVOICE, "Facture émise", now=NOW)
    db.session.commit()

    assert sorted(item.to_address for item in outbox()) == [
        "camille.autre@example.org",
        "famille.a@example.org",
    ]


def test_email_alert_kinds_limit_the_emails_not_the_alerts(family):
    factories.guardian(family, "Camille", "camille@example.org")
    family.accounts[0].email_alert_kinds = "invoice, payment"
    db.session.commit()

    notifications.notify(family, AlertKind.BOOKING, "Réservation enregistrée", now=NOW)
    notifications.notify(family, AlertKind.PAYMENT, "Règlement reçu", now=NOW)
    db.session.commit()

    assert len(alerts_of(family)) == 2
    items = outbox()
    assert sorted(item.to_address for item in items) == [
        "camille@example.org",
        "famille.a@example.org",
    ]
    assert all("Règlement reçu" in item.body_text for item in items)


def test_an_accounts_own_choice_decides_for_its_address(family):
    """Two logins (one per guardian): the second wants only invoices by email."""
    db.session.add(
        FamilyAccount(
            family=family,
            username="famille.a2",
            email="second@example.org",
            email_alert_kinds="invoice",
        )
    )
    db.session.commit()
    # The second login's guardian: the family wants bookings, but this person said no.
    factories.guardian(family, "Camille", "Second@Example.org")

    notifications.notify(family, AlertKind.BOOKING, "Réservation enregistrée", now=NOW)
    notifications.notify(family, AlertKind.INVOICE, "Facture émise", now=NOW)
    db.session.commit()

    sent = sorted((item.to_address.lower(), "Facture" in item.body_text) for item in outbox())
    assert sent == [
        ("famille.a@example.org", False),
        ("famille.a@example.org", True),
        ("second@example.org", True),
    ]


def test_a_disabled_account_gets_no_email(family):
    account = family.accounts[0]
    account.is_enabled = False
    account.email = "ancien@example.org"
    db.session.commit()

    notifications.notify(family, AlertKind.ACCOUNT, "Compte désactivé", now=NOW)
    db.session.commit()

    assert [item.to_address for item in outbox()] == ["famille.a@example.org"]


def test_queue_email_refuses_the_prefix_reserved_for_alert_items(app):
    with pytest.raises(ValueError):
        mail.queue_email("x@example.org", mail.ALERT_SUBJECT_PREFIX + "faux", "corps")


def test_reading_alerts_touches_only_the_familys_own(family, other_family):
    mine = [
        notifications.notify(
            family, AlertKind.BOOKING, f"Changement {n}", now=NOW + timedelta(minutes=n)
        )
        for n in range(3)
    ]
    theirs = notifications.notify(other_family, AlertKind.BOOKING, "Autre foyer", now=NOW)
    db.session.commit()

    assert notifications.unread_count(family.id) == 3
    assert [a.message for a in notifications.family_alerts(family)] == [
        "Changement 2",
        "Changement 1",
        "Changement 0",
    ]
    assert len(notifications.family_alerts(family, limit=2)) == 2

    assert notifications.mark_read(family, theirs.id, NOW) is None
    assert db.session.get(Alert, theirs.id).read_at is None

    read = notifications.mark_read(family, mine[0].id, NOW + timedelta(hours=1))
    assert read.read_at == NOW + timedelta(hours=1)
    assert notifications.unread_count(family.id) == 2

    assert notifications.mark_all_read(family, NOW + timedelta(hours=2)) == 2
    assert notifications.unread_count(family.id) == 0
    assert notifications.unread_count(other_family.id) == 1
    # Already read: the first read time is kept.
    assert db.session.get(Alert, mine[0].id).read_at == NOW + timedelta(hours=1)


def test_retry_delay_doubles_from_one_minute_up_to_six_hours():
    assert [mail.retry_delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
    ]
    assert mail.retry_delay(20) == timedelta(hours=6)


def test_without_mail_server_the_console_marks_sent_and_prints_no_body(family, capsys):
    notifications.notify(family, AlertKind.INVOICE, "Facture 2026-000001 émise", now=NOW)
    db.session.commit()

    report = mail.send_pending(NOW + timedelta(minutes=6))

    assert (report.emails, report.rows) == (1, 1)
    assert outbox()[0].sent_at == NOW + timedelta(minutes=6)
    printed = capsys.readouterr().err
    assert "famille.a@example.org" in printed
    assert "Facture 2026-000001" in printed  # the subject
    assert "Bonjour" not in printed


def test_in_production_an_empty_mail_server_sends_nothing_and_loses_nothing(app, family):
    notifications.notify(family, AlertKind.INVOICE, "Facture émise", now=NOW)
    db.session.commit()
    app.config["APP_ENV"] = "production"

    with pytest.raises(mail.MailNotConfigured):
        mail.send_pending(NOW + timedelta(minutes=6))

    [item] = outbox()
    assert item.sent_at is None and item.attempts == 0
