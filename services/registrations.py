"""Staff decisions on registrations (a child admitted to an activity for a school year).

- accept: requested → accepted; cancel-requested → cancelled;
- refuse, with the reason written on the registration: requested → refused;
  cancel-requested → accepted (the registration stands);
- any other status has nothing to decide: RegistrationError.

Each decision records who and when, tells the family (an alert, and its email) and is
journaled, in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from extensions import db
from models import AlertKind, Registration, RegistrationStatus, StaffUser
from services import audit, notifications

APPROVE, REFUSE = "approve", "refuse"
JOURNALED_FIELDS = ("status", "decided_at", "decided_by_id")
# (status before, decision) → (status after, what the family reads).
TRANSITIONS = {
    (RegistrationStatus.REQUESTED, APPROVE): (RegistrationStatus.ACCEPTED, "inscription acceptée"),
    (RegistrationStatus.REQUESTED, REFUSE): (RegistrationStatus.REFUSED, "inscription refusée"),
    (RegistrationStatus.CANCEL_REQUESTED, APPROVE): (
        RegistrationStatus.CANCELLED,
        "désinscription acceptée",
    ),
    (RegistrationStatus.CANCEL_REQUESTED, REFUSE): (
        RegistrationStatus.ACCEPTED,
        "désinscription refusée, l'inscription est maintenue",
    ),
}


class RegistrationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decide_registration(
    registration: Registration, decision: str, staff: StaffUser, now: datetime, ip: str | None
) -> Registration:
    """Apply `decision` (APPROVE or REFUSE), tell the family, journal it, and commit."""
    # Locked and read again: two agents deciding the same row at once decide it once.
    db.session.refresh(registration, with_for_update=True)
    found = TRANSITIONS.get((registration.status, decision))
    if found is None:
        raise RegistrationError("Aucune demande n'est en attente pour cette inscription.")
    reason = registration.reason.strip()
    if decision == REFUSE and not reason:
        raise RegistrationError("Écrivez d'abord le motif du refus (Modifier), puis refusez.")
    before = audit.fields_of(registration, JOURNALED_FIELDS)
    registration.status, summary = found
    registration.decided_at, registration.decided_by_id = now, staff.id
    notifications.notify(
        registration.child.family,
        AlertKind.REGISTRATION,
        _message(registration, summary, reason if decision == REFUSE else ""),
        link="/reservations",
        now=now,
    )
    audit.record_since(staff, decision, registration, before, ip)
    db.session.commit()
    return registration


def _message(registration: Registration, summary: str, reason: str) -> str:
    """« Inscription acceptée : Restaurant scolaire 2026-2027 pour Léa Martin. »"""
    what = f"{registration.activity} {registration.school_year} pour {registration.child}"
    line = f"{summary[0].upper()}{summary[1:]} : {what}."
    return f"{line} Motif : {reason}" if reason else line
