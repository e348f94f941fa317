"""Periodic jobs, run by `flask jobs run` from cron or a systemd timer.

Every job is idempotent (running it twice in a row does nothing the second time), owns
its commits, takes `now` and `dry_run`, and returns one line for the person reading the
output. A new job plugs in with one line in JOBS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from extensions import db
from models import AccountToken, AuthSession
from services import booking, documents, mail, payments, remembered_devices

log = logging.getLogger(__name__)


def send_outbox(now: datetime, dry_run: bool) -> str:
    """Send the emails that are due (alert items merged per family and address)."""
    report = mail.send_pending(now, dry_run=dry_run)
    queued = f"{report.rows} message(s) de la file"
    if dry_run:
        return f"{report.emails} email(s) à envoyer ({queued}), rien envoyé"
    line = f"{report.emails} email(s) envoyé(s) ({queued}), {report.failed} en échec"
    if report.gave_up:
        line += f", dont {report.gave_up} abandonné(s)"
    return line


def purge_spent_credentials(now: datetime, dry_run: bool) -> str:
    """Delete link tokens and sessions that ended more than PURGE_AFTER_DAYS ago.

    A link token has ended when it was used or expired; a session when it was revoked or
    passed the absolute timeout (no session lives longer than that).
    """
    cutoff = now - timedelta(days=current_app.config["PURGE_AFTER_DAYS"])
    session_lifetime = timedelta(hours=current_app.config["SESSION_ABSOLUTE_TIMEOUT_HOURS"])
    spent_tokens = or_(AccountToken.used_at < cutoff, AccountToken.expires_at < cutoff)
    spent_sessions = or_(
        AuthSession.revoked_at < cutoff, AuthSession.created_at < cutoff - session_lifetime
    )
    if dry_run:
        tokens = db.session.scalar(select(func.count(AccountToken.id)).where(spent_tokens))
        sessions = db.session.scalar(select(func.count(AuthSession.id)).where(spent_sessions))
        return f"{tokens} lien(s) et {sessions} session(s) à supprimer, rien supprimé"
    tokens = db.session.execute(delete(AccountToken).where(spent_tokens)).rowcount
    sessions = db.session.execute(delete(AuthSession).where(spent_sessions)).rowcount
    db.session.commit()
    return f"{tokens} lien(s) et {sessions} session(s) supprimé(s)"


def purge_ended_devices(now: datetime, dry_run: bool) -> str:
    """Delete the remembered phones revoked or expired more than PURGE_AFTER_DAYS ago."""
    cutoff = now - timedelta(days=current_app.config["PURGE_AFTER_DAYS"])
    count = remembered_devices.purge_ended(cutoff, dry_run)
    if dry_run:
        return f"{count} appareil(s) à oublier, rien supprimé"
    db.session.commit()
    return f"{count} appareil(s) oublié(s)"


def purge_sent_emails(now: datetime, dry_run: bool) -> str:
    """Delete the emails sent or given up more than PURGE_AFTER_DAYS ago (mail.purge_sent)."""
    cutoff = now - timedelta(days=current_app.config["PURGE_AFTER_DAYS"])
    count = mail.purge_sent(cutoff, dry_run)
    if dry_run:
        return f"{count} email(s) envoyé(s) ou abandonné(s) à supprimer, rien supprimé"
    db.session.commit()
    return f"{count} email(s) envoyé(s) ou abandonné(s) supprimé(s)"


def serve_waiting_lists(now: datetime, dry_run: bool) -> str:
    """Hand the free places of automatic activities to their waiting lists, in order."""
    if dry_run:
        days = booking.waiting_days(now)
        return f"{len(days)} jour(s) avec une liste d'attente à examiner, rien modifié"
    promoted = booking.serve_waiting_lists(now)
    return f"{len(promoted)} réservation(s) confirmée(s) depuis la liste d'attente"


def expire_documents(now: datetime, dry_run: bool) -> str:
    """Mark the documents past their expiry day as expired and tell their families."""
    if dry_run:
        count = len(documents.expired_documents(now))
        return f"{count} document(s) expiré(s) à signaler, rien modifié"
    return f"{len(documents.expire_documents(now))} document(s) expiré(s), familles prévenues"


Job = Callable[[datetime, bool], str]

JOBS: list[tuple[str, Job]] = [
    ("mollie-reconcile", payments.reconcile_open_payments),  # before the outbox: its alerts
    ("outbox", send_outbox),
    ("waiting-lists", serve_waiting_lists),
    ("expired-documents", expire_documents),
    ("purge-credentials", purge_spent_credentials),
    ("purge-devices", purge_ended_devices),  # after the sessions that point to them
    ("purge-outbox", purge_sent_emails),
]


@dataclass(frozen=True)
class JobOutcome:
    name: str
    ok: bool
    summary: str


def run_all(now: datetime, dry_run: bool = False) -> list[JobOutcome]:
    """Run every job once; a failing job is reported and does not stop the others."""
    outcomes = []
    for name, job in JOBS:
        try:
            outcomes.append(JobOutcome(name, True, job(now, dry_run)))
        except Exception as error:
            db.session.rollback()
            log.exception("job %s failed", name)
            outcomes.append(JobOutcome(name, False, f"échec ({type(error).__name__})"))
    return outcomes
