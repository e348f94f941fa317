"""Family documents: receiving them, what a family still has to send, staff review, expiry.

- A family sends a file (services.uploads checked it first) of a type; a medical
  certificate and a health sheet name one of its own children, a medical certificate may
  name one of that child's declared absences (a booking with attendance absence-declared).
  Past the family's quota (DOCUMENT_QUOTA_MB, DOCUMENT_QUOTA_FILES, every document it
  has on file counted) it is refused: on the bytes as sent, before any check decodes a
  photo (`check_file`), and again on the bytes to store. The row and the file are written
  together: the file goes to a temporary name in UPLOAD_FOLDER and takes its random name
  only once the row is committed; a refusal or a failure leaves neither.
- What is missing or expiring: a quotient-familial certificate valid today (without one,
  the highest tariff applies), an insurance certificate for the school year, a health sheet
  per child. A document received and not yet reviewed counts as sent; one expiring within
  EXPIRING_SOON days is pointed out.
- Staff accept or refuse a received document (the reason written on it). Accepting a
  quotient-familial certificate records the quotient on the family, valid to the end of
  the calendar year, which the tariffs use; accepting an insurance certificate makes it
  valid to the end of the school year; accepting a medical certificate justifies the
  absence it names (not billed), in the same transaction. Medical certificates and health
  sheets are shown only to staff who may see health documents (`may_see`).
- A document of a type that expires carries `expires_on`. Once that day has passed it is
  `expired`, and the family is told once, so it can send a new one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from extensions import db
from models import (
    AlertKind,
    Attendance,
    Booking,
    Child,
    Document,
    DocumentStatus,
    DocumentType,
    Family,
    SchoolYear,
    StaffUser,
)
from services import audit, notifications, uploads
from services import booking as booking_rules
from services.calendar import paris_today
from services.formatting import date_fr
from services.uploads import CheckedFile, UploadRefused, stored_name
from vocabulary import DOCUMENT_TYPES, label

HEALTH_TYPES = frozenset({DocumentType.MEDICAL_CERTIFICATE, DocumentType.HEALTH_SHEET})
EXPIRING_SOON = timedelta(days=30)
# How far back a medical certificate may justify a declared absence.
ABSENCES_SINCE = timedelta(days=120)
MAX_QUOTIENT = 100_000
SENT = (DocumentStatus.RECEIVED, DocumentStatus.ACCEPTED)
# A declared absence staff have not justified yet (or judged unjustified, before the
# certificate came).
JUSTIFIABLE = (Attendance.ABSENCE_DECLARED, Attendance.ABSENT_UNJUSTIFIED)


@dataclass(frozen=True)
class Quota:
    max_bytes: int
    max_files: int


# What a browser shows by itself, sandboxed, in the back office's preview.
PREVIEWABLE = frozenset({"image/jpeg", "image/png", "application/pdf"})


def may_see(staff: StaffUser, document: Document) -> bool:
    """Health documents for the staff allowed to see them; every other for any staff."""
    return document.doc_type not in HEALTH_TYPES or bool(staff.sees_health_documents)


def record_staff_view(staff: StaffUser, document: Document, action: str, ip: str | None) -> None:
    """A staff member opened a health document ("view", "preview", "download"): journaled
    (who, when, which, from where) and committed before the document is shown."""
    if document.doc_type in HEALTH_TYPES:
        audit.record(staff, action, document, {}, ip)
        db.session.commit()


# --- Receiving --------------------------------------------------------------------------


def receive_document(
    family: Family,
    checked: CheckedFile,
    doc_type: str,
    child_id: int | None,
    booking_id: int | None,
    folder: Path,
    quota: Quota,
) -> Document:
    """The family's checked file recorded as received (the rules above); UploadRefused
    with a French message, nothing written, when one fails."""
    kind = _document_type(doc_type)
    child, booking = _subject(family, kind, child_id, booking_id)
    _check_quota(family, checked.size, quota)
    document = Document(
        family_id=family.id,
        child=child,
        booking_id=booking.id if booking else None,
        doc_type=kind,
        status=DocumentStatus.RECEIVED,
        original_name=checked.display_name,
        stored_name=stored_name(),
        content_type=checked.content_type,
        size_bytes=checked.size,
        refusal_reason="",
    )
    db.session.add(document)
    _commit_with_file(document, checked.content, folder)
    return document


def _document_type(value: str) -> DocumentType:
    try:
        return DocumentType(value)
    except ValueError:
        raise UploadRefused("Choisissez le type de document dans la liste.") from None


def _subject(family, kind, child_id, booking_id) -> tuple[Child | None, Booking | None]:
    """The family's own child and declared absence the document is about, if any."""
    booking = _declared_absence(family, booking_id) if booking_id else None
    if booking is not None and kind != DocumentType.MEDICAL_CERTIFICATE:
        raise UploadRefused("Seul un certificat médical justifie une absence.")
    child_id = booking.child_id if booking is not None else child_id
    child = next((c for c in family.children if c.id == child_id), None) if child_id else None
    if child_id and child is None:
        raise UploadRefused("Choisissez l'enfant dans la liste.")
    if kind in HEALTH_TYPES and child is None:
        raise UploadRefused("Indiquez l'enfant concerné par ce document.")
    return child, booking


