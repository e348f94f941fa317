"""Invoices, credit notes, receipts and tax certificates as PDF, in French.

Each document is plain frozen data that its caller (services/finance_documents.py) fills
from the models; `render_pdf(document)` lays it out on A4 with ReportLab's platypus
(paragraphs and tables, no hand-written PDF) in about 10 ms. Nothing here reads the
database, the clock or the network, and the fonts are the PDF standard Helvetica (no font
file; its WinAnsi encoding covers French accents, « € » and « œ »): the same data gives
the same bytes.

What the documents hold to, so a wrong one is refused rather than printed:

- money is integer cents, written by `formatting.money` (« 1 234,50 € »); a total is the
  sum of its lines' amounts, each rounded once by billing (DOMAIN.md, Billing);
- a credit note (*avoir*) names the invoice it corrects and its amounts are negative;
- a receipt never allocates more than the payment's amount; what is left is said so;
- a tax certificate (*attestation fiscale*) lists childcare paid in its year for children
  under 6 on 1 January of that year; canteen meals are not childcare, so the caller sends
  the périscolaire amounts only (DOMAIN.md, Tax certificate);
- names and labels are data, never markup: every one is escaped before layout, so « <b> »
  in a family's name is printed as typed;
- each page carries the document's title and « Page n sur N » in its footer, and a child's
  name and the column names head every page the child's lines run onto.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import partial
from unicodedata import combining, normalize
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

from models import PaymentMethod
from services.formatting import date_fr, money
from vocabulary import enum_label


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
    """Who the document is addressed to, as on an envelope: « Famille Martin-Exemple »; on
    an invoice or a credit note, as it was issued (Invoice.billed_name, billed_address)."""

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
    returned_cents: int = 0  # refunded to the family or charged back by its bank

    def __post_init__(self) -> None:
        if self.unallocated_cents < 0:
            raise ValueError("Un règlement ne peut payer plus que son montant.")

    @property
    def unallocated_cents(self) -> int:
        allocated = sum(paid.amount_cents for paid in self.paid_invoices)
        return self.amount_cents - self.returned_cents - allocated

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


Document = InvoiceDocument | CreditNoteDocument | ReceiptDocument | TaxCertificateDocument


def render_pdf(document: Document) -> bytes:
    """The A4 PDF of a document: the parties, the title, the body, a footer on each page."""
    title = title_of(document)
    story = [_parties(document), Paragraph(_text(title), H1), *BODY_OF[type(document)](document)]
    buffer = io.BytesIO()
    sheet = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=20 * mm,
        title=f"{title} — {document.commune.name}",
        author=document.commune.name,
        creator="Portail Famille",
        lang="fr",
        invariant=True,
    )
    sheet.build(story, canvasmaker=partial(FooterCanvas, footer=title))
    return buffer.getvalue()


def title_of(document: Document) -> str:
    """The document's title, as printed under the parties and in every page's footer."""
    match document:
        case InvoiceDocument():
            return f"Facture n° {document.number}"
        case CreditNoteDocument():
            return f"Avoir n° {document.number}"
        case ReceiptDocument():
            return f"Reçu de règlement n° {document.reference}"
        case TaxCertificateDocument():
            return f"Attestation fiscale {document.year} — frais de garde"
    raise TypeError(type(document).__name__)


class FooterCanvas(Canvas):
    """Keeps each page until the last is laid out, then writes every page's footer: the
    document's title on the left, « Page n sur N » on the right."""

    def __init__(self, *args, footer: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = _plain(footer)
        self._pages: list[dict] = []

    def drawString(self, x, y, text, *_args, **_kwargs) -> None:  # noqa: N802 - ReportLab's name
        """A table cell's text with no line feed after it (ReportLab ends each with one), so
        that a copy, a search or a screen reader reads a table row as one line."""
        run = self.beginText(x, y)
        run.textOut(text)
        self.drawText(run)

    def drawRightString(self, x, y, text, *_args, **_kwargs) -> None:  # noqa: N802
        self.drawString(x - self.stringWidth(text), y, text)

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        count = len(self._pages)
        for number, page in enumerate(self._pages, start=1):
            self.__dict__.update(page)
            self.setFont(FONT, 8)
            self.setFillColor(GREY)
            self.drawString(MARGIN + FRAME_PADDING, 10 * mm, self._footer)
            self.drawRightString(
                A4[0] - MARGIN - FRAME_PADDING, 10 * mm, f"Page {number} sur {count}"
            )
            super().showPage()
        super().save()


# --- Layout -----------------------------------------------------------------------------

FONT, BOLD = "Helvetica", "Helvetica-Bold"
WINANSI = "cp1252"  # the standard fonts' encoding, as ReportLab writes them
UNACCENTED = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"}
MARGIN = 16 * mm
FRAME_PADDING = 6  # points, platypus's default on each side of the page's frame
WIDTH = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING
INK, GREY, RULE = colors.HexColor("#111111"), colors.HexColor("#444444"), colors.HexColor("#cccccc")

BODY = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK)
NAME = ParagraphStyle("name", BODY, fontName=BOLD, fontSize=11, leading=14)
H1 = ParagraphStyle("h1", BODY, fontName=BOLD, fontSize=15, leading=19, spaceAfter=3 * mm)
H2 = ParagraphStyle(
    "h2", BODY, fontName=BOLD, fontSize=11, leading=14, spaceBefore=6 * mm, spaceAfter=2 * mm
)
BOX_H2 = ParagraphStyle("box-h2", H2, spaceBefore=0)
CHILD = ParagraphStyle("child", BODY, fontName=BOLD, fontSize=10.5, leading=13)
CELL = ParagraphStyle("cell", BODY, leading=12)
CELL_BOLD = ParagraphStyle("cell-bold", CELL, fontName=BOLD)
ITEM = ParagraphStyle("item", BODY, leftIndent=5 * mm, bulletIndent=0, spaceBefore=1.5 * mm)
NOTE = ParagraphStyle("note", BODY, fontSize=8.5, leading=11.5, spaceBefore=4 * mm)
SIGNATURE = ParagraphStyle("signature", BODY, leftIndent=95 * mm, spaceBefore=12 * mm)

