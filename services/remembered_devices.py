"""Remembered devices: "rester connecté sur ce téléphone", for families only.

The rules:
- Staff are never remembered, whatever the form says: they keep the 30-minute idle and
  12-hour limits. Only a family account can own a remembered device.
- A remembered phone restores a session for 30 days from the sign-in where the box was
  ticked; after that the password is asked again (the 30 days do not slide).
- The cookie is `<series>.<token>`: the series names the device, the token is the secret of
  the moment. Only their SHA-256 hashes are stored. Each restore replaces the token, so a
  copied cookie works at most once.
- An already replaced token presented again means two browsers hold the cookie (a theft):
  the device ends, its token and its sessions, and its owner signs in again. A request that
  left the phone a few seconds before the rotation (two tabs at once) is only refused.
- Signing out, "Déconnecter cet appareil", a password change or reset, and disabling the
  account end devices (the last two through services.accounts.revoke_sessions).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from extensions import db
from models import AuthSession, FamilyAccount, RememberedDevice
from services import accounts

log = logging.getLogger(__name__)

REMEMBER_FOR = timedelta(days=30)
# Two requests sent at once by the same phone: the second carries the token the first just
# replaced. Within this window it is refused without ending the device.
DUPLICATE_WINDOW = timedelta(seconds=30)


class DeviceNotRemembered(Exception):
    """The cookie restores nothing: unknown, expired, ended, replayed, or account disabled.

    `keep_cookie` is True when the phone most likely already holds a newer cookie (a
    duplicate request), which deleting would throw away.
    """

    def __init__(self, keep_cookie: bool = False):
        super().__init__()
        self.keep_cookie = keep_cookie


class DeviceNotFound(LookupError):
    """No live remembered device of this account has that id."""


@dataclass(frozen=True)
class DeviceCookie:
    value: str
    expires_at: datetime


@dataclass(frozen=True)
class RestoredSession:
    account: FamilyAccount
    cookie: DeviceCookie


@dataclass(frozen=True)
class DeviceView:
    """One line of "Appareils connectés" in MON COMPTE."""

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_remembered_session(
    account: FamilyAccount, now: datetime, ip: str, user_agent: str
) -> DeviceCookie | None:
    """Sign in and remember this device; committed. None for staff: only a session opens."""
    if account.is_staff:
        accounts.open_session(account, now, ip=ip)
        return None
    series, token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    device = RememberedDevice(
        family_account_id=account.id,
        series_hash=_hash(series),
        token_hash=_hash(token),
        label=device_label(user_agent),
        created_at=now,
        last_used_at=now,
        expires_at=now + REMEMBER_FOR,
    )
    db.session.add(device)
    db.session.flush()
    accounts.open_session(account, now, ip=ip, remembered_device_id=device.id)
    return DeviceCookie(f"{series}.{token}", device.expires_at)


def restore_session(cookie: str, now: datetime, ip: str) -> RestoredSession:
    """A new session from a remembered device's cookie, its token replaced; committed.

    Raises DeviceNotRemembered when the cookie restores nothing.
    """
    series, _, token = (cookie or "").partition(".")
    device = _device_of_series(series)
    if device is None or not token:
        raise DeviceNotRemembered()
    account = device.family_account
    if device.revoked_at is not None or device.expires_at <= now or not account.is_enabled:
        raise DeviceNotRemembered()
    if not hmac.compare_digest(_hash(token), device.token_hash):
        _refuse_replayed_token(device, _hash(token), now)
    new_token = secrets.token_urlsafe(32)
    _rotate(device, new_token, now)
    accounts.open_session(account, now, ip=ip, remembered_device_id=device.id)
    return RestoredSession(account, DeviceCookie(f"{series}.{new_token}", device.expires_at))


def _device_of_series(series: str) -> RememberedDevice | None:
    if not series:
        return None
    return db.session.scalar(
        select(RememberedDevice).where(RememberedDevice.series_hash == _hash(series))
    )


def _rotate(device: RememberedDevice, new_token: str, now: datetime) -> None:
    """Replace the token, only if no other request did it first (a conditional update)."""
    rotated = db.session.execute(
        update(RememberedDevice)
        .where(
            RememberedDevice.id == device.id,
            RememberedDevice.token_hash == device.token_hash,
            RememberedDevice.revoked_at.is_(None),
        )
        .values(
            token_hash=_hash(new_token), previous_token_hash=device.token_hash, last_used_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if rotated.rowcount != 1:
        db.session.rollback()
        raise DeviceNotRemembered(keep_cookie=True)


def _refuse_replayed_token(device: RememberedDevice, presented: str, now: datetime) -> None:
    """A token that is not the current one: a duplicate request, or a theft that ends it."""
    just_replaced = now - device.last_used_at <= DUPLICATE_WINDOW
    if just_replaced and hmac.compare_digest(presented, device.previous_token_hash):
        raise DeviceNotRemembered(keep_cookie=True)
    log.warning(
        "remembered device token replayed, device ended: device=%s account=%s",
        device.id,
        device.family_account_id,
    )
    _end_devices(RememberedDevice.id == device.id, now)
    db.session.commit()
    raise DeviceNotRemembered()


def _end_devices(condition, now: datetime) -> None:
    """End the matching devices and the sessions they opened (not committed)."""
    live = select(RememberedDevice.id).where(condition, RememberedDevice.revoked_at.is_(None))
    device_ids = list(db.session.scalars(live))
    if not device_ids:
        return
    # The devices first, then their sessions (see accounts.revoke_sessions).
    db.session.execute(
        update(RememberedDevice)
        .where(RememberedDevice.id.in_(device_ids))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.remembered_device_id.in_(device_ids), AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def forget_device(account: FamilyAccount, cookie: str | None, now: datetime) -> None:
    """Signing out on a remembered phone: the device ends with its sessions; committed."""
    device = _device_of_series((cookie or "").partition(".")[0])
    if device is not None and device.family_account_id == account.id:
        _end_devices(RememberedDevice.id == device.id, now)
        db.session.commit()


def disconnect_device(account: FamilyAccount, device_id: int, now: datetime) -> str:
    """« Déconnecter cet appareil » in MON COMPTE: ends it and its sessions; committed.
    Returns its label, for the message."""
    device = db.session.get(RememberedDevice, device_id)
    if device is None or device.family_account_id != account.id or device.revoked_at:
        raise DeviceNotFound(device_id)
    _end_devices(RememberedDevice.id == device.id, now)
    db.session.commit()
    return device.label


def current_device_id(account: FamilyAccount, cookie: str | None) -> int | None:
    """The id of the account's device this cookie names (to mark "cet appareil")."""
    device = _device_of_series((cookie or "").partition(".")[0])
    return device.id if device is not None and device.family_account_id == account.id else None


