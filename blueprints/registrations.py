"""INSCRIPTIONS: each child's registrations, a request with the usual days, a cancellation.

The views parse and call services.registrations, which checks every rule whatever the page
showed; what they did is said in French on the page, at the activity's card.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from blueprints.guards import (
    child_of_current_family,
    current_family,
    family_required,
    registration_of_current_family,
)
from extensions import db
from models import Activity, RegistrationStatus, SchoolYear, utcnow
from services import registrations
from services.calendar import paris_today
from services.registration_overview import overview

bp = Blueprint("registrations", __name__, url_prefix="/inscriptions")
# The largest id a form may name (a PostgreSQL integer); past it, no row has it.
LARGEST_ID = 2**31 - 1


@bp.get("")
@family_required
def index():
    today = paris_today(utcnow())
    return render_template(
        "registrations/index.html", blocks=overview(current_family(), today), today=today
    )


@bp.post("/<int:child_id>/demande")
@family_required
def ask(child_id: int):
    child = child_of_current_family(child_id)
    activity = _row(Activity, request.form.get("activity"))
    year = _row(SchoolYear, request.form.get("year"))
    if activity is None or year is None:
        flash("Cette prestation ou cette année n'est pas proposée : rechargez la page.", "error")
        return redirect(url_for(".index"))
    anchor = f"i-{child.id}-{activity.id}-{year.id}"
    try:
        weekdays = _weekdays(request.form.getlist("weekdays"))
        option = _option(activity, request.form.get("option", ""))
        registrations.request_registration(child, activity, year, weekdays, option, utcnow())
    except registrations.RegistrationError as error:
        flash(error.message, "error")
        return redirect(url_for(".index", _anchor=anchor))
    flash(
        f"Demande envoyée pour {child.first_name} : {activity.name} {year.label} "
        f"({registrations.weekdays_fr(weekdays)}). Aucun jour n'est réservé avant l'accord "
        "du service ; une alerte vous préviendra.",
        "success",
    )
    return redirect(url_for(".index", _anchor=anchor))


@bp.post("/<int:registration_id>/annulation")
@family_required
def cancel(registration_id: int):
    registration = registration_of_current_family(registration_id)
    anchor = f"i-{registration.child_id}-{registration.activity_id}-{registration.school_year_id}"
    try:
        registrations.request_cancellation(registration, utcnow())
    except registrations.RegistrationError as error:
        flash(error.message, "error")
        return redirect(url_for(".index", _anchor=anchor))
    if registration.status == RegistrationStatus.CANCELLED:
        flash("Demande d'inscription retirée.", "success")
    else:
        flash(
            "Désinscription demandée : les jours réservés le restent jusqu'à la décision du "
            "service ; une alerte vous préviendra.",
            "success",
        )
    return redirect(url_for(".index", _anchor=anchor))


def _id(value: str | None) -> int | None:
    if not value or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= LARGEST_ID else None


def _row(model, value: str | None):
    found = _id(value)
    return db.session.get(model, found) if found is not None else None


def _weekdays(values: list[str]) -> list[int]:
    days = [_id(value) for value in values]
    if any(day is None or not 1 <= day <= 7 for day in days):
        raise registrations.RegistrationError("Choisissez des jours parmi ceux proposés.")
    return [day for day in days if day is not None]


def _option(activity: Activity, value: str):
    """The activity's option of this id; none chosen → None (the service takes the default)."""
    if not value:
        return None
    found = next((option for option in activity.options if option.id == _id(value)), None)
    if found is None:
        raise registrations.RegistrationError("Choisissez une formule parmi celles proposées.")
    return found
