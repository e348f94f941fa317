"""Réservations › Absences déclarées, Pointage and the day's list for the kitchen.

Views parse and call services (services.booking.mark_absence_justified,
services.attendance); every change is journaled with the agent and the address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import secure_filename

from admin_views.base import StaffAccessMixin, csv_text
from admin_views.requests import (
    CATEGORY,
    ROW_OPTIONS,
    Page,
    apply_to_each,
    load_bookings,
    page_number,
    paginate,
    parse_date,
    parse_id,
    schools_and_activities,
    selected_ids,
)
from extensions import db
from models import (
    Activity,
    ActivityOption,
    Attendance,
    Booking,
    BookingStatus,
    Child,
    School,
    utcnow,
)
from services import attendance
from services import booking as booking_service
from services.calendar import paris_today
from services.formatting import plural
from vocabulary import enum_label

# --- Absences ----------------------------------------------------------------------------

RECENT_DAYS = 30
ABSENCE_STATES = {
    "declared": "À décider",
    "decided": f"Décidées ({RECENT_DAYS} derniers jours)",
}
ABSENCE_DECISIONS = {
    "justified": ("absence justifiée", "absences justifiées"),
    "unjustified": ("absence non justifiée", "absences non justifiées"),
}


def absences_page(state: str, number: int, today: date) -> Page:
    """Declared absences, oldest day first; or those decided lately, newest day first."""
    query = select(Booking).join(Booking.child).join(Child.family)
    if state == "decided":
        decided = (Attendance.ABSENT_JUSTIFIED, Attendance.ABSENT_UNJUSTIFIED)
        query = query.where(
            Booking.attendance.in_(decided), Booking.day >= today - timedelta(days=RECENT_DAYS)
        )
        return paginate(query, number, (Booking.day.desc(), Booking.id.desc()), ROW_OPTIONS)
    query = query.where(Booking.attendance == Attendance.ABSENCE_DECLARED)
    return paginate(query, number, (Booking.day, Booking.id), ROW_OPTIONS)


def absence_decision(form: Mapping) -> tuple[str, list[int]]:
    """("justified" | "unjustified", ids): a row's own button ("justified:12") or the
    checked rows."""
    decision, _, row = form.get("decision", "").partition(":")
    if decision not in ABSENCE_DECISIONS:
        abort(400)
    booking_id = parse_id(row)
    return decision, [booking_id] if booking_id else selected_ids(form)


class AbsencesView(StaffAccessMixin, BaseView):
    """Absences families declared, marked justified (not billed) or not by staff."""

    @expose("/")
    def index(self):
        state = request.args.get("state", "declared")
        if state not in ABSENCE_STATES:
            state = "declared"
        today = paris_today(utcnow())
        return self.render(
            "admin/attendance/absences.html",
            state=state,
            states=ABSENCE_STATES,
            listing=absences_page(state, page_number(request.args), today),
            label=enum_label,
        )

    @expose("/decider", methods=("POST",))
    def decide(self):
        decision, ids = absence_decision(request.form)
        justified = decision == "justified"
        done = apply_to_each(
            load_bookings(ids),
            f"absence-{decision}",
            lambda booking: booking_service.mark_absence_justified(booking, justified),
        )
        if done:
            flash(f"{plural(done, *ABSENCE_DECISIONS[decision])}.", "success")
        elif not ids:
            flash("Cochez au moins une absence.", "warning")
        state = request.form.get("state", "declared")
        return redirect(url_for(".index", state=state if state in ABSENCE_STATES else None))


# --- Pointage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The day, school and activity a page is about, and the choices offered."""

    day: date
    school: School
    activity: Activity
    schools: list[School]
    activities: list[Activity]

    def args(self, **others) -> dict[str, str]:
        chosen = {"date": self.day.isoformat(), "school": self.school.id}
        return {**chosen, "activity": self.activity.id, **others}


def selection(values: Mapping) -> Selection | None:
    """What the query string (or a form) chose; today in Paris and the first school and
    activity by default; None when there is no school or activity yet."""
    schools, activities = schools_and_activities()
    if not schools or not activities:
        return None
    raw_day = values.get("date")
    day = parse_date(raw_day) if raw_day else paris_today(utcnow())
    if day is None:
        abort(404)
    school = _pick(schools, values.get("school"))
    activity = _pick(activities, values.get("activity"))
    return Selection(day, school, activity, schools, activities)


def _pick(items: list, value: str | None):
    if not value:
        return items[0]
    found = next((item for item in items if str(item.id) == value), None)
    if found is None:
        abort(404)
    return found


def _chosen(values: Mapping) -> Selection:
    chosen = selection(values)
    if chosen is None:
        abort(404)
    return chosen


