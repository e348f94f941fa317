"""No working link at rest (SECURITY.md check 31): once an email is sent, a copy of the
database yields no reset, invitation or address-change link that still works."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from extensions import db
from models import OutboxEmail
from services import account_email, accounts, invitations, jobs, mail, password_reset
from tests import factories

NOW = datetime(2026, 11, 26, 9, 30)
LINK = re.compile(r"https?://\S+?/(mot-de-passe|compte/email)/([A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def _clock_at_now(pin_clock):
    """queue_email stamps its rows with the application's clock."""
    pin_clock(NOW)


def every_text_in_the_database() -> list[str]:
    """Every string value of every column of every table, as a copy of the database shows."""
    db.session.expire_all()
    texts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            texts.extend(value for value in row if isinstance(value, str))
    return texts


def link_is_live(kind: str, token: str, now: datetime) -> bool:
    if kind == "mot-de-passe":
        return password_reset.token_is_live(token, now)
    try:
        account_email.pending_change(token, now)
    except accounts.InvalidToken:
        return False
    return True


def links_in(texts: list[str]) -> list[tuple[str, str]]:
    return [match.groups() for text in texts for match in LINK.finditer(text)]


def received_links(smtp) -> list[tuple[str, str]]:
    return [link for message in smtp.messages for link in LINK.findall(message.text)]


def queue_every_kind_of_link(family, other_family) -> None:
    password_reset.send_reset_link("famille.a", NOW)
    account_email.request_email_change(
        family.accounts[0], "nouvelle.adresse@example.org", factories.PASSWORD, NOW
    )
    invitations.send_invitation(other_family.accounts[0], NOW)


def test_after_sending_no_row_holds_a_working_link(family, other_family, smtp):
    queue_every_kind_of_link(family, other_family)

    assert mail.send_pending(NOW).emails == 3

    sent = received_links(smtp)
    assert {kind for kind, _token in sent} == {"mot-de-passe", "compte/email"}
    assert len(sent) == 3 and all(link_is_live(kind, token, NOW) for kind, token in sent)
    texts = every_text_in_the_database()
    for _kind, token in sent:
        assert not any(token in text for text in texts)
    assert not [link for link in links_in(texts) if link_is_live(*link, NOW)]


def test_a_send_that_failed_is_retried_with_a_working_link(family, smtp):
    smtp.stop()
    password_reset.send_reset_link("famille.a", NOW)

    assert mail.send_pending(NOW).failed == 1
    smtp.start()
    assert mail.send_pending(NOW + mail.retry_delay(1)).emails == 1

    [(kind, token)] = received_links(smtp)
    assert link_is_live(kind, token, NOW + timedelta(minutes=5))
    assert not any(token in text for text in every_text_in_the_database())


def test_a_message_given_up_keeps_no_link(app, family, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    smtp.stop()
    password_reset.send_reset_link("famille.a", NOW)

    assert mail.send_pending(NOW).gave_up == 1

    assert not [link for link in links_in(every_text_in_the_database()) if link_is_live(*link, NOW)]


def test_the_purge_deletes_sent_emails_after_the_retention(app, family):
    retention = timedelta(days=app.config["PURGE_AFTER_DAYS"])
    long_ago = NOW - retention - timedelta(days=1)
    given_up = app.config["MAIL_MAX_ATTEMPTS"]
    for subject, created_at, sent_at, attempts in [
        ("envoyé il y a longtemps", long_ago, long_ago, 1),
        ("envoyé hier", NOW - timedelta(days=1), NOW - timedelta(days=1), 1),
        ("en attente depuis longtemps", long_ago, None, given_up - 1),
        ("abandonné il y a longtemps", long_ago, None, given_up),
    ]:
        message = mail.queue_email("famille.a@example.org", subject, "Texte.")
        message.created_at, message.sent_at, message.attempts = created_at, sent_at, attempts
    db.session.commit()

    dry = jobs.purge_sent_emails(NOW, dry_run=True)
    done = jobs.purge_sent_emails(NOW, dry_run=False)

    assert dry == "2 email(s) envoyé(s) ou abandonné(s) à supprimer, rien supprimé"
    assert done == "2 email(s) envoyé(s) ou abandonné(s) supprimé(s)"
    db.session.expire_all()
    kept = db.session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)).all()
    assert kept == ["envoyé hier", "en attente depuis longtemps"]
    again = jobs.purge_sent_emails(NOW, dry_run=False)
    assert again == "0 email(s) envoyé(s) ou abandonné(s) supprimé(s)"


def test_the_purge_empties_emails_sent_before_bodies_were_emptied(app, family):
    message = mail.queue_email(
        "famille.a@example.org", "Ancien envoi", "https://portail.example/mot-de-passe/abc"
    )
    message.sent_at = NOW - timedelta(hours=1)
    db.session.commit()

    jobs.purge_sent_emails(NOW, dry_run=False)

    db.session.expire_all()
    assert (message.body_text, message.body_html) == ("", "")
