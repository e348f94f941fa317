"""Access helpers shared by the parent portal's blueprints."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, url_for
from flask_login import current_user, login_required


def family_required(view):
    """Signed in as a family; staff are sent to the back office, never to family pages."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.is_staff:
            return redirect(url_for("admin.index"))
        return view(*args, **kwargs)

    return wrapper


def current_family():
    """The family the signed-in account opens."""
    if not current_user.is_authenticated or current_user.is_staff:
        abort(403)
    return current_user.family
