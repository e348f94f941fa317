"""Accounts: password hashing and policy, sign-in with lockout, server-side sessions, tokens.

Families and staff are different accounts (FamilyAccount, StaffUser) sharing LoginMixin.
Time is always a parameter (`now`), so tests pin it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from extensions import db
from models import (
    AccountToken,
    Alert,
    AuthSession,
    Family,
    FamilyAccount,
    RememberedDevice,
    StaffRole,
    StaffUser,
    TokenPurpose,
)
from services import sign_in_limits
from services.formatting import deadline_fr

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
LOCK_AFTER_FAILURES = 5
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=4)

# argon2id, RFC 9106's second recommended profile (64 MiB, 3 passes).
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
# Verified when the login is unknown, so both answers cost the same work.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_COMMON = frozenset(
    line.strip().lower()
    for line in (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    if line.strip()
)

Account = FamilyAccount | StaffUser


class PasswordRejected(ValueError):
    """The new password breaks the policy; the message is for the person."""


class AccountLocked(Exception):
    """Too many failures: the account is locked until `until`."""

    def __init__(self, until: datetime):
        super().__init__(until)
        self.until = until


class TooManyAttempts(Exception):
    """Too many sign-in attempts at this login from unknown browsers (429, nothing checked)."""


class InvalidToken(Exception):
    """The link is unknown, used, or expired."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    """Length only (12+), no composition rule, no truncation; the commonest ones refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(
            f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejected(
            f"Le mot de passe ne peut dépasser {MAX_PASSWORD_LENGTH} caractères."
        )
    if password.lower() in _COMMON or len(set(password)) < 4:
        raise PasswordRejected("Ce mot de passe est trop courant : choisissez-en un autre.")


def set_password(
    account: Account, password: str, now: datetime, keep_token: str | None = None
) -> None:
    """Apply the policy, store the argon2id hash, clear the sign-in counters, end the other
    sessions and reset links."""
    check_password_policy(password)
    account.password_hash = hash_password(password)
    account.password_changed_at = now
    account.failed_logins = 0
    account.locked_until = None
    sign_in_limits.forget_account_attempts(normalize_username(account.username))
    revoke_sessions(account, now, keep_token=keep_token)
    # Every pending link dies with the old password: reset, invitation, email change.
    for purpose in TokenPurpose:
        expire_tokens(account, purpose, now)


def find_account(username: str) -> Account | None:
    """The family account or staff user with this login (case-insensitive).

    Both tables are always asked: a known and an unknown login cost the same statements.
    """
    login = normalize_username(username)
    found = [
        db.session.scalar(select(model).where(func.lower(model.username) == login))
        for model in (FamilyAccount, StaffUser)
    ]
    return next((account for account in found if account is not None), None)


def login_taken(account: Account) -> bool:
    """True if another family or staff account has this login (compared case-insensitively)."""
    login = normalize_username(account.username)
    # No autoflush: the edited account must not meet itself in the database.
    with db.session.no_autoflush:
        for model in (FamilyAccount, StaffUser):
            query = select(model).where(func.lower(model.username) == login)
            if any(found is not account for found in db.session.scalars(query)):
                return True
    return False


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()[:80]


def authenticate(
    username: str, password: str, now: datetime, known_browser: str | None = None
) -> Account | None:
    """The account if the password matches; None otherwise, after the same hashing work.

    `known_browser`: the nonce of the browser's cookie for this login, if it has one
    (services.sign_in_limits): its attempts are judged by its own failures, never by the
    account's rate or lockout. Raises TooManyAttempts past the login's rate, AccountLocked
    while the account (or the known browser) is locked: the password is not checked then.
    Commits what the attempt changed: the failure count and the lock, or the last sign-in.
    """
    login = normalize_username(username)
    if known_browser is None and not sign_in_limits.account_attempt_allowed(login):
        raise TooManyAttempts()
    account = find_account(login)
    if account is None or not account.password_hash:
        _verify(_DUMMY_HASH, password)
        return None
    locked_until = _locked_until(account, known_browser, now)
    if locked_until:
        _verify(_DUMMY_HASH, password)
        raise AccountLocked(locked_until)
    if not _verify(account.password_hash, password) or not account.is_enabled:
        _count_failure(account, known_browser, now)
        db.session.commit()
        return None
    _signed_in(account, password, known_browser, now)
    db.session.commit()
    return account


def _browser_counter(account: Account, known_browser: str) -> str:
    """The known browser's counter for the account's current password: a new password
    (a reset after its own failures) gives it a fresh one."""
    return f"{known_browser}:{account.password_changed_at}"


def _locked_until(account: Account, known_browser: str | None, now: datetime):
    if known_browser is not None:
        return sign_in_limits.browser_locked_until(_browser_counter(account, known_browser), now)
    return account.locked_until if account.locked_until and account.locked_until > now else None


def _count_failure(account: Account, known_browser: str | None, now: datetime) -> None:
    if known_browser is None:
        _record_failure(account, now)
    elif sign_in_limits.count_browser_failure(_browser_counter(account, known_browser)):
        log.warning(
            "known browser locked: kind=%s id=%s",
            "StaffUser" if account.is_staff else "FamilyAccount",
            account.id,
        )


def _signed_in(account: Account, password: str, known_browser: str | None, now: datetime) -> None:
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    # The owner's phone signing in does not lift a lock that a stranger's failures set:
    # it would hand the stranger a fresh round of guesses.
    if known_browser is None:
        account.failed_logins = 0
        account.locked_until = None
    account.last_login_at = now


def confirm_current_password(account: Account, password: str, now: datetime) -> None:
    """Re-authentication before a change: PasswordRejected unless `password` is the current one.

    A guess here is a guess at sign-in: a failure counts toward the same lockout (committed
    before raising), and while the account is locked the password is not even checked.
    """
    if account.locked_until and account.locked_until > now:
        raise PasswordRejected(
            "Trop d'essais avec un mot de passe incorrect : par sécurité, il ne sera pas "
            f"vérifié avant {deadline_fr(account.locked_until)}. Réessayez ensuite, ou "
            "déconnectez-vous et utilisez « Mot de passe oublié »."
        )
    if not account.password_hash or not _verify(account.password_hash, password):
        _record_failure(account, now)
        db.session.commit()
        raise PasswordRejected("Le mot de passe actuel est incorrect.")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _record_failure(account: Account, now: datetime) -> None:
    """Count a failure; from the 5th, lock for 1 min, doubling with each further failure."""
    account.failed_logins = (account.failed_logins or 0) + 1
    extra = account.failed_logins - LOCK_AFTER_FAILURES
    if extra >= 0:
        account.locked_until = now + min(FIRST_LOCK * (2**extra), MAX_LOCK)
        log.warning(
            "account locked: kind=%s id=%s failures=%s until=%s",
            # Not type(account): from a form, the account is Flask-Login's proxy.
            "StaffUser" if account.is_staff else "FamilyAccount",
            account.id,
            account.failed_logins,
            account.locked_until.isoformat(),
        )


# --- Sessions ---------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    account: Account, now: datetime, ip: str = "", remembered_device_id: int | None = None
) -> str:
    """A new server-side session, committed; the returned token goes into the signed cookie."""
    token = secrets.token_urlsafe(32)
    row = AuthSession(
        token_hash=_digest(token),
        created_at=now,
        last_seen_at=now,
        ip=ip[:45],
        remembered_device_id=remembered_device_id,
    )
    if account.is_staff:
        row.staff_user_id = account.id
    else:
        row.family_account_id = account.id
    db.session.add(row)
    db.session.commit()
    account.session_token = token
    return token


