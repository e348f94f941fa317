"""The views of MES RÉSERVATIONS: parse, call services.booking, say in French what happened.

Every rule is checked by the service, whatever the page showed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf

from blueprints import documents as sent_documents
from blueprints.bookings import pages
from blueprints.bookings.forms import AbsenceForm, ManyDaysForm, is_served
from blueprints.guards import child_of_current_family, current_family, family_required
from models import utcnow
from services import booking
from services.booking.catalogue import activity_by_code, children_of
from services.calendar import paris_today
from services.uploads import UploadRefused

bp = Blueprint("bookings", __name__, url_prefix="/reservations")
NOTICE = "bookings.notice"  # what the last action did, shown beside its day after the redirect


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
    return redirect(
        url_for(
            ".month",
            child_id=children[0].id,
            month=f"{today:%Y-%m}",
            _anchor=pages.week_anchor(today),
        )
    )


@bp.get("/<int:child_id>/<month>")
@family_required
def month(child_id: int, month: str):
    family = current_family()
    children = children_of(family)
    child = child_of_current_family(child_id, children)
    first = _month(month)
    token = generate_csrf()
    notice = _notice_for(child.id, first)
    content = pages.month_view(children, child, first, utcnow(), notice, token)
    return render_template(
        "bookings/month.html", child=child, label=pages.month_words(first), content=content
    )


def _tell(notice: pages.Notice):
    """Keep what an action did for the month page, and open that page at the message."""
    session[NOTICE] = notice.to_session()
    target = url_for(
        ".month",
        child_id=notice.child_id,
        month=f"{notice.day:%Y-%m}",
        _anchor=pages.NOTICE_ANCHOR,
    )
    return redirect(target)


def _notice_for(child_id: int, first: date) -> pages.Notice | None:
    notice = pages.Notice.from_session(session.pop(NOTICE, None))
    if notice and notice.child_id == child_id and notice.day.replace(day=1) == first:
        return notice
    return None


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
        notice = pages.apply_action(child, activity, the_day, action, request.form, utcnow())
    except booking.BookingError as error:
        notice = pages.Notice(
            child.id, the_day, error.message, error=True, activity_code=activity.code
        )
    return _tell(notice)


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
    return render_template(
        "bookings/many.html",
        form=form,
        plans=pages.many_view(form, plans),
        estimate=pages.many_estimate(form, plans, current_family()),
        confirmed=bool(form.confirm.data),
        anchor=pages.week_anchor(form.start.data),
    )


@bp.route("/absence", methods=["GET", "POST"])
@sent_documents.sends_limited
@family_required
def absence():
    today = paris_today(utcnow())
    form = AbsenceForm(children_of(current_family()), today, prefill=request.args)
    if form.validate_on_submit():
        child = child_of_current_family(int(form.child.data))
        try:
            # The certificate is checked before the absence is declared: a refused file
            # leaves the absence undeclared, for the family to send again.
            certificate = sent_documents.checked_file(form.certificate.data)
            declared = booking.declare_absences(
                child,
                form.start.data,
                form.end.data or form.start.data,
                form.reason_text(),
                utcnow(),
            )
        except (booking.BookingError, UploadRefused) as error:
            flash(error.message, "error")
        else:
            message = pages.absence_summary(child, declared)
            if certificate is not None and declared:
                attached = sent_documents.attach_certificate(child.family, certificate, declared[0])
                message = f"{message} {attached}"
            return _tell(pages.Notice(child.id, form.start.data, message))
    return render_template(
        "bookings/absence.html", form=form, today=today, tomorrow=today + timedelta(days=1)
    )


# A certificate sent past the family's allowance (DOCUMENTS' page, in French).
bp.register_error_handler(429, sent_documents.too_many_uploads)


@bp.context_processor
def _helpers():
    return pages.template_helpers()
