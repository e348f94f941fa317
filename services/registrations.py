"""Registrations: a child admitted to an activity for a school year (not a booking of a day).

A family asks (request_registration) with its usual weekdays and option; staff may ask for
it from the back office, under the same rules, and the request is journaled with its author:

- only for a family still on file (not archived), a school year not over yet, only
  weekdays the child's school has class, only an option of that activity (none chosen →
  the activity's default);
- never twice: a request waiting, an accepted registration or a cancellation waiting for
  the same child, activity and year is refused; a refused or cancelled one may be asked
  again (the same row becomes a new request);
- request_cancellation: an accepted registration → cancellation requested (staff decide);
  a request still waiting is simply withdrawn (cancelled: nothing was booked).

Staff decide (decide_registration), one registration at a time:

- accept: requested → accepted, and the usual days are booked from the later of today and
  the year's first day to its last day, through the booking rules (services.booking:
  closures, booking deadline, capacity and waiting list); cancel-requested → cancelled, and
  the child's days of the activity from today to the year's end that are still before the
  activity's cancel deadline are cancelled (they leave the kitchen lists); days past that
  deadline stay booked, as for any late cancellation;
- refuse, with a reason (required, written on the registration): requested → refused;
  cancel-requested → accepted (the registration and its days stand);
- any other status has nothing to decide: RegistrationError.

Each decision, its bookings, the family's alert (AlertKind.REGISTRATION, which lists the
days booked and those that could not be: full, closed, past the deadline) and the journal
entry are written in ONE transaction: all committed, or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    Activity,
    ActivityOption,
    AlertKind,
    BookingStatus,
    Child,
    Registration,
    RegistrationStatus,
    SchoolYear,
    StaffUser,
)
from services import audit, booking, notifications
from services.booking.results import BookingPlan, CancelPlan
from services.calendar import WEEKDAYS_FR, class_weekdays, paris_today
from services.formatting import date_fr, plural

APPROVE, REFUSE = "approve", "refuse"
LINK = "/inscriptions"
REASON_MAX = 300
JOURNALED_FIELDS = ("status", "decided_at", "decided_by_id", "reason")
# A registration that stands or is asked for: another request for it is a duplicate.
STANDING = frozenset(
    {
        RegistrationStatus.REQUESTED,
        RegistrationStatus.ACCEPTED,
        RegistrationStatus.CANCEL_REQUESTED,
    }
)
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
REGISTERED = BookingStatus.REGISTERED
# How many days an alert names one by one before it only counts the others.
DAYS_NAMED = 6


class RegistrationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- The family's requests -----------------------------------------------------------------


def request_registration(
    child: Child,
    activity: Activity,
    school_year: SchoolYear,
    weekdays: Iterable[int],
    option: ActivityOption | None,
    now: datetime,
    staff: StaffUser | None = None,
    ip: str | None = None,
) -> Registration:
    """Ask staff to register `child` to `activity` for `school_year` on these ISO weekdays;
    `staff` asking from the back office is journaled as the request's author."""
    if child.family.archived_at is not None:
        # Staff choose among every child: one that left would get days booked and billed.
        raise RegistrationError(
            "Cette famille est archivée : aucune inscription ne peut lui être demandée."
        )
    days = _checked_weekdays(child, weekdays)
    option = _checked_option(activity, option)
    if school_year.ends_on < paris_today(now):
        raise RegistrationError("Cette année scolaire est terminée.")
    try:
        registration = _fresh_request(child, activity, school_year)
        registration.weekdays = ",".join(str(day) for day in days)
        registration.option_id = option.id if option else None
        if staff is not None:
            audit.record_change(staff, registration, registration.id is None, ip)
        db.session.commit()
    except IntegrityError as error:  # the same request, sent twice at once
        db.session.rollback()
        raise RegistrationError(_duplicate(child, activity, school_year)) from error
    return registration


def request_cancellation(registration: Registration, now: datetime) -> Registration:
    """Accepted → cancellation requested (staff decide); requested → withdrawn at once."""
    db.session.refresh(registration, with_for_update=True)
    if registration.status == RegistrationStatus.ACCEPTED:
        registration.status = RegistrationStatus.CANCEL_REQUESTED
    elif registration.status == RegistrationStatus.REQUESTED:
        registration.status = RegistrationStatus.CANCELLED
        registration.decided_at, registration.decided_by_id = now, None
    else:
        db.session.rollback()
        raise RegistrationError("Cette inscription n'est pas en cours : rien à annuler.")
    db.session.commit()
    return registration


