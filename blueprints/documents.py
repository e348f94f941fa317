"""DOCUMENTS: the family sends a document (a photo or a file) and follows each one's review.

Every check is services.uploads' (the file) and services.documents' (type, child, absence,
quota); this view parses and says in French what happened. A family's sends are limited
(UPLOAD_RATE, counted per family, a certificate sent with an absence included), each
being checked and a photo decoded. A document is downloaded only by its own family,
through `download`: an attachment with the stored content type, never rendered by the
portal's origin (`Content-Security-Policy: sandbox`, app.py's `nosniff` and `no-store`).
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FileField, SelectField

from blueprints.guards import current_family, document_of_current_family, family_required
from extensions import limiter
from models import DocumentType, utcnow
from services import documents, resources, uploads
from services.calendar import paris_today
from services.formatting import date_fr
from services.uploads import UploadRefused
from vocabulary import DOCUMENT_STATUSES, DOCUMENT_TYPES, label

bp = Blueprint("documents", __name__)

# What a download's own CSP says: nothing it holds may run, even opened directly.
DOWNLOAD_CSP = "sandbox; default-src 'none'"
# Sends a family may make: a few certificates take a few minutes; every send is checked,
# a photo decoded, so a script looping on the form is stopped well before the quota.
UPLOAD_RATE = "10 per minute;30 per hour"
TOO_MANY_UPLOADS = (
    "Vous avez envoyé beaucoup de documents en peu de temps : ce dernier envoi n'a pas été "
    "enregistré. Patientez quelques minutes, puis envoyez-le à nouveau."
)


class DocumentForm(FlaskForm):
    """The choices are the family's own; services.documents checks them again."""

    doc_type = SelectField("Type de document", validate_choice=False)
    child = SelectField("Enfant concerné", validate_choice=False)
    absence = SelectField("Absence justifiée (certificat médical)", validate_choice=False)
    photo = FileField("Prendre une photo")
    upload = FileField("Ou choisir un fichier")

    def __init__(self, children, absences, prefill=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.doc_type.choices = [(kind.value, label(DOCUMENT_TYPES[kind])) for kind in DocumentType]
        self.child.choices = [("", "Tout le foyer")] + [(str(c.id), c.first_name) for c in children]
        self.absence.choices = [("", "Aucune")] + [(str(b.id), _absence_words(b)) for b in absences]
        if not self.is_submitted():
            prefill = prefill or {}
            self.doc_type.data = prefill.get("type")
            self.child.data = prefill.get("child")
            self.absence.data = prefill.get("absence")

    def chosen_file(self):
        """The photo taken or the file picked, whichever was sent."""
        sent = [f.data for f in (self.photo, self.upload) if getattr(f.data, "filename", "")]
        if len(sent) != 1:
            raise UploadRefused(
                "Prenez une photo ou choisissez un fichier (un seul document à la fois)."
            )
        return sent[0]


def _absence_words(booking) -> str:
    return f"{booking.child.first_name} — {date_fr(booking.day)} ({booking.activity.name})"


def _family_key() -> str:
    """Per family: its guardians' logins share one allowance, whatever their address."""
    family_id = getattr(current_user, "family_id", None)
    return f"documents:{family_id}" if family_id else get_remote_address()


def _no_file_sent() -> bool:
    """An absence declared without a certificate sends no document: not counted."""
    return not any(file.filename for file in request.files.values())


# DOCUMENTS and a certificate sent with an absence (blueprints.bookings) draw on one
# allowance: either way the file is checked and a photo decoded.
sends_limited = limiter.shared_limit(
    UPLOAD_RATE,
    scope="documents-sent",
    key_func=_family_key,
    methods=["POST"],
    exempt_when=_no_file_sent,
)


@bp.errorhandler(429)
def too_many_uploads(_error):
    """The app's 429 page speaks of sign-in attempts; here, of documents."""
    page = render_template(
        "errors/error.html", code=429, title="Trop d'envois", message=TOO_MANY_UPLOADS
    )
    return page, 429


@bp.route("/documents", methods=["GET", "POST"])
@sends_limited
@family_required
def index():
    family, today = current_family(), paris_today(utcnow())
    absences = documents.declared_absences(family, today)
    form = DocumentForm(family.children, absences, prefill=request.args)
    if form.validate_on_submit():
        try:
            document = receive(family, form)
        except UploadRefused as refused:
            flash(refused.message, "error")
        else:
            flash(
                f"Document reçu : {document.original_name}. Le service va le vérifier.", "success"
            )
            return redirect(url_for(".index"), 303)
    sent = documents.family_documents(family)
    return render_template(
        "documents/index.html",
        form=form,
        sent=sent,
        needs=documents.needs(family, family.children, sent, today),
        types=DOCUMENT_TYPES,
        statuses=DOCUMENT_STATUSES,
        accept=uploads.ACCEPT_ATTRIBUTE,
        max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        commune_files=resources.current_resources(family, today),
    )


def receive(family, form: DocumentForm):
    """The chosen file checked, then recorded: UploadRefused (French) when anything fails."""
    return store(
        family,
        checked_file(form.chosen_file()),
        form.doc_type.data or "",
        _optional_id(form.child.data, "Choisissez l'enfant dans la liste."),
        _optional_id(form.absence.data, "Choisissez l'absence dans la liste."),
    )


def checked_file(file) -> uploads.CheckedFile | None:
    """A file the signed-in family posted, through the quota and services.uploads' checks;
    None when none was sent."""
    if file is None or not getattr(file, "filename", ""):
        return None
    max_bytes = current_app.config["MAX_CONTENT_LENGTH"]
    data = file.read(max_bytes + 1)
    return documents.check_file(current_family(), file.filename, data, max_bytes, _quota())


def store(family, checked, doc_type: str, child_id: int | None, booking_id: int | None):
    if checked is None:
        raise UploadRefused("Prenez une photo ou choisissez un fichier.")
    return documents.receive_document(
        family,
        checked,
        doc_type,
        child_id,
        booking_id,
        Path(current_app.config["UPLOAD_FOLDER"]),
        _quota(),
    )


def _quota() -> documents.Quota:
    return documents.Quota(
        current_app.config["DOCUMENT_QUOTA_MB"] * 1024 * 1024,
        current_app.config["DOCUMENT_QUOTA_FILES"],
    )


def attach_certificate(family, checked, absence) -> str:
    """The absence form's medical certificate, for its first declared day: what to say."""
    try:
        store(family, checked, DocumentType.MEDICAL_CERTIFICATE.value, None, absence.id)
    except UploadRefused as refused:
        return f"Le certificat médical n'a pas été enregistré : {refused.message}"
    return "Certificat médical reçu : le service va le vérifier."


def _optional_id(value: str | None, message: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise UploadRefused(message)
    return int(value)


@bp.get("/documents/<int:document_id>/fichier")
@family_required
def download(document_id: int):
    return document_response(document_of_current_family(document_id))


def document_response(document, inline: bool = False) -> Response:
    """The document's bytes with the stored content type; an attachment unless `inline`
    (the back office's preview), sandboxed either way; 404 if the file is gone."""
    path = documents.file_path(document, Path(current_app.config["UPLOAD_FOLDER"]))
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=document.content_type,
        as_attachment=not inline,
        download_name=document.original_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
