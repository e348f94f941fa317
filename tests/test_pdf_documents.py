"""The family's PDFs (services/pdf.py), read back as text the way a parent reads them."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from functools import cache

import pytest
from pypdf import PdfReader

from models import PaymentMethod
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
    under_six_on_first_january,
)

COMMUNE = CommuneIdentity(
    name="Mairie de Saint-Exemple",
    address_lines=("Service des affaires scolaires", "1 place de la Mairie", "99999 Saint-Exemple"),
    city="Saint-Exemple",
    siret="000 000 000 00017",
    phone="01 00 00 00 00",
    email="affaires-scolaires@mairie.example",
)
FAMILY = FamilyIdentity("Famille Martin-Exemple", ("12 rue des Essais", "99999 Saint-Exemple"))
HOW_TO_PAY = PaymentInstructions(
    portal_url="https://portail.mairie.example/finances",
    cheque_payee="Trésor public",
    office_hours="du lundi au vendredi de 8 h 30 à 12 h",
)
TOM = ChildLines(
    "Tom Martin-Exemple",
    (
        BilledLine("Restaurant scolaire", "Standard", 16, 350, 5600),
        BilledLine("Accueil périscolaire du soir", "Jusqu'à 18 h 45", 8, 250, 2000),
    ),
)
LEA = ChildLines(
    "Léa Martin-Exemple",
    (
        BilledLine("Restaurant scolaire", "Sans viande", 12, 350, 4200),
        BilledLine("Accueil périscolaire du matin", "Dès 7 h 30", 10, 180, 1800),
    ),
)
INVOICE = InvoiceDocument(
    number="2026-000002",
    period_month=date(2026, 11, 1),
    issued_on=date(2026, 12, 2),
    due_on=date(2026, 12, 31),
    commune=COMMUNE,
    family=FAMILY,
    children=(TOM, LEA),
    how_to_pay=HOW_TO_PAY,
    balance_cents=123450,
    balance_on=date(2026, 12, 2),
)
CREDIT_NOTE = CreditNoteDocument(
    number="2026-000010",
    issued_on=date(2026, 12, 9),
    credited_invoice_number="2026-000002",
    credited_invoice_issued_on=date(2026, 12, 2),
    reason="Repas du 12 novembre facturé pendant une sortie scolaire",
    commune=COMMUNE,
    family=FAMILY,
    children=(
        ChildLines(
            "Tom Martin-Exemple", (BilledLine("Restaurant scolaire", "Standard", 2, 350, -700),)
        ),
    ),
    balance_cents=-1200,
    balance_on=date(2026, 12, 9),
)
RECEIPT = ReceiptDocument(
    reference="2026-0045",
    received_on=date(2026, 12, 15),
    issued_on=date(2026, 12, 16),
    method=PaymentMethod.CHEQUE,
    method_reference="chèque n° 1234567",
    amount_cents=150000,
    paid_invoices=(PaidInvoice("2026-000002", 13600), PaidInvoice("2026-000001", 9600)),
    commune=COMMUNE,
    family=FAMILY,
    balance_cents=0,
    balance_on=date(2026, 12, 16),
)
CERTIFICATE = TaxCertificateDocument(
    year=2026,
    issued_on=date(2027, 1, 15),
    commune=COMMUNE,
    family=FAMILY,
    children=(
        ChildcarePaid("Léa Martin-Exemple", date(2021, 3, 4), 41250),
        ChildcarePaid("Noé Martin-Exemple", date(2022, 9, 30), 123400),
    ),
)


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text, its spaces made plain (money is written with no-break spaces)."""
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    return [re.sub(r"[ \u00a0\u202f]+", " ", text) for text in texts]


@cache
def text_of(document) -> str:
    """The document's text, rendered once per test run (documents are frozen data)."""
    return "\n".join(pages_text(render_pdf(document)))


def lines_of(document) -> list[str]:
    return [line.strip() for line in text_of(document).splitlines()]


def test_invoice_gives_its_number_dates_and_each_childs_lines():
    lines = lines_of(INVOICE)
    assert "Facture n° 2026-000002" in lines
    assert "Période novembre 2026" in lines
    assert "Date d'émission 2 décembre 2026" in lines
    assert "À payer avant le 31 décembre 2026" in lines
    assert lines.index("Tom Martin-Exemple") < lines.index("Léa Martin-Exemple")
    for row in [
        "Restaurant scolaire Standard 16 3,50 € 56,00 €",
        "Accueil périscolaire du soir Jusqu'à 18 h 45 8 2,50 € 20,00 €",
        "Sous-total Tom Martin-Exemple 76,00 €",
        "Restaurant scolaire Sans viande 12 3,50 € 42,00 €",
        "Accueil périscolaire du matin Dès 7 h 30 10 1,80 € 18,00 €",
        "Sous-total Léa Martin-Exemple 60,00 €",
        "Total de la facture 136,00 €",
    ]:
        assert row in lines


