"""Changing a family account's email address: confirmed from the new mailbox.

1. `request_email_change`: the signed-in person gives the new address and their current
   password (a borrowed session alone cannot redirect the account's mail, hence its reset
   links). The new address gets a single-use link valid EMAIL_CHANGE_HOURS; an earlier
   pending link dies. Nothing changes yet.
2. `confirm_email_change`: opening the link shows a page; only its POST changes the
   address (mail scanners fetch links with GET). The old address gets a notice, and the
   account's pending reset links, sent to the old address, die.

Staff change addresses too, in the back office, and can send an invitation, whose link
replaces the password. Either is how a login is taken over, so for a login in use (it has
a password) the previous address is told, with the new one masked, and the journal gets a
PREVIOUS_ADDRESS_TOLD event (SECURITY.md check 30). The previous addresses of an invitation
are those staff replaced since the password was last set, read from the journal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from extensions import db
from models import FamilyAccount, StaffUser, TokenPurpose
from services import accounts, audit, mail

EMAIL_CHANGE_HOURS = 24
PREVIOUS_ADDRESS_TOLD = "previous-address-told"
STAFF_CHANGE_SUBJECTS = {
    "address": "Portail Famille : l'adresse email de votre compte a été changée par la mairie",
    "password_link": "Portail Famille : la mairie a envoyé un lien de mot de passe",
}
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


def staff_changed_address(
    account: accounts.Account, staff: StaffUser, ip: str | None, now: datetime
) -> None:
    """After a back-office edit of the address: kill the links the previous address got,
    and tell it if the login is in use. Joins the caller's transaction (the admin form's)."""
    previous, current = audit.changes_of(account).get("email", ["", ""])
    if _same_address(previous, current):
        return
    accounts.expire_tokens(account, TokenPurpose.RESET, now)
    accounts.expire_tokens(account, TokenPurpose.INVITATION, now)
    if account.password_hash and (previous or "").strip():
        _tell_previous_address(account, previous, current, "address", now)
        audit.record(staff, PREVIOUS_ADDRESS_TOLD, account, {"email": [previous, current]}, ip)


def staff_sent_password_link(
    account: accounts.Account, staff: StaffUser | None, ip: str | None, now: datetime
) -> None:
    """Tell the addresses staff replaced since the password was set that a link replacing it
    went to the current one (the caller commits)."""
    if not account.password_hash:
        return
    for previous in _addresses_staff_replaced(account):
        _tell_previous_address(account, previous, account.email, "password_link", now)
        if staff is not None:
            changes = {"email": [previous, account.email]}
            audit.record(staff, PREVIOUS_ADDRESS_TOLD, account, changes, ip)


def _addresses_staff_replaced(account: accounts.Account) -> list[str]:
    """Since the password was last set, oldest first, once each (any case), not the current."""
    seen = {"", (account.email or "").strip().lower()}
    addresses = []
    for previous in audit.replaced_values(account, "email", account.password_changed_at):
        key = (previous or "").strip().lower()
        if key not in seen:
            seen.add(key)
            addresses.append(previous.strip())
    return addresses


def _same_address(first: str | None, second: str | None) -> bool:
    return (first or "").strip().lower() == (second or "").strip().lower()


def _tell_previous_address(
    account: accounts.Account, previous: str, current: str, change: str, now: datetime
) -> None:
    context = {
        "account": account,
        "change": change,
        "masked_email": mask_address(current.strip()),
        "when": now,
    }
    mail.queue_templated_email(
        previous.strip(),
        STAFF_CHANGE_SUBJECTS[change],
        "emails/staff_changed_account",
        context,
        family_id=getattr(account, "family_id", None),
    )
