"""Alerts to families (the ALERTES section), and their emails.

`notify` writes the alert in the caller's transaction and queues one alert item per
recipient address; services.mail merges a family's items of a few minutes into one email.

Who gets the email of an alert of kind K:

- each enabled family account with an address, if its `email_alert_kinds` lists K or is
  empty (empty means every kind; NO_EMAIL, "-", means none);
- each guardian with an address, if the family wants K: at least one of its accounts
  does (a family without any account gets every kind).

An address is counted once (case-insensitive); when it belongs to an account, that
account's own choice decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from extensions import db
from models import Alert, AlertKind, Family, FamilyAccount, StaffUser, utcnow
from services import audit, mail
from services.formatting import datetime_fr
from vocabulary import enum_label

MESSAGE_MAX = 500
# The `email_alert_kinds` value of a family that wants no alert by email (empty means all).
NO_EMAIL = "-"


def notify(
    family: Family,
    kind: AlertKind,
    message: str,
    link: str = "",
    now: datetime | None = None,
    details: Sequence[str] = (),
) -> Alert:
    """Add an alert for the family and queue its email (the caller commits both, or neither).

    `kind` is an AlertKind (ValueError for any other value).
    `link` is a path on the portal ("/reservations/3/2026-11"); the email makes it absolute
    with PUBLIC_BASE_URL. `details`: the lines of an alert that sums up several items,
    shown as a list under the message.
    """
    kind = AlertKind(kind)
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("an alert link is a path on the portal")
    text = message.strip()
    if not text:
        raise ValueError("an alert needs a message")
    if len(text) > MESSAGE_MAX:
        text = text[: MESSAGE_MAX - 1] + "…"
    now = now or utcnow()
    alert = Alert(
        family_id=family.id,
        kind=kind,
        message=text,
        details="\n".join(line.strip() for line in details if line.strip()),
        link=link,
        created_at=now,
    )
    db.session.add(alert)
    addresses = email_recipients(family, kind)
    if addresses:
        _queue_emails(family, alert, addresses, now)
    return alert


def _queue_emails(family: Family, alert: Alert, addresses: list[str], now: datetime) -> None:
    heading = enum_label(AlertKind(alert.kind))
    context = {
        "message": alert.message,
        "details": alert.details.splitlines(),
        "label": heading,
        "when": datetime_fr(now),
        "link": mail.public_url(alert.link) if alert.link else "",
    }
    item_text = mail.render_email("emails/alert_item.txt", **context)
    item_html = mail.render_email("emails/alert_item.html", **context)
    subject = f"{heading} : {alert.message}"
    for address in addresses:
        mail.queue_alert_item(address, subject, item_text, item_html, family.id, now)


def wanted_kinds(setting: str) -> set[str] | None:
    """The kinds an `email_alert_kinds` value lists; None when it is empty (every kind).

    NO_EMAIL gives the empty set: the alerts stay on the portal, no email goes out.
    """
    if (setting or "").strip() == NO_EMAIL:
        return set()
    kinds = {part.strip().lower() for part in (setting or "").split(",") if part.strip()}
    return kinds or None


def chosen_email_kinds(setting: str) -> list[AlertKind]:
    """The known kinds the setting sends by email, in AlertKind's order (for the form)."""
    kinds = wanted_kinds(setting)
    return [kind for kind in AlertKind if kinds is None or kind in kinds]


def set_email_alert_kinds(account: FamilyAccount, kinds: list[str]) -> None:
    """Store the kinds the account also wants by email, and commit.

    Every kind chosen is stored as empty (every kind, including kinds added later, as for
    an account that never chose); none as NO_EMAIL.
    """
    unknown = set(kinds) - set(AlertKind)
    if unknown:
        raise ValueError(f"unknown alert kinds: {sorted(unknown)!r}")
    chosen = [kind for kind in AlertKind if kind in kinds]
    if len(chosen) == len(AlertKind):
        account.email_alert_kinds = ""
    else:
        account.email_alert_kinds = ",".join(chosen) or NO_EMAIL
    db.session.commit()


def email_recipients(family: Family, kind: AlertKind) -> list[str]:
    """The addresses that get the email of an alert of this kind (see the module docstring)."""
    chosen: dict[str, bool] = {}
    family_wants = not family.accounts
    for account in family.accounts:
        kinds = wanted_kinds(account.email_alert_kinds)
        wants = kinds is None or kind in kinds
        family_wants = family_wants or wants
        address = (account.email or "").strip()
        if address and account.is_enabled:
            key = address.lower()
            chosen[key] = chosen.get(key, False) or wants
    for guardian in family.guardians:
        address = (guardian.email or "").strip()
        if address and address.lower() not in chosen:
            chosen[address.lower()] = family_wants
    return sorted(address for address, wants in chosen.items() if wants)


def unread_count(family_id: int) -> int:
    """How many alerts the family has not read yet (shown in the navigation)."""
    return db.session.scalar(
        select(func.count(Alert.id)).where(Alert.family_id == family_id, Alert.read_at.is_(None))
    )


def family_alerts(family: Family, limit: int = 50) -> list[Alert]:
    """The family's latest alerts, newest first."""
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.family_id == family.id)
            .order_by(Alert.created_at.desc(), Alert.id.desc())
            .limit(limit)
        )
    )


def mark_read(family: Family, alert_id: int, now: datetime) -> Alert | None:
    """Mark one of the family's alerts read; None if the family has no such alert."""
    alert = db.session.scalar(
        select(Alert).where(Alert.id == alert_id, Alert.family_id == family.id)
    )
    if alert is None:
        return None
    if alert.read_at is None:
        alert.read_at = now
        db.session.commit()
    return alert


def mark_all_read(family: Family, now: datetime) -> int:
    """Mark every unread alert of the family read; how many were."""
    result = db.session.execute(
        update(Alert)
        .where(Alert.family_id == family.id, Alert.read_at.is_(None))
        .values(read_at=now)
    )
    db.session.commit()
    return result.rowcount


def send_staff_alert(
    family: Family, kind: AlertKind, message: str, staff: StaffUser, now: datetime, ip: str | None
) -> Alert:
    """An alert an agent writes to a family: on the portal, by email as the family chose,
    journaled; one transaction. ValueError for an unknown kind or an empty message."""
    alert = notify(family, AlertKind(kind), message, now=now)
    audit.record_change(staff, alert, created=True, ip=ip)
    db.session.commit()
    return alert