def _checked_weekdays(child: Child, weekdays: Iterable[int]) -> list[int]:
    days = sorted(set(weekdays))
    if not days:
        raise RegistrationError("Choisissez au moins un jour de la semaine.")
    open_days = class_weekdays(child.school)
    if any(day not in open_days for day in days):
        raise RegistrationError(
            f"L'école de {child.first_name} n'a pas classe tous ces jours-là : "
            f"choisissez parmi {weekdays_fr(open_days)}."
        )
    return days


def _checked_option(activity: Activity, option: ActivityOption | None) -> ActivityOption | None:
    try:
        return booking.checked_option(activity, option)
    except booking.BookingError as error:
        raise RegistrationError(error.message) from error


def _fresh_request(child: Child, activity: Activity, school_year: SchoolYear) -> Registration:
    """A new row, or the refused or cancelled one asked again; a standing one is refused."""
    found = db.session.scalar(
        select(Registration)
        .where(
            Registration.child_id == child.id,
            Registration.activity_id == activity.id,
            Registration.school_year_id == school_year.id,
        )
        .with_for_update()
    )
    if found is None:
        found = Registration(child=child, activity=activity, school_year=school_year)
        db.session.add(found)
    elif found.status in STANDING:
        db.session.rollback()
        raise RegistrationError(_duplicate(child, activity, school_year))
    found.status, found.reason = RegistrationStatus.REQUESTED, ""
    found.decided_at, found.decided_by_id = None, None
    return found


def _duplicate(child: Child, activity: Activity, school_year: SchoolYear) -> str:
    return (
        f"{child.first_name} a déjà une inscription ou une demande en cours : "
        f"{activity.name} {school_year.label}."
    )


def weekdays_fr(days: Iterable[int], short: bool = False) -> str:
    """« lundi, mardi et jeudi », or « lun., mar., jeu. » (`short`) for ISO weekdays."""
    names = [WEEKDAYS_FR[day - 1] for day in sorted(days)]
    if short:
        return ", ".join(f"{name[:3]}." for name in names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} et {names[-1]}"


def usual_weekdays(registration: Registration) -> list[int]:
    """The registration's usual ISO weekdays, from "1,2,4,5"."""
    return [int(part) for part in registration.weekdays.split(",") if part.strip().isdigit()]


# --- Staff decisions -----------------------------------------------------------------------


def decide_registration(
    registration: Registration,
    decision: str,
    staff: StaffUser,
    now: datetime,
    ip: str | None,
    reason: str = "",
) -> Registration:
    """Apply `decision` (APPROVE, or REFUSE with its `reason`), book or cancel the days it
    brings, tell the family, journal it, and commit it all; or roll it all back."""
    try:
        outcome = _decide(registration, decision, staff, now, ip, reason.strip())
        db.session.commit()
    except booking.BookingError as error:
        db.session.rollback()
        raise RegistrationError(error.message) from error
    except IntegrityError as error:  # the family booked one of these days at the same time
        db.session.rollback()
        raise RegistrationError("Une réservation vient de changer : recommencez.") from error
    except Exception:
        db.session.rollback()
        raise
    return outcome


def _decide(registration, decision, staff, now, ip, reason) -> Registration:
    # Locked and read again: two agents deciding the same row at once decide it once.
    db.session.refresh(registration, with_for_update=True)
    found = TRANSITIONS.get((registration.status, decision))
    if found is None:
        raise RegistrationError("Aucune demande n'est en attente pour cette inscription.")
    if decision == REFUSE and not reason:
        raise RegistrationError("Indiquez le motif du refus : la famille le lira.")
    if len(reason) > REASON_MAX:
        raise RegistrationError(f"Le motif tient en {REASON_MAX} caractères au plus.")
    if found[0] == RegistrationStatus.ACCEPTED and registration.child.family.archived_at:
        # Asked before the family left: accepting would book and bill days it won't use.
        raise RegistrationError("Cette famille est archivée : refusez la demande.")
    before = audit.fields_of(registration, JOURNALED_FIELDS)
    registration.status, summary = found
    registration.decided_at, registration.decided_by_id = now, staff.id
    if decision == REFUSE:
        registration.reason = reason
    details = _apply_to_days(registration, decision, now)
    message = " ".join(filter(None, [_message(registration, summary, reason), details]))
    family = registration.child.family
    notifications.notify(family, AlertKind.REGISTRATION, message, link=LINK, now=now)
    audit.record_since(staff, decision, registration, before, ip)
    return registration


