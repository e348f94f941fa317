"""Email through the outbox: written in the caller's transaction, delivered later.

Without MAIL_SERVER (development), a queued message is also printed on the console so a
developer can follow the links; delivery by SMTP and its retries come with the jobs.
"""

from __future__ import annotations

import sys

from flask import current_app

from extensions import db
from models import OutboxEmail, utcnow


def queue_email(
    to_address: str, subject: str, body_text: str, body_html: str = "", family_id: int | None = None
) -> OutboxEmail:
    """Add one message to the outbox (the caller commits)."""
    message = OutboxEmail(
        to_address=to_address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        family_id=family_id,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    if not current_app.config["MAIL_SERVER"] and current_app.config["APP_ENV"] == "development":
        print(f"--- email to {to_address}: {subject}\n{body_text}\n---", file=sys.stderr)
    return message


def public_url(path: str) -> str:
    """An absolute link from PUBLIC_BASE_URL, never from the request's Host header."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