# The children's tables line up: the same columns in each (widths as on the old sheet).
LINE_COLUMNS = [WIDTH * share for share in (0.37, 0.23, 0.11, 0.14, 0.15)]
LINE_HEADS = ["Prestation", "Formule", "Quantité", "Prix unitaire", "Montant"]
CELL_PADDING = [
    ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
    ("TOPPADDING", (0, 0), (-1, -1), 1.2 * mm),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2 * mm),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("FONT", (0, 0), (-1, -1), FONT, 9.5),
]


def _plain(value: object) -> str:
    """Text for a table cell or the canvas (never parsed), in Helvetica's WinAnsi letters:
    the narrow no-break space of French numbers becomes a no-break space, and a letter
    WinAnsi lacks loses its accent (« Nguyễn » prints « Nguyen », never a black box)."""
    text = str(value).replace("\u202f", "\u00a0")
    try:
        text.encode(WINANSI)
    except UnicodeEncodeError:
        return "".join(_winansi(char) for char in text)
    return text


def _winansi(char: str) -> str:
    try:
        char.encode(WINANSI)
    except UnicodeEncodeError:
        bare = "".join(c for c in normalize("NFKD", char) if not combining(c))
        return UNACCENTED.get(char) or (bare if bare and bare.isascii() else "?")
    return char


def _text(value: object) -> str:
    """Text for a Paragraph, which reads markup: data is escaped, so it prints as typed."""
    return escape(_plain(value))


def _cell(value: object, width: float, style: ParagraphStyle = CELL) -> str | Paragraph:
    """A table cell's text: drawn as is when it fits on one line of the column (faster, and
    read back as one line with its row), wrapped in a Paragraph when it does not."""
    text = _plain(value)
    if stringWidth(text, style.fontName, style.fontSize) <= width - 4 * mm:
        return text
    return Paragraph(escape(text), style)


def _money(cents: int) -> str:
    return _plain(money(cents))


def _day(day: date) -> str:
    return date_fr(day, "long")


def _parties(document: Document) -> Table:
    """The issuer on the left; the family on the right, where a DL envelope's window is."""
    commune, family = document.commune, document.family
    issuer = [Paragraph(_text(commune.name), NAME)]
    issuer += [Paragraph(_text(line), BODY) for line in commune.address_lines]
    if commune.phone:
        issuer.append(Paragraph(_text(f"Tél. {commune.phone}"), BODY))
    if commune.email:
        issuer.append(Paragraph(_text(commune.email), BODY))
    issuer.append(Paragraph(_text(f"SIRET {commune.siret}"), BODY))
    recipient = [Paragraph(_text(family.name), NAME)]
    recipient += [Paragraph(_text(line), BODY) for line in family.address_lines]
    table = Table([[issuer, recipient]], colWidths=[WIDTH - 80 * mm, 80 * mm])
    table.setStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (1, 0), (1, 0), 14 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 10 * mm),
        ]
    )
    return table


def _facts(rows: list[tuple[str, str]]) -> Table:
    """Label and value pairs under the title: « Période  novembre 2026 »."""
    data = [[label, Paragraph(_text(value), CELL_BOLD)] for label, value in rows]
    table = Table(data, colWidths=[42 * mm, WIDTH - 42 * mm], hAlign="LEFT")
    table.setStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONT", (0, 0), (0, -1), FONT, 9.5),
            ("TEXTCOLOR", (0, 0), (0, -1), GREY),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0.5 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5 * mm),
        ]
    )
    return table