def test_invoice_names_the_commune_and_the_family():
    lines = lines_of(INVOICE)
    for line in [
        "Mairie de Saint-Exemple",
        "1 place de la Mairie",
        "SIRET 000 000 000 00017",
        "Famille Martin-Exemple",
        "12 rue des Essais",
    ]:
        assert line in lines


def test_invoice_says_how_to_pay_and_by_when():
    text = " ".join(lines_of(INVOICE))
    assert "À payer avant le 31 décembre 2026 136,00 €" in text
    assert "Comment payer" in text
    online = (
        "sur le Portail Famille, rubrique « Finances » : https://portail.mairie.example/finances"
    )
    assert online in text
    assert "À la mairie, du lundi au vendredi de 8 h 30 à 12 h" in text
    assert "par chèque à l'ordre de « Trésor public » (notez le n° 2026-000002 au dos)" in text


@pytest.mark.parametrize(
    ("balance_cents", "said"),
    [
        (123450, "1 234,50 € restant à payer"),
        (-1200, "12,00 € en votre faveur"),
        (0, "Votre compte est à jour"),
    ],
)
def test_invoice_gives_the_familys_balance(balance_cents, said):
    lines = lines_of(replace(INVOICE, balance_cents=balance_cents))
    assert "Solde de votre compte au 2 décembre 2026" in lines
    assert any(line.startswith(said) for line in lines)


def test_a_paid_invoice_asks_for_nothing_more():
    text = text_of(replace(INVOICE, paid_cents=13600))
    assert "Déjà réglé 136,00 €" in text
    assert "À payer avant le 31 décembre 2026 0,00 €" in text
    assert "Cette facture est réglée" in text
    assert "Comment payer" not in text


def test_a_partly_paid_invoice_shows_what_is_left():
    text = text_of(replace(INVOICE, paid_cents=5000))
    assert "Déjà réglé 50,00 €" in text
    assert "À payer avant le 31 décembre 2026 86,00 €" in text
    assert "Comment payer" in text


def test_credit_note_references_its_invoice_with_negative_amounts():
    lines = lines_of(CREDIT_NOTE)
    assert "Avoir n° 2026-000010" in lines
    assert "Corrige la facture n° 2026-000002 du 2 décembre 2026" in lines
    assert "Motif Repas du 12 novembre facturé pendant une sortie scolaire" in lines
    assert "Restaurant scolaire Standard 2 3,50 € -7,00 €" in lines
    assert "Total de l'avoir -7,00 €" in lines
    assert "Comment payer" not in lines
    assert any(line.startswith("12,00 € en votre faveur") for line in lines)


@pytest.mark.parametrize("amount_cents", [700, 0])
def test_a_credit_note_refuses_an_amount_that_is_not_negative(amount_cents):
    line = BilledLine("Restaurant scolaire", "Standard", 2, 350, amount_cents)
    with pytest.raises(ValueError, match="négatifs"):
        replace(CREDIT_NOTE, children=(ChildLines("Tom Martin-Exemple", (line,)),))


def test_receipt_lists_the_payment_and_the_invoices_it_paid():
    lines = lines_of(RECEIPT)
    assert "Reçu de règlement n° 2026-0045" in lines
    assert "Reçu le 15 décembre 2026" in lines
    assert "Mode de règlement Chèque (chèque n° 1234567)" in lines
    assert "Montant 1 500,00 €" in lines
    assert "n° 2026-000002 136,00 €" in lines
    assert "n° 2026-000001 96,00 €" in lines
    assert any(line.startswith("1 268,00 € de ce règlement ne sont affectés à") for line in lines)
    assert "Votre compte est à jour : vous ne devez rien." in lines


def test_a_receipt_deducts_what_was_returned_from_what_is_left():
    text = text_of(replace(RECEIPT, returned_cents=126800))
    assert "Remboursé ou rejeté 1 268,00 €" in text
    assert "ne sont affectés à aucune facture" not in text
    with pytest.raises(ValueError, match="plus que son montant"):
        replace(RECEIPT, returned_cents=126801)


def test_a_receipt_refuses_to_pay_more_than_its_amount():
    with pytest.raises(ValueError, match="plus que son montant"):
        replace(RECEIPT, amount_cents=20000)


