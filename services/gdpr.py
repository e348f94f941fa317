"""A family's data: all of it to download (GDPR access), or erased once it has left.

Access (`export_zip`): one ZIP holding a readable French summary (mes-donnees.html) and
the same data as JSON (mes-donnees.json): the household, its logins, guardians, children
with their notes, registrations, bookings, invoices with their lines, payments with what
they paid, tax certificates, the documents it sent (what they are, not the files), its
alerts and its change requests. Only this family's rows; never a password hash, a token
hash, a session or a remembered device. Read in a fixed number of queries, whatever the
family holds.

Anonymisation (`anonymise_family`), by staff, for a family that has left: refused while it
has a booking to come (pending, booked or with a request waiting, today or later), while
it still owes money (its balance, services.ledger: the invoices must be settled or
credited first), or once done. It erases the household's name (it becomes « Famille
anonymisée n° <id> »), address and quotient; the guardians' names, phones and emails; the
children's names, class and notes (health, diet, allergies, pickup people) and the reasons
given for their absences; the documents (rows, and files in UPLOAD_FOLDER once committed),
change requests, alerts and queued emails; the logins are disabled, renamed and emptied,
their sessions, remembered devices and links ended. The journal's past entries about its
household, guardians, children, logins, bookings, documents and requests keep who did
what, when and to which fields, never the values. Kept, as accounting law requires:
invoices, their lines, payments and their allocations, tax certificates, and the bookings
they were billed from. One transaction, journaled without the erased values.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from sqlalchemy import String, cast, delete, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from extensions import db
from models import (
    AccountToken,
    Alert,
    AuditEvent,
    Booking,
    BookingStatus,
    ChangeRequest,
    Child,
    Document,
    Family,
    FamilyAccount,
    Guardian,
    Invoice,
    OutboxEmail,
    Payment,
    PaymentAllocation,
    Registration,
    StaffUser,
    TaxCertificate,
)
from services import accounts, audit, ledger
from services.calendar import paris_today
from services.formatting import date_fr, datetime_fr, money
from vocabulary import enum_label

log = logging.getLogger(__name__)

ANONYMOUS_NAME = "Famille anonymisée n° {id}"
# A booking in one of these states, today or later, is still to come.
LIVE_BOOKINGS = (
    BookingStatus.PENDING,
    BookingStatus.REGISTERED,
    BookingStatus.CHANGE_REQUESTED,
    BookingStatus.CANCEL_REQUESTED,
)


class GdprError(ValueError):
    """What cannot be done; the message is for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- What the export holds ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One value of a row: its JSON key, its French heading, how the summary shows it."""

    key: str
    label: str
    kind: str = "text"  # text, date, datetime, money, enum, bool
    path: str = ""  # dotted attribute path; the key when empty

    def read(self, row: Any) -> Any:
        value = row
        for name in (self.path or self.key).split("."):
            value = getattr(value, name, None) if value is not None else None
        return value


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    columns: tuple[Column, ...]


def _c(key: str, label: str, kind: str = "text", path: str = "") -> Column:
    return Column(key, label, kind, path)


SECTIONS = (
    Section("family", "Foyer", (
        _c("name", "Nom du foyer"), _c("address_line", "Adresse"),
        _c("postcode", "Code postal"), _c("city", "Commune"),
        _c("quotient_familial", "Quotient familial"),
        _c("quotient_valid_until", "Quotient valable jusqu'au", "date"),
        _c("created_at", "Créé le", "datetime"),
    )),
    Section("accounts", "Identifiants de connexion", (
        _c("username", "Identifiant"), _c("email", "Adresse email"),
        _c("is_enabled", "Actif", "bool"), _c("created_at", "Créé le", "datetime"),
        _c("last_login_at", "Dernière connexion", "datetime"),
        _c("password_changed_at", "Mot de passe changé le", "datetime"),
        _c("email_alert_kinds", "Alertes reçues par email (vide : toutes)"),
    )),
    Section("guardians", "Responsables légaux", (
        _c("first_name", "Prénom"), _c("last_name", "Nom"), _c("relation", "Lien"),
        _c("email", "Adresse email"), _c("phone_mobile", "Téléphone portable"),
        _c("phone_work", "Téléphone professionnel"), _c("is_payer", "Payeur", "bool"),
    )),
    Section("children", "Enfants", (
        _c("first_name", "Prénom"), _c("last_name", "Nom"),
        _c("birth_date", "Date de naissance", "date"), _c("school", "École", path="school.name"),
        _c("class_name", "Classe"), _c("diet_note", "Régime alimentaire"),
        _c("allergies", "Allergies"), _c("pickup_people", "Personnes autorisées à le chercher"),
        _c("health_note", "Informations de santé"),
    )),
    Section("registrations", "Inscriptions", (
        _c("child", "Enfant", path="child.first_name"),
        _c("activity", "Activité", path="activity.name"),
        _c("school_year", "Année scolaire", path="school_year.label"),
        _c("weekdays", "Jours habituels (1 = lundi)"),
        _c("option", "Formule", path="option.label"), _c("status", "État", "enum"),
        _c("created_at", "Demandée le", "datetime"), _c("decided_at", "Décidée le", "datetime"),
        _c("reason", "Motif"),
    )),
    Section("bookings", "Réservations", (
        _c("child", "Enfant", path="child.first_name"), _c("day", "Jour", "date"),
        _c("activity", "Activité", path="activity.name"),
        _c("option", "Formule", path="option.label"), _c("status", "État", "enum"),
        _c("attendance", "Présence", "enum"), _c("absence_reason", "Motif d'absence"),
        _c("is_walk_in", "Venu sans réservation", "bool"),
        _c("refusal_reason", "Motif du refus"),
        _c("requested_at", "Demandée le", "datetime"),
    )),
    Section("invoices", "Factures et avoirs", (
        _c("number", "Numéro"), _c("kind", "Type", "enum"),
        _c("period_month", "Mois", "date"), _c("status", "État", "enum"),
        _c("issued_at", "Émise le", "datetime"), _c("due_on", "À payer avant le", "date"),
        _c("total_cents", "Montant", "money"), _c("reason", "Motif"),
    )),
    Section("invoice_lines", "Lignes des factures", (
        _c("invoice", "Facture", path="invoice.number"), _c("label", "Libellé"),
        _c("unit_price_cents", "Prix unitaire", "money"), _c("quantity", "Quantité"),
        _c("amount_cents", "Montant", "money"),
    )),
    Section("payments", "Règlements", (
        _c("id", "N°"), _c("method", "Moyen", "enum"), _c("status", "État", "enum"),
        _c("amount_cents", "Montant", "money"), _c("refunded_cents", "Remboursé", "money"),
        _c("received_on", "Reçu le", "date"), _c("paid_at", "Payé le", "datetime"),
        _c("reference", "Référence"),
    )),
    Section("payment_allocations", "Factures réglées par chaque règlement", (
        _c("payment", "Règlement n°", path="payment_id"),
        _c("invoice", "Facture", path="invoice.number"),
        _c("amount_cents", "Montant", "money"),
    )),
    Section("tax_certificates", "Attestations fiscales", (
        _c("year", "Année"), _c("total_cents", "Montant", "money"),
        _c("issued_at", "Émise le", "datetime"),
    )),
    Section("documents", "Documents envoyés", (
        _c("doc_type", "Type", "enum"), _c("status", "État", "enum"),
        _c("original_name", "Nom du fichier"), _c("content_type", "Format"),
        _c("size_bytes", "Taille (octets)"), _c("created_at", "Envoyé le", "datetime"),
        _c("expires_on", "Valable jusqu'au", "date"),
        _c("reviewed_at", "Vérifié le", "datetime"), _c("refusal_reason", "Motif du refus"),
    )),
    Section("alerts", "Alertes", (
        _c("created_at", "Le", "datetime"), _c("kind", "Sujet"), _c("message", "Message"),
        _c("details", "Détails"), _c("read_at", "Lue le", "datetime"),
    )),
    Section("change_requests", "Demandes de modification", (
        _c("created_at", "Demandée le", "datetime"), _c("entity", "Fiche"),
        _c("field", "Champ"), _c("old_value", "Ancienne valeur"),
        _c("new_value", "Nouvelle valeur"), _c("status", "État", "enum"),
        _c("decided_at", "Décidée le", "datetime"), _c("reason", "Motif"),
    )),
)  # fmt: skip


def family_rows(family: Family) -> dict[str, list]:
    """Every row of the family's data, by section key: one query a section (two for the
    bills and the payments, with their lines and allocations)."""
    return {
        "family": [family],
        "accounts": _all(
            select(FamilyAccount)
            .where(FamilyAccount.family_id == family.id)
            .order_by(FamilyAccount.id)
        ),
        "guardians": _of_family(family, "guardian"),
        # Eldest first, as on MON COMPTE (PostgreSQL returns rows in no given order).
        "children": _all(
            select(Child)
            .where(Child.family_id == family.id)
            .options(joinedload(Child.school))
            .order_by(Child.birth_date, Child.id)
        ),
        **_children_rows(family),
        **_money_rows(family),
        "tax_certificates": _of_family(family, "tax_certificate"),
        "documents": _of_family(family, "document"),
        "alerts": _of_family(family, "alert"),
        "change_requests": _of_family(family, "change_request"),
    }


def _children_rows(family: Family) -> dict[str, list]:
    children = select(Child.id).where(Child.family_id == family.id).scalar_subquery()
    registrations = (
        select(Registration)
        .where(Registration.child_id.in_(children))
        .options(*_joined(Registration, "child", "activity", "school_year", "option"))
    )
    bookings = (
        select(Booking)
        .where(Booking.child_id.in_(children))
        .options(*_joined(Booking, "child", "activity", "option"))
    )
    return {
        "registrations": _all(registrations.order_by(Registration.id)),
        "bookings": _all(bookings.order_by(Booking.day, Booking.id)),
    }


def _money_rows(family: Family) -> dict[str, list]:
    invoices = _all(
        select(Invoice)
        .where(Invoice.family_id == family.id)
        .options(selectinload(Invoice.lines))
        .order_by(Invoice.period_month, Invoice.id)
    )
    payments = _all(
        select(Payment)
        .where(Payment.family_id == family.id)
        .options(selectinload(Payment.allocations).joinedload(PaymentAllocation.invoice))
        .order_by(Payment.id)
    )
    return {
        "invoices": invoices,
        "invoice_lines": [line for invoice in invoices for line in invoice.lines],
        "payments": payments,
        "payment_allocations": [a for payment in payments for a in payment.allocations],
    }


MODELS_BY_TABLE = {
    model.__tablename__: model
    for model in (Guardian, TaxCertificate, Document, Alert, ChangeRequest)
}


def _of_family(family: Family, table: str) -> list:
    model = MODELS_BY_TABLE[table]
    return _all(select(model).where(model.family_id == family.id).order_by(model.id))


def _joined(model, *names: str) -> list:
    return [joinedload(getattr(model, name)) for name in names]


def _all(query) -> list:
    return list(db.session.scalars(query).unique())


def export_data(family: Family) -> tuple[dict[str, list[dict]], dict[str, list]]:
    """The JSON document (each section's rows as {key: plain value}), and the rows."""
    rows = family_rows(family)
    return {
        section.key: [
            {column.key: _plain(column.read(row)) for column in section.columns}
            for row in rows[section.key]
        ]
        for section in SECTIONS
    }, rows


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def shown(column: Column, value: Any) -> str:
    """A value as the French summary shows it."""
    if value is None or value == "":
        return "—"
    if column.kind == "money":
        return money(value)
    if column.kind == "date":
        return date_fr(value, "medium")
    if column.kind == "datetime":
        return datetime_fr(value)
    if column.kind == "bool":
        return "oui" if value else "non"
    if column.kind == "enum" and isinstance(value, Enum):
        return enum_label(value)
    return str(value)


def export_zip(family: Family, now: datetime) -> bytes:
    """The ZIP a family downloads: mes-donnees.html and mes-donnees.json."""
    data, rows = export_data(family)
    document = {"exported_at": now.isoformat(), "family_id": family.id, **data}
    summary = render_template(
        "account/my_data.html",
        sections=SECTIONS,
        rows=rows,
        shown=shown,
        family=family,
        exported=datetime_fr(now),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mes-donnees.html", summary)
        archive.writestr("mes-donnees.json", json.dumps(document, ensure_ascii=False, indent=2))
    return buffer.getvalue()


def export_name(now: datetime) -> str:
    return f"mes-donnees-{paris_today(now).isoformat()}.zip"


# --- Anonymisation -----------------------------------------------------------------------


def anonymise_family(family: Family, staff: StaffUser, now: datetime, ip: str | None) -> Family:
    """Erase the family as the module docstring says; committed, then its files deleted."""
    db.session.refresh(family, with_for_update=True)
    if family.anonymised_at is not None:
        raise GdprError("Cette famille est déjà anonymisée.")
    _refuse_future_bookings(family, now)
    _refuse_money_owed(family)
    _mask_journal(family)
    files = _erase_documents(family)
    _erase_family(family, now)
    _erase_people(family)
    _close_accounts(family, now)
    db.session.execute(delete(ChangeRequest).where(ChangeRequest.family_id == family.id))
    db.session.execute(delete(Alert).where(Alert.family_id == family.id))
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.family_id == family.id))
    audit.record(staff, "anonymise", family, {"anonymised_at": [None, now]}, ip)
    db.session.commit()
    _delete_files(files)
    return family


