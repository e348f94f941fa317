"""Family documents: the rules about their life after staff accepted them.

A document of a type that expires (insurance: the school year; quotient familial: the
calendar year) carries `expires_on`. Once that day has passed it is `expired`, and the
family is told once, so it can send a new one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from extensions import db
from models import AlertKind, Document, DocumentStatus, Family
from services import notifications
from services.calendar import paris_today
from services.formatting import date_fr
from vocabulary import DOCUMENT_TYPES


def expired_documents(now: datetime) -> list[Document]:
    """Received or accepted documents whose last valid day is before today (Paris), each
    family loaded with the logins and guardians its alert email goes to."""
    family = joinedload(Document.family)
    return list(
        db.session.scalars(
            select(Document)
            .where(
                Document.status.in_([DocumentStatus.RECEIVED, DocumentStatus.ACCEPTED]),
                Document.expires_on < paris_today(now),
            )
            .options(family.selectinload(Family.accounts), family.selectinload(Family.guardians))
            .order_by(Document.id)
        )
    )


def expire_documents(now: datetime) -> list[Document]:
    """Mark them expired and alert each family, in one transaction; idempotent."""
    documents = expired_documents(now)
    for document in documents:
        document.status = DocumentStatus.EXPIRED
        name = DOCUMENT_TYPES[document.doc_type]
        notifications.notify(
            document.family,
            AlertKind.DOCUMENT,
            f"Votre {name} a expiré le {date_fr(document.expires_on)} : "
            "merci d'en envoyer une nouvelle.",
            now=now,
        )
    db.session.commit()
    return documents
