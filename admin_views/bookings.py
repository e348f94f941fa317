"""Réservations: registrations to an activity for a year, and booked days.

Booking a day goes through the booking service (deadlines, capacity, alerts): staff do not
create bookings here, they record attendance and absences.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import Admin, expose
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload
from wtforms import SelectMultipleField, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from admin_views.base import StaffModelView, decide_rows
from admin_views.fields import row_id
from extensions import db
from models import Activity, ActivityOption, Booking, Child, Family, Registration, utcnow
from services import registrations
from services.calendar import WEEKDAYS_FR
from vocabulary import enum_label

CATEGORY = "Réservations"
# Monday to Friday: the service keeps those the child's school has class.
SCHOOL_WEEKDAYS = [(day, WEEKDAYS_FR[day - 1].capitalize()) for day in range(1, 6)]


class WeekdayBoxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _options_by_activity():
    return db.session.scalars(
        select(ActivityOption)
        .join(Activity)
        .order_by(Activity.sort_order, Activity.name, ActivityOption.id)
    )


def _children_with_their_family():
    """Every child, in one query, for labels naming the family and the school (two Léa
    are told apart). A child of an archived family stays listed, marked: choosing it gets
    the service's French refusal, where a missing choice would get Flask-Admin's English
    « Not a valid choice »."""
    return db.session.scalars(
        select(Child)
        .join(Family)
        .options(contains_eager(Child.family), joinedload(Child.school))
        .order_by(Child.last_name, Child.first_name, Child.id)
    )


def _child_label(child: Child) -> str:
    left = " (famille archivée)" if child.family.archived_at else ""
    return f"{child} — famille {child.family.name}, {child.school.name}{left}"


def _listed_option(_form, field) -> None:
    """Flask-Admin reads an unknown option id as the blank choice: a tampered id would
    silently become the activity's default formula."""
    if field.data is None and field.raw_data and field.raw_data[0] not in ("", "__None"):
        raise ValidationError("Choisissez la formule dans la liste.")


class RegistrationView(StaffModelView):
    """Kept with their decisions: never deleted nor edited (the family reads the refusal's
    reason as it was sent). Créer asks for a family through the registrations service, with
    the usual days and the option, under the family's rules. Decided by the actions below
    (the service books or cancels the usual days, records who and when and tells the
    family); the status is never a field. Refuser opens a screen that asks the reason, sent
    to every family refused."""

    can_delete = False
    can_edit = False
    column_list = (
        "child",
        "activity",
        "school_year",
        "weekdays",
        "option",
        "status",
        "created_at",
        "decided_at",
    )
    column_details_list = (*column_list, "reason")
    column_export_list = column_details_list
    column_searchable_list = ("child.first_name", "child.last_name")
    column_filters = ("activity.name", "school_year.label", "status", "created_at")
    column_default_sort = ("created_at", True)
    column_formatters = {"weekdays": lambda _v, _c, row, _n: _weekdays(row)}
    column_formatters_export = column_formatters
    form_columns = ("child", "activity", "school_year", "weekdays", "option")
    form_extra_fields = {
        "weekdays": WeekdayBoxes(
            "Jours habituels",
            choices=SCHOOL_WEEKDAYS,
            coerce=int,
            description="Réservés chaque semaine jusqu'à la fin de l'année une fois la "
            "demande acceptée (seulement les jours de classe de l'école de l'enfant).",
        )
    }
    # A list of boxes, not a text input's one-line frame (Flask-Admin's default class).
    form_widget_args = {"weekdays": {"class": "list-unstyled"}}
    form_args = {
        "child": {
            "query_factory": _children_with_their_family,
            "get_label": _child_label,
        },
        "option": {
            "query_factory": _options_by_activity,
            "get_label": lambda option: f"{option.activity.name} : {option.label}",
            "description": "Vide : la formule par défaut de la prestation.",
            "validators": [_listed_option],
        },
    }

    def create_model(self, form):
        """A request asked for the family: the service checks it as it would the family's."""
        try:
            registration = registrations.request_registration(
                form.child.data,
                form.activity.data,
                form.school_year.data,
                form.weekdays.data or [],
                form.option.data,
                utcnow(),
                current_user._get_current_object(),
                request.remote_addr,
            )
        except registrations.RegistrationError as error:
            flash(f"Demande non enregistrée : {error.message}", "error")
            return False
        flash(
            f"Demande enregistrée pour {registration.child.first_name} "
            f"({registrations.weekdays_fr(registrations.usual_weekdays(registration))}) : "
            "acceptez-la pour réserver ses jours habituels.",
            "success",
        )
        return registration

    @action(
        "accept",
        "Accepter",
        "Accepter ces demandes ? Les jours habituels sont réservés (ou annulés, pour une "
        "désinscription) et les familles prévenues.",
    )
    def action_accept(self, ids):
        self._decide(ids, registrations.APPROVE, "", ("demande acceptée", "demandes acceptées"))

    @action("refuse", "Refuser")
    def action_refuse(self, ids):
        """The reason is asked on the next screen, for all the checked requests at once."""
        chosen = [str(found) for found in (row_id(value) for value in ids) if found is not None]
        return redirect(url_for(".refuse_view", ids=chosen))

    @expose("/refuser/", methods=("GET", "POST"))
    def refuse_view(self):
        chosen = self._chosen(request.values.getlist("ids"))
        if not chosen:
            flash("Cochez au moins une demande à refuser.", "warning")
            return redirect(url_for(".index_view"))
        reason = request.form.get("reason", "").strip()
        if request.method == "POST" and reason:
            ids = [str(row.id) for row in chosen]
            done = ("demande refusée", "demandes refusées")
            self._decide(ids, registrations.REFUSE, reason, done)
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            flash("Indiquez le motif du refus : aucune décision n'a été enregistrée.", "error")
        return self.render(
            "admin/registrations/refuse.html",
            rows=chosen,
            reason=reason,
            reason_max=registrations.REASON_MAX,
            status_label=enum_label,
        )

    def _chosen(self, values: list[str]) -> list[Registration]:
        ids = [found for found in (row_id(value) for value in values) if found is not None]
        if not ids:
            return []
        return list(
            db.session.scalars(
                select(Registration).where(Registration.id.in_(ids)).order_by(Registration.id)
            )
        )

    def _decide(self, ids, decision: str, reason: str, done: tuple[str, str]) -> None:
        staff, ip = current_user._get_current_object(), request.remote_addr
        decide_rows(
            Registration,
            ids,
            lambda row: registrations.decide_registration(
                row, decision, staff, utcnow(), ip, reason
            ),
            registrations.RegistrationError,
            done,
        )


def _weekdays(row: Registration) -> str:
    days = registrations.usual_weekdays(row)
    return registrations.weekdays_fr(days, short=True) if days else "—"


class BookingView(StaffModelView):
    """Read here; statuses are decided on Demandes, attendance taken on Pointage and
    absences decided on Absences déclarées, each through its service."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("day", "child", "activity", "school", "option", "status", "attendance")
    column_details_list = (
        *column_list,
        "requested_option",
        "absence_reason",
        "refusal_reason",
        "requested_at",
        "updated_at",
    )
    column_export_list = column_details_list
    column_searchable_list = ("child.first_name", "child.last_name")
    column_filters = ("school.name", "activity.name", "day", "status", "attendance")
    column_default_sort = [("day", True), ("id", False)]


def add_views(admin: Admin) -> None:
    admin.add_views(
        RegistrationView(Registration, db, name="Inscriptions", category=CATEGORY),
        BookingView(Booking, db, name="Réservations", category=CATEGORY),
    )
