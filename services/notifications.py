"""Alerts to families (the ALERTES section)."""

from __future__ import annotations

from sqlalchemy import func, select

from extensions import db
from models import Alert


def unread_count(family_id: int) -> int:
    """How many alerts the family has not read yet (shown in the navigation)."""
    return db.session.scalar(
        select(func.count(Alert.id)).where(Alert.family_id == family_id, Alert.read_at.is_(None))
    )
