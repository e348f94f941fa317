"""ACCUEIL: the family's children, unread alerts and the latest news."""

from __future__ import annotations

from flask import Blueprint, render_template

from blueprints.guards import current_family, family_required
from services import home

bp = Blueprint("home", __name__)


@bp.get("/")
@family_required
def index():
    family = current_family()
    return render_template("home/index.html", family=family, **home.overview(family))
