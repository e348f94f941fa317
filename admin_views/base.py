"""Staff-only base views: every admin page, the index included, requires a staff session."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user

from models import StaffRole


def is_staff(roles: tuple[StaffRole, ...] = (StaffRole.ADMIN, StaffRole.AGENT)) -> bool:
    return (
        current_user.is_authenticated
        and getattr(current_user, "is_staff", False)
        and current_user.role in roles
    )


class StaffAccessMixin:
    """Flask-Admin's access hooks: staff of the listed roles only; families get a 404."""

    allowed_roles: tuple[StaffRole, ...] = (StaffRole.ADMIN, StaffRole.AGENT)

    def is_accessible(self) -> bool:
        return is_staff(self.allowed_roles)

    def inaccessible_callback(self, name, **kwargs):
        from flask import abort

        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(404)


class StaffIndexView(StaffAccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/index.html")


class StaffModelView(StaffAccessMixin, ModelView):
    """Defaults every staff list shares: paging, export, French labels where set."""

    page_size = 50
    can_set_page_size = True
    can_export = True
    can_view_details = True
    export_types = ["csv"]
