"""The demo's invented records: every person, address, phone and email here is made up
(phones 06 00 00 00 xx, emails at example.org).

A snapshot of the 2026-2027 school year: bookings for November and December 2026, the
September and October invoices, one cheque. Which days are open is not decided here:
demo.load asks services.calendar (public holidays, zone B school holidays, the closure
below, each school's week), and the prices come from the tariffs below through
services.tariffs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models import Attendance, BookingStatus, ValidationMode

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
# Booked: the open days from the end of the Toussaint holidays to the Christmas ones.
BOOKED_FROM, BOOKED_UNTIL = date(2026, 11, 2), date(2026, 12, 18)
# Sainte-Thérèse closes on Friday 4 December for staff training (a staff-entered closure).
TRAINING_DAY = date(2026, 12, 4)
TRAINING_REASON = "Formation du personnel : ni restauration ni accueil périscolaire"

CHALMEL, THERESE = "École Théodore Chalmel", "École Sainte-Thérèse"

# Deadlines are "N working days before, at HH:MM", the same for booking and cancelling.
# A presence without booking costs the walk-in price, whatever the quotient.
ACTIVITIES = {
    "canteen": {
        "name": "Restaurant scolaire",
        "validation_mode": ValidationMode.AUTOMATIC,
        "deadline": (2, "10:00"),
        "is_childcare": False,
        "walk_in_price_cents": 600,
        "options": (("standard", "Repas standard"), ("sans-viande", "Repas sans viande")),
    },
    "care_morning": {
        "name": "Accueil périscolaire du matin",
        "validation_mode": ValidationMode.AUTOMATIC,
        "deadline": (1, "18:00"),
        "is_childcare": True,
        "walk_in_price_cents": 400,
        "options": (("matin", "7h30 – 8h30"),),
    },
    "care_evening": {
        "name": "Accueil périscolaire du soir",
        "validation_mode": ValidationMode.MANUAL,
        "deadline": (1, "12:00"),
        "is_childcare": True,
        "walk_in_price_cents": 500,
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
