"""The demo put in the database (`load_demo_data`), in one transaction.

The rules are the services': which days are open comes from services.calendar (public
holidays, zone B school holidays, the demo's staff closure, each school's week), each day's
price from services.tariffs, and every booking row is written by services.booking's
`write_booking`. What is only the demo's is the history: requests and attendance as of
`today`, which decides which days are past (they carry attendance) and dates the news and
alerts. Never loaded in production: the command refuses it there.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from demo.data import (
    ABSENCES,
    ACTIVITIES,
    BOOKED_FROM,
    BOOKED_UNTIL,
    BRACKET_LABELS,
    BRACKETS,
    CAPACITIES,
    CHALMEL,
    FAMILIES,
    FAMILY_PASSWORD,
    PRICES,
    REQUESTS,
    STAFF_PASSWORD,
    THERESE,
    TRAINING_DAY,
    TRAINING_REASON,
    WITH_PASSWORD,
    YEAR_END,
    YEAR_START,
)
from extensions import db
from models import (
    Activity,
    ActivityOption,
    Alert,
    AlertKind,
    Attendance,
    BookingStatus,
    Capacity,
    Child,
    Closure,
    Document,
    DocumentStatus,
    DocumentType,
    Family,
    FamilyAccount,
    Guardian,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceStatus,
    NewsItem,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    Registration,
    RegistrationStatus,
    Resource,
    School,
    SchoolYear,
    StaffRole,
    StaffUser,
    Tariff,
)
from services.accounts import hash_password
from services.booking import write_booking
from services.calendar import Calendar, month_bounds
from services.finance_documents import billed_identity
from services.formatting import date_fr, money
from services.tariffs import unit_price_cents


class Demo:
    """What the builders share while they fill one transaction."""

    def __init__(self, today: date, upload_folder: Path):
        self.calendar: Calendar | None = None
        self.today = today
        self.upload_folder = upload_folder
        self.schools: dict[str, School] = {}
        self.activities: dict[str, Activity] = {}
        self.options: dict[str, ActivityOption] = {}
        self.families: dict[str, Family] = {}
        self.children: dict[str, Child] = {}
        self.plans: dict[str, dict] = {}
        self.staff: dict[str, StaffUser] = {}
        self.year: SchoolYear | None = None
        self.october_invoice: Invoice | None = None

    def open_days(self, school: School, first: date, last: date) -> list[date]:
        """The school's open days in [first, last], as services.calendar decides them."""
        if self.calendar is None:  # loaded once the structure (year, closure) is flushed
            self.calendar = Calendar.load(YEAR_START, YEAR_END)
        return [day.day for day in self.calendar.days(school, first, last) if day.is_open]


def has_families() -> bool:
    """True once any family exists (seed-demo --if-empty then does nothing)."""
    return db.session.scalar(select(Family.id).limit(1)) is not None


def load_demo_data(today: date, upload_folder: str | None = None) -> Demo:
    """Load the whole demo in one transaction; files go to UPLOAD_FOLDER."""
    folder = Path(upload_folder or current_app.config["UPLOAD_FOLDER"])
    demo = Demo(today, folder)
    for build in (
        _structure,
        _staff,
        _families,
        _registrations,
        _bookings,
        _invoices,
        _documents,
        _resources,
        _news,
        _alerts,
    ):
        build(demo)
        db.session.flush()
    db.session.commit()
    return demo


# --- Structure ----------------------------------------------------------------------------


def _structure(demo: Demo) -> None:
    for name, is_public in ((CHALMEL, True), (THERESE, False)):
        demo.schools[name] = School(
            name=name,
            is_public=is_public,
            class_weekdays="1,2,4,5",
            address="Rue des Écoles, Saint-Exemple",
        )
    demo.year = SchoolYear(label="2026-2027", starts_on=YEAR_START, ends_on=YEAR_END)
    for order, (code, spec) in enumerate(ACTIVITIES.items(), start=1):
        demo.activities[code] = _activity(demo, code, spec, order)
    db.session.add_all([*demo.schools.values(), demo.year, *demo.activities.values()])
    _capacities_and_tariffs(demo)
    db.session.add(
        Closure(
            school=demo.schools[THERESE],
            starts_on=TRAINING_DAY,
            ends_on=TRAINING_DAY,
            reason=TRAINING_REASON,
        )
    )


