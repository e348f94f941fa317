"""Sign-in, sign-out and forgotten password, for families and staff alike."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from blueprints import remember_cookie
from extensions import limiter
from models import utcnow
from services import accounts, password_reset, remembered_devices, sign_in_limits

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Identifiant ou mot de passe incorrect."


class LoginForm(FlaskForm):
    username = StringField("Identifiant", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Rester connecté sur ce téléphone")


class ForgotForm(FlaskForm):
    username = StringField("Identifiant", validators=[DataRequired(), Length(max=80)])


class ResetForm(FlaskForm):
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Confirmez le mot de passe", validators=[DataRequired()])


def safe_next(target: str | None) -> str | None:
    """`next` only if it is a path on this site (no scheme, no host, no backslash trick)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _home_for(account) -> str:
    return url_for("admin.index") if account.is_staff else url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_PER_IP"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        account = _authenticate(form.username.data, form.password.data)
        if account is not None:
            return _start_session(account, remember=form.remember.data)
        flash(LOGIN_FAILED, "error")
    return render_template("auth/login.html", form=form)


def _authenticate(username: str, password: str):
    """The account, or None; 429 past the login's limit (services.sign_in_limits)."""
    login = accounts.normalize_username(username)
    browser = sign_in_limits.known_browser(request.cookies.get(sign_in_limits.COOKIE), login)
    try:
        account = accounts.authenticate(username, password, utcnow(), known_browser=browser)
    except accounts.AccountLocked:
        return None
    except accounts.TooManyAttempts:
        abort(429)
    if account is not None:
        _remember_this_browser(login)
    return account


def _remember_this_browser(login: str) -> None:
    """This browser signed in: from now on, failures from elsewhere cannot lock it out."""
    value = sign_in_limits.known_browser_cookie(login)

    @after_this_request
    def _set_cookie(response):
        response.set_cookie(
            sign_in_limits.COOKIE,
            value,
            max_age=sign_in_limits.COOKIE_MAX_AGE,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
            httponly=True,
            samesite="Lax",
        )
        return response


def _start_session(account, remember: bool = False):
    """A fresh session: nothing of the anonymous one survives (session fixation)."""
    next_url = safe_next(request.args.get("next"))
    session.clear()
    ip = request.remote_addr or ""
    if remember:
        cookie = remembered_devices.open_remembered_session(
            account, utcnow(), ip, request.headers.get("User-Agent", "")
        )
        remember_cookie.set_cookie(cookie)
    else:
        accounts.open_session(account, utcnow(), ip=ip)
    login_user(account)
    return redirect(next_url or _home_for(account))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.revoke_session(current_user.get_id(), utcnow())
        if not current_user.is_staff:
            remembered_devices.forget_device(
                current_user, remember_cookie.current_cookie(), utcnow()
            )
    remember_cookie.forget_cookie()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        password_reset.send_reset_link(form.username.data, utcnow())
        flash(
            "Si cet identifiant existe, un lien pour choisir un nouveau mot de passe "
            "vient d'être envoyé à l'adresse email du compte. Il est valable 2 heures ; "
            "seul le dernier lien reçu fonctionne (3 envois au plus par heure).",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset_password(token: str):
    now = utcnow()
    if not password_reset.token_is_live(token, now):
        flash("Ce lien n'est plus valable. Demandez-en un nouveau.", "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            flash("Les deux mots de passe ne sont pas identiques.", "error")
        else:
            try:
                accounts.reset_password_with_token(token, form.password.data, now)
            except accounts.PasswordRejected as error:
                flash(str(error), "error")
            except accounts.InvalidToken:
                flash("Ce lien n'est plus valable. Demandez-en un nouveau.", "error")
                return redirect(url_for("auth.forgot_password"))
            else:
                flash("Votre mot de passe est enregistré. Connectez-vous.", "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
