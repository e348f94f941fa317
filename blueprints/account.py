"""MON COMPTE: the family's details and its change requests, the GDPR download, the password,
the email address and alert emails."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import EmailField, Form, PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints import remember_cookie
from blueprints.guards import (
    child_of_current_family,
    current_family,
    family_required,
    guardian_of_current_family,
)
from extensions import db, limiter
from models import AlertKind, Child, Family, utcnow
from services import (
    account_email,
    accounts,
    change_requests,
    gdpr,
    notifications,
    remembered_devices,
)
from vocabulary import CHANGEABLE_FIELDS, enum_choices, label

bp = Blueprint("account", __name__)


class PasswordForm(FlaskForm):
    current = PasswordField("Mot de passe actuel", validators=[DataRequired(), Length(max=256)])
    new = PasswordField("Nouveau mot de passe", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Confirmez le nouveau mot de passe", validators=[DataRequired()])


class EmailAlertsForm(FlaskForm):
    kinds = SelectMultipleField("Recevoir aussi par email", choices=enum_choices(AlertKind))


class EmailChangeForm(FlaskForm):
    new_email = EmailField(
        "Nouvelle adresse email",
        validators=[
            DataRequired("Indiquez la nouvelle adresse."),
            Length(max=account_email.EMAIL_MAX, message="Cette adresse est trop longue."),
        ],
    )
    password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired("Indiquez votre mot de passe actuel."), Length(max=256)],
    )


def _words(entity: str, field: str) -> str:
    return label(CHANGEABLE_FIELDS[entity][field])


# The change-request forms: each field is a ChangeRequest field; the app's CSRFProtect checks
# their token, and a prefix keeps the ids of one guardian's or child's form apart.
class FamilyContactForm(Form):
    address_line = StringField(_words("Family", "address_line"))
    postcode = StringField(_words("Family", "postcode"))
    city = StringField(_words("Family", "city"))


class GuardianContactForm(Form):
    phone_mobile = StringField(_words("Guardian", "phone_mobile"))
    phone_work = StringField(_words("Guardian", "phone_work"))
    email = EmailField(_words("Guardian", "email"))


class ChildNotesForm(Form):
    diet_note = TextAreaField(_words("Child", "diet_note"))
    allergies = TextAreaField(_words("Child", "allergies"))
    pickup_people = TextAreaField(_words("Child", "pickup_people"))


CHANGE_FORMS = {
    "Family": FamilyContactForm,
    "Guardian": GuardianContactForm,
    "Child": ChildNotesForm,
}
PREFIXES = {"Family": "foyer", "Guardian": "responsable", "Child": "enfant"}
# How the page reaches each form, and what a phone's keyboard and autofill need.
CHANGE_PAGE = {
    "fields": CHANGEABLE_FIELDS,
    "endpoints": {
        "Family": "account.change_family",
        "Guardian": "account.change_guardian",
        "Child": "account.change_child",
    },
    "id_names": {"Guardian": "guardian_id", "Child": "child_id"},
    "field_attributes": {
        "address_line": {"autocomplete": "street-address", "maxlength": 200},
        "postcode": {"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 10},
        "city": {"autocomplete": "address-level2", "maxlength": 120},
        "phone_mobile": {"type": "tel", "autocomplete": "off", "maxlength": 30},
        "phone_work": {"type": "tel", "autocomplete": "off", "maxlength": 30},
        "email": {"autocomplete": "off", "inputmode": "email", "maxlength": 254},
        "diet_note": {"rows": 2, "maxlength": 1000},
        "allergies": {"rows": 2, "maxlength": 1000},
        "pickup_people": {"rows": 3, "maxlength": 1000},
    },
}


def change_form(entity: str, target, formdata=None) -> Form:
    """The form of one fiche, filled with what is on file (or with what was posted)."""
    return CHANGE_FORMS[entity](formdata, obj=target, prefix=f"{PREFIXES[entity]}{target.id}")


def _email_change_key() -> str:
    """Per-account throttle: each request sends an email to an address the person typed."""
    account_id = getattr(current_user, "id", None)
    return f"email-change:{account_id}" if account_id else get_remote_address()


def _render_index(status: int = 200, **forms):
    forms.setdefault("form", PasswordForm(formdata=None))
    forms.setdefault(
        "alerts_form",
        EmailAlertsForm(
            formdata=None, kinds=notifications.chosen_email_kinds(current_user.email_alert_kinds)
        ),
    )
    forms.setdefault("email_form", EmailChangeForm(formdata=None))
    this_device_id = remembered_devices.current_device_id(
        current_user, remember_cookie.current_cookie()
    )
    family = family_on_file()
    page = render_template(
        "account/index.html",
        family=family,
        waiting=change_requests.waiting_requests(family),
        change_forms=forms.pop("change_forms", {}),
        change_form=change_form,
        **CHANGE_PAGE,
        devices=remembered_devices.devices_of(current_user, utcnow(), this_device_id),
        this_device_id=this_device_id,
        **forms,
    )
    return page, status


def family_on_file() -> Family:
    """The signed-in family, its guardians and its children (with their school) loaded."""
    return db.session.scalar(
        select(Family)
        .where(Family.id == current_family().id)
        .options(
            selectinload(Family.guardians),
            selectinload(Family.children).joinedload(Child.school),
        )
    )


# The remembered devices end with the password, this phone's too (accounts.revoke_sessions).
CHANGE_DONE_MESSAGE = (
    "Mot de passe modifié. Vos autres appareils ont été déconnectés, et « Rester connecté » "
    "est arrêté sur tous vos téléphones : cochez-le à nouveau à votre prochaine connexion."
)


@bp.get("/compte")
@family_required
def index():
    return _render_index()


@bp.post("/compte/foyer")
@family_required
def change_family():
    return _ask_changes("Family", current_family())


@bp.post("/compte/responsables/<int:guardian_id>")
@family_required
def change_guardian(guardian_id: int):
    return _ask_changes("Guardian", guardian_of_current_family(guardian_id))


@bp.post("/compte/enfants/<int:child_id>")
@family_required
def change_child(child_id: int):
    return _ask_changes("Child", child_of_current_family(child_id))


def _ask_changes(entity: str, target):
    """The fiche's form as posted, turned into change requests for staff to validate."""
    form = change_form(entity, target, request.form)
    values = {name: _one_value(form[name].data) for name in CHANGEABLE_FIELDS[entity]}
    try:
        written = change_requests.request_changes(
            current_family(), entity, target.id, values, utcnow()
        )
    except change_requests.ChangeRequestError as error:
        db.session.rollback()
        form[error.field].errors = [error.message] if error.field in form else []
        flash(error.message, "error")
        return _render_index(400, change_forms={(entity, target.id): form})
    flash(_sent_message(len(written)), "success" if written else "info")
    return redirect(url_for("account.index", _anchor=f"{PREFIXES[entity]}{target.id}"))


