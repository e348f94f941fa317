"""Changes a family asks for on MON COMPTE, validated field by field by staff.

The rules:

- A family changes only what CHANGEABLE_FIELDS lists: the household's address, postcode
  and city; each guardian's phones and email; each child's diet, allergies and the people
  allowed to pick the child up. The entity must be the family's own (ChangeRequestError).
- `request_changes` writes one waiting ChangeRequest per field whose value differs from
  the one on file, keeping the old and the new value. A field whose value did not change
  asks nothing (a waiting request on it stays as it is); a new value for a field that has
  a waiting request replaces it (one waiting request per field at most).
- A value as typed that equals the one on file (spaces around aside) is not checked, so an
  old value in another format does not block the form. Others are cleaned before they are
  compared: spaces around, phones written « 06 12 34 56 78 », postcodes of five digits,
  email addresses checked; a bad one refuses the whole form with a French message naming
  the field, nothing written.
- Staff decide each request (`decide`): accepting writes the new value on the entity, but
  only while its value is still the request's old value (else ChangeRequestError: the
  value has changed since, the request stays waiting); refusing needs a reason and leaves
  the entity as it is. A request is decided once.
- Each decision records who and when, is journaled (the entity's change too) and tells
  the family (an ACCOUNT alert linking to /compte), in one transaction.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from extensions import db
from models import AlertKind, ChangeRequest, Child, Family, Guardian, RequestStatus, StaffUser
from services import audit, notifications
from services.account_email import EMAIL_MAX, EmailChangeRejected, check_address
from services.account_email import normalize_address as normalize_email
from vocabulary import CHANGEABLE_FIELDS

ACCEPT, REFUSE = "accept", "refuse"
MODELS = {"Family": Family, "Guardian": Guardian, "Child": Child}
# The longest value each field holds (the columns' sizes; notes are Text, kept readable).
MAX_LENGTHS = {"address_line": 200, "postcode": 10, "city": 120, "email": EMAIL_MAX}
PHONE_FIELDS = frozenset({"phone_mobile", "phone_work"})
NOTE_MAX = 1000
REASON_MAX = 300
DECIDED_FIELDS = ("status", "decided_at", "decided_by_id", "reason")
_PHONE_DIGITS = re.compile(r"0[1-9]\d{8}")
_POSTCODE = re.compile(r"\d{5}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ChangeRequestError(ValueError):
    """A change that cannot be asked or decided; the message is for the person."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- The family asks ---------------------------------------------------------------------


def request_changes(
    family: Family, entity: str, entity_id: int, values: dict[str, str], now: datetime
) -> list[ChangeRequest]:
    """The waiting requests written for `values` ({field: new value}), committed."""
    target = entity_of(family, entity, entity_id)
    cleaned = {
        field: clean_value(entity, field, value)
        for field, value in values.items()
        if (value or "").strip() != _on_file(target, entity, field)
    }
    waiting = waiting_by_field(family, entity, entity_id)
    written = []
    for field, new in cleaned.items():
        old = _on_file(target, entity, field)
        if new == old or (field in waiting and waiting[field].new_value == new):
            continue
        if field in waiting:
            db.session.delete(waiting[field])
        written.append(_new_request(family, entity, entity_id, field, old, new, now))
    db.session.add_all(written)
    db.session.commit()
    return written


def _on_file(target, entity: str, field: str) -> str:
    """The value on file of a field the family may change (ChangeRequestError for others)."""
    if field not in CHANGEABLE_FIELDS.get(entity, {}):
        raise ChangeRequestError("Ce champ ne peut pas être modifié ici.", field)
    return getattr(target, field) or ""


def _new_request(family, entity, entity_id, field, old, new, now) -> ChangeRequest:
    return ChangeRequest(
        family_id=family.id,
        entity=entity,
        entity_id=entity_id,
        field=field,
        old_value=old,
        new_value=new,
        created_at=now,
    )


def entity_of(family: Family, entity: str, entity_id: int):
    """The family's own household, guardian or child; ChangeRequestError for any other."""
    model = MODELS.get(entity)
    found = db.session.get(model, entity_id) if model else None
    owner = getattr(found, "id" if entity == "Family" else "family_id", None)
    if found is None or owner != family.id:
        raise ChangeRequestError("Cette fiche n'appartient pas à votre foyer.")
    return found


def waiting_by_field(family: Family, entity: str, entity_id: int) -> dict[str, ChangeRequest]:
    rows = db.session.scalars(
        select(ChangeRequest).where(
            ChangeRequest.family_id == family.id,
            ChangeRequest.entity == entity,
            ChangeRequest.entity_id == entity_id,
            ChangeRequest.status == RequestStatus.WAITING,
        )
    )
    return {row.field: row for row in rows}