def _activity(demo: Demo, code: str, spec: dict, order: int) -> Activity:
    """One activity of ACTIVITIES, its options (the first is the default) in demo.options."""
    days, at = spec["deadline"]
    activity = Activity(
        code=code,
        name=spec["name"],
        validation_mode=spec["validation_mode"],
        booking_deadline_days=days,
        booking_deadline_time=at,
        cancel_deadline_days=days,
        cancel_deadline_time=at,
        is_childcare=spec["is_childcare"],
        sort_order=order,
    )
    for index, (option_code, label) in enumerate(spec["options"]):
        demo.options[option_code] = ActivityOption(
            activity=activity, code=option_code, label=label, is_default=index == 0
        )
    return activity


def _capacities_and_tariffs(demo: Demo) -> None:
    for school_name, places in CAPACITIES.items():
        for code, count in zip(PRICES, places, strict=True):
            db.session.add(
                Capacity(
                    school=demo.schools[school_name], activity=demo.activities[code], places=count
                )
            )
    for code, prices in PRICES.items():
        for (low, high), label, cents in zip(BRACKETS, BRACKET_LABELS, prices, strict=True):
            db.session.add(
                Tariff(
                    activity=demo.activities[code],
                    label=label,
                    qf_min=low,
                    qf_max=high,
                    unit_price_cents=cents,
                    walk_in_price_cents=ACTIVITIES[code]["walk_in_price_cents"],
                    valid_from=YEAR_START,
                )
            )


def _staff(demo: Demo) -> None:
    staff_hash = hash_password(STAFF_PASSWORD)
    for username, full_name, role in (
        ("agent.demo", "Agent Démo (administration)", StaffRole.ADMIN),
        ("agent.saisie", "Agent Saisie (accueil)", StaffRole.AGENT),
    ):
        demo.staff[username] = StaffUser(
            username=username,
            email=f"{username}@mairie.example",
            full_name=full_name,
            role=role,
            password_hash=staff_hash,
            # The administration reviews medical certificates and health sheets; the
            # reception desk does not see them.
            sees_health_documents=role is StaffRole.ADMIN,
        )
        db.session.add(demo.staff[username])


# --- Families -----------------------------------------------------------------------------


def _families(demo: Demo) -> None:
    family_hash = hash_password(FAMILY_PASSWORD)
    for spec in FAMILIES:
        family = Family(
            name=spec["name"],
            address_line=spec["address"],
            postcode="35999",
            city="Saint-Exemple",
            quotient_familial=spec["qf"],
        )
        # Families without a demo login have an account awaiting its invitation link.
        password = family_hash if spec["username"] in WITH_PASSWORD else None
        first_email = spec["guardians"][0][3]
        db.session.add(
            FamilyAccount(
                family=family, username=spec["username"], email=first_email, password_hash=password
            )
        )
        _guardians(family, spec["guardians"])
        _children(demo, family, spec["children"])
        demo.families[spec["username"]] = family
        db.session.add(family)


def _guardians(family: Family, guardians: tuple) -> None:
    for first, relation, phone, email, payer in guardians:
        db.session.add(
            Guardian(
                family=family,
                first_name=first,
                last_name=family.name,
                relation=relation,
                phone_mobile=phone,
                email=email,
                is_payer=payer,
            )
        )


def _children(demo: Demo, family: Family, children: tuple) -> None:
    """The family's children, and what each books, by first name in demo."""
    for first, born, school, class_name, diet, plan in children:
        demo.children[first] = Child(
            family=family,
            first_name=first,
            last_name=family.name,
            birth_date=born,
            school=demo.schools[school],
            class_name=class_name,
            diet_note=diet,
        )
        demo.plans[first] = plan


def _registrations(demo: Demo) -> None:
    """Each child's plan, accepted with its usual days and option; Noah's morning care asked
    and not examined yet. Léa's morning care is left for famille.demo to ask."""
    decided_at = datetime(2026, 8, 28, 8, 30)
    for first, plan in demo.plans.items():
        for code, (option_code, weekdays) in plan.items():
            db.session.add(
                Registration(
                    child=demo.children[first],
                    activity=demo.activities[code],
                    school_year=demo.year,
                    weekdays=weekdays,
                    option=demo.options[option_code],
                    status=RegistrationStatus.ACCEPTED,
                    decided_at=decided_at,
                    decided_by_id=demo.staff["agent.demo"].id,
                )
            )
    db.session.add(
        Registration(
            child=demo.children["Noah"],
            activity=demo.activities["care_morning"],
            school_year=demo.year,
            weekdays="1,2,4,5",
            option=demo.options["matin"],
            status=RegistrationStatus.REQUESTED,
        )
    )


def _planned_days(demo: Demo, first: str, weekdays: str, start: date, end: date) -> list[date]:
    wanted = {int(day) for day in weekdays.split(",")}
    school = demo.children[first].school
    return [day for day in demo.open_days(school, start, end) if day.isoweekday() in wanted]


