"""Contenus: news on the home page, the commune's published files, alerts to families."""

from __future__ import annotations

from flask import flash, request
from flask_admin import Admin
from flask_login import current_user

from admin_views.base import StaffModelView
from extensions import db
from models import Alert, AlertKind, NewsItem, Resource, utcnow
from services import notifications
from vocabulary import enum_choices

CATEGORY = "Contenus"


class NewsItemView(StaffModelView):
    column_list = ("published_on", "title", "is_published")
    column_searchable_list = ("title",)
    column_filters = ("is_published", "published_on")
    column_default_sort = ("published_on", True)
    form_columns = ("title", "body", "published_on", "is_published")


class ResourceView(StaffModelView):
    """Published files: the upload (type and content checks) belongs to the documents service."""

    can_create = False
    column_list = ("title", "category", "original_name", "is_published", "created_at")
    column_details_list = (*column_list, "content_type")
    column_searchable_list = ("title",)
    column_filters = ("category", "is_published")
    column_default_sort = ("created_at", True)
    form_columns = ("title", "category", "is_published")


class AlertView(StaffModelView):
    """A message to one family, sent through the notifications service (by email too, as
    the family chose, and journaled); once sent, never rewritten. The link is set by the
    services only (no free URL here)."""

    can_edit = False

    column_list = ("created_at", "family", "kind", "message", "read_at")
    column_searchable_list = ("message", "family.name")
    column_filters = ("kind", "created_at", "read_at")
    column_default_sort = ("created_at", True)
    column_choices = {"kind": enum_choices(AlertKind)}
    form_choices = column_choices
    form_columns = ("family", "kind", "message")

    def create_model(self, form):
        try:
            return notifications.send_staff_alert(
                form.family.data,
                form.kind.data,
                form.message.data or "",
                current_user._get_current_object(),
                utcnow(),
                request.remote_addr,
            )
        except ValueError:
            flash("Choisissez une famille, un type d'alerte et écrivez le message.", "error")
            return False


def add_views(admin: Admin) -> None:
    admin.add_views(
        NewsItemView(NewsItem, db, name="Actualités", category=CATEGORY),
        ResourceView(Resource, db, name="Documents de la structure", category=CATEGORY),
        AlertView(Alert, db, name="Alertes", category=CATEGORY),
    )
