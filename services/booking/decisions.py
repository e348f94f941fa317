"""Staff decisions on the families' requests, and on declared absences.

- approve: pending → registered (a place must be free; in an automatic activity the
  oldest waiting request goes first; never on a day that has closed since: the request
  ends instead); change-requested → registered with the requested option;
  cancel-requested → available, the freed place going to the waiting list;
- refuse, with a reason: pending → refused (the cell shows available again);
  change-requested and cancel-requested → registered as before (the booking stands).

`decide` takes a batch: each family's requests are decided in one transaction (each
request in a savepoint, so a refused one leaves the others), every decision journaled
with it, and the family gets ONE alert listing them, refusals and their reasons first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from extensions import db
from models import AlertKind, Attendance, Booking, BookingStatus, ValidationMode
from services import notifications
from services.booking.errors import (
    BookingError,
    CapacityReached,
    DayClosed,
    InvalidTransition,
    transactional,
)
from services.booking.places import (
    check_place_for,
    describe,
    lock_booking,
    lock_capacities,
    month_link,
)
from services.booking.results import Outcome
from services.booking.waiting_list import first_waiting, promote
from services.calendar import day_status
from services.formatting import plural

APPROVE, REFUSE = "approve", "refuse"
# journal(booking, decision) is called before a decision and returns what to call after it,
# in the same transaction: the back office journals each decision that way.
Journal = Callable[[Booking, str], Callable[[], None]]


@dataclass
class Decision:
    """One request to decide: `decision` is APPROVE or REFUSE, `reason` the refusal's."""

    booking: Booking
    decision: str
    reason: str = ""
    done: bool = False
    summary: str = ""
    failure: BookingError | None = None
    promoted: list[Booking] = field(default_factory=list)

    @property
    def error(self) -> str:
        """Why the rules refused it, in French ('' when done)."""
        return self.failure.message if self.failure else ""

    @property
    def refused(self) -> bool:
        return self.done and self.decision == REFUSE


def approve(booking: Booking, now: datetime) -> Outcome:
    """One request approved, with its alert (see `decide`)."""
    return _single(Decision(booking, APPROVE), now)


def refuse(booking: Booking, reason: str, now: datetime) -> Outcome:
    """One request refused with `reason`, with its alert (see `decide`)."""
    return _single(Decision(booking, REFUSE, reason), now)


def _single(decision: Decision, now: datetime) -> Outcome:
    (result,) = decide([decision], now)
    if result.failure is not None:
        raise result.failure
    return Outcome(result.booking, result.promoted)


def decide(
    decisions: list[Decision], now: datetime, journal: Journal | None = None
) -> list[Decision]:
    """Apply each decision; per family one transaction and one alert. Returns the
    decisions, each `done` or with its French `error`."""
    for decision in decisions:
        decision.reason = decision.reason.strip()[:300]
        if decision.decision == REFUSE and not decision.reason:
            raise BookingError("Indiquez le motif du refus.")
    by_family: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        by_family[decision.booking.child.family_id].append(decision)
    for family_decisions in by_family.values():
        _decide_for_family(family_decisions, now, journal)
    return decisions


@transactional
def _decide_for_family(decisions: list[Decision], now: datetime, journal) -> None:
    lock_capacities((d.booking.school_id, d.booking.activity_id) for d in decisions)
    for decision in decisions:
        _decide_one(decision, now, journal)
    _alert_decisions(decisions, now)


def _decide_one(decision: Decision, now: datetime, journal) -> None:
    """Apply one decision in a savepoint: refused by the rules, it leaves the others."""
    savepoint = db.session.begin_nested()
    try:
        booking = decision.booking = lock_booking(decision.booking)
        finish = journal(booking, decision.decision) if journal else None
        if decision.decision == APPROVE:
            decision.summary, decision.promoted = _approve(booking, now)
        else:
            decision.summary = _refuse(booking, decision.reason)
        if finish:
            finish()
        savepoint.commit()
    except BookingError as error:
        savepoint.rollback()
        decision.failure = error
    else:
        decision.done = True


