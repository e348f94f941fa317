"""Système: staff accounts, the audit journal, the outgoing mail queue."""

from __future__ import annotations

from flask_admin import Admin

from admin_views.base import LoginAccountMixin, ReadOnlyView, StaffModelView, admin_only
from extensions import db
from models import AuditEvent, OutboxEmail, StaffUser

CATEGORY = "Système"

ACTIONS = {
    "create": "Création",
    "update": "Modification",
    "delete": "Suppression",
    "approve": "Demande acceptée",
    "refuse": "Demande refusée",
    "absence-justified": "Absence justifiée",
    "absence-unjustified": "Absence non justifiée",
    "invite": "Invitation envoyée",
    "disable": "Compte désactivé",
    "enable": "Compte réactivé",
    "previous-address-told": "Ancienne adresse prévenue",
    "payment-recorded": "Règlement enregistré",
    "refund": "Remboursement",
    "reminder": "Relance envoyée",
    # A staff member opened a health document (services.documents.record_staff_view).
    "view": "Document de santé consulté",
    "preview": "Document de santé affiché",
    "download": "Document de santé téléchargé",
}


class StaffUserView(LoginAccountMixin, StaffModelView):
    """Every agent sees the team; only an admin adds, edits or removes an account."""

    can_create = can_edit = can_delete = admin_only()
    column_list = (
        "username",
        "full_name",
        "email",
        "role",
        "is_enabled",
        "last_login_at",
        "last_seen_at",
    )
    column_details_list = (
        *column_list,
        "sees_health_documents",
        "created_at",
        "password_changed_at",
        "locked_until",
    )
    column_export_list = column_details_list
    column_searchable_list = ("username", "full_name", "email")
    column_filters = ("role", "is_enabled")
    column_default_sort = "username"
    form_columns = ("username", "full_name", "email", "role", "sees_health_documents", "is_enabled")


def action_label(_view, _context, event: AuditEvent, _name) -> str:
    return ACTIONS.get(event.action, event.action)


class AuditEventView(ReadOnlyView):
    column_list = ("at", "actor", "action", "entity", "entity_id", "changes", "ip")
    column_searchable_list = ("actor", "entity", "entity_id")
    column_filters = ("at", "actor", "action", "entity")
    column_default_sort = [("at", True), ("id", True)]
    column_formatters = {"action": action_label}


class OutboxEmailView(ReadOnlyView):
    """Addresses and delivery only: a body may carry a sign-in link (hidden by the base)."""

    column_list = (
        "created_at",
        "to_address",
        "subject",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    column_searchable_list = ("to_address", "subject")
    column_filters = ("sent_at", "created_at")
    column_default_sort = ("created_at", True)


def add_views(admin: Admin) -> None:
    admin.add_views(
        StaffUserView(StaffUser, db, name="Agents", category=CATEGORY),
        AuditEventView(AuditEvent, db, name="Journal", category=CATEGORY),
        OutboxEmailView(OutboxEmail, db, name="Courriels envoyés", category=CATEGORY),
    )
