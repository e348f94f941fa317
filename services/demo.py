"""Invented demo data for `flask seed-demo`, the browser tests and the screenshots.

Every person, address, phone and email here is made up (phones 06 00 00 00 xx, emails at
example.org). The demo is a snapshot of the 2026-2027 school year: bookings for November and
December 2026 (class days only, up to the Christmas holidays of zone B, which start on
19 December 2026), the September and October invoices, one cheque. `today` only decides
which days are past (they carry attendance) and dates the news and alerts.
Never loaded in production: the command refuses it there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from extensions import db
from models import (
    Activity,
    ActivityOption,
    Alert,
    Attendance,
    Booking,
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
    ValidationMode,
)
from services.accounts import hash_password
from services.formatting import date_fr, money

# Published demo passwords (README, `flask demo-logins`): never used outside the demo.
FAMILY_PASSWORD = "Demo-famille-2026"  # noqa: S105
STAFF_PASSWORD = "Demo-agent-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    who: str


DEMO_LOGINS = (
    DemoLogin(
        "famille.demo", FAMILY_PASSWORD, "Famille Martin-Exemple : 2 enfants, une école chacun"
    ),
    DemoLogin("famille.test", FAMILY_PASSWORD, "Famille Durand-Essai : 2 enfants"),
    DemoLogin("agent.demo", STAFF_PASSWORD, "Agent administrateur (gestion, /admin/)"),
    DemoLogin("agent.saisie", STAFF_PASSWORD, "Agent de saisie (gestion, /admin/)"),
)

YEAR_START, YEAR_END = date(2026, 9, 1), date(2027, 7, 3)
BOOKED_FROM, BOOKED_UNTIL = date(2026, 11, 2), date(2026, 12, 18)
# The demo's own closed days (services/calendar.py is the rule for the app): Toussaint
# holidays of zone B end on 1 November, 11 November is a public holiday, and Sainte-Thérèse
# closes on Friday 4 December for staff training (a staff-entered closure, below).
TOUSSAINT = (date(2026, 10, 17), date(2026, 11, 1))
ARMISTICE = date(2026, 11, 11)
TRAINING_DAY = date(2026, 12, 4)

CHALMEL, THERESE = "École Théodore Chalmel", "École Sainte-Thérèse"

# Deadlines are "N working days before, at HH:MM", the same for booking and cancelling.
ACTIVITIES = {
    "canteen": {
        "name": "Restaurant scolaire",
        "validation_mode": ValidationMode.AUTOMATIC,
        "deadline": (2, "10:00"),
        "is_childcare": False,
        "penalty_price_cents": 600,
        "options": (("standard", "Repas standard"), ("sans-viande", "Repas sans viande")),
    },
    "care_morning": {
        "name": "Accueil périscolaire du matin",
        "validation_mode": ValidationMode.AUTOMATIC,
        "deadline": (1, "18:00"),
        "is_childcare": True,
        "penalty_price_cents": 400,
        "options": (("matin", "7h30 – 8h30"),),
    },
    "care_evening": {
        "name": "Accueil périscolaire du soir",
        "validation_mode": ValidationMode.MANUAL,
        "deadline": (1, "12:00"),
        "is_childcare": True,
        "penalty_price_cents": 500,
        "options": (("jusqu-17h30", "jusqu'à 17h30"), ("jusqu-18h45", "jusqu'à 18h45")),
    },
}
CAPACITIES = {CHALMEL: (120, 30, 40), THERESE: (80, 20, 25)}
BRACKETS = ((0, 700), (701, 1200), (1201, 999999))
BRACKET_LABELS = ("QF de 0 à 700", "QF de 701 à 1 200", "QF de 1 201 et plus")
PRICES = {
    "canteen": (100, 290, 420),
    "care_morning": (150, 200, 250),
    "care_evening": (200, 280, 340),
}

# Each child: first name, birth date, school, class, diet note, and per activity the option
# booked and the ISO weekdays booked ("1,2,4,5" = every class day).
FAMILIES = (
    {
        "name": "Martin-Exemple",
        "username": "famille.demo",
        "qf": 850,
        "address": "12 rue des Exemples",
        "guardians": (
            ("Camille", "mère", "06 00 00 00 01", "camille.martin-exemple@example.org", True),
            ("Julien", "père", "06 00 00 00 02", "julien.martin-exemple@example.org", False),
        ),
        "children": (
            (
                "Tom",
                date(2018, 2, 3),
                CHALMEL,
                "CE2",
                "",
                {
                    "canteen": ("standard", "1,2,4,5"),
                    "care_morning": ("matin", "1,4"),
                    "care_evening": ("jusqu-17h30", "2,5"),
                },
            ),
            (
                "Léa",
                date(2021, 5, 12),
                THERESE,
                "Grande section",
                "Repas sans viande",
                {"canteen": ("sans-viande", "1,2,4,5"), "care_evening": ("jusqu-18h45", "1,4")},
            ),
        ),
    },
    {
        "name": "Durand-Essai",
        "username": "famille.test",
        "qf": 1350,
        "address": "3 allée du Test",
        "guardians": (("Sam", "parent", "06 00 00 00 03", "sam.durand-essai@example.org", True),),
        "children": (
            (
                "Inès",
                date(2019, 9, 21),
                CHALMEL,
                "CE1",
                "",
                {"canteen": ("standard", "1,2,4,5"), "care_morning": ("matin", "5")},
            ),
            (
                "Noah",
                date(2022, 1, 30),
                CHALMEL,
                "Moyenne section",
                "",
                {"canteen": ("standard", "1,2,4,5"), "care_evening": ("jusqu-17h30", "1")},
            ),
        ),
    },
    {
        "name": "Bernard-Fictif",
        "username": "famille.fictif",
        "qf": 420,
        "address": "7 impasse de la Démo",
        "guardians": (("Alex", "mère", "06 00 00 00 04", "alex.bernard-fictif@example.org", True),),
        "children": (
            (
                "Jade",
                date(2020, 6, 11),
                THERESE,
                "CP",
                "",
                {"canteen": ("standard", "1,2,4,5"), "care_evening": ("jusqu-17h30", "2,4")},
            ),
        ),
    },
    {
        "name": "Petit-Modèle",
        "username": "famille.modele",
        "qf": None,
        "address": "21 chemin du Modèle",
        "guardians": (
            ("Dominique", "père", "06 00 00 00 05", "dominique.petit-modele@example.org", True),
            ("Morgane", "mère", "06 00 00 00 06", "morgane.petit-modele@example.org", False),
        ),
        "children": (
            (
                "Hugo",
                date(2017, 3, 8),
                CHALMEL,
                "CM1",
                "Allergie aux arachides (PAI)",
                {"canteen": ("standard", "1,2,4")},
            ),
            (
                "Chloé",
                date(2019, 11, 2),
                THERESE,
                "CE1",
                "",
                {"canteen": ("standard", "1,2,4,5"), "care_morning": ("matin", "1,2,4,5")},
            ),
        ),
    },
    {
        "name": "Leroy-Essai",
        "username": "famille.leroy",
        "qf": 1100,
        "address": "5 place de l'Essai",
        "guardians": (("Yanis", "père", "06 00 00 00 07", "yanis.leroy-essai@example.org", True),),
        "children": (
            ("Lina", date(2016, 10, 19), CHALMEL, "CM2", "", {"canteen": ("standard", "2,5")}),
        ),
    },
)
WITH_PASSWORD = {"famille.demo", "famille.test"}

# Requests and absences that make the calendar show every colour (child, activity, day).
REQUESTS = {
    ("Tom", "care_evening", date(2026, 12, 8)): (BookingStatus.CHANGE_REQUESTED, "jusqu-18h45"),
    ("Tom", "care_evening", date(2026, 12, 11)): (BookingStatus.CANCEL_REQUESTED, None),
    ("Tom", "care_evening", date(2026, 12, 17)): (BookingStatus.PENDING, "jusqu-17h30"),
    ("Léa", "care_evening", date(2026, 12, 10)): (BookingStatus.CANCEL_REQUESTED, None),
    ("Léa", "care_evening", date(2026, 12, 14)): (BookingStatus.CHANGE_REQUESTED, "jusqu-17h30"),
    ("Léa", "care_evening", date(2026, 12, 15)): (BookingStatus.PENDING, "jusqu-18h45"),
    ("Noah", "care_evening", date(2026, 12, 10)): (BookingStatus.PENDING, "jusqu-17h30"),
}
# Absences on past days, for every booking the child has that day.
ABSENCES = {
    ("Tom", date(2026, 11, 17)): (Attendance.ABSENT_JUSTIFIED, "Malade (certificat médical)"),
    ("Léa", date(2026, 11, 20)): (Attendance.ABSENT_UNJUSTIFIED, ""),
    ("Tom", date(2026, 11, 24)): (Attendance.ABSENCE_DECLARED, "Fièvre"),
}


class Demo:
    """What the builders share while they fill one transaction."""

    def __init__(self, today: date, upload_folder: Path):
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
            reason="Formation du personnel : ni restauration ni accueil périscolaire",
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
        penalty_price_cents=spec["penalty_price_cents"],
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
    decided_at = datetime(2026, 8, 28, 8, 30)
    for first, plan in demo.plans.items():
        for code in plan:
            db.session.add(
                Registration(
                    child=demo.children[first],
                    activity=demo.activities[code],
                    school_year=demo.year,
                    status=RegistrationStatus.ACCEPTED,
                    decided_at=decided_at,
                    decided_by_id=demo.staff["agent.demo"].id,
                )
            )
    # Léa's morning care: a request staff have not examined yet.
    db.session.add(
        Registration(
            child=demo.children["Léa"],
            activity=demo.activities["care_morning"],
            school_year=demo.year,
            status=RegistrationStatus.REQUESTED,
        )
    )


def _class_days(school: School, first: date, last: date) -> list[date]:
    """The demo's class days of `school` between two dates (see the closed days above)."""
    weekdays = {int(day) for day in school.class_weekdays.split(",")}
    days, day = [], first
    while day <= last:
        closed = (
            TOUSSAINT[0] <= day <= TOUSSAINT[1]
            or day == ARMISTICE
            or (day == TRAINING_DAY and school.name == THERESE)
        )
        if day.isoweekday() in weekdays and not closed:
            days.append(day)
        day += timedelta(days=1)
    return days


