"""The forms of MES RÉSERVATIONS: many days at once, and an absence."""

from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from models import Activity, ActivityOption, Child
from services.booking.catalogue import activities_with_options, choices_by_ids
from services.calendar import WEEKDAYS_FR, month_bounds

# The years the pages serve. Beyond, a month has no neighbour to link to (years 1 and 9999)
# and strftime stops writing four-digit years; nobody books a day there.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def is_served(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def served_date(_form, field) -> None:
    """WTForms validator: a day of the years the pages serve."""
    if field.data and not is_served(field.data):
        raise ValidationError(f"Choisissez une date entre {FIRST_DAY.year} et {LAST_DAY.year}.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


WEEKDAY_CHOICES = [(str(i + 1), WEEKDAYS_FR[i].capitalize()) for i in range(5)]


class ManyDaysForm(FlaskForm):
    children = MultiCheckboxField(
        "Enfants", validators=[DataRequired("Choisissez au moins un enfant.")]
    )
    what = MultiCheckboxField(
        "Prestations et formules",
        validators=[DataRequired("Choisissez au moins une prestation.")],
    )
    mode = SelectField(
        "Action",
        choices=[("book", "Réserver ces jours"), ("cancel", "Annuler ces jours")],
        default="book",
    )
    start = DateField("Du", validators=[DataRequired("Indiquez la date de début."), served_date])
    end = DateField("Au", validators=[DataRequired("Indiquez la date de fin."), served_date])
    weekdays = MultiCheckboxField(
        "Jours de la semaine",
        choices=WEEKDAY_CHOICES,
        validators=[DataRequired("Choisissez au moins un jour de la semaine.")],
    )
    confirm = BooleanField("confirm")

    def __init__(self, children: list[Child], today: date, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kids = children
        self.activities = activities_with_options()
        self.children.choices = [(str(c.id), c.first_name) for c in children]
        self.what.choices = activity_option_choices(self.activities)
        if not self.is_submitted():
            self.children.data = [str(c.id) for c in children]
            next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            self.start.data = next_month
            self.end.data = month_bounds(next_month)[1]
            self.weekdays.data = ["1", "2", "4", "5"]

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("La date de fin est avant la date de début.")
        if self.start.data and field.data and (field.data - self.start.data).days > 366:
            raise ValidationError("Choisissez une période d'un an au plus.")

    def validate_what(self, field):
        activity_ids = [value.partition(":")[0] for value in field.data or []]
        if len(set(activity_ids)) < len(activity_ids):
            raise ValidationError("Choisissez une seule formule par prestation.")

    def children_chosen(self) -> list[Child]:
        chosen = set(self.children.data or [])
        return [c for c in self.kids if str(c.id) in chosen]

    def choices_chosen(self) -> list[tuple[Activity, ActivityOption | None]]:
        return choices_by_ids(self.what.data or [])

    def activities_chosen(self) -> list[Activity]:
        return [activity for activity, _ in self.choices_chosen()]

    def weekdays_chosen(self) -> list[int]:
        return [int(day) for day in self.weekdays.data]


def activity_option_choices(activities: list[Activity]) -> list[tuple[str, str]]:
    """One checkbox per activity and option: "activity_id:option_id" ("3:" without options)."""
    choices = []
    for activity in activities:
        for option in activity.options or [None]:
            if option is None:
                choices.append((f"{activity.id}:", activity.name))
            else:
                choices.append((f"{activity.id}:{option.id}", f"{activity.name} — {option.label}"))
    return choices


ABSENCE_REASONS = [
    ("maladie", "Maladie"),
    ("rendez-vous", "Rendez-vous médical"),
    ("famille", "Raison familiale"),
    ("autre", "Autre"),
]


class AbsenceForm(FlaskForm):
    child = SelectField("Enfant", validators=[DataRequired()])
    start = DateField(
        "Premier jour d'absence", validators=[DataRequired("Indiquez le jour."), served_date]
    )
    end = DateField("Dernier jour (si plusieurs jours)", validators=[Optional(), served_date])
    reason = SelectField("Motif", choices=ABSENCE_REASONS, default="maladie")
    details = TextAreaField("Précisions (facultatif)", validators=[Length(max=250)])
    certificate = FileField("Certificat médical (facultatif : photo ou fichier)")

    def __init__(self, children: list[Child], today: date, prefill=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.child.choices = [(str(c.id), c.first_name) for c in children]
        if not self.is_submitted():
            prefill = prefill or {}
            self.child.data = prefill.get("child")
            self.start.data = _iso_or(prefill.get("start"), today)

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("Le dernier jour est avant le premier.")
        if field.data and self.start.data and (field.data - self.start.data).days > 31:
            raise ValidationError("Signalez au plus un mois d'absence à la fois.")

    def reason_text(self) -> str:
        label = dict(ABSENCE_REASONS).get(self.reason.data, "Autre")
        details = (self.details.data or "").strip()
        return f"{label} — {details}" if details else label


def _iso_or(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return default
