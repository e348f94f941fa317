"""Réservations: registrations to an activity for a year, and booked days.

Booking a day goes through the booking service (deadlines, capacity, alerts): staff do not
create bookings here, they record attendance and absences.
"""

from __future__ import annotations

from flask import request
from flask_admin import Admin
from flask_admin.actions import action
from flask_login import current_user

from admin_views.base import StaffModelView, decide_rows
from extensions import db
from models import Booking, Registration, utcnow
from services import registrations

CATEGORY = "Réservations"


class RegistrationView(StaffModelView):
    """Kept with their decisions: never deleted. Decided by the actions below (the
    registrations service records who and when and tells the family); the status is never
    a field. A refusal sends the reason written on the registration."""

    can_delete = False
    column_list = ("child", "activity", "school_year", "status", "created_at", "decided_at")
    column_details_list = (*column_list, "reason")
    column_export_list = column_details_list
    column_searchable_list = ("child.first_name", "child.last_name")
    column_filters = ("activity.name", "school_year.label", "status", "created_at")
    column_default_sort = ("created_at", True)
    form_columns = ("child", "activity", "school_year", "reason")

    def edit_form(self, obj=None):
        """Once asked, a registration is what the family asked for: only its reason changes
        (an accepted one moved to another activity would skip every decision)."""
        form = super().edit_form(obj)
        for name in ("child", "activity", "school_year"):
            del form[name]
        return form

    @action("accept", "Accepter", "Accepter ces demandes ? Les familles sont prévenues.")
    def action_accept(self, ids):
        self._decide(ids, registrations.APPROVE, ("demande acceptée", "demandes acceptées"))

    @action("refuse", "Refuser", "Refuser ces demandes, avec le motif écrit sur chacune ?")
    def action_refuse(self, ids):
        self._decide(ids, registrations.REFUSE, ("demande refusée", "demandes refusées"))

    def _decide(self, ids, decision: str, done: tuple[str, str]) -> None:
        staff, ip = current_user._get_current_object(), request.remote_addr
        decide_rows(
            Registration,
            ids,
            lambda row: registrations.decide_registration(row, decision, staff, utcnow(), ip),
            registrations.RegistrationError,
            done,
        )


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
