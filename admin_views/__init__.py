"""The staff back office (Flask-Admin), built inside the factory for each app."""

from __future__ import annotations

from flask import Flask, g
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views.base import StaffIndexView, StaffModelView
from extensions import db
import models


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Portail Famille — gestion",
        theme=Bootstrap4Theme(swatch=app.config["FLASK_ADMIN_SWATCH"], fluid=True),
        index_view=StaffIndexView(name="Accueil", url="/admin"),
        csp_nonce_generator=lambda: g.get("csp_nonce", ""),
    )
    for model in (
        models.Family,
        models.FamilyAccount,
        models.Guardian,
        models.Child,
        models.School,
        models.SchoolYear,
        models.Activity,
        models.ActivityOption,
        models.Capacity,
        models.Tariff,
        models.Closure,
        models.Registration,
        models.Booking,
        models.Invoice,
        models.InvoiceLine,
        models.Payment,
        models.PaymentAllocation,
        models.Document,
        models.Resource,
        models.NewsItem,
        models.Alert,
        models.ChangeRequest,
        models.StaffUser,
        models.AuditEvent,
        models.OutboxEmail,
    ):
        admin.add_view(StaffModelView(model, db))
    return admin
