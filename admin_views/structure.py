"""Structure: schools, school years, activities and their options, capacities, closures."""

from __future__ import annotations

from flask_admin import Admin
from wtforms.validators import Regexp

from admin_views.base import StaffModelView
from extensions import db
from models import Activity, ActivityOption, Capacity, Closure, School, SchoolYear, utcnow
from services import booking

CATEGORY = "Structure"

HOUR = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Heure au format HH:MM, par exemple 10:00.")
WEEKDAYS = Regexp(r"^[1-7](,[1-7])*$", message="Jours de 1 (lundi) à 7, séparés par des virgules.")


class SchoolView(StaffModelView):
    column_list = ("name", "is_public", "class_weekdays", "address")
    column_default_sort = "name"
    form_columns = column_list
    form_args = {"class_weekdays": {"validators": [WEEKDAYS]}}


class SchoolYearView(StaffModelView):
    column_list = ("label", "starts_on", "ends_on")
    column_default_sort = ("starts_on", True)
    form_columns = column_list


class ActivityView(StaffModelView):
    column_list = (
        "sort_order",
        "code",
        "name",
        "validation_mode",
        "booking_deadline_days",
        "booking_deadline_time",
        "cancel_deadline_days",
        "cancel_deadline_time",
        "is_childcare",
    )
    column_default_sort = "sort_order"
    form_columns = (*column_list[1:], "sort_order")
    form_args = {
        "booking_deadline_time": {"validators": [HOUR]},
        "cancel_deadline_time": {"validators": [HOUR]},
    }


class ActivityOptionView(StaffModelView):
    column_list = ("activity", "code", "label", "is_default")
    column_filters = ("activity.name",)
    column_default_sort = "activity_id"
    form_columns = column_list


class ServesWaitingListsMixin:
    """After a change of places or of closed days, the waiting lists are served at once:
    freed places go to the oldest requests, and requests on days now closed end."""

    def after_model_change(self, form, model, is_created) -> None:
        super().after_model_change(form, model, is_created)
        booking.serve_waiting_lists(utcnow())

    def after_model_delete(self, model) -> None:
        super().after_model_delete(model)
        booking.serve_waiting_lists(utcnow())


class CapacityView(ServesWaitingListsMixin, StaffModelView):
    column_list = ("school", "activity", "places")
    column_filters = ("school.name", "activity.name")
    form_columns = column_list


def school_or_all(_view, _context, closure: Closure, _name) -> str:
    return str(closure.school) if closure.school else "Toutes les écoles"


class ClosureView(ServesWaitingListsMixin, StaffModelView):
    column_list = ("starts_on", "ends_on", "school", "reason")
    column_filters = ("school.name", "starts_on", "ends_on")
    column_searchable_list = ("reason",)
    column_default_sort = ("starts_on", True)
    column_formatters = {"school": school_or_all}
    column_descriptions = {"school": "Laisser vide pour fermer toutes les écoles."}
    form_columns = ("school", "starts_on", "ends_on", "reason")


def add_views(admin: Admin) -> None:
    admin.add_views(
        SchoolView(School, db, name="Écoles", category=CATEGORY),
        SchoolYearView(SchoolYear, db, name="Années scolaires", category=CATEGORY),
        ActivityView(Activity, db, name="Prestations", category=CATEGORY),
        ActivityOptionView(ActivityOption, db, name="Formules", category=CATEGORY),
        CapacityView(Capacity, db, name="Capacités", category=CATEGORY),
        ClosureView(Closure, db, name="Fermetures", category=CATEGORY),
    )
