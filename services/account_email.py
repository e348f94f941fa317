"""Changing a family account's email address: confirmed from the new mailbox.

1. `request_email_change`: the signed-in person gives the new address and their current
   password (a borrowed session alone cannot redirect the account's mail, hence its reset
   links). The new address gets a single-use link valid EMAIL_CHANGE_HOURS; an earlier
   pending link dies. Nothing changes yet.
2. `confirm_email_change`: opening the link shows a page; only its POST changes the
   address (mail scanners fetch links with GET). The old address gets a notice, and the
   account's pending reset links, sent to the old address, die.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from extensions import db
from models import FamilyAccount, TokenPurpose
from services import accounts, mail

EMAIL_CHANGE_HOURS = 24
EMAIL_MAX = 254
# Pragmatic: one @, a dotted domain, no space, quote, comma or angle bracket (no header
# injection, no display name). The confirmation link proves the rest.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class EmailChangeRejected(ValueError):
    """The request cannot be accepted; the message is for the person, about `field`."""

    def __init__(self, message: str, field: str = "new_email"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PendingChange:
    """What a live confirmation link would do."""

    account: FamilyAccount
    new_email: str


def normalize_address(address: str) -> str:
    """The address as typed, without surrounding spaces; the domain in lower case."""
    local, _, domain = (address or "").strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else (address or "").strip()


def check_address(address: str) -> None:
    if len(address) > EMAIL_MAX or not _ADDRESS.fullmatch(address):
        raise EmailChangeRejected(
            "Cette adresse email n'est pas valide. Exemple : prenom.nom@exemple.fr"
        )


def request_email_change(
    account: FamilyAccount, new_email: str, password: str, now: datetime
) -> str:
    """Queue the confirmation link to the new address, and commit; the normalized address."""
    address = normalize_address(new_email)
    check_address(address)
    try:
        accounts.confirm_current_password(account, password, now)
    except accounts.PasswordRejected as refused:
        raise EmailChangeRejected(str(refused), field="password") from refused
    if address.lower() == (account.email or "").strip().lower():
        raise EmailChangeRejected("C'est déjà l'adresse email de votre compte.")
    accounts.expire_tokens(account, TokenPurpose.EMAIL_CHANGE, now)
    valid_for = timedelta(hours=EMAIL_CHANGE_HOURS)
    token = accounts.issue_token(
        account, TokenPurpose.EMAIL_CHANGE, now, valid_for, new_email=address
    )
    context = {
        "account": account,
        "new_email": address,
        "link": mail.public_url(f"/compte/email/{token}"),
        "hours": EMAIL_CHANGE_HOURS,
    }
    mail.queue_templated_email(
        address,
        "Portail Famille : confirmez votre nouvelle adresse email",
        "emails/email_change",
        context,
        family_id=account.family_id,
    )
    db.session.commit()
    return address


def pending_change(token: str, now: datetime) -> PendingChange:
    """What the link would change, without changing it; InvalidToken when it is not live."""
    row = accounts.peek_token(token, TokenPurpose.EMAIL_CHANGE, now)
    account = row.family_account
    if account is None or not account.is_enabled:
        raise accounts.InvalidToken()
    return PendingChange(account, row.new_email)


def confirm_email_change(token: str, now: datetime) -> FamilyAccount:
    """Change the address (the link is used up), tell the old address, and commit."""
    change = pending_change(token, now)
    account = accounts.consume_token(token, TokenPurpose.EMAIL_CHANGE, now)
    old_email = (account.email or "").strip()
    account.email = change.new_email
    accounts.expire_tokens(account, TokenPurpose.RESET, now)
    if old_email and old_email.lower() != change.new_email.lower():
        context = {
            "account": account,
            "masked_email": mask_address(change.new_email),
            "when": now,
        }
        mail.queue_templated_email(
            old_email,
            "Portail Famille : l'adresse email de votre compte a changé",
            "emails/email_changed",
            context,
            family_id=account.family_id,
        )
    db.session.commit()
    return account


def mask_address(address: str) -> str:
    """p…@exemple.fr: enough for the owner to recognise, not a full address to a third party."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"
