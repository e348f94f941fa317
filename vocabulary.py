"""The French words of the domain (DOMAIN.md's glossary), shared by every layer.

The parent portal, the back office and the emails take their words from here, so a status,
a kind or a type reads the same wherever a family or an agent meets it. Each table is keyed
by the members of an enum of models.py. A word is written as it reads inside a sentence
(« votre attestation d'assurance a expiré »); `label` gives it as a label, a heading or a
column cell shows it (« Attestation d'assurance »).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from models import (
    AlertKind,
    Attendance,
    BookingStatus,
    CellStatus,
    DocumentStatus,
    DocumentType,
    InvoiceKind,
    InvoiceStanding,
    InvoiceStatus,
    NotBilledReason,
    PaymentMethod,
    PaymentStatus,
    PriceKind,
    RegistrationStatus,
    RequestStatus,
    StaffRole,
    ValidationMode,
)

# --- Bookings and registrations --------------------------------------------------------

VALIDATION_MODES = {ValidationMode.AUTOMATIC: "automatique", ValidationMode.MANUAL: "manuelle"}
REGISTRATION_STATUSES = {
    RegistrationStatus.REQUESTED: "demandée",
    RegistrationStatus.ACCEPTED: "acceptée",
    RegistrationStatus.REFUSED: "refusée",
    RegistrationStatus.CANCEL_REQUESTED: "annulation demandée",
    RegistrationStatus.CANCELLED: "annulée",
}
# A child's registration as INSCRIPTIONS names it (None: never asked).
REGISTRATION_STATES = {
    None: "pas d'inscription",
    RegistrationStatus.REQUESTED: "demande envoyée",
    RegistrationStatus.ACCEPTED: "inscription acceptée",
    RegistrationStatus.REFUSED: "inscription refusée",
    RegistrationStatus.CANCEL_REQUESTED: "désinscription demandée",
    RegistrationStatus.CANCELLED: "inscription annulée",
}
BOOKING_STATUSES = {
    BookingStatus.PENDING: "en attente",
    BookingStatus.REGISTERED: "réservée",
    BookingStatus.CHANGE_REQUESTED: "changement demandé",
    BookingStatus.CANCEL_REQUESTED: "annulation demandée",
    BookingStatus.CANCELLED: "annulée",
    BookingStatus.REFUSED: "refusée",
}
# A family's request waiting for staff, named by the booking status that holds it.
REQUEST_KINDS = {
    BookingStatus.PENDING: "réservation",
    BookingStatus.CHANGE_REQUESTED: "changement de formule",
    BookingStatus.CANCEL_REQUESTED: "annulation",
}
# A day of the month as the family sees it (the cell of one child and one activity).
DAY_STATUSES = {
    CellStatus.AVAILABLE: "disponible",
    CellStatus.PENDING: "en attente",
    CellStatus.REGISTERED: "inscrit",
    CellStatus.CHANGE_REQUESTED: "changement demandé",
    CellStatus.CANCEL_REQUESTED: "annulation demandée",
    CellStatus.CLOSED: "fermé",
}
ATTENDANCES = {
    Attendance.PRESENT: "présent",
    Attendance.ABSENT_JUSTIFIED: "absence justifiée",
    Attendance.ABSENT_UNJUSTIFIED: "absence non justifiée",
    Attendance.ABSENCE_DECLARED: "absence déclarée",
}

# --- Money ------------------------------------------------------------------------------

INVOICE_KINDS = {InvoiceKind.INVOICE: "facture", InvoiceKind.CREDIT_NOTE: "avoir"}
INVOICE_STATUSES = {
    InvoiceStatus.DRAFT: "brouillon",
    InvoiceStatus.ISSUED: "émise",
    InvoiceStatus.PAID: "payée",
    InvoiceStatus.CANCELLED: "annulée",
}
# What a bill still asks of the family, as FINANCES shows it.
INVOICE_STANDINGS = {
    InvoiceStanding.TO_PAY: "à payer",
    InvoiceStanding.PARTLY_PAID: "partiellement payée",
    InvoiceStanding.PAID: "payée",
    InvoiceStanding.CANCELLED: "annulée",
    InvoiceStanding.CREDIT_NOTE: "avoir déduit",
}
PAYMENT_METHODS = {
    PaymentMethod.ONLINE: "en ligne",
    PaymentMethod.CHEQUE: "chèque",
    PaymentMethod.CASH: "espèces",
    PaymentMethod.CESU: "CESU",
    PaymentMethod.TRANSFER: "virement",
}
# How a sentence says the way a family paid: « votre règlement par chèque de 45,00 € ».
PAYMENT_METHOD_PHRASES = {
    PaymentMethod.ONLINE: "en ligne",
    PaymentMethod.CHEQUE: "par chèque",
    PaymentMethod.CASH: "en espèces",
    PaymentMethod.CESU: "par CESU",
    PaymentMethod.TRANSFER: "par virement",
}
PAYMENT_STATUSES = {
    PaymentStatus.OPEN: "en cours",
    PaymentStatus.PAID: "payé",
    PaymentStatus.FAILED: "échoué",
    PaymentStatus.CANCELED: "abandonné",
    PaymentStatus.EXPIRED: "expiré",
}
# The billing run's words: what an invoice line's price is, why a day is not billed.
PRICE_KINDS = {
    PriceKind.UNIT: "prix normal",
    PriceKind.WALK_IN: "présence sans réservation",
    PriceKind.LATE_CANCEL: "absence non justifiée",
}
NOT_BILLED_REASONS = {
    NotBilledReason.CLOSED: "fermeture",
    NotBilledReason.ABSENCE_JUSTIFIED: "absence justifiée",
    NotBilledReason.CANCELLED_IN_TIME: "annulé à temps",
    NotBilledReason.NOT_BOOKED: "non réservé",
}

# --- Documents, alerts, people ------------------------------------------------------------

DOCUMENT_TYPES = {
    DocumentType.QUOTIENT: "attestation de quotient familial",
    DocumentType.RIB: "RIB",
    DocumentType.INSURANCE: "attestation d'assurance",
    DocumentType.MEDICAL_CERTIFICATE: "certificat médical",
    DocumentType.HEALTH_SHEET: "fiche sanitaire",
    DocumentType.OTHER: "autre document",
}
DOCUMENT_STATUSES = {
    DocumentStatus.RECEIVED: "reçu",
    DocumentStatus.ACCEPTED: "accepté",
    DocumentStatus.REFUSED: "refusé",
    DocumentStatus.EXPIRED: "expiré",
}
# The commune's published files (Resource.category holds the key), in DOCUMENTS' order.
RESOURCE_CATEGORIES = {
    "menus": "menus",
    "tarifs": "tarifs",
    "reglement": "règlement intérieur",
    "formulaires": "formulaires",
    "autre": "autre",
}
REQUEST_STATUSES = {
    RequestStatus.WAITING: "en attente",
    RequestStatus.ACCEPTED: "acceptée",
    RequestStatus.REFUSED: "refusée",
}
# What a family may change on MON COMPTE (ChangeRequest.entity and .field), in page order.
CHANGEABLE_FIELDS = {
    "Family": {"address_line": "adresse", "postcode": "code postal", "city": "commune"},
    "Guardian": {
        "phone_mobile": "téléphone portable",
        "phone_work": "téléphone professionnel",
        "email": "adresse email",
    },
    "Child": {
        "diet_note": "régime alimentaire",
        "allergies": "allergies",
        "pickup_people": "personnes autorisées à venir chercher l'enfant",
    },
}
CHANGE_ENTITIES = {"Family": "foyer", "Guardian": "responsable légal", "Child": "enfant"}
# In AlertKind's order: the ALERTES headings, the email subjects and the account's choices.
ALERT_KINDS = {
    AlertKind.BOOKING: "réservations",
    AlertKind.REGISTRATION: "inscriptions",
    AlertKind.DOCUMENT: "documents",
    AlertKind.INVOICE: "factures",
    AlertKind.PAYMENT: "règlements",
    AlertKind.ACCOUNT: "compte",
}
STAFF_ROLES = {StaffRole.ADMIN: "administrateur", StaffRole.AGENT: "agent"}
# StaffNotice.kind (services.staff_notices): what staff are asked to look at.
NOTICE_KINDS = {
    "amount-mismatch": "montant différent chez Mollie",
    "paid-twice": "payé deux fois : à rembourser",
    "credit-to-refund": "avoir sur une facture payée : à rembourser",
    "chargeback": "rejet bancaire",
}

# The word of each member of each enum, for `enum_label` and `enum_choices`.
WORDS: dict[type[Enum], Mapping[Enum, str]] = {
    ValidationMode: VALIDATION_MODES,
    RegistrationStatus: REGISTRATION_STATUSES,
    BookingStatus: BOOKING_STATUSES,
    CellStatus: DAY_STATUSES,
    Attendance: ATTENDANCES,
    InvoiceKind: INVOICE_KINDS,
    InvoiceStatus: INVOICE_STATUSES,
    InvoiceStanding: INVOICE_STANDINGS,
    PaymentMethod: PAYMENT_METHODS,
    PaymentStatus: PAYMENT_STATUSES,
    PriceKind: PRICE_KINDS,
    NotBilledReason: NOT_BILLED_REASONS,
    DocumentType: DOCUMENT_TYPES,
    DocumentStatus: DOCUMENT_STATUSES,
    RequestStatus: REQUEST_STATUSES,
    AlertKind: ALERT_KINDS,
    StaffRole: STAFF_ROLES,
}


def label(word: str) -> str:
    """The word as a label shows it: a capital first letter, the rest as written (RIB)."""
    return word[:1].upper() + word[1:]


def enum_label(member: Enum) -> str:
    """The label of an enum member (its stored value when it has no word)."""
    words = WORDS.get(type(member), {})
    return label(words[member]) if member in words else str(member.value)


def enum_choices(enum_class: type[Enum]) -> list[tuple[str, str]]:
    """(stored value, label) pairs in the enum's order, for selects and filters."""
    return [(member.value, enum_label(member)) for member in enum_class]


# The month's legend: what each colour of the grid means, in the order a family meets them.
LEGEND = [
    (status, label(DAY_STATUSES[status]), meaning)
    for status, meaning in (
        (CellStatus.REGISTERED, "réservé et confirmé"),
        (CellStatus.PENDING, "demande envoyée, la mairie doit valider"),
        (CellStatus.CHANGE_REQUESTED, "autre formule demandée"),
        (CellStatus.CANCEL_REQUESTED, "la mairie doit valider"),
        (CellStatus.AVAILABLE, "touchez pour réserver"),
        (CellStatus.CLOSED, "pas de service ce jour-là (touchez pour savoir pourquoi)"),
    )
]
