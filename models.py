"""The data model of DOMAIN.md's glossary: typed SQLAlchemy 2.0, money in integer cents.

Times are stored as naive UTC (`utcnow()`), dates as plain dates; Europe/Paris is applied
where a rule needs it (services/calendar.py). Rules about one entity are its methods; rules
across entities live in services/.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from extensions import db


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column storing the values (not the names)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


class ValidationMode(enum.StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class RegistrationStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCEL_REQUESTED = "cancel-requested"
    CANCELLED = "cancelled"


class BookingStatus(enum.StrEnum):
    """The day cell's status (DOMAIN.md); `available` and `closed` are never stored."""

    PENDING = "pending"
    REGISTERED = "registered"
    CHANGE_REQUESTED = "change-requested"
    CANCEL_REQUESTED = "cancel-requested"
    CANCELLED = "cancelled"
    REFUSED = "refused"


class CellStatus(enum.StrEnum):
    """A day cell's status, in DOMAIN.md's words (services.booking.day_actions derives it)."""

    AVAILABLE = "available"
    PENDING = "pending"
    REGISTERED = "registered"
    CHANGE_REQUESTED = "change-requested"
    CANCEL_REQUESTED = "cancel-requested"
    CLOSED = "closed"


class Attendance(enum.StrEnum):
    PRESENT = "present"
    ABSENT_JUSTIFIED = "absent-justified"
    ABSENT_UNJUSTIFIED = "absent-unjustified"
    ABSENCE_DECLARED = "absence-declared"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    CANCELLED = "cancelled"


class InvoiceStanding(enum.StrEnum):
    """Where a bill stands for the family (FINANCES), from what it still owes; not stored."""

    TO_PAY = "to-pay"
    PARTLY_PAID = "partly-paid"
    PAID = "paid"
    CANCELLED = "cancelled"
    CREDIT_NOTE = "credit-note"


class PriceKind(enum.StrEnum):
    """Which of a tariff's prices a billed day costs (services.tariffs); not stored."""

    UNIT = "unit"
    WALK_IN = "walk-in"
    LATE_CANCEL = "late-cancel"


class NotBilledReason(enum.StrEnum):
    """Why a booked day of the month is not on its invoice (services.billing); not stored."""

    CLOSED = "closed"
    ABSENCE_JUSTIFIED = "absence-justified"
    CANCELLED_IN_TIME = "cancelled-in-time"
    NOT_BOOKED = "not-booked"


class PaymentMethod(enum.StrEnum):
    ONLINE = "online"
    CHEQUE = "cheque"
    CASH = "cash"
    CESU = "cesu"
    TRANSFER = "transfer"


class PaymentStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class DocumentType(enum.StrEnum):
    QUOTIENT = "quotient-familial"
    RIB = "rib"
    INSURANCE = "insurance"
    MEDICAL_CERTIFICATE = "medical-certificate"
    HEALTH_SHEET = "health-sheet"
    OTHER = "other"


