"""Accounts that staff create: an invitation link to choose a password, enabling, disabling.

An invitation email carries the login and a single-use link to /mot-de-passe/<token>
(the page that also serves reset links), valid INVITATION_TOKEN_HOURS; never a password
(SECURITY.md check 5). Sending it again kills the previous link: only the latest email
works. A disabled account gets no invitation, and disabling one kills its pending links
and ends its sessions at once.

Each function commits: one call is one staff action. The caller (an admin view) writes
the audit event; send_invitation also journals the previous addresses it tells.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from extensions import db
from models import StaffUser, TokenPurpose
from services import account_email, accounts, mail
from services.accounts import Account


class InvitationImpossible(ValueError):
    """The invitation cannot be sent; the message is for the agent."""


def send_invitation(
    account: Account, now: datetime, staff: StaffUser | None = None, ip: str | None = None
) -> datetime:
    """Queue the invitation email to the account's address, and commit; the link's expiry.

    For a login in use, the link replaces its password: the addresses staff replaced are
    told, and `staff`'s journal says so (account_email.staff_sent_password_link).
    """
    address = (account.email or "").strip()
    if not address:
        raise InvitationImpossible(
            f"Le compte « {account.username} » n'a pas d'adresse email : "
            "renseignez-la avant d'envoyer l'invitation."
        )
    if not account.is_enabled:
        raise InvitationImpossible(
            f"Le compte « {account.username} » est désactivé : "
            "réactivez-le avant d'envoyer l'invitation."
        )
    hours = current_app.config["INVITATION_TOKEN_HOURS"]
    accounts.expire_tokens(account, TokenPurpose.INVITATION, now)
    token = accounts.issue_token(account, TokenPurpose.INVITATION, now, timedelta(hours=hours))
    expires_at = now + timedelta(hours=hours)
    context = {
        "account": account,
        "link": mail.public_url(f"/mot-de-passe/{token}"),
        "hours": hours,
        "expires_at": expires_at,
        "login_link": mail.public_url("/login"),
    }
    mail.queue_templated_email(
        address,
        "Portail Famille : votre accès au portail",
        "emails/invitation",
        context,
        family_id=getattr(account, "family_id", None),
    )
    account_email.staff_sent_password_link(account, staff, ip, now)
    db.session.commit()
    return expires_at


def enable_account(account: Account) -> None:
    """Let the account sign in again (a lockout from before is forgotten), and commit."""
    account.is_enabled = True
    account.failed_logins = 0
    account.locked_until = None
    db.session.commit()


def disable_account(account: Account, now: datetime) -> None:
    """End its sessions at once, kill its pending links, and commit."""
    accounts.disable_account(account, now)
    for purpose in TokenPurpose:
        accounts.expire_tokens(account, purpose, now)
    db.session.commit()
