"""Contenus: news on the home page, the commune's published files, alerts to families."""

from __future__ import annotations

from flask import flash, request
from flask_admin import Admin
from flask_admin.actions import action
from flask_login import current_user
from wtforms import FileField
from wtforms.validators import ValidationError

from admin_views.base import StaffModelView, decide_rows
from admin_views.labels import COLUMN_LABELS
from extensions import db
from models import Alert, AlertKind, NewsItem, Resource, utcnow
from services import news, notifications, resources
from vocabulary import RESOURCE_CATEGORIES, enum_choices, label

CATEGORY = "Contenus"


class NewsItemView(StaffModelView):
    """News on ACCUEIL (services.news): shown from « Publié le » to « Affiché jusqu'au »
    included, to everyone or to the families of a school or of an activity; the text takes
    simple formatting, rendered safely."""

    column_list = ("published_on", "ends_on", "title", "school", "activity", "is_published")
    column_searchable_list = ("title",)
    column_filters = ("is_published", "published_on")
    column_default_sort = ("published_on", True)
    column_labels = {**COLUMN_LABELS, "ends_on": "Affiché jusqu'au"}
    form_columns = (
        "title",
        "body",
        "published_on",
        "ends_on",
        "school",
        "activity",
        "is_published",
    )
    form_args = {
        "body": {
            "description": "Mise en forme : **gras**, *italique*, une ligne vide entre deux "
            "paragraphes, « - » en début de ligne pour une liste, [texte](https://adresse) "
            "pour un lien."
        },
        "ends_on": {"description": "Vide : affichée jusqu'à ce qu'elle soit dépubliée."},
        "school": {"description": "Vide : toutes les écoles."},
        "activity": {"description": "Vide : toutes les familles (ou toute l'école choisie)."},
    }

    def on_model_change(self, form, model, is_created) -> None:
        error = news.window_error(model.published_on, model.ends_on)
        if error:
            raise ValidationError(error)
        super().on_model_change(form, model, is_created)


class ResourceView(StaffModelView):
    """The commune's files: published, replaced and edited through services.resources (type
    and content checks, random stored name, journaled); unpublished rather than deleted."""

    can_delete = False
    column_list = (
        "title",
        "category",
        "school",
        "valid_from",
        "valid_to",
        "original_name",
        "is_published",
    )
    column_details_list = (*column_list, "content_type", "size_bytes", "created_at")
    column_searchable_list = ("title",)
    column_filters = ("category", "is_published")
    column_default_sort = ("created_at", True)
    column_choices = {
        "category": [(code, label(word)) for code, word in RESOURCE_CATEGORIES.items()]
    }
    form_choices = column_choices
    form_columns = (
        "title",
        "category",
        "file",
        "school",
        "valid_from",
        "valid_to",
        "is_published",
    )
    form_extra_fields = {
        "file": FileField(
            "Fichier",
            description=f"PDF, PNG ou JPEG, {resources.MAX_BYTES // 1024 // 1024} Mo au plus. "
            "En modification : laissez vide pour garder le fichier actuel.",
        )
    }
    form_args = {
        "school": {"description": "Vide : toutes les écoles."},
        "valid_to": {"description": "Vide : sans date de fin."},
    }

    def create_model(self, form):
        try:
            return resources.publish_resource(
                _details(form), _upload(required=True), current_user, request.remote_addr
            )
        except resources.ResourceRefused as refused:
            flash(refused.message, "error")
            return False

    def update_model(self, form, model):
        try:
            resources.update_resource(
                model, _details(form), _upload(), current_user, request.remote_addr
            )
        except resources.ResourceRefused as refused:
            db.session.rollback()
            flash(refused.message, "error")
            return False
        return True

    @action("unpublish", "Dépublier", "Les familles ne verront plus ces fichiers. Continuer ?")
    def action_unpublish(self, ids):
        self._publish(ids, False, ("fichier dépublié", "fichiers dépubliés"))

    @action("publish", "Publier")
    def action_publish(self, ids):
        self._publish(ids, True, ("fichier publié", "fichiers publiés"))

    def _publish(self, ids, published: bool, done: tuple[str, str]) -> None:
        decide_rows(
            Resource,
            ids,
            lambda row: resources.set_published(row, published, current_user, request.remote_addr),
            resources.ResourceRefused,
            done,
        )


def _details(form) -> resources.Details:
    school = form.school.data
    return resources.Details(
        title=form.title.data or "",
        category=form.category.data or "",
        school_id=school.id if school else None,
        valid_from=form.valid_from.data,
        valid_to=form.valid_to.data,
        is_published=bool(form.is_published.data),
    )


def _upload(required: bool = False) -> resources.Upload | None:
    """The sent file (read up to one byte past the limit); None when none was chosen."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        if required:
            raise resources.ResourceRefused("Choisissez le fichier à publier.")
        return None
    return resources.Upload(sent.filename, sent.stream.read(resources.MAX_BYTES + 1))


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