def _declared_absence(family: Family, booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if (
        booking is None
        or booking.child.family_id != family.id
        or booking.attendance != Attendance.ABSENCE_DECLARED
    ):
        raise UploadRefused("Choisissez l'absence dans la liste de vos absences signalées.")
    return booking


def check_file(family: Family, name: str, data: bytes, max_bytes: int, quota: Quota) -> CheckedFile:
    """The file as sent through services.uploads' checks, the family's quota counted first
    on its bytes as sent: a family whose space is full never makes the server decode a
    photo. `receive_document` counts again, under a lock, the size to be stored (a photo
    encoded again is not the size it was sent)."""
    _check_room(family, len(data), quota)
    return uploads.check_upload(name, data, max_bytes)


def _check_quota(family: Family, size: int, quota: Quota) -> None:
    """Counted under a lock of the family's row: two uploads at once cannot both pass."""
    db.session.execute(select(Family.id).where(Family.id == family.id).with_for_update())
    try:
        _check_room(family, size, quota)
    except UploadRefused:
        db.session.rollback()
        raise


def _check_room(family: Family, size: int, quota: Quota) -> None:
    count, used = db.session.execute(
        select(func.count(Document.id), func.coalesce(func.sum(Document.size_bytes), 0)).where(
            Document.family_id == family.id
        )
    ).one()
    if count + 1 > quota.max_files or used + size > quota.max_bytes:
        raise UploadRefused(
            f"Votre espace de documents est plein ({quota.max_files} fichiers ou "
            f"{quota.max_bytes // (1024 * 1024)} Mo au plus) : contactez le service pour "
            "retirer d'anciens documents."
        )


def _commit_with_file(document: Document, content: bytes, folder: Path) -> None:
    """The file under a temporary name, renamed to its random name once the row is
    committed; on any failure neither the row nor a file is left."""
    temporary = Path(folder) / f".part-{document.stored_name}"
    try:
        db.session.flush()
        temporary.write_bytes(content)
        db.session.commit()
    except Exception:
        db.session.rollback()
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, Path(folder) / document.stored_name)


def file_path(document: Document, folder: Path) -> Path:
    """Where the document's bytes are: its random name in UPLOAD_FOLDER, nothing else."""
    return Path(folder) / Path(document.stored_name).name


def declared_absences(family: Family, today: date) -> list[Booking]:
    """The family's declared absences a medical certificate may justify, latest first."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Child, Booking.child_id == Child.id)
            .where(
                Child.family_id == family.id,
                Booking.attendance == Attendance.ABSENCE_DECLARED,
                Booking.day >= today - ABSENCES_SINCE,
            )
            .options(joinedload(Booking.child), joinedload(Booking.activity))
            .order_by(Booking.day.desc(), Booking.id)
        ).unique()
    )


# --- What the family sees ---------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """A document the family should send (or send again), with what to prefill."""

    text: str
    doc_type: DocumentType
    child_id: int | None = None


def family_documents(family: Family) -> list[Document]:
    """Every document the family sent, newest first, with its child and absence."""
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.family_id == family.id)
            .options(selectinload(Document.child))
            .order_by(Document.created_at.desc(), Document.id.desc())
        )
    )


def needs(family: Family, children: list[Child], documents: list[Document], today: date):
    """What is missing or expiring today (the rules above), in the page's order."""
    found = [
        _need(documents, DocumentType.QUOTIENT, None, today, f"pour {today.year}"),
        _need(documents, DocumentType.INSURANCE, None, today, "pour l'année scolaire"),
    ]
    for child in children:
        found.append(_need(documents, DocumentType.HEALTH_SHEET, child, today, child.first_name))
    return [need for need in found if need is not None]


def _need(documents, kind: DocumentType, child: Child | None, today: date, what: str):
    child_id = child.id if child else None
    current = [
        d
        for d in documents
        if d.doc_type == kind
        and d.child_id == (child_id if kind in HEALTH_TYPES else d.child_id)
        and d.status in SENT
        and (d.expires_on is None or d.expires_on >= today)
    ]
    name = f"{label(DOCUMENT_TYPES[kind])} ({what})"
    if not current:
        suffix = (
            " : sans elle, le tarif le plus élevé s'applique"
            if kind == DocumentType.QUOTIENT
            else ""
        )
        return Need(f"{name} : à envoyer{suffix}.", kind, child_id)
    last_day = max((d.expires_on for d in current if d.expires_on), default=None)
    if all(d.expires_on for d in current) and last_day - today <= EXPIRING_SOON:
        return Need(f"{name} : expire le {date_fr(last_day)}, envoyez la nouvelle.", kind, child_id)
    return None


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


