"""Email through the outbox: written in the caller's transaction, delivered later by the jobs.

Two kinds of outbox rows:

- a plain email (`queue_email`): sent as it is, on the next run of the sender;
- an alert item (`queue_alert_item`): one alert for one address. Items wait
  MAIL_DIGEST_MINUTES, then every pending item of the same family and address goes out as
  ONE message (a parent who books ten days gets one email listing the ten changes). An item
  is recognised by its subject, which starts with ALERT_SUBJECT_PREFIX; `queue_email`
  refuses that prefix, so the mark is unambiguous.

Delivery (`send_pending`) is at least once, never twice in normal operation:

1. claim: each row is taken with a conditional UPDATE (`WHERE id = … AND sent_at IS NULL
   AND attempts = <the value read>`) that counts the attempt and pushes next_attempt_at
   a lease ahead, committed before talking to the server. Two senders running at once
   (an overlapping cron) cannot both claim a row: the second UPDATE matches nothing.
2. send over SMTP;
3. mark sent (`sent_at`) and commit at once, or on failure record the error and back off
   exponentially; after MAIL_MAX_ATTEMPTS the row stays in the table, unsent, and the
   giving up is logged.

The crash window: if the process dies after the server accepted a message and before step 3
commits, the row is sent again once its lease expires. The other order (mark sent, then
send) would lose the message instead; for a reset link or an alert, a rare duplicate is the
lesser harm. A crash between 1 and 2 only delays the message by the lease.

At rest (SECURITY 31): a body may hold a reset, invitation or address-change link, which
must work until the message is delivered, retries included. So the bodies are emptied in
the very UPDATE that marks the row sent (or given up): no copy of the database holds a
working link of a delivered message. The purge job deletes the rows sent or given up more
than PURGE_AFTER_DAYS ago (`purge_sent`).

Without MAIL_SERVER (development, tests) the console transport prints one line per message
and marks it sent; in production an empty MAIL_SERVER sends nothing and raises. Logs carry
outbox ids and addresses only: never a body, which may hold a link token (SECURITY 31).
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
import sys
import textwrap
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, select, update

from extensions import db
from models import OutboxEmail, utcnow

log = logging.getLogger(__name__)

ALERT_SUBJECT_PREFIX = "[Portail Famille] "
SUBJECT_MAX = 200
ERROR_MAX = 500
# How long a claimed row is reserved for the sender that claimed it (a send takes seconds).
SEND_LEASE = timedelta(minutes=15)
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
BATCH_SIZE = 500
# A delivered (or given up) row keeps its address and subject, never its bodies' links.
EMPTIED_BODIES = {"body_text": "", "body_html": ""}


class MailNotConfigured(RuntimeError):
    """Production without MAIL_SERVER: nothing is sent, nothing is marked sent."""


def queue_email(
    to_address: str, subject: str, body_text: str, body_html: str = "", family_id: int | None = None
) -> OutboxEmail:
    """Add one message to the outbox (the caller commits)."""
    if subject.startswith(ALERT_SUBJECT_PREFIX):
        raise ValueError("this subject prefix is reserved for alert items")
    message = OutboxEmail(
        to_address=to_address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        family_id=family_id,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    _echo_in_development(to_address, subject, body_text)
    return message


def queue_templated_email(
    to_address: str, subject: str, template: str, context: dict, family_id: int | None = None
) -> OutboxEmail:
    """queue_email with both bodies rendered from `template` + ".txt" and + ".html"."""
    return queue_email(
        to_address,
        subject,
        render_email(f"{template}.txt", **context),
        render_email(f"{template}.html", **context),
        family_id=family_id,
    )


def queue_alert_item(
    to_address: str,
    subject: str,
    item_text: str,
    item_html: str,
    family_id: int,
    now: datetime,
) -> OutboxEmail:
    """Add one alert for one address; merged at send time with the family's other items.

    `subject` is used when the item goes out alone; `item_text` / `item_html` are one entry
    of the list in emails/alert.txt / .html (the caller commits).
    """
    title = " ".join(subject.split())
    width = SUBJECT_MAX - len(ALERT_SUBJECT_PREFIX)
    message = OutboxEmail(
        to_address=to_address,
        subject=ALERT_SUBJECT_PREFIX + textwrap.shorten(title, width=width, placeholder=" …"),
        body_text=item_text,
        body_html=item_html,
        family_id=family_id,
        created_at=now,
        next_attempt_at=now + timedelta(minutes=current_app.config["MAIL_DIGEST_MINUTES"]),
    )
    db.session.add(message)
    _echo_in_development(to_address, message.subject, item_text)
    return message


def _echo_in_development(to_address: str, subject: str, body_text: str) -> None:
    """Without a mail server, a developer reads the links on the console (never a log)."""
    if not current_app.config["MAIL_SERVER"] and current_app.config["APP_ENV"] == "development":
        print(f"--- email to {to_address}: {subject}\n{body_text}\n---", file=sys.stderr)


def public_url(path: str) -> str:
    """An absolute link from PUBLIC_BASE_URL, never from the request's Host header."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def render_email(template: str, **context) -> str:
    """Render an email template outside any request (the portal's context is not needed)."""
    return current_app.jinja_env.get_template(template).render(**context)