def waiting_requests(family: Family) -> dict[tuple[str, int, str], ChangeRequest]:
    """The family's waiting requests by (entity, id, field): what MON COMPTE shows beside
    each field (one query)."""
    rows = db.session.scalars(
        select(ChangeRequest).where(
            ChangeRequest.family_id == family.id, ChangeRequest.status == RequestStatus.WAITING
        )
    )
    return {(row.entity, row.entity_id, row.field): row for row in rows}


# --- Values ---------------------------------------------------------------------------------


def clean_value(entity: str, field: str, value: str) -> str:
    """The value as stored: trimmed and checked (ChangeRequestError naming the field)."""
    if field not in CHANGEABLE_FIELDS.get(entity, {}):
        raise ChangeRequestError("Ce champ ne peut pas être modifié ici.", field)
    text = (value or "").strip()
    if _CONTROL.search(text):
        raise ChangeRequestError("Ce texte contient des caractères invalides.", field)
    if len(text) > MAX_LENGTHS.get(field, NOTE_MAX):
        raise ChangeRequestError(
            f"Ce texte est trop long ({MAX_LENGTHS.get(field, NOTE_MAX)} caractères au plus).",
            field,
        )
    if field in PHONE_FIELDS:
        return clean_phone(text, field)
    if field == "postcode":
        return clean_postcode(text)
    if field == "email":
        return clean_email(text)
    return text


def clean_phone(text: str, field: str) -> str:
    """« 06 12 34 56 78 » from any French way of writing it (+33, dots, dashes); empty
    allowed (no phone)."""
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    if text and not _PHONE_DIGITS.fullmatch(digits):
        raise ChangeRequestError(
            "Ce numéro de téléphone n'est pas valide. Exemple : 06 12 34 56 78", field
        )
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def clean_postcode(text: str) -> str:
    postcode = text.replace(" ", "")
    if not _POSTCODE.fullmatch(postcode):
        raise ChangeRequestError(
            "Le code postal s'écrit avec cinq chiffres. Exemple : 35000", "postcode"
        )
    return postcode


def clean_email(text: str) -> str:
    """The address checked as MON COMPTE's own email change checks it; empty allowed."""
    if not text:
        return ""
    address = normalize_email(text)
    try:
        check_address(address)
    except EmailChangeRejected as error:
        raise ChangeRequestError(str(error), "email") from error
    return address


# --- Staff decide ----------------------------------------------------------------------------


def decide(
    change: ChangeRequest,
    decision: str,
    staff: StaffUser,
    now: datetime,
    ip: str | None,
    reason: str = "",
) -> ChangeRequest:
    """Accept or refuse one waiting request (see the module docstring); committed."""
    # Locked and read again: two agents deciding the same request at once decide it once.
    db.session.refresh(change, with_for_update=True)
    if change.status != RequestStatus.WAITING:
        raise ChangeRequestError("Cette demande a déjà été traitée.")
    reason = (reason or change.reason or "").strip()[:REASON_MAX]
    before = audit.fields_of(change, DECIDED_FIELDS)
    if decision == ACCEPT:
        _apply(change, staff, ip)
    elif decision == REFUSE:
        if not reason:
            raise ChangeRequestError("Indiquez le motif du refus : il est envoyé à la famille.")
        change.reason = reason
    else:
        raise ChangeRequestError("Décision inconnue.")
    change.status = RequestStatus.ACCEPTED if decision == ACCEPT else RequestStatus.REFUSED
    change.decided_at, change.decided_by_id = now, staff.id
    notifications.notify(change.family, AlertKind.ACCOUNT, outcome(change), "/compte", now)
    audit.record_since(staff, decision, change, before, ip)
    db.session.commit()
    return change


def _apply(change: ChangeRequest, staff: StaffUser, ip: str | None) -> None:
    """The new value on the entity, if its value is still the one the family saw."""
    target = db.session.get(MODELS[change.entity], change.entity_id)
    current = getattr(target, change.field, None) if target is not None else None
    if target is None or (current or "") != change.old_value:
        raise ChangeRequestError(
            "La valeur a changé depuis la demande : refusez-la, la famille en fera une nouvelle."
        )
    setattr(target, change.field, change.new_value)
    audit.record(staff, "update", target, {change.field: [change.old_value, change.new_value]}, ip)


def describe(change: ChangeRequest) -> str:
    """« téléphone portable (Alex Martin) » : which field of which fiche."""
    field = CHANGEABLE_FIELDS[change.entity][change.field]
    if change.entity == "Family":
        return f"{field} du foyer"
    target = db.session.get(MODELS[change.entity], change.entity_id)
    return f"{field} ({target})" if target is not None else field


def outcome(change: ChangeRequest) -> str:
    """What the family reads in its alert."""
    what = describe(change)
    shown = change.new_value or "(vide)"
    if change.status == RequestStatus.ACCEPTED:
        return f"Votre modification est validée : {what}, désormais « {shown} »."
    return f"Votre modification n'est pas retenue : {what} « {shown} ». Motif : {change.reason}"