def _row(model, value: str | None):
    """The row of `model` with the posted id, or 404."""
    row_id = parse_id(value)
    found = db.session.get(model, row_id) if row_id is not None else None
    if found is None:
        abort(404)
    return found


def _option(value: str | None) -> ActivityOption | None:
    """The posted option (None: the activity's default); the service checks it fits."""
    return _row(ActivityOption, value) if value else None


def _back(chosen: Selection, child_id: int | None = None):
    anchor = f"enfant-{child_id}" if child_id else None
    return redirect(url_for(".index", **chosen.args(), _anchor=anchor))


# --- The day's list for the kitchen ------------------------------------------------------

CSV_HEADER = ("Formule", "Nom", "Prénom", "Classe", "Régime alimentaire", "Présence", "Réservation")
COUNT_HEADER = ("Formule", "Réservés", "Absents", "Attendus")
COUNTS = ("booked", "absent", "expected")


def day_groups(chosen: Selection) -> list[attendance.OptionGroup]:
    listed = attendance.day_list(chosen.school.id, chosen.activity.id, chosen.day)
    return attendance.by_option(listed, chosen.activity.options)


def csv_rows(groups: list[attendance.OptionGroup]) -> list[tuple]:
    """The children per option, then the counts per option and in all."""
    rows: list[tuple] = [CSV_HEADER]
    for group in groups:
        rows.extend(_child_row(group.label, booking) for booking in group.bookings)
    rows += [(), COUNT_HEADER]
    rows.extend((group.label, group.booked, group.absent, group.expected) for group in groups)
    totals = (sum(getattr(group, name) for group in groups) for name in COUNTS)
    rows.append(("Total", *totals))
    return rows


def _child_row(label: str, booking: Booking) -> tuple:
    child = booking.child
    presence = enum_label(booking.attendance) if booking.attendance else ""
    kind = "Sans réservation" if booking.is_walk_in else "Réservé"
    return (
        label,
        child.last_name,
        child.first_name,
        child.class_name,
        child.diet_note,
        presence,
        kind,
    )


class AttendanceView(StaffAccessMixin, BaseView):
    """Pointage on a tablet: the day's children, present or absent, and walk-ins."""

    @expose("/")
    def index(self):
        chosen = selection(request.args)
        if chosen is None:
            return self.render("admin/attendance/pointage.html", chosen=None)
        listed = attendance.day_list(chosen.school.id, chosen.activity.id, chosen.day)
        return self.render(
            "admin/attendance/pointage.html",
            chosen=chosen,
            listed=listed,
            summary=attendance.summary(listed),
            candidates=attendance.walk_in_candidates(chosen.school.id, listed),
            kept=attendance.KEPT_ABSENCES,
            present=Attendance.PRESENT,
            registered=BookingStatus.REGISTERED,
            label=enum_label,
            one_day=timedelta(days=1),
        )

    @expose("/marquer", methods=("POST",))
    def mark(self):
        chosen = _chosen(request.form)
        booking = _row(Booking, request.form.get("booking"))
        present = request.form.get("present") == "1"
        try:
            attendance.record_attendance(
                booking, present, current_user, utcnow(), request.remote_addr
            )
        except booking_service.BookingError as error:
            flash(error.message, "error")
        return _back(chosen, booking.child_id)

    @expose("/ajouter", methods=("POST",))
    def add(self):
        chosen = _chosen(request.form)
        child = _row(Child, request.form.get("child"))
        option = _option(request.form.get("option"))
        try:
            attendance.add_walk_in(
                child,
                chosen.activity,
                chosen.day,
                chosen.school,
                current_user,
                utcnow(),
                option=option,
                ip=request.remote_addr,
            )
        except booking_service.BookingError as error:
            flash(error.message, "error")
        else:
            flash(f"Ajouté à la liste, présent sans réservation : {child}.", "success")
        return _back(chosen, child.id)

    @expose("/liste")
    def daily_list(self):
        chosen = _chosen(request.args)
        return self.render(
            "admin/attendance/daily_list.html",
            chosen=chosen,
            groups=day_groups(chosen),
            label=enum_label,
        )

    @expose("/liste.csv")
    def daily_csv(self):
        chosen = _chosen(request.args)
        code = secure_filename(chosen.activity.code) or "prestation"
        name = f"liste-{chosen.day.isoformat()}-{code}-ecole{chosen.school.id}.csv"
        return Response(
            csv_text(csv_rows(day_groups(chosen))),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def add_views(admin: Admin) -> None:
    admin.add_views(
        AbsencesView(
            name="Absences déclarées", endpoint="absences", url="absences", category=CATEGORY
        ),
        AttendanceView(name="Pointage", endpoint="pointage", url="pointage", category=CATEGORY),
    )