def _bookings(demo: Demo) -> None:
    booked_at = datetime(2026, 10, 5, 18, 0)
    for first, plan in demo.plans.items():
        for code, (option_code, weekdays) in plan.items():
            for day in _planned_days(demo, first, weekdays, BOOKED_FROM, BOOKED_UNTIL):
                _booking(demo, (first, code, day), option_code, BookingStatus.REGISTERED, booked_at)
    asked_at = datetime.combine(demo.today - timedelta(days=1), time(19))
    for key, (status, option_code) in REQUESTS.items():
        if status is BookingStatus.PENDING:
            _booking(demo, key, option_code, status, asked_at)


def _booking(demo: Demo, key: tuple, option_code: str, status: BookingStatus, at: datetime) -> None:
    """The row as services.booking writes it, then its history as of `demo.today`: a change
    or a cancellation asked since, and the attendance of a past day."""
    first, code, day = key
    child, option = demo.children[first], demo.options[option_code]
    booking = write_booking(None, child, demo.activities[code], day, option, status, at)
    asked, asked_option = REQUESTS.get(key, (None, None))
    if asked in (BookingStatus.CHANGE_REQUESTED, BookingStatus.CANCEL_REQUESTED):
        booking.status = asked
        booking.requested_option_id = demo.options[asked_option].id if asked_option else None
        booking.requested_at = datetime.combine(demo.today - timedelta(days=2), time(20))
    if day < demo.today:
        attendance, reason = ABSENCES.get((first, day), (Attendance.PRESENT, ""))
        booking.attendance = attendance
        booking.absence_reason = reason


# --- Money --------------------------------------------------------------------------------


def _invoice(demo: Demo, username: str, month: date, number: int, issued_on: date) -> Invoice:
    """An issued invoice of the month's planned days, one line per child and activity."""
    family = demo.families[username]
    first_day, last_day = month_bounds(month)
    invoice = Invoice(
        family=family,
        number=f"2026-{number:06d}",
        period_month=month,
        status=InvoiceStatus.ISSUED,
        issued_at=datetime.combine(issued_on, time(7)),
        due_on=issued_on + timedelta(days=28),
        **billed_identity(family),
    )
    for child in family.children:
        for code, (_option, weekdays) in demo.plans[child.first_name].items():
            activity = demo.activities[code]
            quantity = len(_planned_days(demo, child.first_name, weekdays, first_day, last_day))
            price = unit_price_cents(activity, family.quotient_familial, first_day)
            invoice.lines.append(
                InvoiceLine(
                    child=child,
                    activity=activity,
                    label=f"{activity.name} — {child.first_name} {child.last_name}",
                    unit_price_cents=price,
                    quantity=quantity,
                    amount_cents=price * quantity,
                )
            )
    invoice.total_cents = sum(line.amount_cents for line in invoice.lines)
    db.session.add(invoice)
    return invoice


def _invoices(demo: Demo) -> None:
    september = _invoice(demo, "famille.demo", date(2026, 9, 1), 1, date(2026, 10, 2))
    demo.october_invoice = _invoice(demo, "famille.demo", date(2026, 10, 1), 2, date(2026, 11, 3))
    _invoice(demo, "famille.test", date(2026, 10, 1), 3, date(2026, 11, 3))
    db.session.add(InvoiceNumberSequence(year=2026, last_number=3))
    september.status = InvoiceStatus.PAID
    cheque = Payment(
        family=september.family,
        method=PaymentMethod.CHEQUE,
        amount_cents=september.total_cents,
        received_on=date(2026, 10, 15),
        reference="Chèque n° 0000042",
        recorded_by_id=demo.staff["agent.saisie"].id,
    )
    cheque.allocations.append(
        PaymentAllocation(invoice=september, amount_cents=september.total_cents)
    )
    db.session.add(cheque)


# --- Files, news, alerts ------------------------------------------------------------------


def _store_pdf(demo: Demo, title: str) -> tuple[str, int]:
    """Write a one-page PDF under a random name; its stored name and size."""
    content = tiny_pdf([title, "Document de démonstration : données inventées."])
    stored_name = secrets.token_hex(16)
    demo.upload_folder.mkdir(parents=True, exist_ok=True)
    (demo.upload_folder / stored_name).write_bytes(content)
    return stored_name, len(content)