# --- Transports -------------------------------------------------------------------------


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class ConsoleTransport:
    """Development: one line per message on the console, and the message counts as sent."""

    def send(self, message: EmailMessage) -> None:
        print(
            f"--- email (console, MAIL_SERVER vide) to {message['To']}: {message['Subject']}",
            file=sys.stderr,
        )

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP connection for a whole run, opened on the first message.

    Once the server is unreachable (refused, timeout, STARTTLS or login failure), every
    further message of the run fails at once with the same error instead of waiting again.
    With use_tls, STARTTLS is required: the message is never sent in clear instead.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        use_tls: bool = False,
        timeout: float = 30,
    ):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.use_tls = username, password, use_tls
        self._smtp: smtplib.SMTP | None = None
        self._down: OSError | None = None

    def send(self, message: EmailMessage) -> None:
        if self._down is not None:
            raise self._down
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            raise  # this message only; the connection is still good
        except OSError as error:  # smtplib's errors are OSErrors too
            self.close()
            self._down = error
            raise

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except OSError:
            self._smtp.close()
        self._smtp = None


def transport_from_config() -> Transport:
    """SMTP when MAIL_SERVER is set; the console otherwise, except in production."""
    config = current_app.config
    if config["MAIL_SERVER"]:
        return SmtpTransport(
            config["MAIL_SERVER"],
            config["MAIL_PORT"],
            config["MAIL_USERNAME"],
            config["MAIL_PASSWORD"],
            config["MAIL_USE_TLS"],
            config["MAIL_TIMEOUT_SECONDS"],
        )
    if config["APP_ENV"] == "production":
        raise MailNotConfigured("MAIL_SERVER is empty: the outbox is kept, nothing is sent.")
    return ConsoleTransport()


# --- The sender ---------------------------------------------------------------------------


@dataclass
class SendReport:
    emails: int = 0  # messages handed to the server (a digest counts once)
    rows: int = 0  # outbox rows those messages carried
    failed: int = 0  # messages kept for a later attempt
    gave_up: int = 0  # messages whose last attempt failed


@dataclass(frozen=True)
class _Queued:
    """A snapshot of one outbox row, read before claiming it."""

    id: int
    attempts: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    family_id: int | None

    @property
    def is_alert_item(self) -> bool:
        return self.family_id is not None and self.subject.startswith(ALERT_SUBJECT_PREFIX)


_COLUMNS = (
    OutboxEmail.id,
    OutboxEmail.attempts,
    OutboxEmail.to_address,
    OutboxEmail.subject,
    OutboxEmail.body_text,
    OutboxEmail.body_html,
    OutboxEmail.family_id,
)


def send_pending(
    now: datetime, transport: Transport | None = None, dry_run: bool = False
) -> SendReport:
    """Send the outbox rows that are due; with dry_run, only count what would go."""
    messages = _due_messages(now, current_app.config["MAIL_MAX_ATTEMPTS"])
    report = SendReport()
    if dry_run:
        report.emails = len(messages)
        report.rows = sum(len(rows) for rows in messages)
        return report
    transport = transport or transport_from_config()
    try:
        for rows in messages:
            _deliver(rows, now, transport, report)
    finally:
        transport.close()
    return report


def _due_messages(now: datetime, max_attempts: int) -> list[list[_Queued]]:
    """Due rows as messages: a plain email alone, alert items grouped by family and address.

    When one item of a family's address is due, every pending item of that address joins it,
    including items queued since (they would otherwise make a second email minutes later).
    """
    pending = (OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < max_attempts)
    due = _fetch(
        select(*_COLUMNS)
        .where(*pending, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(BATCH_SIZE)
    )
    items = _pending_items({row.family_id for row in due if row.is_alert_item}, pending)
    messages: list[list[_Queued]] = []
    for row in due:
        if not row.is_alert_item:
            messages.append([row])
            continue
        group = items.pop((row.family_id, row.to_address.lower()), None)
        if group:
            messages.append(group)
    return messages


def _pending_items(families: set[int], pending: tuple) -> dict[tuple[int, str], list[_Queued]]:
    """The families' pending alert items, by family and address (any case), oldest first."""
    items: dict[tuple[int, str], list[_Queued]] = {}
    if not families:
        return items
    query = (
        select(*_COLUMNS)
        .where(
            *pending,
            OutboxEmail.family_id.in_(families),
            OutboxEmail.subject.startswith(ALERT_SUBJECT_PREFIX, autoescape=True),
        )
        .order_by(OutboxEmail.id)
    )
    for row in _fetch(query):
        items.setdefault((row.family_id, row.to_address.lower()), []).append(row)
    return items


def _fetch(query) -> list[_Queued]:
    return [_Queued(*row) for row in db.session.execute(query)]


def _deliver(rows: list[_Queued], now: datetime, transport: Transport, report: SendReport) -> None:
    claimed = _claim(rows, now)
    if not claimed:
        return
    try:
        transport.send(_compose(claimed, now))
    except Exception as error:  # whatever went wrong, the message stays queued
        _record_failure(claimed, now, error, report)
        return
    ids = [row.id for row in claimed]
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids))
        .values(sent_at=now, last_error="", **EMPTIED_BODIES)
    )
    db.session.commit()
    report.emails += 1
    report.rows += len(claimed)
    log.info("email sent: outbox ids=%s to=%s", ids, claimed[0].to_address)


