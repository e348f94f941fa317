"""ACCUEIL: the family's children, unread alerts, this week's menu and the news."""

from __future__ import annotations

from flask import Blueprint, render_template

from blueprints.guards import current_family, family_required
from models import utcnow
from services import home
from services.calendar import paris_today

bp = Blueprint("home", __name__)


@bp.get("/")
@family_required
def index():
    family = current_family()
    overview = home.overview(family, paris_today(utcnow()))
    return render_template("home/index.html", family=family, **overview)
