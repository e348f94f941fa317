"""Forgotten password: a single-use, expiring link sent by email (never the password).

The rules:
- The page says the same thing whatever the login, and the work behind it is the same
  too, so that neither the answer nor its time tells a known login apart: the login is
  looked up in both account tables, the account's recent links are counted, then a link
  and its email are written inside a savepoint, which is kept only when the email should
  really go. For an unknown login, a disabled account, an account without an address or
  one past its hourly limit, the link and the email are those of a stand-in account and
  the savepoint is rolled back: the same statements, hashing and rendering, nothing kept.
- At most RESET_EMAILS_PER_HOUR links per account in any hour, whatever the addresses
  asking (an attacker cannot flood a family's mailbox).
- A new link ends the earlier ones: only the latest email works.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, bindparam, func, or_, select, update

from extensions import db
from models import AccountToken, FamilyAccount, TokenPurpose
from services import accounts, mail

RESET_EMAILS_PER_HOUR = 3
# Never written: the stand-in's link and email are rolled back with their savepoint.
_STAND_IN_ADDRESS = "aucun-envoi@invalid"


def send_reset_link(username: str, now: datetime) -> None:
    """Queue a reset email when the login may receive one; the same work either way; commit."""
    account = accounts.find_account(username)
    if account is not None and (not account.email or not account.is_enabled):
        account = None
    candidate = account or _stand_in(username)
    recent = db.session.scalar(
        select(func.count(AccountToken.id)).where(
            _links_of(candidate), AccountToken.created_at > now - timedelta(hours=1)
        )
    )
    sends = account is not None and recent < RESET_EMAILS_PER_HOUR
    recipient = candidate if sends else _stand_in(username)
    savepoint = db.session.begin_nested()
    _queue_reset_email(recipient, now)
    db.session.flush()  # the INSERTs are sent in both cases, before the savepoint ends
    if sends:
        savepoint.commit()
    else:
        savepoint.rollback()
    db.session.commit()


def _stand_in(username: str) -> FamilyAccount:
    """An account that is never stored: the reset work is done for it, then rolled back."""
    return FamilyAccount(username=accounts.normalize_username(username), email=_STAND_IN_ADDRESS)


def _links_of(account: accounts.Account):
    """The account's reset links; none for the stand-in, with the very same statement."""
    family_id = None if account.is_staff else account.id
    staff_id = account.id if account.is_staff else None
    return (AccountToken.purpose == TokenPurpose.RESET) & or_(
        AccountToken.family_account_id == bindparam("family_account_id", family_id, Integer),
        AccountToken.staff_user_id == bindparam("staff_user_id", staff_id, Integer),
    )


def _queue_reset_email(account: accounts.Account, now: datetime) -> None:
    """End the account's earlier links, issue a new one and queue its email (not committed)."""
    db.session.execute(
        update(AccountToken)
        .where(_links_of(account), AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    hours = current_app.config["RESET_TOKEN_HOURS"]
    token = accounts.issue_token(account, TokenPurpose.RESET, now, timedelta(hours=hours))
    link = mail.public_url(f"/mot-de-passe/{token}")
    mail.queue_templated_email(
        account.email,
        "Portail Famille : choisir un nouveau mot de passe",
        "emails/reset",
        {"account": account, "link": link, "hours": hours},
        family_id=getattr(account, "family_id", None),
    )


def token_is_live(token: str, now: datetime) -> bool:
    """True if the link can still set a password (reset or invitation)."""
    for purpose in (TokenPurpose.RESET, TokenPurpose.INVITATION):
        try:
            accounts.peek_token(token, purpose, now)
            return True
        except accounts.InvalidToken:
            continue
    return False