def _lines_by_child(children: tuple[ChildLines, ...], heading: str) -> list:
    """One table per child; its first two rows (the child's name, the column names) are
    repeated on each page its lines run onto."""
    return [Paragraph(_text(heading), H2), *(_child_table(child) for child in children)]


def _child_table(child: ChildLines) -> Table:
    rows = [[Paragraph(_text(child.child_name), CHILD), "", "", "", ""], LINE_HEADS]
    rows += [
        [
            _cell(line.activity, LINE_COLUMNS[0]),
            _cell(line.option, LINE_COLUMNS[1]),
            str(line.quantity),
            _money(line.unit_price_cents),
            _money(line.amount_cents),
        ]
        for line in child.lines
    ]
    subtotal = _cell(f"Sous-total {child.child_name}", sum(LINE_COLUMNS[:4]), CELL_BOLD)
    rows.append([subtotal, "", "", "", _money(child.subtotal_cents)])
    table = Table(rows, colWidths=LINE_COLUMNS, repeatRows=2, spaceAfter=4 * mm)
    table.setStyle(
        [
            *CELL_PADDING,
            ("SPAN", (0, 0), (-1, 0)),
            ("SPAN", (0, -1), (3, -1)),
            ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
            ("FONT", (0, 1), (-1, 1), FONT, 8.5),
            ("TEXTCOLOR", (0, 1), (-1, 1), GREY),
            ("LINEBELOW", (0, 1), (-1, 1), 0.6, INK),
            ("LINEBELOW", (0, 2), (-1, -3), 0.3, RULE),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, GREY),
            ("FONT", (0, -1), (-1, -1), BOLD, 9.5),
        ]
    )
    return table


def _totals(rows: list[tuple[str, str]]) -> Table:
    """The totals, right-aligned; the last row is the one to read (bold, ruled above)."""
    table = Table(rows, colWidths=[85 * mm, 30 * mm], hAlign="RIGHT", spaceBefore=5 * mm)
    table.setStyle(
        [
            *CELL_PADDING,
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, -2), 0.3, RULE),
            ("LINEABOVE", (0, -1), (-1, -1), 1, INK),
            ("FONT", (0, -1), (-1, -1), BOLD, 11),
        ]
    )
    return table


def _box(flowables: list) -> Table:
    """A framed block kept on one page: how to pay, the balance."""
    table = Table([[flowables]], colWidths=[WIDTH], spaceBefore=6 * mm)
    table.setStyle(
        [
            ("BOX", (0, 0), (-1, -1), 0.8, GREY),
            ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4 * mm),
            ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
        ]
    )
    return table


