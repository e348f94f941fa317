"""The family's money documents as PDF, made from the database (services/pdf.py lays them out).

- An invoice or a credit note has a PDF once issued (a draft has no number yet), addressed
  to whom it was issued to as stored then (Invoice.billed_name, billed_address, filled by
  services.billing from `billed_identity`): an issued invoice never changes, even after the
  family moves or is anonymised (accounting law keeps the name and address). Its lines
  are printed under each child's name, the children in the family's order (eldest first),
  lines without a child last under « Toute la famille ». A credit note's amounts, stored
  positive, print negative.
- A line prints its label without the child's name (the child heads the lines) nor the
  option in brackets (the option has its own column).
- « Déjà réglé » is what the invoice no longer owes (payments and credit notes,
  services.ledger); the balance is the family's, on the day the PDF is made.
- A receipt is for a paid payment only: the amount received, what was refunded or charged
  back, and each invoice it paid.
- A tax certificate prints the amounts per child as issued (TaxCertificate.children_json),
  never recomputed: the family downloads what staff issued.
- The commune's identity and how to pay come from the settings (COMMUNE_*, PAYMENT_*).

Reads only, a few statements a document whatever its number of lines.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

import clock
from extensions import db
from models import (
    ActivityOption,
    Family,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    TaxCertificate,
)
from services import ledger
from services.calendar import paris_today as paris_day
from services.pdf import (
    BilledLine,
    ChildcarePaid,
    ChildLines,
    CommuneIdentity,
    CreditNoteDocument,
    FamilyIdentity,
    InvoiceDocument,
    PaidInvoice,
    PaymentInstructions,
    ReceiptDocument,
    TaxCertificateDocument,
    render_pdf,
)

WHOLE_FAMILY = "Toute la famille"
# A child's line reads « <what> — <child's name> » (services.billing writes it).
BILLED_CHILD_SEPARATOR = " — "


class FinanceDocumentError(ValueError):
    """A document that cannot be made (a draft invoice, an unpaid payment): a French message."""


def invoice_pdf(invoice: Invoice, today: date | None = None) -> bytes:
    """The PDF of an issued invoice or credit note; `today` dates the balance (Paris)."""
    if invoice.status == InvoiceStatus.DRAFT or not invoice.number:
        raise FinanceDocumentError("Cette facture est un brouillon : elle n'a pas encore de PDF.")
    today = today or paris_day(clock.utcnow())
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return render_pdf(_credit_note(invoice, today))
    return render_pdf(_invoice(invoice, today))


def receipt_pdf(payment: Payment, today: date | None = None) -> bytes:
    """The receipt of a paid payment and of what it paid."""
    if payment.status != PaymentStatus.PAID:
        raise FinanceDocumentError("Ce règlement n'est pas payé : il n'a pas de reçu.")
    today = today or paris_day(clock.utcnow())
    allocations = db.session.scalars(
        select(PaymentAllocation)
        .where(PaymentAllocation.payment_id == payment.id)
        .options(joinedload(PaymentAllocation.invoice))
        .order_by(PaymentAllocation.id)
    )
    document = ReceiptDocument(
        reference=receipt_reference(payment),
        received_on=received_day(payment),
        issued_on=today,
        method=payment.method,
        method_reference=payment.reference,
        amount_cents=payment.amount_cents,
        returned_cents=payment.refunded_cents + payment.charged_back_cents,
        paid_invoices=tuple(PaidInvoice(a.invoice.number, a.amount_cents) for a in allocations),
        commune=commune_identity(),
        # Made anew on each download from the family as it is now (not a numbered bill).
        family=family_identity(payment.family),
        balance_cents=ledger.balance_cents(payment.family_id),
        balance_on=today,
    )
    return render_pdf(document)


def tax_certificate_pdf(certificate: TaxCertificate) -> bytes:
    """The attestation fiscale as issued: its children and amounts are never recomputed."""
    children = tuple(
        ChildcarePaid(
            child["name"], date.fromisoformat(child["birth_date"]), int(child["amount_cents"])
        )
        for child in json.loads(certificate.children_json)
    )
    document = TaxCertificateDocument(
        year=certificate.year,
        issued_on=paris_day(certificate.issued_at),
        commune=commune_identity(),
        # The family as it is now: the certificate stores its amounts, not its address.
        family=family_identity(certificate.family),
        children=children,
    )
    return render_pdf(document)


def download_name(kind: str, obj: Invoice | Payment | TaxCertificate) -> str:
    """The file name a download suggests: « facture-2026-000002.pdf », « avoir-… »,
    « recu-2026-000045.pdf », « attestation-fiscale-2026.pdf ». `kind` is "invoice"
    (an invoice or a credit note, told apart by the row), "receipt" or "tax-certificate"."""
    if kind == "invoice":
        prefix = "avoir" if obj.kind == InvoiceKind.CREDIT_NOTE else "facture"
        return f"{prefix}-{obj.number}.pdf"
    if kind == "receipt":
        return f"recu-{receipt_reference(obj)}.pdf"
    if kind == "tax-certificate":
        return f"attestation-fiscale-{obj.year}.pdf"
    raise ValueError(f"unknown document kind: {kind}")


# --- Pieces -------------------------------------------------------------------------------


def commune_identity() -> CommuneIdentity:
    config = current_app.config
    postcode_city = config["COMMUNE_POSTCODE_CITY"]
    return CommuneIdentity(
        name=config["COMMUNE_NAME"],
        address_lines=(config["COMMUNE_SERVICE"], config["COMMUNE_ADDRESS"], postcode_city),
        city=postcode_city.split(" ", 1)[-1],
        siret=config["COMMUNE_SIRET"],
        phone=config["COMMUNE_PHONE"],
        email=config["COMMUNE_EMAIL"],
    )


def payment_instructions() -> PaymentInstructions:
    config = current_app.config
    return PaymentInstructions(
        portal_url=f"{config['PUBLIC_BASE_URL'].rstrip('/')}/finances",
        cheque_payee=config["PAYMENT_TREASURER"],
        office_hours=config["PAYMENT_OFFICE_HOURS"],
    )


def family_identity(family: Family) -> FamilyIdentity:
    """As on an envelope: « Famille Martin-Exemple », the street, « 35999 Saint-Exemple »."""
    town = f"{family.postcode} {family.city}".strip()
    return FamilyIdentity(
        f"Famille {family.name}", tuple(line for line in (family.address_line, town) if line)
    )


def billed_identity(family: Family) -> dict[str, str]:
    """What an invoice or a credit note keeps, when issued, of whom it is issued to: the
    family's identity of that day (`family_identity`), its lines joined by "\n"."""
    identity = family_identity(family)
    return {"billed_name": identity.name, "billed_address": "\n".join(identity.address_lines)}