def _approve(booking: Booking, now: datetime) -> tuple[str, list[Booking]]:
    match booking.status:
        case BookingStatus.PENDING:
            _check_can_confirm(booking, now)
            booking.status = BookingStatus.REGISTERED
            return "réservation confirmée", []
        case BookingStatus.CHANGE_REQUESTED:
            booking.option_id = booking.requested_option_id
            booking.status = BookingStatus.REGISTERED
            booking.requested_option_id = None
            return "changement de formule accepté", []
        case BookingStatus.CANCEL_REQUESTED:
            booking.status = BookingStatus.CANCELLED
            promoted = promote(booking.school_id, booking.activity, booking.day, now)
            return "annulation acceptée", promoted
    raise InvalidTransition("Aucune demande n'est en attente pour cette réservation.")


def _check_can_confirm(booking: Booking, now: datetime) -> None:
    """A waiting request is confirmed only on an open day, with a place, in its turn."""
    opening = day_status(booking.school, booking.day)
    if not opening.is_open:
        raise DayClosed(f"Le service est fermé ce jour-là ({opening.reason}).")
    check_place_for(booking)
    if booking.activity.validation_mode == ValidationMode.AUTOMATIC:
        first = first_waiting(booking)
        if first is not None and first.id != booking.id:
            raise CapacityReached(
                "Une demande plus ancienne attend ce jour-là : la place lui revient d'abord."
            )


def _refuse(booking: Booking, reason: str) -> str:
    """What the refusal means for the family: a refused request, or the booking that stands."""
    match booking.status:
        case BookingStatus.PENDING:
            summary = "réservation refusée"
            booking.status = BookingStatus.REFUSED
        case BookingStatus.CHANGE_REQUESTED:
            summary = "changement de formule refusé, la réservation d'origine est maintenue"
            booking.status = BookingStatus.REGISTERED
        case BookingStatus.CANCEL_REQUESTED:
            summary = "annulation refusée, la réservation est maintenue"
            booking.status = BookingStatus.REGISTERED
        case _:
            raise InvalidTransition("Aucune demande n'est en attente pour cette réservation.")
    booking.requested_option_id = None
    booking.refusal_reason = reason
    return summary


def _alert_decisions(decisions: list[Decision], now: datetime) -> None:
    """One alert for the family: one decision in a sentence; several counted in the
    message and listed in the details, the refusals with their reasons first."""
    done = sorted((d for d in decisions if d.done), key=lambda d: (not d.refused, d.booking.day))
    if not done:
        return
    first = done[0].booking
    family = first.child.family
    if len(done) == 1:
        message, details = _decision_line(done[0]), []
    else:
        refused = sum(1 for d in done if d.refused)
        counts = [
            plural(refused, "refusée", "refusées") if refused else "",
            plural(len(done) - refused, "acceptée", "acceptées") if len(done) > refused else "",
        ]
        said = ", ".join(c for c in counts if c)
        message = f"La mairie a traité {len(done)} demandes : {said}."
        details = [_decision_line(d) for d in done]
    notifications.notify(
        family, AlertKind.BOOKING, message, month_link(first), now, details=details
    )


def _decision_line(decision: Decision) -> str:
    """« Réservation refusée : Accueil du soir du … pour Léa. Motif : complet »."""
    summary = decision.summary[0].upper() + decision.summary[1:]
    line = f"{summary} : {describe(decision.booking)}."
    return f"{line} Motif : {decision.reason}" if decision.refused else line


@transactional
def mark_absence_justified(booking: Booking, justified: bool) -> Outcome:
    """Staff decide on a declared absence: absent-justified (not billed) or absent-unjustified."""
    declared = {
        Attendance.ABSENCE_DECLARED,
        Attendance.ABSENT_JUSTIFIED,
        Attendance.ABSENT_UNJUSTIFIED,
    }
    booking = lock_booking(booking)
    if booking.attendance not in declared:
        raise InvalidTransition("Aucune absence n'a été déclarée ce jour-là.")
    booking.attendance = Attendance.ABSENT_JUSTIFIED if justified else Attendance.ABSENT_UNJUSTIFIED
    return Outcome(booking)