def _list(caption: str, heads: list[str], rows: list[list]) -> list:
    """A captioned table of a receipt's invoices or a certificate's children; the amount,
    last, is right-aligned."""
    table = Table([heads, *rows], colWidths=_list_columns(len(heads)), repeatRows=1)
    table.setStyle(
        [
            *CELL_PADDING,
            ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
            ("FONT", (0, 0), (-1, 0), FONT, 8.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
            ("LINEBELOW", (0, 1), (-1, -2), 0.3, RULE),
        ]
    )
    return [Paragraph(_text(caption), H2), table]


def _list_columns(count: int) -> list[float]:
    amount = 35 * mm
    return [(WIDTH - amount) / (count - 1)] * (count - 1) + [amount]


def _balance(document: Document) -> Table:
    heading = Paragraph(_text(f"Solde de votre compte au {_day(document.balance_on)}"), BOX_H2)
    cents = document.balance_cents
    if cents > 0:
        said = f"<b>{_text(_money(cents))} restant à payer</b>, toutes factures, avoirs et "
        said += "règlements comptés."
    elif cents < 0:
        said = (
            f"<b>{_text(_money(-cents))} en votre faveur</b>, déduits de vos prochaines factures."
        )
    else:
        said = "<b>Votre compte est à jour</b> : vous ne devez rien."
    return _box([heading, Paragraph(said, BODY)])


# --- The four documents -----------------------------------------------------------------


def _invoice(doc: InvoiceDocument) -> list:
    period = date_fr(doc.period_month, "LLLL y")
    due = f"À payer avant le {_day(doc.due_on)}"
    facts = [
        ("Période", period),
        ("Date d'émission", _day(doc.issued_on)),
        ("À payer avant le", _day(doc.due_on)),
    ]
    totals = [("Total de la facture", _money(doc.total_cents))]
    if doc.paid_cents:
        totals.append(("Déjà réglé", _money(doc.paid_cents)))
    totals.append((due, _money(doc.left_to_pay_cents)))
    return [
        _facts(facts),
        *_lines_by_child(doc.children, f"Prestations de {period}"),
        KeepTogether([_totals(totals), _how_to_pay(doc), _balance(doc)]),
    ]


def _how_to_pay(doc: InvoiceDocument):
    if not doc.left_to_pay_cents:
        return Paragraph("Cette facture est réglée. Merci.", NOTE)
    how = doc.how_to_pay
    online = (
        "<b>En ligne</b>, par carte bancaire, sur le Portail Famille, rubrique "
        f"«\u00a0Finances\u00a0» :<br/><b>{_text(how.portal_url)}</b>"
    )
    office = (
        f"<b>À la mairie</b>, {_text(how.office_hours)} : par chèque à l'ordre de "
        f"«\u00a0{_text(how.cheque_payee)}\u00a0» (notez le n° {_text(doc.number)} au dos), "
        "en espèces ou en chèques CESU."
    )
    return _box(
        [
            Paragraph("Comment payer", BOX_H2),
            Paragraph(online, ITEM, bulletText="•"),
            Paragraph(office, ITEM, bulletText="•"),
        ]
    )


def _credit_note(doc: CreditNoteDocument) -> list:
    credited = f"n° {doc.credited_invoice_number} du {_day(doc.credited_invoice_issued_on)}"
    facts = [
        ("Corrige la facture", credited),
        ("Date d'émission", _day(doc.issued_on)),
        ("Motif", doc.reason),
    ]
    heading = f"Montants retirés de la facture n° {doc.credited_invoice_number}"
    note = "Ce montant est déduit de ce que vous devez : vous n'avez rien à payer pour cet avoir."
    return [
        _facts(facts),
        *_lines_by_child(doc.children, heading),
        KeepTogether(
            [
                _totals([("Total de l'avoir", _money(doc.total_cents))]),
                Paragraph(note, NOTE),
                _balance(doc),
            ]
        ),
    ]


def _receipt(doc: ReceiptDocument) -> list:
    method = doc.method_label
    if doc.method_reference:
        method += f" ({doc.method_reference})"
    facts = [
        ("Reçu le", _day(doc.received_on)),
        ("Mode de règlement", method),
        ("Montant", _money(doc.amount_cents)),
        *([("Remboursé ou rejeté", _money(doc.returned_cents))] if doc.returned_cents else []),
        ("Date du reçu", _day(doc.issued_on)),
    ]
    thanks = f"Nous avons bien reçu votre règlement de {_text(_money(doc.amount_cents))}. Merci."
    story = [_facts(facts), Spacer(0, 4 * mm), Paragraph(thanks, BODY)]
    if doc.paid_invoices:
        rows = [[_plain(f"n° {p.number}"), _money(p.amount_cents)] for p in doc.paid_invoices]
        story += _list("Factures réglées par ce paiement", ["Facture", "Montant réglé"], rows)
    if doc.unallocated_cents:
        left = f"{_text(_money(doc.unallocated_cents))} de ce règlement ne sont affectés à "
        left += "aucune facture : le service des affaires scolaires en est averti et revient "
        left += "vers vous."
        story.append(Paragraph(left, NOTE))
    return [*story, _balance(doc)]


def _tax_certificate(doc: TaxCertificateDocument) -> list:
    commune, year = doc.commune, doc.year
    attests = (
        f"{_text(commune.name)} (SIRET {_text(commune.siret)}) atteste que les sommes "
        f"ci-dessous ont été payées par <b>{_text(doc.family.name)}</b>, du 1er janvier au "
        f"31 décembre {year}, pour la garde à l'accueil périscolaire de la commune (matin et "
        f"soir) des enfants de moins de 6 ans au 1er janvier {year}."
    )
    rows = [
        [
            _cell(child.child_name, _list_columns(3)[0]),
            _day(child.birth_date),
            _money(child.amount_cents),
        ]
        for child in doc.children
    ]
    heads = ["Enfant", "Date de naissance", "Montant payé"]
    meals = (
        "Les repas (restauration scolaire) ne sont pas des frais de garde : ils ne sont pas "
        "comptés. Ces sommes peuvent ouvrir droit au crédit d'impôt pour frais de garde des "
        "enfants de moins de 6 ans (article 200 quater B du code général des impôts) ; "
        "déduisez-en les aides reçues pour cette garde, le cas échéant."
    )
    signed = (
        f"Fait à {_text(commune.city)}, le {_day(doc.issued_on)}.<br/>"
        "Pour le maire, le service des affaires scolaires."
    )
    return [
        Paragraph(attests, BODY),
        *_list(f"Sommes payées en {year}", heads, rows),
        _totals([(f"Total payé en {year}", _money(doc.total_cents))]),
        Paragraph(meals, NOTE),
        Paragraph(signed, SIGNATURE),
    ]


BODY_OF = {
    InvoiceDocument: _invoice,
    CreditNoteDocument: _credit_note,
    ReceiptDocument: _receipt,
    TaxCertificateDocument: _tax_certificate,
}
