"""The views of MES RÉSERVATIONS: parse, call services.booking, say in French what happened.

Every rule is checked by the service, whatever the page showed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from blueprints.bookings import pages
from blueprints.bookings.forms import AbsenceForm, ManyDaysForm, is_served
from blueprints.guards import child_of_current_family, current_family, family_required
from models import utcnow
from services import booking
from services.booking.catalogue import activity_by_code, children_of
from services.calendar import paris_today

bp = Blueprint("bookings", __name__, url_prefix="/reservations")


def _month(value: str) -> date:
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        abort(404)
    if not is_served(first):
        abort(404)
    return first


def _day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        abort(404)
    if not is_served(day):
        abort(404)
    return day


def _activity(code: str):
    activity = activity_by_code(code)
    if activity is None:
        abort(404)
    return activity


@bp.get("")
@family_required
def index():
    children = children_of(current_family())
    if not children:
        return render_template("bookings/no_child.html")
    today = paris_today(utcnow())
    return redirect(url_for(".month", child_id=children[0].id, month=f"{today:%Y-%m}"))


@bp.get("/<int:child_id>/<month>")
@family_required
def month(child_id: int, month: str):
    family = current_family()
    children = children_of(family)
    child = child_of_current_family(child_id, children)
    first = _month(month)
    page = pages.month_page(child, first, utcnow())
    return render_template("bookings/month.html", children=children, child=child, page=page)


@bp.get("/<int:child_id>/jour/<day>/<activity_code>")
@family_required
def day(child_id: int, day: str, activity_code: str):
    child = child_of_current_family(child_id)
    detail = pages.day_detail(child, _activity(activity_code), _day(day), utcnow())
    return render_template("bookings/day.html", child=child, detail=detail)


@bp.post("/<int:child_id>/jour/<day>/<activity_code>")
@family_required
def act(child_id: int, day: str, activity_code: str):
    child = child_of_current_family(child_id)
    activity = _activity(activity_code)
    the_day = _day(day)
    action = request.form.get("action", "")
    try:
        message = pages.apply_action(child, activity, the_day, action, request.form, utcnow())
    except booking.BookingError as error:
        flash(error.message, "error")
    else:
        flash(message, "success")
    target = url_for(".month", child_id=child.id, month=f"{the_day:%Y-%m}")
    return redirect(f"{target}#j-{the_day.isoformat()}")


@bp.route("/plusieurs-jours", methods=["GET", "POST"])
@family_required
def many():
    form = ManyDaysForm(children_of(current_family()), paris_today(utcnow()))
    if not form.validate_on_submit():
        return render_template("bookings/many.html", form=form, plans=None)
    try:
        plans = pages.run_many(form, utcnow(), preview=not form.confirm.data)
    except booking.BookingError as error:
        flash(error.message, "error")
        return render_template("bookings/many.html", form=form, plans=None)
    if form.confirm.data:
        flash(pages.many_summary(form, plans), "success")
    return render_template("bookings/many.html", form=form, plans=plans)


@bp.route("/absence", methods=["GET", "POST"])
@family_required
def absence():
    today = paris_today(utcnow())
    form = AbsenceForm(children_of(current_family()), today, prefill=request.args)
    if form.validate_on_submit():
        child = child_of_current_family(int(form.child.data))
        try:
            declared = booking.declare_absences(
                child,
                form.start.data,
                form.end.data or form.start.data,
                form.reason_text(),
                utcnow(),
            )
        except booking.BookingError as error:
            flash(error.message, "error")
        else:
            flash(pages.absence_summary(child, declared), "success")
            return redirect(url_for(".month", child_id=child.id, month=f"{form.start.data:%Y-%m}"))
    return render_template(
        "bookings/absence.html", form=form, today=today, tomorrow=today + timedelta(days=1)
    )


@bp.context_processor
def _helpers():
    return pages.template_helpers()
