"""The staff back office (Flask-Admin), built inside the factory for each app.

Every model has a view but AuthSession, AccountToken (secrets) and InvoiceNumberSequence
(the billing run's gapless counter).
"""

from __future__ import annotations

from flask import Flask, g
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views import (
    attendance,
    billing,
    bookings,
    content,
    documents,
    families,
    finance_documents,
    finances,
    payments,
    requests,
    structure,
    system,
)
from admin_views.base import StaffIndexView


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Portail Famille — gestion",
        theme=Bootstrap4Theme(swatch=app.config["FLASK_ADMIN_SWATCH"], fluid=True),
        index_view=StaffIndexView(name="Accueil", url="/admin"),
        csp_nonce_generator=lambda: g.get("csp_nonce", ""),
    )
    areas = (
        families,
        documents,
        structure,
        bookings,
        requests,
        attendance,
        finances,
        billing,
        payments,
        finance_documents,
        content,
        system,
    )
    for area in areas:
        area.add_views(admin)
    return admin
