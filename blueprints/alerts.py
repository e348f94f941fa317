"""ALERTES: the family's alerts, newest first; opening one marks it read."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from blueprints.auth import safe_next
from blueprints.guards import current_family, family_required
from models import AlertKind, utcnow
from services import notifications
from vocabulary import enum_choices

bp = Blueprint("alerts", __name__)

ALERTS_SHOWN = 50


@bp.get("/alertes")
@family_required
def index():
    alerts = notifications.family_alerts(current_family(), limit=ALERTS_SHOWN)
    return render_template(
        "alerts/index.html",
        alerts=alerts,
        labels=dict(enum_choices(AlertKind)),
        truncated=len(alerts) == ALERTS_SHOWN,
        with_page={alert.id for alert in alerts if portal_path(alert.link)},
    )


@bp.get("/alertes/<int:alert_id>")
@family_required
def open_alert(alert_id: int):
    alert = notifications.mark_read(current_family(), alert_id, utcnow())
    if alert is None:
        abort(404)
    return redirect(portal_path(alert.link) or url_for("alerts.index"))


@bp.post("/alertes/tout-lu")
@family_required
def mark_all_read():
    if notifications.mark_all_read(current_family(), utcnow()):
        flash("Toutes vos alertes sont marquées comme lues.", "success")
    return redirect(url_for("alerts.index"))


def portal_path(link: str) -> str | None:
    """The link if it is a page of this portal, else None (a section not built yet, say)."""
    path = safe_next(link)
    if path is None:
        return None
    try:
        current_app.url_map.bind("portal").match(urlsplit(path).path, method="GET")
    except RequestRedirect:
        return path  # the page exists, with a trailing slash
    except (NotFound, MethodNotAllowed):
        return None
    return path