@dataclass(frozen=True)
class SessionLimits:
    absolute: timedelta
    staff_idle: timedelta


def load_session(token: str, now: datetime, limits: SessionLimits) -> Account | None:
    """The account behind a live session token, or None (revoked, expired, disabled).

    One statement for a family: the session's columns, the account, its family and the
    family's unread alerts (kept on the account as `unread_alerts`, see unread_alerts());
    a staff session costs a second one for the staff user.
    """
    row = db.session.execute(_SESSION_QUERY, {"token_hash": _digest(token)}).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.staff_user_id is not None:
        account = db.session.get(StaffUser, row.staff_user_id)
    else:
        account = row.FamilyAccount
        # As a joinedload would: the family is there without a lazy load (and no change).
        set_committed_value(account, "family", row.Family)
    expired = now - row.created_at > limits.absolute or (
        account.is_staff and now - row.last_seen_at > limits.staff_idle
    )
    if expired or not account.is_enabled:
        _touch_session(row.id, revoked_at=now)
        return None
    # Written at most once a minute: a page view should not always cost a write.
    if now - row.last_seen_at > timedelta(minutes=1):
        _touch_session(row.id, last_seen_at=now)
    account.session_token = token
    if not account.is_staff:
        account.unread_alerts = row.unread
    return account


