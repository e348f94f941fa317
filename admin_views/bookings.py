"""Réservations: registrations to an activity for a year, and booked days.

Booking a day goes through the booking service (deadlines, capacity, alerts): staff do not
create bookings here, they record attendance and absences.
"""

from __future__ import annotations

from flask_admin import Admin

from admin_views.base import StaffModelView
from extensions import db
from models import Booking, Registration

CATEGORY = "Réservations"


class RegistrationView(StaffModelView):
    """Kept with their decisions: never deleted."""

    can_delete = False
    column_list = ("child", "activity", "school_year", "status", "created_at", "decided_at")
    column_details_list = (*column_list, "reason")
    column_export_list = column_details_list
    column_searchable_list = ("child.first_name", "child.last_name")
    column_filters = ("activity.name", "school_year.label", "status", "created_at")
    column_default_sort = ("created_at", True)
    form_columns = ("child", "activity", "school_year", "status", "reason")


class BookingView(StaffModelView):
    can_create = False
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
    form_columns = ("attendance", "absence_reason")


def add_views(admin: Admin) -> None:
    admin.add_views(
        RegistrationView(Registration, db, name="Inscriptions", category=CATEGORY),
        BookingView(Booking, db, name="Réservations", category=CATEGORY),
    )
