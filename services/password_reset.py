"""Forgotten password: a single-use, expiring link sent by email (never the password)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from extensions import db
from models import TokenPurpose
from services import accounts, mail


def send_reset_link(username: str, now: datetime) -> None:
    """Queue a reset email if the login exists and has an address; say nothing either way."""
    account = accounts.find_account(username)
    if account is None or not account.email or not account.is_enabled:
        return
    hours = current_app.config["RESET_TOKEN_HOURS"]
    token = accounts.issue_token(account, TokenPurpose.RESET, now, timedelta(hours=hours))
    link = mail.public_url(f"/mot-de-passe/{token}")
    context = {"account": account, "link": link, "hours": hours}
    mail.queue_templated_email(
        account.email,
        "Portail Famille : choisir un nouveau mot de passe",
        "emails/reset",
        context,
        family_id=getattr(account, "family_id", None),
    )
    db.session.commit()


def token_is_live(token: str, now: datetime) -> bool:
    """True if the link can still set a password (reset or invitation)."""
    for purpose in (TokenPurpose.RESET, TokenPurpose.INVITATION):
        try:
            accounts.peek_token(token, purpose, now)
            return True
        except accounts.InvalidToken:
            continue
    return False