def _refuse_future_bookings(family: Family, now: datetime) -> None:
    today = paris_today(now)
    count, first = db.session.execute(
        select(func.count(Booking.id), func.min(Booking.day))
        .join(Booking.child)
        .where(
            Child.family_id == family.id,
            Booking.day >= today,
            Booking.status.in_(LIVE_BOOKINGS),
        )
    ).one()
    if count:
        raise GdprError(
            f"Cette famille a encore {count} réservation(s) à venir (dès le "
            f"{date_fr(first)}) : annulez-les avant de l'anonymiser."
        )


def _refuse_money_owed(family: Family) -> None:
    owed = ledger.balance_cents(family.id)
    if owed > 0:
        raise GdprError(
            f"Cette famille doit encore {money(owed)} : soldez ses factures (règlement ou "
            "avoir) avant de l'anonymiser."
        )


def _journaled_rows(family: Family) -> dict[str, Any]:
    """For each kind of row about the family's people, a query of their ids as the
    journal writes them (text)."""
    children = select(Child.id).where(Child.family_id == family.id)
    return {
        "Family": select(cast(Family.id, String)).where(Family.id == family.id),
        "Booking": select(cast(Booking.id, String)).where(Booking.child_id.in_(children)),
        **{
            model.__name__: select(cast(model.id, String)).where(model.family_id == family.id)
            for model in (Guardian, Child, FamilyAccount, ChangeRequest, Document)
        },
    }