class DocumentStatus(enum.StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"


class RequestStatus(enum.StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class AlertKind(enum.StrEnum):
    """What an alert is about; a family chooses by kind which alerts also come by email."""

    BOOKING = "booking"
    REGISTRATION = "registration"
    DOCUMENT = "document"
    INVOICE = "invoice"
    PAYMENT = "payment"
    ACCOUNT = "account"


class TokenPurpose(enum.StrEnum):
    RESET = "reset"
    INVITATION = "invitation"
    EMAIL_CHANGE = "email-change"


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- Structure: schools, year, activities, tariffs, closures -------------------------------


class School(db.Model):
    __tablename__ = "school"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # ISO weekdays with class, e.g. "1,2,4,5" (Wednesday off by default).
    class_weekdays: Mapped[str] = mapped_column(String(20), default="1,2,4,5")
    address: Mapped[str] = mapped_column(String(200), default="")

    def __str__(self) -> str:
        return self.name


class SchoolYear(db.Model):
    __tablename__ = "school_year"
    __table_args__ = (CheckConstraint("starts_on < ends_on", name="ordered_bounds"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(9), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    def __str__(self) -> str:
        return self.label


class Activity(db.Model):
    __tablename__ = "activity"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    validation_mode: Mapped[ValidationMode] = mapped_column(
        _enum(ValidationMode, "validation_mode"), default=ValidationMode.AUTOMATIC
    )
    booking_deadline_days: Mapped[int] = mapped_column(Integer, default=2)
    booking_deadline_time: Mapped[str] = mapped_column(String(5), default="10:00")
    cancel_deadline_days: Mapped[int] = mapped_column(Integer, default=2)
    cancel_deadline_time: Mapped[str] = mapped_column(String(5), default="10:00")
    # Childcare counts for the tax certificate; canteen meals do not.
    is_childcare: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    options: Mapped[list[ActivityOption]] = relationship(
        back_populates="activity", order_by="ActivityOption.id"
    )

    def __str__(self) -> str:
        return self.name


class ActivityOption(db.Model):
    __tablename__ = "activity_option"
    __table_args__ = (UniqueConstraint("activity_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    activity: Mapped[Activity] = relationship(back_populates="options")

    def __str__(self) -> str:
        return self.label


class Capacity(db.Model):
    """Places per day for one activity at one school."""

    __tablename__ = "capacity"
    __table_args__ = (
        UniqueConstraint("school_id", "activity_id"),
        CheckConstraint("places >= 0", name="non_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    places: Mapped[int] = mapped_column(Integer)

    school: Mapped[School] = relationship()
    activity: Mapped[Activity] = relationship()


class Tariff(db.Model):
    """Price of one unit of an activity (or of one of its options) for a quotient-familial
    bracket [qf_min, qf_max], with the penalty prices of that bracket (services.tariffs)."""

    __tablename__ = "tariff"
    __table_args__ = (
        CheckConstraint("unit_price_cents >= 0", name="non_negative_price"),
        CheckConstraint("walk_in_price_cents >= 0", name="non_negative_walk_in_price"),
        CheckConstraint("late_cancel_price_cents >= 0", name="non_negative_late_cancel_price"),
        CheckConstraint("qf_min <= qf_max", name="ordered_bracket"),
        Index("ix_tariff_lookup", "activity_id", "valid_from"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    # None: the price of every option of the activity; set: that option's own price.
    option_id: Mapped[int | None] = mapped_column(ForeignKey("activity_option.id"))
    label: Mapped[str] = mapped_column(String(80), default="")
    qf_min: Mapped[int] = mapped_column(Integer, default=0)
    qf_max: Mapped[int] = mapped_column(Integer, default=999999)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    # A presence without booking, and a booked day missed without justification (the only
    # way to cancel after the deadline is to declare an absence); None: the unit price.
    walk_in_price_cents: Mapped[int | None] = mapped_column(Integer)
    late_cancel_price_cents: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    activity: Mapped[Activity] = relationship()
    option: Mapped[ActivityOption | None] = relationship()


class Closure(db.Model):
    """Days without service entered by staff, for one school or (school_id NULL) all."""

    __tablename__ = "closure"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="ordered_days"),
        Index("ix_closure_days", "starts_on", "ends_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))

    school: Mapped[School | None] = relationship()


# --- Families ---------------------------------------------------------------------------


class Family(Timestamped, db.Model):
    """The household (foyer): address, quotient familial; opened by one or more accounts."""

    __tablename__ = "family"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    address_line: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    quotient_familial: Mapped[int | None] = mapped_column(Integer)
    # Set when staff accept a QF certificate: the quotient prices days up to this one.
    quotient_valid_until: Mapped[date | None] = mapped_column(Date)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A family that left, its names and contacts erased; invoices and payments kept.
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)

    accounts: Mapped[list[FamilyAccount]] = relationship(back_populates="family")
    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="family", order_by="Guardian.id"
    )
    children: Mapped[list[Child]] = relationship(
        back_populates="family", order_by="Child.birth_date"
    )

    def __str__(self) -> str:
        return self.name


class LoginMixin:
    """What a sign-in needs, shared by family accounts and staff users."""

    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    # Set by the session loader: the id Flask-Login keeps in the cookie is the session's.
    session_token: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token


class FamilyAccount(LoginMixin, Timestamped, db.Model):
    """A login that opens a family (kept apart from Family: one login per guardian later)."""

    __tablename__ = "family_account"
    is_staff = False
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    # Alert kinds the family also wants by email, comma-separated; empty means all.
    email_alert_kinds: Mapped[str] = mapped_column(String(200), default="")

    family: Mapped[Family] = relationship(back_populates="accounts")

    def __str__(self) -> str:
        return self.username


class StaffUser(LoginMixin, Timestamped, db.Model):
    __tablename__ = "staff_user"
    is_staff = True
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"), default=StaffRole.AGENT)
    # Medical certificates and health sheets are shown only to the staff who need them.
    sees_health_documents: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __str__(self) -> str:
        return self.full_name or self.username


class Guardian(db.Model):
    __tablename__ = "guardian"
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    relation: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone_mobile: Mapped[str] = mapped_column(String(30), default="")
    phone_work: Mapped[str] = mapped_column(String(30), default="")
    is_payer: Mapped[bool] = mapped_column(Boolean, default=True)

    family: Mapped[Family] = relationship(back_populates="guardians")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Child(db.Model):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    class_name: Mapped[str] = mapped_column(String(40), default="")
    diet_note: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    # The people allowed to pick the child up, as the family wrote them.
    pickup_people: Mapped[str] = mapped_column(Text, default="")
    health_note: Mapped[str] = mapped_column(Text, default="")

    family: Mapped[Family] = relationship(back_populates="children")
    school: Mapped[School] = relationship()

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Registration(Timestamped, db.Model):
    """A child admitted to an activity for a school year (not a booking of a day)."""

    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("child_id", "activity_id", "school_year_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    school_year_id: Mapped[int] = mapped_column(ForeignKey("school_year.id"))
    # The usual days asked for, ISO weekdays "1,2,4,5", and the option: booked for the rest
    # of the school year when the registration is accepted.
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    option_id: Mapped[int | None] = mapped_column(ForeignKey("activity_option.id"))
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.REQUESTED
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reason: Mapped[str] = mapped_column(String(300), default="")

    child: Mapped[Child] = relationship()
    activity: Mapped[Activity] = relationship()
    school_year: Mapped[SchoolYear] = relationship()
    option: Mapped[ActivityOption | None] = relationship()


class Booking(Timestamped, db.Model):
    """One child, one activity, one date: one row, whatever its history."""

    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("child_id", "activity_id", "day"),
        Index("ix_booking_day_activity_status", "day", "activity_id", "status"),
        Index("ix_booking_child_day", "child_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    day: Mapped[date] = mapped_column(Date)
    option_id: Mapped[int | None] = mapped_column(ForeignKey("activity_option.id"))
    requested_option_id: Mapped[int | None] = mapped_column(ForeignKey("activity_option.id"))
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus, "booking_status"))
    attendance: Mapped[Attendance | None] = mapped_column(_enum(Attendance, "attendance"))
    absence_reason: Mapped[str] = mapped_column(String(300), default="")
    # Came without a booking (added at attendance): billed at the activity's penalty price.
    is_walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    refusal_reason: Mapped[str] = mapped_column(String(300), default="")
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    child: Mapped[Child] = relationship()
    activity: Mapped[Activity] = relationship()
    school: Mapped[School] = relationship()
    option: Mapped[ActivityOption | None] = relationship(foreign_keys=[option_id])
    requested_option: Mapped[ActivityOption | None] = relationship(
        foreign_keys=[requested_option_id]
    )


# --- Money ------------------------------------------------------------------------------


class InvoiceNumberSequence(db.Model):
    """The last invoice number used per year: gapless, locked row per year."""

    __tablename__ = "invoice_number_sequence"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Timestamped, db.Model):
    """An invoice of one month, or a credit note (avoir) crediting an issued invoice."""

    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_family_period", "family_id", "period_month"),
        # One invoice per family and month, whatever happens: a billing run run twice
        # cannot bill a month twice. Credit notes are not limited.
        Index(
            "uq_invoice_family_month",
            "family_id",
            "period_month",
            unique=True,
            sqlite_where=text("kind = 'invoice'"),
            postgresql_where=text("kind = 'invoice'"),
        ),
        CheckConstraint("total_cents >= 0", name="non_negative_total"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"))
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    kind: Mapped[InvoiceKind] = mapped_column(
        _enum(InvoiceKind, "invoice_kind"), default=InvoiceKind.INVOICE
    )
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    # First day of the month the invoice covers.
    period_month: Mapped[date] = mapped_column(Date)
    status: Mapped[InvoiceStatus] = mapped_column(
        _enum(InvoiceStatus, "invoice_status"), default=InvoiceStatus.DRAFT
    )
    issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_on: Mapped[date | None] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    # Why a credit note was issued (shown to the family and on its PDF).
    reason: Mapped[str] = mapped_column(String(300), default="")
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Whom it was issued to, as printed on it (« Famille Martin », street, town, one per
    # line): an issued invoice never changes, even after the family moves or is anonymised.
    billed_name: Mapped[str] = mapped_column(String(200), default="")
    billed_address: Mapped[str] = mapped_column(Text, default="")

    family: Mapped[Family] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id"
    )

    def __str__(self) -> str:
        return self.number or f"brouillon #{self.id}"


class InvoiceLine(db.Model):
    __tablename__ = "invoice_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    option_id: Mapped[int | None] = mapped_column(ForeignKey("activity_option.id"))
    label: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    child: Mapped[Child | None] = relationship()
    activity: Mapped[Activity | None] = relationship()


class Payment(Timestamped, db.Model):
    """Money received (règlement), allocated to invoices."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="positive_amount"),
        CheckConstraint(
            "refunded_cents >= 0 AND charged_back_cents >= 0 "
            "AND refunded_cents + charged_back_cents <= amount_cents",
            name="returned_within_amount",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod, "payment_method"))
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), default=PaymentStatus.PAID
    )
    amount_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    charged_back_cents: Mapped[int] = mapped_column(Integer, default=0)
    received_on: Mapped[date | None] = mapped_column(Date)
    mollie_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    # Online payments: the key sent to Mollie (a retried creation makes no second payment)
    # and the hosted checkout the family is sent to while the payment is open.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    checkout_url: Mapped[str] = mapped_column(String(500), default="")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    reference: Mapped[str] = mapped_column(String(120), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    family: Mapped[Family] = relationship()
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", order_by="PaymentAllocation.id"
    )


class PaymentAllocation(db.Model):
    __tablename__ = "payment_allocation"
    __table_args__ = (
        UniqueConstraint("payment_id", "invoice_id"),
        CheckConstraint("amount_cents > 0", name="positive_amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship()


class TaxCertificate(Timestamped, db.Model):
    """An attestation fiscale as issued: the amounts per child are kept as issued (JSON),
    so the PDF a family downloads later says what staff issued."""

    __tablename__ = "tax_certificate"
    __table_args__ = (UniqueConstraint("family_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"))
    year: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    children_json: Mapped[str] = mapped_column(Text, default="[]")
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    family: Mapped[Family] = relationship()


class StaffNotice(Timestamped, db.Model):
    """Something staff must look at that no family asked for: a payment whose amount does
    not match, an invoice paid twice, a chargeback (SECURITY.md 23 and 26)."""

    __tablename__ = "staff_notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    family: Mapped[Family | None] = relationship()
    payment: Mapped[Payment | None] = relationship()


# --- Documents, news, alerts, requests --------------------------------------------------


class Document(Timestamped, db.Model):
    """A file a family sent; stored under a random name, the original kept as data only."""

    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"))
    # A medical certificate justifies the absence declared on this booked day.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    doc_type: Mapped[DocumentType] = mapped_column(_enum(DocumentType, "document_type"))
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus, "document_status"), default=DocumentStatus.RECEIVED
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date | None] = mapped_column(Date)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    refusal_reason: Mapped[str] = mapped_column(String(300), default="")

    family: Mapped[Family] = relationship()
    child: Mapped[Child | None] = relationship()


class Resource(Timestamped, db.Model):
    """A file staff publish for every family: menus, tariffs, règlement intérieur, forms."""

    __tablename__ = "resource"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), default="autre")
    # None: every school.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)

    school: Mapped[School | None] = relationship()


class NewsItem(Timestamped, db.Model):
    __tablename__ = "news_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date] = mapped_column(Date, index=True)
    # Shown up to this day included; None: until unpublished.
    ends_on: Mapped[date | None] = mapped_column(Date)
    # The audience: everyone (both None), the families of a school, or of an activity.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)

    school: Mapped[School | None] = relationship()
    activity: Mapped[Activity | None] = relationship()


class Alert(Timestamped, db.Model):
    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_family_unread", "family_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"))
    kind: Mapped[str] = mapped_column(String(40))  # an AlertKind value
    message: Mapped[str] = mapped_column(String(500))
    # One line per item when an alert sums up several (a staff decision on many requests).
    details: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(200), default="")
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    family: Mapped[Family] = relationship()


class ChangeRequest(Timestamped, db.Model):
    """A family's edit of its own data, field by field, that staff validate."""

    __tablename__ = "change_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        _enum(RequestStatus, "request_status"), default=RequestStatus.WAITING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Why staff refused the change, told to the family.
    reason: Mapped[str] = mapped_column(String(300), default="")

    family: Mapped[Family] = relationship()


# --- Security and plumbing --------------------------------------------------------------


class AuditEvent(db.Model):
    """Who changed or viewed what, when, from where (old → new as JSON text)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(40), default="")
    changes: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(45), default="")

    staff_user: Mapped[StaffUser | None] = relationship()


class AuthSession(db.Model):
    """A server-side session: revoking the row ends it, whatever cookie is replayed."""

    __tablename__ = "auth_session"
    __table_args__ = (
        CheckConstraint(
            "(family_account_id IS NULL) <> (staff_user_id IS NULL)", name="one_principal"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("family_account.id"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str] = mapped_column(String(45), default="")
    # The phone whose "rester connecté" opened this session: disconnecting it ends both.
    remembered_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("remembered_device.id"), index=True
    )

    family_account: Mapped[FamilyAccount | None] = relationship()
    staff_user: Mapped[StaffUser | None] = relationship()


class RememberedDevice(db.Model):
    """A family's phone that stays signed in ("rester connecté sur ce téléphone"), 30 days.

    Its cookie holds a series (which device) and a token (which changes at each use); only
    their hashes are stored. The previous token's hash is kept to tell a late duplicate
    request from a stolen cookie replayed after the owner's phone used it.
    """

    __tablename__ = "remembered_device"
    id: Mapped[int] = mapped_column(primary_key=True)
    family_account_id: Mapped[int] = mapped_column(ForeignKey("family_account.id"), index=True)
    series_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    previous_token_hash: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    family_account: Mapped[FamilyAccount] = relationship()


class AccountToken(db.Model):
    """Single-use, expiring link token (reset, invitation, email change); only its hash is kept."""

    __tablename__ = "account_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[TokenPurpose] = mapped_column(_enum(TokenPurpose, "token_purpose"))
    family_account_id: Mapped[int | None] = mapped_column(ForeignKey("family_account.id"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    new_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    family_account: Mapped[FamilyAccount | None] = relationship()
    staff_user: Mapped[StaffUser | None] = relationship()


class OutboxEmail(db.Model):
    """An email written in the caller's transaction, sent later; never lost, never twice."""

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