def test_tax_certificate_gives_the_year_and_the_amount_per_child():
    lines = lines_of(CERTIFICATE)
    text = " ".join(lines)
    assert "Attestation fiscale 2026 — frais de garde" in lines
    assert "du 1er janvier au 31 décembre 2026" in text
    assert "moins de 6 ans au 1er janvier 2026" in text
    assert "Léa Martin-Exemple 4 mars 2021 412,50 €" in lines
    assert "Noé Martin-Exemple 30 septembre 2022 1 234,00 €" in lines
    assert "Total payé en 2026 1 646,50 €" in lines
    assert "Les repas (restauration scolaire) ne sont pas des frais de garde" in text
    assert "Fait à Saint-Exemple, le 15 janvier 2027." in lines
    assert "SIRET 000 000 000 00017" in text


@pytest.mark.parametrize(
    ("birth_date", "counts"),
    [
        (date(2020, 1, 2), True),  # 5 years old on 1 January 2026
        (date(2020, 1, 1), False),  # 6 that very day
        (date(2019, 6, 1), False),
        (date(2026, 5, 1), True),  # born during the year
    ],
)
def test_a_child_counts_for_the_tax_certificate_if_under_six_on_first_january(birth_date, counts):
    assert under_six_on_first_january(birth_date, 2026) is counts


def test_a_tax_certificate_refuses_a_child_six_or_older_on_first_january():
    older = ChildcarePaid("Tom Martin-Exemple", date(2019, 6, 1), 5000)
    with pytest.raises(ValueError, match="Tom Martin-Exemple"):
        replace(CERTIFICATE, children=(*CERTIFICATE.children, older))


HOSTILE_FAMILY = '<b>Dupont</b> & "Fils"<br>'
HOSTILE_CHILD = "Zoé </td></tr></table><h1>Facture n° 9999</h1>"


def test_names_with_markup_are_printed_as_text_not_read_as_html():
    invoice = replace(
        INVOICE,
        family=FamilyIdentity(HOSTILE_FAMILY, ("1 rue <script>alert(1)</script><img src=x>",)),
        children=(ChildLines(HOSTILE_CHILD, TOM.lines),),
    )
    text = text_of(invoice)
    assert HOSTILE_FAMILY in text
    assert "1 rue <script>alert(1)</script><img src=x>" in text
    assert f"Sous-total {HOSTILE_CHILD} 76,00 €" in text


def sixty_line_invoice() -> InvoiceDocument:
    """60 lines over two children: one line per school day of a long period."""
    lines = tuple(
        BilledLine(f"Accueil périscolaire, jour {day:02d}", "Jusqu'à 17 h 30", 1, 175, 175)
        for day in range(1, 31)
    )
    return replace(INVOICE, children=(replace(TOM, lines=lines), replace(LEA, lines=lines)))


def test_sixty_lines_run_over_pages_with_the_totals_on_the_last():
    pages = pages_text(render_pdf(sixty_line_invoice()))
    count = len(pages)
    assert count >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} sur {count}" in page
        assert "Facture n° 2026-000002" in page
        assert "Prestation Formule Quantité Prix unitaire Montant" in page
    # Léa's lines run onto the last page: her name heads them there too.
    assert "Léa Martin-Exemple\nPrestation Formule" in pages[-1]
    assert all("Total de la facture" not in page for page in pages[:-1])
    assert "Total de la facture 105,00 €" in pages[-1]
    assert "Comment payer" in pages[-1]
    everything = "\n".join(pages)
    assert everything.count("Jusqu'à 17 h 30 1 1,75 € 1,75 €") == 60


def test_the_same_data_gives_the_same_document():
    assert pages_text(render_pdf(INVOICE)) == pages_text(render_pdf(INVOICE))
    assert render_pdf(RECEIPT) == render_pdf(RECEIPT)


@pytest.mark.parametrize("document", [INVOICE, CREDIT_NOTE, RECEIPT, CERTIFICATE])
def test_every_document_is_a_french_pdf_with_a_title_in_the_standard_fonts(document):
    reader = PdfReader(io.BytesIO(render_pdf(document)))
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert reader.metadata.title.endswith("— Mairie de Saint-Exemple")
    fonts = {
        (font.get_object()["/BaseFont"], font.get_object()["/Encoding"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    # Helvetica in WinAnsi, which every reader has and which holds « € » and « À ».
    assert fonts <= {("/Helvetica", "/WinAnsiEncoding"), ("/Helvetica-Bold", "/WinAnsiEncoding")}


def test_french_signs_print_as_typed():
    family = FamilyIdentity("Famille Œuvray-Çà", ("Lieu-dit « L'Été »",))
    text = text_of(replace(INVOICE, family=family, balance_cents=100))
    assert "Famille Œuvray-Çà" in text and "Lieu-dit « L'Été »" in text
    assert "1,00 € restant à payer" in text


def test_a_letter_helvetica_lacks_loses_its_accent_not_the_letter():
    family = FamilyIdentity("Famille Nguyễn-Łukasz", ("Şehir",))
    text = text_of(replace(INVOICE, family=family))
    assert "Famille Nguyen-Lukasz" in text and "Sehir" in text
