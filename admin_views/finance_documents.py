"""The money documents in the back office: any invoice's, receipt's or tax certificate's PDF
(the same documents the family downloads), and « Émettre les attestations fiscales » of a
year (services.tax_certificates: one per family, in one transaction, each family told).

Views parse what staff typed and call the services, which check the rules and write, or
refuse in French with nothing written.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from markupsafe import Markup

from admin_views.base import StaffAccessMixin
from extensions import db
from models import Invoice, Payment, PaymentStatus, TaxCertificate, utcnow
from services import finance_documents, tax_certificates
from services.calendar import paris_today
from services.finance_documents import FinanceDocumentError
from services.tax_certificates import TaxCertificateError

CATEGORY = "Finances"
ENDPOINT = "documents_pdf"


class DocumentsView(StaffAccessMixin, BaseView):
    """The PDFs, for staff: linked from the lists of invoices, payments and certificates."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("invoice.index_view"))

    @expose("/factures/<int:invoice_id>.pdf")
    def invoice(self, invoice_id: int):
        invoice = db.session.get(Invoice, invoice_id) or abort(404)
        return _pdf(
            lambda: finance_documents.invoice_pdf(invoice, paris_today(utcnow())),
            finance_documents.download_name("invoice", invoice),
            "invoice.index_view",
        )

    @expose("/reglements/<int:payment_id>/recu.pdf")
    def receipt(self, payment_id: int):
        payment = db.session.get(Payment, payment_id) or abort(404)
        return _pdf(
            lambda: finance_documents.receipt_pdf(payment, paris_today(utcnow())),
            finance_documents.download_name("receipt", payment),
            "payment.index_view",
        )

    @expose("/attestations/<int:certificate_id>.pdf")
    def tax_certificate(self, certificate_id: int):
        certificate = db.session.get(TaxCertificate, certificate_id) or abort(404)
        return _pdf(
            lambda: finance_documents.tax_certificate_pdf(certificate),
            finance_documents.download_name("tax-certificate", certificate),
            "taxcertificate.index_view",
        )


def _pdf(render, name: str, back: str):
    """The PDF as an attachment, or the list again with the French reason it has none."""
    try:
        content = render()
    except FinanceDocumentError as error:
        flash(str(error), "error")
        return redirect(url_for(back))
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class TaxCertificateIssueView(StaffAccessMixin, BaseView):
    """« Émettre les attestations fiscales de l'année … »: a year, then the report."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        now = utcnow()
        if request.method == "POST":
            try:
                report = tax_certificates.issue_year(
                    request.form.get("year", ""), current_user, now, request.remote_addr
                )
            except TaxCertificateError as error:
                flash(str(error), "error")
            else:
                flash(report.summary(), "success")
                return redirect(url_for("taxcertificate.index_view", flt0_0=report.year))
        return self.render(
            "admin/finances/tax_certificates.html",
            year=request.form.get("year") or paris_today(now).year - 1,
        )


def pdf_link(endpoint: str, label: str):
    """A list column's formatter: a link to the row's PDF (none for a draft invoice, nor
    for a payment that has not paid)."""

    def cell(_view, _context, model, _name):
        if isinstance(model, Invoice) and not model.number:
            return ""
        if isinstance(model, Payment) and model.status != PaymentStatus.PAID:
            return ""
        url = url_for(f"{ENDPOINT}.{endpoint}", **{ID_OF[endpoint]: model.id})
        return Markup('<a href="{}" download>{}</a>').format(url, label)

    return cell


ID_OF = {"invoice": "invoice_id", "receipt": "payment_id", "tax_certificate": "certificate_id"}


def add_views(admin: Admin) -> None:
    admin.add_views(
        TaxCertificateIssueView(
            name="Émettre les attestations fiscales",
            endpoint="attestations_fiscales",
            url="attestations-fiscales",
            category=CATEGORY,
        ),
        DocumentsView(name="Documents PDF", endpoint=ENDPOINT, url="documents", category=CATEGORY),
    )