def _session_query():
    unread = (
        select(func.count(Alert.id))
        .where(Alert.family_id == FamilyAccount.family_id, Alert.read_at.is_(None))
        .correlate(FamilyAccount)
        .scalar_subquery()
        .label("unread")
    )
    return (
        select(
            AuthSession.id,
            AuthSession.created_at,
            AuthSession.last_seen_at,
            AuthSession.revoked_at,
            AuthSession.staff_user_id,
            FamilyAccount,
            Family,
            unread,
        )
        .outerjoin(FamilyAccount, FamilyAccount.id == AuthSession.family_account_id)
        .outerjoin(Family, Family.id == FamilyAccount.family_id)
        .where(AuthSession.token_hash == bindparam("token_hash"))
    )


# Built once: the statement is the same for every request, only the token differs.
_SESSION_QUERY = _session_query()


def _touch_session(session_id: int, **values) -> None:
    """Write the session row's revocation or last sign of life, and commit."""
    db.session.execute(update(AuthSession).where(AuthSession.id == session_id).values(**values))
    db.session.commit()


def revoke_session(token: str | None, now: datetime) -> None:
    """End one session (signing out), and commit."""
    if token:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == _digest(token), AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        db.session.commit()


def revoke_sessions(account: Account, now: datetime, keep_token: str | None = None) -> None:
    """End every session of the account (but the one it is using, if given), and every
    remembered device: none of them restores a session any more, this phone's included."""
    # Devices first: a restore that rotated a device's token holds its row until it commits
    # its new session, so the sessions' update below, waiting behind it, ends that one too.
    if not account.is_staff:
        db.session.execute(
            update(RememberedDevice)
            .where(
                RememberedDevice.family_account_id == account.id,
                RememberedDevice.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    column = AuthSession.staff_user_id if account.is_staff else AuthSession.family_account_id
    query = update(AuthSession).where(column == account.id, AuthSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(AuthSession.token_hash != _digest(keep_token))
    db.session.execute(query.values(revoked_at=now))


def change_password(account: Account, current: str, new: str, now: datetime) -> None:
    """Check the current password, set the new one, end the other sessions (not this one);
    commit."""
    confirm_current_password(account, current, now)
    set_password(account, new, now, keep_token=account.session_token)
    db.session.commit()


def create_staff_user(
    username: str, password: str, role: StaffRole, email: str, full_name: str, now: datetime
) -> StaffUser:
    """A new staff account whose password meets the policy (PasswordRejected otherwise);
    committed."""
    check_password_policy(password)
    user = StaffUser(
        username=normalize_username(username),
        email=email.strip(),
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password),
        password_changed_at=now,
    )
    db.session.add(user)
    db.session.commit()
    return user


def disable_account(account: Account, now: datetime) -> None:
    account.is_enabled = False
    revoke_sessions(account, now)


# --- Single-use tokens (reset, invitation, email change) ------------------------------


def issue_token(
    account: Account, purpose: TokenPurpose, now: datetime, valid_for: timedelta, new_email=""
) -> str:
    """A new single-use token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    row = AccountToken(
        token_hash=_digest(token),
        purpose=purpose,
        created_at=now,
        expires_at=now + valid_for,
        new_email=new_email,
    )
    # Both owners set, one of them None: every token's INSERT is the same statement.
    row.staff_user_id = account.id if account.is_staff else None
    row.family_account_id = None if account.is_staff else account.id
    db.session.add(row)
    return token


def peek_token(token: str, purpose: TokenPurpose, now: datetime) -> AccountToken:
    """The live token row, or InvalidToken; does not consume it."""
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _digest(token or ""), AccountToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise InvalidToken()
    return row


def consume_token(token: str, purpose: TokenPurpose, now: datetime) -> Account:
    """Mark the token used (atomically, so two clicks cannot both use it); its account."""
    row = peek_token(token, purpose, now)
    used = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise InvalidToken()
    return row.staff_user or row.family_account


def reset_password_with_token(token: str, new_password: str, now: datetime) -> Account:
    """Set a new password from a reset or invitation link; the link dies with it."""
    for purpose in (TokenPurpose.RESET, TokenPurpose.INVITATION):
        try:
            peek_token(token, purpose, now)
        except InvalidToken:
            continue
        check_password_policy(new_password)
        account = consume_token(token, purpose, now)
        set_password(account, new_password, now)
        db.session.commit()
        return account
    raise InvalidToken()


def expire_tokens(account: Account, purpose: TokenPurpose, now: datetime) -> None:
    """Make the account's unused links of this purpose unusable (marked used at `now`)."""
    column = AccountToken.staff_user_id if account.is_staff else AccountToken.family_account_id
    db.session.execute(
        update(AccountToken)
        .where(
            column == account.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
        .values(used_at=now)
    )