def _documents(demo: Demo) -> None:
    family = demo.families["famille.demo"]
    for doc_type, status, original, child, expires in (
        (
            DocumentType.QUOTIENT,
            DocumentStatus.ACCEPTED,
            "attestation-quotient-familial.pdf",
            None,
            date(2026, 12, 31),
        ),
        (
            DocumentType.INSURANCE,
            DocumentStatus.RECEIVED,
            "assurance-scolaire-tom.pdf",
            demo.children["Tom"],
            None,
        ),
    ):
        stored_name, size = _store_pdf(demo, original)
        document = Document(
            family=family,
            child=child,
            doc_type=doc_type,
            status=status,
            original_name=original,
            stored_name=stored_name,
            content_type="application/pdf",
            size_bytes=size,
            expires_on=expires,
        )
        if status is DocumentStatus.ACCEPTED:
            document.reviewed_by_id = demo.staff["agent.saisie"].id
            document.reviewed_at = datetime(2026, 9, 10, 9, 0)
        db.session.add(document)


def _resources(demo: Demo) -> None:
    """The règlement intérieur and tariffs for every school; this week's menu for each."""
    monday = demo.today - timedelta(days=demo.today.weekday())
    week = f"Menu de la semaine du {date_fr(monday, 'd MMMM')}"
    files = [
        ("Règlement intérieur 2026-2027", "reglement", "reglement-interieur-2026-2027.pdf", None),
        ("Tarifs 2026-2027", "tarifs", "tarifs-2026-2027.pdf", None),
    ]
    files += [
        (week, "menus", f"menu-{monday.isoformat()}.pdf", school) for school in (CHALMEL, THERESE)
    ]
    for title, category, original, school in files:
        stored_name, size = _store_pdf(demo, f"{title} ({school})" if school else title)
        db.session.add(
            Resource(
                title=title,
                category=category,
                school=demo.schools[school] if school else None,
                original_name=original,
                stored_name=stored_name,
                content_type="application/pdf",
                size_bytes=size,
                valid_from=monday if school else YEAR_START,
                valid_to=monday + timedelta(days=6) if school else YEAR_END,
            )
        )


def _news(demo: Demo) -> None:
    """Two items for everyone (one with simple formatting) and one for Sainte-Thérèse only."""
    monday = demo.today - timedelta(days=demo.today.weekday())
    items = (
        (
            "Rentrée 2026 : inscriptions à la cantine et au périscolaire",
            date(2026, 8, 24),
            "Les inscriptions au restaurant scolaire et à l'accueil périscolaire sont ouvertes "
            "sur le portail. Pensez à transmettre votre **attestation de quotient familial** "
            "pour bénéficier du bon tarif.",
            None,
        ),
        (
            "Fermeture exceptionnelle à l'école Sainte-Thérèse",
            date(2026, 11, 16),
            "Le **vendredi 4 décembre 2026**, le personnel est en formation : il n'y aura ni "
            "restauration scolaire ni accueil périscolaire à l'école Sainte-Thérèse ce jour-là. "
            "Aucune réservation ne sera facturée.",
            THERESE,
        ),
        (
            f"Au menu de la semaine du {date_fr(monday, 'd MMMM')}",
            monday - timedelta(days=3),
            "- **Lundi** : carottes râpées, poulet basquaise et riz, yaourt\n"
            "- **Mardi** : velouté de potiron, lasagnes, pomme\n"
            "- **Jeudi** : lentilles, rôti de dinde, clémentine\n"
            "- **Vendredi** : poisson pané, purée\n\n"
            "Un plat *sans viande* est proposé chaque jour.",
            None,
        ),
    )
    for title, published_on, body, school in items:
        db.session.add(
            NewsItem(
                title=title,
                body=body,
                published_on=published_on,
                school=demo.schools[school] if school else None,
            )
        )


def _alerts(demo: Demo) -> None:
    family = demo.families["famille.demo"]
    invoice = demo.october_invoice
    at = datetime.combine(demo.today - timedelta(days=1), time(8))
    for kind, message, link, read in (
        (
            AlertKind.INVOICE,
            f"Votre facture n° {invoice.number} d'octobre 2026 est disponible : "
            f"{money(invoice.total_cents)}.",
            "/finances",
            False,
        ),
        (
            AlertKind.BOOKING,
            "Demande reçue : accueil du soir de Léa le "
            f"{date_fr(date(2026, 12, 15))}. Elle est en attente de validation.",
            "/reservations",
            False,
        ),
        (
            AlertKind.DOCUMENT,
            "Votre attestation de quotient familial a été acceptée.",
            "/documents",
            True,
        ),
    ):
        db.session.add(
            Alert(
                family=family,
                kind=kind,
                message=message,
                link=link,
                created_at=at,
                read_at=at if read else None,
            )
        )


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page A4 PDF showing `lines` in Helvetica (Windows-1252 text)."""
    text = (
        b"BT /F1 14 Tf 18 TL 56 780 Td "
        + b" ".join(b"(" + _pdf_escape(line) + b") Tj T*" for line in lines)
        + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