REVIEW_FIELDS = ("status", "reviewed_at", "reviewed_by_id", "refusal_reason", "expires_on")
QUOTIENT_FIELDS = ("quotient_familial", "quotient_valid_until")
REVIEWS = {"approve": DocumentStatus.ACCEPTED, "refuse": DocumentStatus.REFUSED}


def review_document(
    document: Document,
    decision: str,
    staff: StaffUser,
    now: datetime,
    ip: str | None,
    reason: str | None = None,
    quotient: int | None = None,
) -> Document:
    """Staff accept ("approve") or refuse a received document, a refusal with its reason
    (`reason`, else the one written on it), a QF certificate's acceptance with the
    `quotient` it shows: who and when recorded, the family told, journaled; one
    transaction. A health document is refused to staff who may not see it."""
    # Locked and read again: two agents reviewing the same document at once review it once.
    db.session.refresh(document, with_for_update=True)
    _check_reviewable(document, decision, staff, reason, quotient)
    before = audit.fields_of(document, REVIEW_FIELDS)
    if reason is not None:
        document.refusal_reason = reason.strip()[:300]
    document.status = REVIEWS[decision]
    document.reviewed_at, document.reviewed_by_id = now, staff.id
    absence = _absence_justified_by(document) if decision == "approve" else None
    if decision == "approve":
        _validity_on_acceptance(document, staff, now, ip, quotient)
    _tell_family(document, decision, now, absence)
    audit.record_since(staff, decision, document, before, ip)
    if absence is None:
        db.session.commit()
    else:
        _justify(absence, staff, ip)
    return document


def _absence_justified_by(document: Document) -> Booking | None:
    """The declared absence an accepted medical certificate justifies, if still to decide
    (staff may have justified it already, or the day may have been withdrawn)."""
    if document.doc_type != DocumentType.MEDICAL_CERTIFICATE or document.booking_id is None:
        return None
    absence = db.session.get(Booking, document.booking_id)
    return absence if absence.attendance in JUSTIFIABLE else None


def _justify(absence: Booking, staff: StaffUser, ip: str | None) -> None:
    """The absence justified through the booking rules, which commit the review with it."""
    changes = {"attendance": [absence.attendance, Attendance.ABSENT_JUSTIFIED]}
    audit.record(staff, "absence-justified", absence, changes, ip)
    try:
        booking_rules.mark_absence_justified(absence, True)
    except booking_rules.BookingError as error:
        raise ReviewError(error.message) from error


def _check_reviewable(document, decision, staff, reason, quotient) -> None:
    if not may_see(staff, document):
        raise ReviewError("Vous n'avez pas accès aux documents de santé.")
    if document.status != DocumentStatus.RECEIVED:
        raise ReviewError("Cette pièce a déjà été vérifiée.")
    written = (reason if reason is not None else document.refusal_reason).strip()
    if decision == "refuse" and not written:
        raise ReviewError("Écrivez le motif du refus : la famille le lira.")
    needs_quotient = decision == "approve" and document.doc_type == DocumentType.QUOTIENT
    if needs_quotient and (quotient is None or not 0 <= quotient <= MAX_QUOTIENT):
        raise ReviewError(
            "Indiquez le quotient familial écrit sur l'attestation (un nombre entier), "
            "puis acceptez-la depuis sa fiche."
        )


def _validity_on_acceptance(document, staff, now, ip, quotient) -> None:
    """QF: the family's quotient, to the end of the calendar year; insurance: to the end
    of the school year (when staff did not set the expiry themselves)."""
    today = paris_today(now)
    if document.doc_type == DocumentType.QUOTIENT:
        family = document.family
        before = audit.fields_of(family, QUOTIENT_FIELDS)
        family.quotient_familial = quotient
        family.quotient_valid_until = date(today.year, 12, 31)
        document.expires_on = document.expires_on or family.quotient_valid_until
        audit.record_since(staff, "update", family, before, ip)
    elif document.doc_type == DocumentType.INSURANCE and document.expires_on is None:
        document.expires_on = db.session.scalar(
            select(SchoolYear.ends_on).where(
                SchoolYear.starts_on <= today, SchoolYear.ends_on >= today
            )
        )


def _tell_family(document: Document, decision: str, now: datetime, absence) -> None:
    name = DOCUMENT_TYPES[document.doc_type]
    if decision == "refuse":
        verdict = "refusée. Motif : " + document.refusal_reason
    else:
        verdict = "acceptée par le service."
    if absence is not None:
        verdict += f" L'absence du {date_fr(absence.day)} est justifiée : elle n'est pas facturée."
    notifications.notify(
        document.family,
        AlertKind.DOCUMENT,
        f"Votre {name} ({document.original_name}) : pièce {verdict}",
        link="/documents",
        now=now,
    )