def issued_to(invoice: Invoice) -> FamilyIdentity:
    """Whom an issued invoice or credit note was issued to, as it stored then."""
    lines = tuple(line for line in invoice.billed_address.split("\n") if line)
    return FamilyIdentity(invoice.billed_name, lines)


def received_day(payment: Payment) -> date:
    """The day the money came: entered at the counter, or the Paris day Mollie paid it."""
    if payment.received_on:
        return payment.received_on
    return paris_day(payment.paid_at or payment.created_at)


def receipt_reference(payment: Payment) -> str:
    """« 2026-000045 »: the year the money came, and the payment's id."""
    return f"{received_day(payment).year}-{payment.id:06d}"


def _invoice(invoice: Invoice, today: date) -> InvoiceDocument:
    owed = ledger.due_cents([invoice])[invoice.id]
    return InvoiceDocument(
        number=invoice.number,
        period_month=invoice.period_month,
        issued_on=paris_day(invoice.issued_at),
        due_on=invoice.due_on or paris_day(invoice.issued_at),
        commune=commune_identity(),
        family=issued_to(invoice),
        children=_lines_by_child(invoice),
        how_to_pay=payment_instructions(),
        balance_cents=ledger.balance_cents(invoice.family_id),
        balance_on=today,
        paid_cents=invoice.total_cents - max(owed, 0),
    )


def _credit_note(note: Invoice, today: date) -> CreditNoteDocument:
    credited = db.session.get(Invoice, note.credits_invoice_id)
    return CreditNoteDocument(
        number=note.number,
        issued_on=paris_day(note.issued_at),
        credited_invoice_number=credited.number,
        credited_invoice_issued_on=paris_day(credited.issued_at),
        reason=note.reason,
        commune=commune_identity(),
        family=issued_to(note),
        children=_lines_by_child(note, sign=-1),
        balance_cents=ledger.balance_cents(note.family_id),
        balance_on=today,
    )


def _lines_by_child(invoice: Invoice, sign: int = 1) -> tuple[ChildLines, ...]:
    """The lines grouped by child, eldest first; lines of no child last (two statements)."""
    lines = db.session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .options(selectinload(InvoiceLine.child))
        .order_by(InvoiceLine.id)
    ).all()
    options = _option_labels({line.option_id for line in lines if line.option_id})
    groups: dict[str, list[BilledLine]] = defaultdict(list)
    for line in sorted(lines, key=_child_order):
        name = _billed_child_name(line) if line.child else WHOLE_FAMILY
        groups[name].append(_billed(line, options.get(line.option_id, ""), sign))
    return tuple(ChildLines(name, tuple(billed)) for name, billed in groups.items())


def _child_order(line: InvoiceLine) -> tuple:
    if line.child is None:
        return (1, date.max, 0, line.id)
    return (0, line.child.birth_date, line.child.id, line.id)


def _option_labels(option_ids: set[int]) -> dict[int, str]:
    if not option_ids:
        return {}
    found = select(ActivityOption.id, ActivityOption.label).where(ActivityOption.id.in_(option_ids))
    return dict(db.session.execute(found).all())


def _billed_child_name(line: InvoiceLine) -> str:
    """The child's name as billed, which ends the line's label (« Cantine — Léa Martin »):
    an issued invoice keeps it after the child is renamed or its family anonymised."""
    _, separator, name = line.label.rpartition(BILLED_CHILD_SEPARATOR)
    return name if separator else str(line.child)


def _billed(line: InvoiceLine, option: str, sign: int) -> BilledLine:
    label = line.label
    if line.child:
        label = label.removesuffix(f"{BILLED_CHILD_SEPARATOR}{_billed_child_name(line)}")
    if option:
        label = label.replace(f" ({option})", "", 1)
    return BilledLine(label, option, line.quantity, line.unit_price_cents, sign * line.amount_cents)
