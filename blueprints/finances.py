"""FINANCES: the family's balance, bills, règlements and tax certificates."""

from __future__ import annotations

from flask import Blueprint, render_template

from blueprints.guards import current_family, family_required
from models import utcnow
from services import family_finances
from services.calendar import paris_today
from vocabulary import enum_label

bp = Blueprint("finances", __name__)


@bp.get("/finances")
@family_required
def index():
    finances = family_finances.overview(current_family(), paris_today(utcnow()))
    return render_template("finances/index.html", finances=finances, label=enum_label)