def _claim(rows: list[_Queued], now: datetime) -> list[_Queued]:
    """Take the rows nobody else has taken since we read them (see the module docstring)."""
    claimed = []
    for row in sorted(rows, key=lambda r: r.id):
        result = db.session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == row.id,
                OutboxEmail.sent_at.is_(None),
                OutboxEmail.attempts == row.attempts,
            )
            .values(attempts=row.attempts + 1, next_attempt_at=now + SEND_LEASE)
        )
        if result.rowcount == 1:
            claimed.append(replace(row, attempts=row.attempts + 1))
    db.session.commit()
    return claimed


def _record_failure(
    rows: list[_Queued], now: datetime, error: Exception, report: SendReport
) -> None:
    """Back off and keep the error (truncated); log the ids and the address, not the text."""
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    detail = f"{type(error).__name__}: {error}"[:ERROR_MAX]
    for row in rows:
        # A message that will never go out has no reason to keep its link.
        emptied = EMPTIED_BODIES if row.attempts >= max_attempts else {}
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == row.id)
            .values(next_attempt_at=now + retry_delay(row.attempts), last_error=detail, **emptied)
        )
    db.session.commit()
    ids = [row.id for row in rows]
    attempts = max(row.attempts for row in rows)
    report.failed += 1
    log.warning(
        "email not sent: outbox ids=%s to=%s attempt=%s error=%s",
        ids,
        rows[0].to_address,
        attempts,
        type(error).__name__,
    )
    if attempts >= max_attempts:
        report.gave_up += 1
        log.error(
            "email given up after %s attempts: outbox ids=%s to=%s",
            attempts,
            ids,
            rows[0].to_address,
        )


def purge_sent(cutoff: datetime, dry_run: bool = False) -> int:
    """Delete the rows sent, or given up, before `cutoff` (the caller commits); how many.

    Also empties the bodies of rows sent before bodies were emptied at delivery.
    """
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    finished = OutboxEmail.sent_at.is_not(None) | (OutboxEmail.attempts >= max_attempts)
    old = (OutboxEmail.sent_at < cutoff) | (
        OutboxEmail.sent_at.is_(None) & (OutboxEmail.created_at < cutoff)
    )
    if dry_run:
        return db.session.scalar(select(func.count(OutboxEmail.id)).where(finished, old))
    deleted = db.session.execute(delete(OutboxEmail).where(finished, old)).rowcount
    db.session.execute(
        update(OutboxEmail)
        .where(finished, (OutboxEmail.body_text != "") | (OutboxEmail.body_html != ""))
        .values(**EMPTIED_BODIES)
    )
    return deleted


def retry_delay(attempts: int) -> timedelta:
    """1 min after the first failed attempt, doubling, at most 6 h."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


# Headers folded at RFC 5322's hard limit, not at 78 columns: Python's folding of a long
# non-ASCII subject into several encoded words loses the spaces between them (« a
# étéenvoyé »); one encoded word per line up to 998 characters keeps the subject whole.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def _compose(rows: list[_Queued], now: datetime) -> EmailMessage:
    first = rows[0]
    if first.is_alert_item:
        subject, text, html = _render_alerts(rows)
    else:
        subject, text, html = first.subject, first.body_text, first.body_html
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = first.to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(now.replace(tzinfo=UTC))
    # Stable per outbox row: a resend after a crash carries the same id.
    message["Message-ID"] = f"<outbox.{first.id}.{len(rows)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def _render_alerts(rows: list[_Queued]) -> tuple[str, str, str]:
    """One message for one or many alert items of one address."""
    if len(rows) == 1:
        subject = rows[0].subject
    else:
        subject = f"{ALERT_SUBJECT_PREFIX}{len(rows)} nouvelles alertes"
    context = {
        "items": [row.body_text for row in rows],
        # Each item was rendered by emails/alert_item.html, which escapes what it shows.
        "html_items": [Markup(row.body_html) for row in rows],  # noqa: S704
        "alerts_link": public_url("/alertes"),
    }
    return (
        subject,
        render_email("emails/alert.txt", **context),
        render_email("emails/alert.html", **context),
    )