def devices_of(
    account: FamilyAccount, now: datetime, this_device_id: int | None = None
) -> list[DeviceView]:
    """The account's live remembered devices: this one first, then the most recently used.

    Last used: the later of the last restore and the last page its sessions served.
    """
    last_seen = func.max(AuthSession.last_seen_at)
    rows = db.session.execute(
        select(RememberedDevice, last_seen)
        .outerjoin(AuthSession, AuthSession.remembered_device_id == RememberedDevice.id)
        .where(
            RememberedDevice.family_account_id == account.id,
            RememberedDevice.revoked_at.is_(None),
            RememberedDevice.expires_at > now,
        )
        .group_by(RememberedDevice.id)
    )
    views = [
        DeviceView(
            id=device.id,
            label=device.label,
            created_at=device.created_at,
            last_used_at=max(device.last_used_at, seen or device.last_used_at),
            expires_at=device.expires_at,
        )
        for device, seen in rows
    ]
    views.sort(key=lambda view: view.last_used_at, reverse=True)
    return sorted(views, key=lambda view: view.id != this_device_id)


# Checked in order: Edge, Samsung and Opera also say "Chrome"; Chrome says "Safari".
_BROWSERS = (
    ("Edg", "Edge"),
    ("SamsungBrowser", "Samsung Internet"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
# Android says "Linux" too, and an iPhone "like Mac OS X".
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("CrOS", "Chromebook"),
    ("Linux", "Linux"),
)


def purge_ended(cutoff: datetime, dry_run: bool = False) -> int:
    """Delete the devices that ended (revoked or expired) before `cutoff` and that no
    remaining session points to (the sessions go first, purge-credentials); the caller
    commits. Returns how many."""
    still_used = select(AuthSession.id).where(
        AuthSession.remembered_device_id == RememberedDevice.id
    )
    ended = (
        (RememberedDevice.revoked_at < cutoff) | (RememberedDevice.expires_at < cutoff)
    ) & ~still_used.exists()
    if dry_run:
        return db.session.scalar(select(func.count(RememberedDevice.id)).where(ended))
    return db.session.execute(delete(RememberedDevice).where(ended)).rowcount


def device_label(user_agent: str | None) -> str:
    """« iPhone · Safari », « Android · Chrome »: what a parent recognises; nothing more of
    the User-Agent is kept."""
    agent = user_agent or ""
    system = next((name for mark, name in _SYSTEMS if mark in agent), "")
    browser = next((name for mark, name in _BROWSERS if mark in agent), "")
    return " · ".join(part for part in (system, browser) if part) or "Appareil non reconnu"
