"""Familles: households, their logins, guardians, children and change requests (their
documents: admin_views/documents.py)."""

from __future__ import annotations

from flask import request
from flask_admin import Admin
from flask_admin.actions import action
from flask_admin.contrib.sqla import tools
from flask_login import current_user
from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from admin_views.base import (
    LoginAccountMixin,
    ReadOnlyView,
    StaffModelView,
    decide_rows,
    is_admin,
)
from admin_views.labels import COLUMN_LABELS
from extensions import db
from models import ChangeRequest, Child, Family, FamilyAccount, Guardian, utcnow
from services import audit, change_requests, gdpr
from vocabulary import CHANGE_ENTITIES, CHANGEABLE_FIELDS, label

CATEGORY = "Familles"


def family_matches(pattern: str):
    """The family's name, one of its logins or one of its children's names is like `pattern`.

    EXISTS rather than joins: a family with two matching children is listed, and counted, once.
    """
    return or_(
        Family.name.ilike(pattern),
        Family.accounts.any(FamilyAccount.username.ilike(pattern)),
        Family.children.any(or_(Child.first_name.ilike(pattern), Child.last_name.ilike(pattern))),
    )


class FamilyView(StaffModelView):
    """Households; never deleted, since invoices and payments point to them."""

    can_delete = False
    column_list = ("name", "accounts", "children", "city", "quotient_familial", "created_at")
    column_details_list = (
        "name",
        "address_line",
        "postcode",
        "city",
        "quotient_familial",
        "accounts",
        "guardians",
        "children",
        "created_at",
        "archived_at",
        "anonymised_at",
    )
    column_export_list = column_details_list
    column_labels = {**COLUMN_LABELS, "name": "Nom du foyer"}
    column_searchable_list = ("name",)
    column_filters = ("city", "quotient_familial", "archived_at")
    column_default_sort = "name"
    form_columns = ("name", "address_line", "postcode", "city", "quotient_familial")

    def get_query(self):
        # Logins and children are listed on every row, guardians exported: load them in three
        # queries, not 3 per row.
        return (
            super()
            .get_query()
            .options(
                selectinload(Family.accounts),
                selectinload(Family.children),
                selectinload(Family.guardians),
            )
        )

    def search_placeholder(self) -> str:
        return "Nom, identifiant ou enfant"

    def is_action_allowed(self, name: str) -> bool:
        """Anonymising a family cannot be undone: the admin role only."""
        return (name != "anonymise" or is_admin()) and super().is_action_allowed(name)

    @action(
        "anonymise",
        "Anonymiser (famille partie)",
        "Anonymiser ces familles ? Noms, adresses, téléphones, emails, notes des enfants et "
        "documents sont effacés définitivement et leurs identifiants désactivés ; factures "
        "et règlements sont gardés.",
    )
    def action_anonymise(self, ids):
        staff, ip = current_user._get_current_object(), request.remote_addr
        decide_rows(
            Family,
            ids,
            lambda row: gdpr.anonymise_family(row, staff, utcnow(), ip),
            gdpr.GdprError,
            ("famille anonymisée", "familles anonymisées"),
        )

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Every word must match the name, a login or a child (see family_matches)."""
        for word in search.split():
            condition = family_matches(tools.parse_like_term(word))
            query = query.filter(condition)
            if count_query is not None:
                count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins


class FamilyAccountView(LoginAccountMixin, StaffModelView):
    """Family logins. Disabled rather than deleted: sessions and tokens point to them."""

    can_delete = False
    column_list = ("username", "family", "email", "is_enabled", "last_login_at", "locked_until")
    column_details_list = (
        "username",
        "family",
        "email",
        "is_enabled",
        "created_at",
        "last_login_at",
        "password_changed_at",
        "locked_until",
    )
    column_export_list = column_details_list
    column_searchable_list = ("username", "email", "family.name")
    column_filters = ("is_enabled", "last_login_at")
    column_default_sort = "username"
    form_columns = ("family", "username", "email", "is_enabled")


class GuardianView(StaffModelView):
    can_delete = False
    column_list = (
        "last_name",
        "first_name",
        "family",
        "relation",
        "email",
        "phone_mobile",
        "is_payer",
    )
    column_searchable_list = ("last_name", "first_name", "email", "family.name")
    column_filters = ("is_payer",)
    column_default_sort = [("last_name", False), ("first_name", False)]
    form_columns = (
        "family",
        "first_name",
        "last_name",
        "relation",
        "email",
        "phone_mobile",
        "phone_work",
        "is_payer",
    )


class ChildView(StaffModelView):
    """Children; the health note is the admin's only (hidden by StaffModelView)."""

    can_delete = False
    column_list = ("last_name", "first_name", "family", "birth_date", "school", "class_name")
    column_details_list = (*column_list, "diet_note", "allergies", "pickup_people", "health_note")
    column_export_list = column_details_list
    column_searchable_list = ("last_name", "first_name", "family.name")
    column_filters = ("school.name", "class_name", "birth_date")
    column_default_sort = [("last_name", False), ("first_name", False)]
    form_columns = (
        "family",
        "first_name",
        "last_name",
        "birth_date",
        "school",
        "class_name",
        "diet_note",
        "allergies",
        "pickup_people",
        "health_note",
    )


