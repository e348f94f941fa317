"""Pièces des familles: the review queue of the documents families send.

Staff filter the list (type, status, family, date) and search it, open a document's page to
see it (an image inline, a PDF opened sandboxed), download it, accept it (a QF certificate
with the quotient it shows: services.documents records it on the family) or refuse it
with a reason; or accept, or refuse with one reason, many at once. Every decision goes
through services.documents.review_document; the status is never a field.

Medical certificates and health sheets exist here only for staff who may see health
documents (StaffUser.sees_health_documents): for the others they are not listed, counted,
opened nor downloaded (404). Each view, preview or download of one is journaled
(SECURITY.md 30).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import Admin, expose
from flask_admin.actions import action
from flask_login import current_user

from admin_views.base import StaffModelView, decide_rows
from admin_views.fields import row_id
from blueprints.documents import document_response
from extensions import db
from models import Document, DocumentStatus, DocumentType, utcnow
from services import documents
from vocabulary import enum_label

CATEGORY = "Familles"
DONE = {
    "approve": ("pièce acceptée", "pièces acceptées"),
    "refuse": ("pièce refusée", "pièces refusées"),
}
REASON_MAX = 300


def _visible(query):
    """Health documents are left out for staff who may not see them."""
    if current_user.sees_health_documents:
        return query
    return query.filter(Document.doc_type.notin_(documents.HEALTH_TYPES))


class DocumentView(StaffModelView):
    """The queue; the details page shows the document and decides on it."""

    can_create = False
    can_delete = False
    details_template = "admin/documents/details.html"
    column_list = (
        "created_at",
        "family",
        "child",
        "doc_type",
        "status",
        "original_name",
        "expires_on",
    )
    column_details_list = (
        *column_list,
        "content_type",
        "size_bytes",
        "reviewed_at",
        "refusal_reason",
    )
    column_export_list = column_details_list
    column_searchable_list = ("original_name", "family.name")
    column_filters = ("doc_type", "status", "family.name", "created_at", "expires_on")
    column_default_sort = ("created_at", True)
    form_columns = ("refusal_reason", "expires_on")

    def get_query(self):
        return _visible(super().get_query())

    def get_count_query(self):
        return _visible(super().get_count_query())

    def get_one(self, id):
        document = super().get_one(id)
        if document is None or not documents.may_see(current_user, document):
            return None
        return document

    def _document_or_404(self) -> Document:
        document = self.get_one(request.args.get("id", ""))
        if document is None:
            abort(404)
        return document

    @expose("/details/")
    def details_view(self):
        document = self.get_one(request.args.get("id", ""))
        if document is not None:
            documents.record_staff_view(current_user, document, "view", request.remote_addr)
        return super().details_view()

    @expose("/fichier/")
    def download_view(self):
        document = self._document_or_404()
        documents.record_staff_view(current_user, document, "download", request.remote_addr)
        return document_response(document)

    @expose("/apercu/")
    def preview_view(self):
        """Images and PDFs shown by the browser, sandboxed; others are downloaded."""
        document = self._document_or_404()
        documents.record_staff_view(current_user, document, "preview", request.remote_addr)
        inline = document.content_type in documents.PREVIEWABLE
        return document_response(document, inline=inline)

    @expose("/decider/", methods=("POST",))
    def decide_view(self):
        """One document accepted or refused from its page."""
        document = self._document_or_404()
        decision = request.form.get("decision", "")
        if decision not in DONE:
            abort(400)
        try:
            documents.review_document(
                document,
                decision,
                current_user._get_current_object(),
                utcnow(),
                request.remote_addr,
                reason=request.form.get("reason") if decision == "refuse" else None,
                quotient=_quotient(request.form.get("quotient", "")),
            )
        except documents.ReviewError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"{DONE[decision][0].capitalize()} : {document.original_name}.", "success")
        return redirect(url_for(".details_view", id=document.id))

    @action("accept", "Accepter", "Accepter ces pièces ? Les familles sont prévenues.")
    def action_accept(self, ids):
        self._review(ids, "approve", None)

    @action("refuse", "Refuser (avec un motif)")
    def action_refuse(self, ids):
        return redirect(url_for(".refuse_view", ids=",".join(ids)))

    @expose("/refuser/", methods=("GET", "POST"))
    def refuse_view(self):
        """The reason written once for every document ticked, then each refused."""
        ids = [i for i in request.values.get("ids", "").split(",") if row_id(i) is not None]
        rows = [row for row in map(self.get_one, ids) if row is not None]
        reason = (request.form.get("reason") or "").strip()[:REASON_MAX]
        if request.method == "POST" and reason:
            self._review([str(row.id) for row in rows], "refuse", reason)
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            flash("Écrivez le motif du refus : la famille le lira.", "error")
        return self.render(
            "admin/documents/refuse.html", rows=rows, reason=reason, reason_max=REASON_MAX
        )

    def _review(self, ids, decision: str, reason: str | None) -> None:
        staff, ip = current_user._get_current_object(), request.remote_addr
        visible = [i for i in ids if self.get_one(i) is not None]
        decide_rows(
            Document,
            visible,
            lambda row: documents.review_document(row, decision, staff, utcnow(), ip, reason),
            documents.ReviewError,
            DONE[decision],
        )

    def render(self, template, **kwargs):
        kwargs.setdefault("received", DocumentStatus.RECEIVED)
        kwargs.setdefault("quotient_type", DocumentType.QUOTIENT)
        kwargs.setdefault("previewable", documents.PREVIEWABLE)
        kwargs.setdefault("label", enum_label)
        return super().render(template, **kwargs)


def _quotient(value: str) -> int | None:
    value = value.strip().replace(" ", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def add_views(admin: Admin) -> None:
    admin.add_view(DocumentView(Document, db, name="Pièces des familles", category=CATEGORY))