def _planned_days(demo: Demo, first: str, weekdays: str, start: date, end: date) -> list[date]:
    wanted = {int(day) for day in weekdays.split(",")}
    school = demo.children[first].school
    return [day for day in _class_days(school, start, end) if day.isoweekday() in wanted]


def _bookings(demo: Demo) -> None:
    booked_at = datetime(2026, 10, 5, 18, 0)
    for first, plan in demo.plans.items():
        for code, (option_code, weekdays) in plan.items():
            for day in _planned_days(demo, first, weekdays, BOOKED_FROM, BOOKED_UNTIL):
                db.session.add(_booking(demo, first, code, day, option_code, booked_at))
    for (first, code, day), (status, option_code) in REQUESTS.items():
        if status is BookingStatus.PENDING:
            booking = _booking(demo, first, code, day, option_code, booked_at)
            booking.status = status
            booking.requested_at = datetime.combine(demo.today - timedelta(days=1), time(19))
            db.session.add(booking)


def _booking(
    demo: Demo, first: str, code: str, day: date, option_code: str, booked_at: datetime
) -> Booking:
    child = demo.children[first]
    booking = Booking(
        child=child,
        activity=demo.activities[code],
        school=child.school,
        day=day,
        option=demo.options[option_code],
        status=BookingStatus.REGISTERED,
        requested_at=booked_at,
    )
    request = REQUESTS.get((first, code, day))
    if request and request[0] is not BookingStatus.PENDING:
        booking.status = request[0]
        booking.requested_option = demo.options[request[1]] if request[1] else None
        booking.requested_at = datetime.combine(demo.today - timedelta(days=2), time(20))
    if day < demo.today:
        attendance, reason = ABSENCES.get((first, day), (Attendance.PRESENT, ""))
        booking.attendance = attendance
        booking.absence_reason = reason
    return booking


