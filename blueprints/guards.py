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


def child_of_current_family(child_id: int, children=None):
    """The family's child with this id, or 404 (never another family's child)."""
    from extensions import db
    from models import Child

    if children is not None:
        found = next((child for child in children if child.id == child_id), None)
    else:
        found = db.session.get(Child, child_id)
    if found is None or found.family_id != current_family().id:
        abort(404)
    return found


def guardian_of_current_family(guardian_id: int):
    """The family's guardian with this id, or 404 (never another family's)."""
    from extensions import db
    from models import Guardian

    found = db.session.get(Guardian, guardian_id)
    if found is None or found.family_id != current_family().id:
        abort(404)
    return found


def document_of_current_family(document_id: int):
    """A document the family sent, with this id, or 404 (never another family's)."""
    from extensions import db
    from models import Document

    found = db.session.get(Document, document_id)
    if found is None or found.family_id != current_family().id:
        abort(404)
    return found


def invoice_of_current_family(invoice_id: int):
    """The family's issued invoice or credit note with this id, or 404 (never another
    family's, never a draft: a draft is not yet a bill)."""
    from extensions import db
    from models import Invoice, InvoiceStatus

    found = db.session.get(Invoice, invoice_id)
    if found is None or found.family_id != current_family().id:
        abort(404)
    if found.status == InvoiceStatus.DRAFT:
        abort(404)
    return found


def payment_of_current_family(payment_id: int):
    """The family's payment with this id, or 404 (never another family's)."""
    from extensions import db
    from models import Payment

    found = db.session.get(Payment, payment_id)
    if found is None or found.family_id != current_family().id:
        abort(404)
    return found


def tax_certificate_of_current_family(year: int):
    """The family's tax certificate of this year, or 404 (none issued, or not its own)."""
    from extensions import db
    from models import TaxCertificate

    found = db.session.scalar(
        db.select(TaxCertificate).where(
            TaxCertificate.family_id == current_family().id, TaxCertificate.year == year
        )
    )
    if found is None:
        abort(404)
    return found


def registration_of_current_family(registration_id: int):
    """A registration of one of the family's children, with this id, or 404."""
    from extensions import db
    from models import Registration

    found = db.session.get(Registration, registration_id)
    if found is None or found.child.family_id != current_family().id:
        abort(404)
    return found
