"""MON COMPTE: the family's details, the password, the email address and alert emails."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, Length

from blueprints import remember_cookie
from blueprints.guards import current_family, family_required
from extensions import db, limiter
from models import AlertKind, utcnow
from services import account_email, accounts, notifications, remembered_devices
from vocabulary import enum_choices

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
    page = render_template(
        "account/index.html",
        family=current_family(),
        devices=remembered_devices.devices_of(current_user, utcnow(), this_device_id),
        this_device_id=this_device_id,
        **forms,
    )
    return page, status


# The remembered devices end with the password, this phone's too (accounts.revoke_sessions).
CHANGE_DONE_MESSAGE = (
    "Mot de passe modifié. Vos autres appareils ont été déconnectés, et « Rester connecté » "
    "est arrêté sur tous vos téléphones : cochez-le à nouveau à votre prochaine connexion."
)


@bp.get("/compte")
@family_required
def index():
    return _render_index()


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