def _one_value(value) -> str:
    return value if isinstance(value, str) else ""


def _sent_message(count: int) -> str:
    if not count:
        return "Rien n'a changé : aucune demande envoyée."
    if count == 1:
        return (
            "1 modification envoyée à la mairie. Elle s'appliquera une fois validée ; "
            "vous recevrez une alerte."
        )
    return (
        f"{count} modifications envoyées à la mairie. Chacune s'appliquera une fois "
        "validée ; vous recevrez une alerte pour chacune."
    )


@bp.get("/compte/mes-donnees")
@family_required
def my_data():
    """Every piece of the family's data, as one ZIP to download (GDPR access)."""
    now = utcnow()
    archive = gdpr.export_zip(current_family(), now)
    return send_file(
        io.BytesIO(archive),
        mimetype="application/zip",
        as_attachment=True,
        download_name=gdpr.export_name(now),
    )


@bp.post("/compte/mot-de-passe")
@family_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if form.new.data != form.confirm.data:
            flash("Les deux nouveaux mots de passe ne sont pas identiques.", "error")
        else:
            try:
                accounts.change_password(current_user, form.current.data, form.new.data, utcnow())
            except accounts.PasswordRejected as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(CHANGE_DONE_MESSAGE, "success")
                return redirect(url_for("account.index"))
    return _render_index(400, form=form)


@bp.post("/compte/appareils/<int:device_id>/deconnecter")
@family_required
def disconnect_device(device_id: int):
    this_device = remembered_devices.current_device_id(
        current_user, remember_cookie.current_cookie()
    )
    try:
        label = remembered_devices.disconnect_device(current_user, device_id, utcnow())
    except remembered_devices.DeviceNotFound:
        abort(404)
    if device_id == this_device:
        remember_cookie.forget_cookie()
        flash("Ce téléphone est déconnecté. Reconnectez-vous avec votre mot de passe.", "info")
        return redirect(url_for("auth.login"))
    flash(
        f"L'appareil « {label} » est déconnecté : il lui faudra le mot de passe pour revenir.",
        "success",
    )
    return redirect(url_for("account.index"))


@bp.post("/compte/alertes-email")
@family_required
def email_alerts():
    form = EmailAlertsForm()
    if not form.validate_on_submit():
        flash("Ce choix n'est pas possible. Rechargez la page et recommencez.", "error")
        return _render_index(400)
    notifications.set_email_alert_kinds(current_user, form.kinds.data)
    if form.kinds.data:
        flash("Vos préférences d'emails sont enregistrées.", "success")
    else:
        flash(
            "Vous ne recevrez plus d'alertes par email ; elles restent affichées dans Alertes.",
            "success",
        )
    return redirect(url_for("account.index"))


@bp.post("/compte/email")
@limiter.limit("5 per hour", key_func=_email_change_key)
@family_required
def request_email_change():
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            address = account_email.request_email_change(
                current_user, form.new_email.data, form.password.data, utcnow()
            )
        except account_email.EmailChangeRejected as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            flash(
                f"Un lien de confirmation vient d'être envoyé à {address}. Votre adresse "
                f"changera quand vous l'aurez ouvert (il est valable "
                f"{account_email.EMAIL_CHANGE_HOURS} heures).",
                "info",
            )
            return redirect(url_for("account.index"))
    return _render_index(400, email_form=form)


@bp.get("/compte/email/<token>")
def confirm_email(token: str):
    """Only shows the change: a mail scanner that fetches the link confirms nothing."""
    try:
        change = account_email.pending_change(token, utcnow())
    except accounts.InvalidToken:
        return _email_link_page(None)
    return _email_link_page(change)


@bp.post("/compte/email/<token>")
def apply_email_change(token: str):
    try:
        account = account_email.confirm_email_change(token, utcnow())
    except accounts.InvalidToken:
        db.session.rollback()
        return _email_link_page(None)
    flash(f"C'est fait : les emails du portail iront désormais à {account.email}.", "success")
    signed_in_here = current_user.is_authenticated and not current_user.is_staff
    if signed_in_here and current_user.id == account.id:
        return redirect(url_for("account.index"))
    return redirect(url_for("auth.login"))


def _email_link_page(change: account_email.PendingChange | None):
    page = render_template(
        "account/confirm_email.html", change=change, hours=account_email.EMAIL_CHANGE_HOURS
    )
    return page, 200 if change else 404
