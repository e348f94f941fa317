"""MES RÉSERVATIONS: each child's month, a day's actions, many days at once, absences.

Views parse, call services.booking, and say in French what happened; every rule is checked
by the service, whatever the page showed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from blueprints import bookings_support as view
from blueprints.guards import child_of_current_family, current_family, family_required
from models import utcnow
from services import booking
from services.calendar import paris_today

bp = Blueprint("bookings", __name__, url_prefix="/reservations")


def _month(value: str) -> date:
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        abort(404)
    if not view.is_served(first):
        abort(404)
    return first


def _day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        abort(404)
    if not view.is_served(day):
        abort(404)
    return day


@bp.get("")
@family_required
def index():
    children = view.children_of(current_family())
    if not children:
        return render_template("bookings/no_child.html")
    today = paris_today(utcnow())
    return redirect(url_for(".month", child_id=children[0].id, month=f"{today:%Y-%m}"))


@bp.get("/<int:child_id>/<month>")
@family_required
def month(child_id: int, month: str):
    family = current_family()
    children = view.children_of(family)
    child = child_of_current_family(child_id, children)
    first = _month(month)
    page = view.month_page(child, first, utcnow())
    return render_template("bookings/month.html", children=children, child=child, page=page)


@bp.get("/<int:child_id>/jour/<day>/<activity_code>")
@family_required
def day(child_id: int, day: str, activity_code: str):
    child = child_of_current_family(child_id)
    detail = view.day_detail(child, view.activity_or_404(activity_code), _day(day), utcnow())
    return render_template("bookings/day.html", child=child, detail=detail)


@bp.post("/<int:child_id>/jour/<day>/<activity_code>")
@family_required
def act(child_id: int, day: str, activity_code: str):
    child = child_of_current_family(child_id)
    activity = view.activity_or_404(activity_code)
    the_day = _day(day)
    action = request.form.get("action", "")
    try:
        message = view.apply_action(child, activity, the_day, action, request.form, utcnow())
    except booking.BookingError as error:
        flash(error.message, "error")
    else:
        flash(message, "success")
    target = url_for(".month", child_id=child.id, month=f"{the_day:%Y-%m}")
    return redirect(f"{target}#j-{the_day.isoformat()}")


@bp.route("/plusieurs-jours", methods=["GET", "POST"])
@family_required
def many():
    family = current_family()
    form = view.ManyDaysForm(family, paris_today(utcnow()))
    if not form.validate_on_submit():
        return render_template("bookings/many.html", form=form, plan=None)
    try:
        plan = view.run_many(form, family, utcnow(), preview=not form.confirm.data)
    except booking.BookingError as error:
        flash(error.message, "error")
        return render_template("bookings/many.html", form=form, plan=None)
    if form.confirm.data:
        flash(view.many_summary(form, plan), "success")
        first = form.children_chosen(family)[0]
        return redirect(url_for(".month", child_id=first.id, month=f"{form.start.data:%Y-%m}"))
    return render_template("bookings/many.html", form=form, plan=plan)


@bp.route("/absence", methods=["GET", "POST"])
@family_required
def absence():
    family = current_family()
    today = paris_today(utcnow())
    form = view.AbsenceForm(family, today, prefill=request.args)
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
            flash(view.absence_summary(child, declared), "success")
            return redirect(url_for(".month", child_id=child.id, month=f"{form.start.data:%Y-%m}"))
    return render_template(
        "bookings/absence.html", form=form, today=today, tomorrow=today + timedelta(days=1)
    )


@bp.context_processor
def _helpers():
    return view.template_helpers()