def _mask_journal(family: Family) -> None:
    for entity, ids in _journaled_rows(family).items():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
        )
        for event in events:
            event.changes = audit.masked(event.changes)


def _erase_family(family: Family, now: datetime) -> None:
    family.name = ANONYMOUS_NAME.format(id=family.id)
    family.address_line = family.postcode = family.city = ""
    family.quotient_familial = family.quotient_valid_until = None
    family.anonymised_at = now
    family.archived_at = family.archived_at or now


def _erase_people(family: Family) -> None:
    """Guardians and children keep their rows (bills name the children's ids), not a word
    about them; birth dates stay (a tax certificate counts the children under six)."""
    for guardian in family.guardians:
        guardian.first_name, guardian.last_name = "Responsable", f"n° {guardian.id}"
        guardian.relation = guardian.email = guardian.phone_mobile = guardian.phone_work = ""
    for child in family.children:
        child.first_name, child.last_name = "Enfant", f"n° {child.id}"
        child.class_name = child.diet_note = child.allergies = ""
        child.pickup_people = child.health_note = ""
    children = select(Child.id).where(Child.family_id == family.id).scalar_subquery()
    db.session.execute(
        update(Booking)
        .where(Booking.child_id.in_(children))
        .values(absence_reason="")
        .execution_options(synchronize_session=False)
    )


def _close_accounts(family: Family, now: datetime) -> None:
    for account in family.accounts:
        account.username = f"anonymise-{account.id}"
        account.email = ""
        account.password_hash = None
        account.email_alert_kinds = ""
        accounts.disable_account(account, now)
        db.session.execute(delete(AccountToken).where(AccountToken.family_account_id == account.id))


def _erase_documents(family: Family) -> list[str]:
    """Delete the document rows; the stored names of the files to delete once committed."""
    documents = _of_family(family, "document")
    for document in documents:
        db.session.delete(document)
    return [document.stored_name for document in documents]


def _delete_files(stored_names: list[str]) -> None:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    for name in stored_names:
        path = folder / Path(name).name
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("an anonymised family's file could not be deleted: %s", path.name)
