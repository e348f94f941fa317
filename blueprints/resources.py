"""The commune's published files as a family opens them (DOCUMENTS lists them, through
templates/documents/_commune.html): the checked download.

A file is served only when services.resources says this family may open it today (its
school, published, valid today): any other id is a 404, whoever owns it. The download is an
attachment, never rendered by the portal's origin (`Content-Security-Policy: sandbox`, and
app.py's `nosniff`), under the name staff uploaded it with.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from blueprints.guards import current_family, family_required
from models import utcnow
from services import resources
from services.calendar import paris_today

bp = Blueprint("resources", __name__)


@bp.get("/documents/commune/<int:resource_id>")
@family_required
def download(resource_id: int):
    resource = resources.resource_of_family(current_family(), resource_id, paris_today(utcnow()))
    path = resources.folder() / resource.stored_name if resource else None
    if path is None or not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=resource.content_type,
        as_attachment=True,
        download_name=resource.original_name,
        conditional=False,
        etag=False,
    )
    response.headers["Content-Security-Policy"] = "sandbox"
    return response
