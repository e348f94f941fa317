"""Invoices, credit notes, receipts and tax certificates as PDF, in French.

Each document is plain frozen data that its caller (billing, payments, tax certificates)
fills from the models; `render_pdf(document)` turns it into the bytes of a tagged A4 PDF
(PDF/UA-1, readable by a screen reader) through its Jinja template under `templates/pdf/`
and WeasyPrint. Nothing here reads the database, the clock or the network, and the fonts
come from the machine (DejaVu Sans): the same data gives the same document.

What the documents hold to, so a wrong one is refused rather than printed:

- money is integer cents, written by `formatting.money` (« 1 234,50 € »); a total is the
  sum of its lines' amounts, each rounded once by billing (DOMAIN.md, Billing);
- a credit note (*avoir*) names the invoice it corrects and its amounts are negative;
- a receipt never allocates more than the payment's amount; what is left stays in credit;
- a tax certificate (*attestation fiscale*) lists childcare paid in its year for children
  under 6 on 1 January of that year; canteen meals are not childcare, so the caller sends
  the périscolaire amounts only (DOMAIN.md, Tax certificate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from models import PaymentMethod
from services.formatting import date_fr, money
from vocabulary import enum_label

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "pdf"
# PDF/UA-1: a tagged PDF with a title and a language, so a screen reader reads the
# tables in order; WeasyPrint checks nothing else, the templates keep to plain structure.
PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class CommuneIdentity:
    """Who issues the document: the mairie's name, address and SIRET."""

    name: str
    address_lines: tuple[str, ...]
    city: str
    siret: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class FamilyIdentity:
    """Who the document is addressed to, as on an envelope: « Famille Martin-Exemple »."""

    name: str
    address_lines: tuple[str, ...]


@dataclass(frozen=True)
class PaymentInstructions:
    """How a family pays an invoice: online on the portal, or at the mairie."""

    portal_url: str
    cheque_payee: str
    office_hours: str


@dataclass(frozen=True)
class BilledLine:
    """One line of an invoice: an activity and option, a quantity at a unit price."""

    activity: str
    option: str
    quantity: int
    unit_price_cents: int
    amount_cents: int


@dataclass(frozen=True)
class ChildLines:
    """A child's lines on an invoice or a credit note, printed under the child's name."""

    child_name: str
    lines: tuple[BilledLine, ...]

    @property
    def subtotal_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class InvoiceDocument:
    """A family's invoice for one month, with how to pay it and the family's balance."""

    number: str
    period_month: date
    issued_on: date
    due_on: date
    commune: CommuneIdentity
    family: FamilyIdentity
    children: tuple[ChildLines, ...]
    how_to_pay: PaymentInstructions
    balance_cents: int
    balance_on: date
    paid_cents: int = 0

    @property
    def total_cents(self) -> int:
        return sum(child.subtotal_cents for child in self.children)

    @property
    def left_to_pay_cents(self) -> int:
        return max(self.total_cents - self.paid_cents, 0)


@dataclass(frozen=True)
class CreditNoteDocument:
    """A credit note (*avoir*): negative lines that correct an issued invoice."""

    number: str
    issued_on: date
    credited_invoice_number: str
    credited_invoice_issued_on: date
    reason: str
    commune: CommuneIdentity
    family: FamilyIdentity
    children: tuple[ChildLines, ...]
    balance_cents: int
    balance_on: date

    def __post_init__(self) -> None:
        amounts = [line.amount_cents for child in self.children for line in child.lines]
        if not amounts or any(amount >= 0 for amount in amounts):
            raise ValueError("Un avoir ne porte que des montants négatifs.")

    @property
    def total_cents(self) -> int:
        return sum(child.subtotal_cents for child in self.children)


@dataclass(frozen=True)
class PaidInvoice:
    """The part of a payment allocated to one invoice."""

    number: str
    amount_cents: int


@dataclass(frozen=True)
class ReceiptDocument:
    """A receipt for one payment (*règlement*) and the invoices it paid."""

    reference: str
    received_on: date
    issued_on: date
    method: PaymentMethod
    method_reference: str
    amount_cents: int
    paid_invoices: tuple[PaidInvoice, ...]
    commune: CommuneIdentity
    family: FamilyIdentity
    balance_cents: int
    balance_on: date

    def __post_init__(self) -> None:
        if self.unallocated_cents < 0:
            raise ValueError("Un règlement ne peut payer plus que son montant.")

    @property
    def unallocated_cents(self) -> int:
        return self.amount_cents - sum(paid.amount_cents for paid in self.paid_invoices)

    @property
    def method_label(self) -> str:
        return enum_label(self.method)


@dataclass(frozen=True)
class ChildcarePaid:
    """What a family paid in the year for one child's périscolaire care."""

    child_name: str
    birth_date: date
    amount_cents: int


@dataclass(frozen=True)
class TaxCertificateDocument:
    """The attestation fiscale of a family for one calendar year."""

    year: int
    issued_on: date
    commune: CommuneIdentity
    family: FamilyIdentity
    children: tuple[ChildcarePaid, ...]

    def __post_init__(self) -> None:
        for child in self.children:
            if not under_six_on_first_january(child.birth_date, self.year):
                raise ValueError(f"{child.child_name} n'avait pas moins de 6 ans au 1er janvier.")

    @property
    def total_cents(self) -> int:
        return sum(child.amount_cents for child in self.children)


def under_six_on_first_january(birth_date: date, year: int) -> bool:
    """A child counts for the year's tax certificate if not yet 6 on 1 January of it."""
    return birth_date > date(year - 6, 1, 1)


TEMPLATE_OF = {
    InvoiceDocument: "invoice.html",
    CreditNoteDocument: "credit_note.html",
    ReceiptDocument: "receipt.html",
    TaxCertificateDocument: "tax_certificate.html",
}
Document = InvoiceDocument | CreditNoteDocument | ReceiptDocument | TaxCertificateDocument


def render_pdf(document: Document) -> bytes:
    """The PDF of a document, from its template."""
    fetcher = TemplatesOnlyFetcher(fail_on_errors=True)
    html = HTML(string=render_html(document), base_url=str(TEMPLATES), url_fetcher=fetcher)
    return html.write_pdf(pdf_variant=PDF_VARIANT)


class TemplatesOnlyFetcher(URLFetcher):
    """Reads the files of templates/pdf/ only: never the network, never another file.

    A missing stylesheet stops the rendering (fail_on_errors) rather than printing a
    document without its layout.
    """

    def fetch(self, url, headers=None):
        if not url.startswith(TEMPLATES.as_uri() + "/"):
            raise FatalURLFetchingError(f"Ressource refusée dans un PDF : {url}")
        return super().fetch(url, headers)


def render_html(document: Document) -> str:
    """The HTML a document's PDF is made from (escaped: names are data, never markup)."""
    template = _environment().get_template(TEMPLATE_OF[type(document)])
    return template.render(doc=document)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(money=money, date_fr=date_fr)
    return environment
