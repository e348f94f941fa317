"""The application factory: reads like a table of contents."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta

from flask import (
    Flask,
    abort,
    current_app,
    g,
    has_app_context,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import ProductionConfig, config_for
from extensions import babel, csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)


def create_app(overrides: dict | None = None) -> Flask:
    """Build a configured app; `overrides` are applied last (tests pass a database URL)."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, overrides)
    register_extensions(app)
    register_blueprints(app)
    register_admin(app)
    register_security_headers(app)
    register_input_guard(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def load_config(app: Flask, overrides: dict | None) -> None:
    env = (overrides or {}).get("APP_ENV") or os.environ.get("APP_ENV")
    settings = config_for(env)
    app.config.from_object(settings)
    if settings.APP_ENV != "test" and os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config.update(overrides or {})
    if app.config["APP_ENV"] == "production":
        ProductionConfig.validate(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    # Flask-Admin's own strings come out in French (BABEL_DEFAULT_LOCALE).
    babel.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)


def _load_user(token: str):
    from models import utcnow
    from services.accounts import SessionLimits, load_session

    limits = SessionLimits(
        absolute=timedelta(hours=current_app.config["SESSION_ABSOLUTE_TIMEOUT_HOURS"]),
        staff_idle=timedelta(minutes=current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"]),
    )
    return load_session(token, utcnow(), limits)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on and WAL for SQLite (PostgreSQL needs nothing)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Session, "after_flush")
def _forget_unread_alerts_on_flush(_session, _context) -> None:
    _forget_unread_alerts()


@event.listens_for(Session, "do_orm_execute")
def _forget_unread_alerts_on_write(state) -> None:
    if not state.is_select:
        _forget_unread_alerts()


def _forget_unread_alerts() -> None:
    """Once a request writes, the unread count read with its session check may be stale:
    the navigation counts again (an alert added or marked read before the page renders)."""
    if has_app_context():
        user = g.get("_login_user")
        if getattr(user, "unread_alerts", None) is not None:
            user.unread_alerts = None


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs: at most 18 digits. A longer number is no id of ours, and one past
    4,300 digits would make int() itself fail; it simply matches no route (404)."""

    regex = r"\d{1,18}"


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    from blueprints import remember_cookie
    from blueprints.account import bp as account_bp
    from blueprints.alerts import bp as alerts_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.bookings import bp as bookings_bp
    from blueprints.documents import bp as documents_bp
    from blueprints.finances import bp as finances_bp
    from blueprints.home import bp as home_bp
    from blueprints.registrations import bp as registrations_bp
    from blueprints.resources import bp as resources_bp
    from blueprints.webhooks import bp as webhooks_bp

    for blueprint in (auth_bp, home_bp, account_bp, bookings_bp, finances_bp, alerts_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(resources_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(webhooks_bp)  # Mollie's: no sign-in, no CSRF token, its own limit
    remember_cookie.register(app)

    @app.get("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.svg")

    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        db.session.execute(text("SELECT 1"))
        return {"status": "ok"}


def register_admin(app: Flask) -> None:
    from admin_views import init_admin

    init_admin(app)


def _content_security_policy(nonce: str, is_admin: bool, form_targets: tuple = ()) -> str:
    # Flask-Admin's templates carry style="" attributes; the parent portal has none.
    style = "'self' 'unsafe-inline'" if is_admin else "'self'"
    # A page may let its forms' redirects leave the portal (g.csp_form_targets: FINANCES'
    # "Payer" answers 303 to Mollie's checkout, and browsers check form-action on redirects).
    form_action = " ".join(("'self'", *form_targets))
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src {style}; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        f"base-uri 'none'; frame-ancestors 'none'; form-action {form_action}"
    )


# Sent with every response, whatever it is.
FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def register_security_headers(app: Flask) -> None:
    # The nonce is drawn by the input guard's before_request (register_input_guard): one hook.

    @app.after_request
    def _headers(response):
        headers = response.headers
        path = request.path
        if "Content-Security-Policy" not in headers:
            nonce = g.get("csp_nonce") or secrets.token_urlsafe(16)
            headers["Content-Security-Policy"] = _content_security_policy(
                nonce, path.startswith("/admin"), g.get("csp_form_targets", ())
            )
        for name, value in FIXED_HEADERS:
            headers[name] = value
        if app.config["APP_ENV"] == "production":
            headers[HSTS[0]] = HSTS[1]
        if not path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        return response


MAX_ID = 2**31 - 1  # the largest value of an integer column (PostgreSQL)


def register_input_guard(app: Flask) -> None:
    """Input the database would refuse (a 500) is turned away before any view runs."""

    @app.url_value_preprocessor
    def _ids_in_range(_endpoint, values) -> None:
        """An `<int:…>` id no column can hold names nothing: 404."""
        if any(isinstance(v, int) and v > MAX_ID for v in (values or {}).values()):
            abort(404)

    @app.before_request
    def _nonce_and_no_nul_characters() -> None:
        """The page's CSP nonce; and no text the portal stores holds a NUL (PostgreSQL
        refuses it): 400."""
        g.csp_nonce = secrets.token_urlsafe(16)
        if "\x00" in request.path or _has_nul(request.args) or _has_nul(request.form):
            abort(400)


def _has_nul(fields) -> bool:
    return bool(fields) and any("\x00" in k or "\x00" in v for k, v in fields.items(multi=True))


ERROR_TITLES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action impossible",
    413: "Fichier trop volumineux",
    429: "Trop de tentatives",
    500: "Erreur du serveur",
}


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, message: str = ""):
        title = ERROR_TITLES.get(code, "Erreur")
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def _csrf(_error):
        return render_error(
            400, "Le formulaire a expiré. Rechargez la page et recommencez, rien n'a été perdu."
        )

    @app.errorhandler(413)
    def _too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return render_error(
            413,
            f"Le fichier dépasse {limit} Mo : rien n'a été enregistré. Réduisez-le (une photo "
            "en qualité normale suffit, ou un PDF) et recommencez.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The route, not the path: a path may carry a link token (/mot-de-passe/<token>).
        route = request.url_rule.rule if request.url_rule else request.path
        log.exception("unhandled error on %s %s", request.method, route)
        db.session.rollback()
        return render_error(500)


PORTAL_SECTIONS = (
    ("bookings.index", "Réservations"),
    ("registrations.index", "Inscriptions"),
    ("finances.index", "Finances"),
    ("documents.index", "Documents"),
    ("alerts.index", "Alertes"),
)


def register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from services import formatting
    from services.notifications import unread_count

    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")
    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.filters["date_fr"] = formatting.date_fr
    app.jinja_env.filters["datetime_fr"] = formatting.datetime_fr

    # A section appears in the navigation once its blueprint exists: no page that pretends.
    sections = [
        (endpoint, label) for endpoint, label in PORTAL_SECTIONS if endpoint in app.view_functions
    ]

    links_by_root: dict[str, dict] = {}

    def page_links() -> dict:
        """The URLs base.html shows on every page: built once per script root, on which
        alone they depend (a handful of roots at most; past 8, built for each page)."""
        root = request.script_root
        links = links_by_root.get(root)
        if links is None:
            links = {
                "css": url_for("static", filename="css/portail.css"),
                "favicon": url_for("static", filename="favicon.svg"),
                "home": url_for("home.index"),
                "logout": url_for("auth.logout"),
                "account": url_for("account.index"),
                # (url, label, its section as request.endpoint names it, is it ALERTES)
                "sections": [
                    (url_for(endpoint), label, endpoint.split(".")[0], endpoint == "alerts.index")
                    for endpoint, label in sections
                ],
            }
            if len(links_by_root) < 8:
                links_by_root[root] = links
        return links

    @app.context_processor
    def _portal_context():
        context = {"commune_name": app.config["COMMUNE_NAME"], "portal_sections": sections}
        if not has_request_context():
            return context | {"unread_alerts": 0, "signed_in_family": False}
        user = current_user._get_current_object()
        family = user.is_authenticated and not user.is_staff
        count = 0
        if family:
            # Counted with the session check (services.accounts.load_session) unless this
            # request has written since (_forget_unread_alerts).
            count = getattr(user, "unread_alerts", None)
            if count is None:
                count = unread_count(user.family_id)
        return context | {
            "unread_alerts": count,
            "signed_in_family": family,
            "links": page_links(),
        }


def register_commands(app: Flask) -> None:
    from commands import register

    register(app)