def masked_request_value(_view, _context, change: ChangeRequest, name: str) -> str:
    """A requested change of a sensitive field is shown to the admin role only."""
    if change.field in audit.SENSITIVE_FIELDS and not is_admin():
        return audit.MASK
    return getattr(change, name)


def request_words(change: ChangeRequest) -> tuple[str, str]:
    """« Responsable légal n° 3 », « Téléphone portable »: what a request is about."""
    entity = label(CHANGE_ENTITIES.get(change.entity, change.entity))
    field = CHANGEABLE_FIELDS.get(change.entity, {}).get(change.field, change.field)
    return f"{entity} n° {change.entity_id}", label(field)


class ChangeRequestView(ReadOnlyView):
    """Families' edits of their own data, decided field by field by the actions below
    (services.change_requests applies, journals and tells the family); the status is never
    a field. A refusal sends the reason typed above the list."""

    list_template = "admin/change_requests/list.html"
    column_list = (
        "created_at",
        "family",
        "entity",
        "entity_id",
        "field",
        "old_value",
        "new_value",
        "status",
    )
    column_filters = ("status", "entity", "created_at")
    column_searchable_list = ("family.name", "field")
    column_default_sort = ("created_at", True)
    column_formatters = {
        **dict.fromkeys(("old_value", "new_value"), masked_request_value),
        "entity": lambda _v, _c, change, _n: request_words(change)[0],
        "field": lambda _v, _c, change, _n: request_words(change)[1],
    }

    @action("accept", "Accepter", "Accepter ces modifications ? Les fiches sont mises à jour.")
    def action_accept(self, ids):
        self._decide(
            ids, change_requests.ACCEPT, ("modification acceptée", "modifications acceptées")
        )

    @action("refuse", "Refuser", "Refuser ces modifications, avec le motif écrit au-dessus ?")
    def action_refuse(self, ids):
        self._decide(
            ids, change_requests.REFUSE, ("modification refusée", "modifications refusées")
        )

    def _decide(self, ids, decision: str, done: tuple[str, str]) -> None:
        staff, ip = current_user._get_current_object(), request.remote_addr
        reason = request.form.get("reason", "")
        decide_rows(
            ChangeRequest,
            ids,
            lambda row: change_requests.decide(row, decision, staff, utcnow(), ip, reason),
            change_requests.ChangeRequestError,
            done,
        )


def add_views(admin: Admin) -> None:
    admin.add_views(
        FamilyView(Family, db, name="Foyers", category=CATEGORY),
        FamilyAccountView(FamilyAccount, db, name="Identifiants", category=CATEGORY),
        GuardianView(Guardian, db, name="Responsables légaux", category=CATEGORY),
        ChildView(Child, db, name="Enfants", category=CATEGORY),
        ChangeRequestView(ChangeRequest, db, name="Demandes de modification", category=CATEGORY),
    )
