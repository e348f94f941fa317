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
from models import AlertKind, Document, DocumentStatus, Family, StaffUser
from services import audit, notifications
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


class ReviewError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


REVIEW_FIELDS = ("status", "reviewed_at", "reviewed_by_id")
REVIEWS = {"approve": DocumentStatus.ACCEPTED, "refuse": DocumentStatus.REFUSED}


def review_document(
    document: Document, decision: str, staff: StaffUser, now: datetime, ip: str | None
) -> Document:
    """Staff accept ("approve") or refuse a received document, with the reason written on it
    for a refusal: who and when recorded, the family told, journaled; one transaction."""
    # Locked and read again: two agents reviewing the same document at once review it once.
    db.session.refresh(document, with_for_update=True)
    if document.status != DocumentStatus.RECEIVED:
        raise ReviewError("Cette pièce a déjà été vérifiée.")
    reason = document.refusal_reason.strip()
    if decision == "refuse" and not reason:
        raise ReviewError("Écrivez d'abord le motif du refus (Modifier), puis refusez.")
    before = audit.fields_of(document, REVIEW_FIELDS)
    document.status = REVIEWS[decision]
    document.reviewed_at, document.reviewed_by_id = now, staff.id
    name = DOCUMENT_TYPES[document.doc_type]
    verdict = "refusée. Motif : " + reason if decision == "refuse" else "acceptée par le service."
    notifications.notify(
        document.family,
        AlertKind.DOCUMENT,
        f"Votre {name} : pièce {verdict}",
        now=now,
    )
    audit.record_since(staff, decision, document, before, ip)
    db.session.commit()
    return document