def _apply_to_days(registration: Registration, decision: str, now: datetime) -> str:
    """Book (accepted) or cancel (cancelled) the days the decision brings; what it did."""
    if decision != APPROVE:
        return ""
    db.session.flush()  # the booking rules read the registration as it now stands
    year, today = registration.school_year, paris_today(now)
    if registration.status == RegistrationStatus.ACCEPTED:
        start = max(today, year.starts_on)
        if start > year.ends_on or not usual_weekdays(registration):
            return ""
        plan = booking.book_registered_days(
            registration.child,
            registration.activity,
            registration.option,
            start,
            year.ends_on,
            usual_weekdays(registration),
            now,
        )
        return booked_words(plan)
    if today > year.ends_on:
        return ""
    plan = booking.cancel_registered_days(
        registration.child, registration.activity, today, year.ends_on, now
    )
    return cancelled_words(plan)


def _message(registration: Registration, summary: str, reason: str) -> str:
    """« Inscription acceptée : Restaurant scolaire 2026-2027 pour Léa Martin. »"""
    what = f"{registration.activity} {registration.school_year} pour {registration.child}"
    line = f"{summary[0].upper()}{summary[1:]} : {what}."
    return f"{line} Motif : {reason}" if reason else line


# --- What the family reads about the days ------------------------------------------------


def booked_words(plan: BookingPlan) -> str:
    """« 120 jours réservés (lun., mar., jeu., ven.) du 3 décembre 2026 au 2 juillet 2027.
    Pas réservés : complet le 5 janvier (liste d'attente) ; fermé du 21 décembre au
    1 janvier (Vacances de Noël) ; délai dépassé le 1 décembre. »"""
    booked = [ref.day for ref in plan.registered]
    if booked:
        weekdays = weekdays_fr({day.isoweekday() for day in booked}, short=True)
        head = (
            f"{plural(len(booked), 'jour réservé', 'jours réservés')} ({weekdays}) "
            f"du {date_fr(min(booked), 'd MMMM y')} au {date_fr(max(booked), 'd MMMM y')}."
        )
    else:
        head = "Aucun jour n'a pu être réservé."
    missed = [
        part
        for part in (
            _full_words([ref.day for ref in plan.to_book if ref.status != REGISTERED]),
            _closed_words(plan),
            _on_days("délai dépassé", [ref.day for ref in plan.past_deadline]),
        )
        if part
    ]
    if missed:
        head += f" Pas réservés : {' ; '.join(missed)}."
    return head


def cancelled_words(plan: CancelPlan) -> str:
    """« 45 jours annulés, du 3 décembre au 2 juillet. Restent réservés (délai d'annulation
    dépassé) : le 1 décembre et le 2 décembre. »"""
    done = [booked.day for booked in plan.bookings]
    words = (
        f"{plural(len(done), 'jour annulé', 'jours annulés')}, du "
        f"{date_fr(min(done), 'd MMMM y')} au {date_fr(max(done), 'd MMMM y')}."
        if done
        else "Aucun jour réservé à annuler."
    )
    kept = [ref.day for ref in plan.past_deadline]
    if kept:
        words += f" Restent réservés (délai d'annulation dépassé) : {_days_fr(kept)}."
    return words


def _closed_words(plan: BookingPlan) -> str:
    """« fermé du 21 décembre au 1 janvier (Vacances de Noël), le 11 novembre (Armistice) »."""
    by_reason: dict[str, list[date]] = {}
    for ref in plan.closed:
        by_reason.setdefault(ref.reason or "fermeture", []).append(ref.day)
    spans = []
    for reason, days in sorted(by_reason.items(), key=lambda item: min(item[1])):
        first, last = min(days), max(days)
        span = (
            f"le {date_fr(first, 'd MMMM')}"
            if first == last
            else f"du {date_fr(first, 'd MMMM')} au {date_fr(last, 'd MMMM')}"
        )
        spans.append(f"{span} ({reason})")
    return f"fermé {', '.join(spans)}" if spans else ""


def _full_words(days: list[date]) -> str:
    """« complet le 26 novembre (en liste d'attente) »: the day is asked, not booked."""
    return f"complet {_days_fr(days)} (en liste d'attente)" if days else ""


def _on_days(what: str, days: list[date]) -> str:
    return f"{what} {_days_fr(days)}" if days else ""


def _days_fr(days: list[date]) -> str:
    """« le 5 janvier, le 12 janvier et 4 autres jours »."""
    named = [f"le {date_fr(day, 'd MMMM')}" for day in sorted(days)[:DAYS_NAMED]]
    others = len(days) - len(named)
    if others:
        return f"{', '.join(named)} et {plural(others, 'autre jour', 'autres jours')}"
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} et {named[-1]}"