# --- Money --------------------------------------------------------------------------------


def _unit_price(code: str, quotient: int | None) -> int:
    """The bracket's price; no quotient familial means the highest bracket."""
    if quotient is None:
        return PRICES[code][-1]
    for (low, high), cents in zip(BRACKETS, PRICES[code], strict=True):
        if low <= quotient <= high:
            return cents
    return PRICES[code][-1]


def _invoice(demo: Demo, username: str, month: date, number: int, issued_on: date) -> Invoice:
    """An issued invoice of the month's planned days, one line per child and activity."""
    family = demo.families[username]
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    invoice = Invoice(
        family=family,
        number=f"2026-{number:06d}",
        period_month=month,
        status=InvoiceStatus.ISSUED,
        issued_at=datetime.combine(issued_on, time(7)),
        due_on=issued_on + timedelta(days=28),
    )
    for child in family.children:
        for code, (_option, weekdays) in demo.plans[child.first_name].items():
            quantity = len(_planned_days(demo, child.first_name, weekdays, month, month_end))
            price = _unit_price(code, family.quotient_familial)
            invoice.lines.append(
                InvoiceLine(
                    child=child,
                    activity=demo.activities[code],
                    label=f"{demo.activities[code].name} — {child.first_name} {child.last_name}",
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
    for title, category, original in (
        ("Règlement intérieur 2026-2027", "reglement", "reglement-interieur-2026-2027.pdf"),
        ("Tarifs 2026-2027", "tarifs", "tarifs-2026-2027.pdf"),
        ("Menus de décembre 2026", "menus", "menus-decembre-2026.pdf"),
    ):
        stored_name, _size = _store_pdf(demo, title)
        db.session.add(
            Resource(
                title=title,
                category=category,
                original_name=original,
                stored_name=stored_name,
                content_type="application/pdf",
            )
        )


def _news(demo: Demo) -> None:
    monday = demo.today - timedelta(days=demo.today.weekday())
    items = (
        (
            "Rentrée 2026 : inscriptions à la cantine et au périscolaire",
            date(2026, 8, 24),
            "Les inscriptions au restaurant scolaire et à l'accueil périscolaire sont ouvertes "
            "sur le portail. Pensez à transmettre votre attestation de quotient familial pour "
            "bénéficier du bon tarif.",
        ),
        (
            "Fermeture exceptionnelle à l'école Sainte-Thérèse",
            date(2026, 11, 16),
            "Le vendredi 4 décembre 2026, le personnel est en formation : il n'y aura ni "
            "restauration scolaire ni accueil périscolaire à l'école Sainte-Thérèse ce jour-là. "
            "Aucune réservation ne sera facturée.",
        ),
        (
            f"Menus de la semaine du {date_fr(monday, 'd MMMM')}",
            monday - timedelta(days=3),
            "Lundi : carottes râpées, poulet basquaise et riz, yaourt. "
            "Mardi : velouté de potiron, lasagnes, pomme. "
            "Jeudi : lentilles, rôti de dinde, clémentine. Vendredi : poisson pané, purée. "
            "Un plat sans viande est proposé chaque jour.",
        ),
    )
    for title, published_on, body in items:
        db.session.add(NewsItem(title=title, body=body, published_on=published_on))


def _alerts(demo: Demo) -> None:
    family = demo.families["famille.demo"]
    invoice = demo.october_invoice
    at = datetime.combine(demo.today - timedelta(days=1), time(8))
    for kind, message, link, read in (
        (
            "invoice",
            f"Votre facture n° {invoice.number} d'octobre 2026 est disponible : "
            f"{money(invoice.total_cents)}.",
            "/finances",
            False,
        ),
        (
            "booking",
            "Demande reçue : accueil du soir de Léa le "
            f"{date_fr(date(2026, 12, 15))}. Elle est en attente de validation.",
            "/reservations",
            False,
        ),
        ("document", "Votre attestation de quotient familial a été acceptée.", "/documents", True),
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
