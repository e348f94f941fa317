"""Page models and forms of MES RÉSERVATIONS: presentation only, the rules are in services."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import abort
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from extensions import db
from models import Activity, ActivityOption, Child, Family
from services import booking
from services.booking import Cell, CellStatus
from services.calendar import WEEKDAYS_FR, month_bounds
from services.formatting import date_fr

STATUS_LABELS = {
    CellStatus.AVAILABLE: "disponible",
    CellStatus.PENDING: "en attente",
    CellStatus.REGISTERED: "inscrit",
    CellStatus.CHANGE_REQUESTED: "demande de modification",
    CellStatus.CANCEL_REQUESTED: "demande d'annulation",
    CellStatus.CLOSED: "fermé",
}
LEGEND = [
    (CellStatus.REGISTERED, "Inscrit", "réservé et confirmé"),
    (CellStatus.PENDING, "En attente", "demande envoyée, la mairie doit valider"),
    (CellStatus.CHANGE_REQUESTED, "Modification demandée", "autre formule demandée"),
    (CellStatus.CANCEL_REQUESTED, "Annulation demandée", "la mairie doit valider"),
    (CellStatus.AVAILABLE, "Disponible", "touchez pour réserver"),
    (CellStatus.CLOSED, "Fermé", "pas de service ou délai dépassé"),
]
ATTENDANCE_LABELS = {
    "present": "présent",
    "absent-justified": "absence justifiée",
    "absent-unjustified": "absence non justifiée",
    "absence-declared": "absence signalée",
}
SCHOOL_WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday: the grid's columns
# The years the pages serve. Beyond, a month has no neighbour to link to (years 1 and 9999)
# and strftime stops writing four-digit years; nobody books a day there.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def children_of(family: Family) -> list[Child]:
    """The family's children, eldest first, with their school (one query)."""
    return list(
        db.session.scalars(
            select(Child)
            .where(Child.family_id == family.id)
            .options(joinedload(Child.school))
            .order_by(Child.birth_date, Child.id)
        )
    )


def is_served(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def served_date(_form, field) -> None:
    """WTForms validator: a day of the years the pages serve."""
    if field.data and not is_served(field.data):
        raise ValidationError(f"Choisissez une date entre {FIRST_DAY.year} et {LAST_DAY.year}.")


def activity_or_404(code: str) -> Activity:
    activity = db.session.scalar(select(Activity).where(Activity.code == code))
    if activity is None:
        abort(404)
    return activity


def options_by_activity() -> dict[int, list[ActivityOption]]:
    """Every activity's options, in one query (the grid needs them for every row)."""
    grouped: dict[int, list[ActivityOption]] = defaultdict(list)
    for option in db.session.scalars(select(ActivityOption).order_by(ActivityOption.id)):
        grouped[option.activity_id].append(option)
    return grouped


# --- The month --------------------------------------------------------------------------


@dataclass
class Row:
    activity: Activity
    cells: list[Cell | None]


@dataclass
class Week:
    days: list[date | None]
    rows: list[Row] = field(default_factory=list)

    @property
    def closed_reason(self) -> str:
        """The reason when the whole week is closed for every activity (holidays), else ''."""
        cells = [cell for row in self.rows for cell in row.cells if cell is not None]
        reasons = {cell.reason for cell in cells if cell.status == CellStatus.CLOSED}
        all_closed = cells and all(cell.status == CellStatus.CLOSED for cell in cells)
        weekday_reasons = sorted(reasons - {"Pas de classe le mercredi", "Week-end"})
        return " · ".join(weekday_reasons) if all_closed else ""


@dataclass
class MonthPage:
    first: date
    previous: date
    next: date
    weeks: list[Week]
    options: dict[int, list[ActivityOption]]
    has_activities: bool

    @property
    def label(self) -> str:
        return date_fr(self.first, "MMMM y").capitalize()


def month_page(child: Child, first: date, now: datetime) -> MonthPage:
    """The child's month as weeks of Monday-Friday, one row of cells per activity."""
    grid = booking.month_grid([child.id], first, now)[child.id]
    start, last = month_bounds(first)
    weeks = []
    monday = start - timedelta(days=start.weekday())
    while monday <= last:
        days = [monday + timedelta(days=i) for i in SCHOOL_WEEKDAYS]
        shown = [d if d.month == first.month else None for d in days]
        monday += timedelta(days=7)
        if not any(shown):
            continue  # a month starting on a weekend: its first Monday-Friday is outside
        week = Week(shown)
        for activity_month in grid.activities:
            by_day = {cell.day: cell for cell in activity_month.cells}
            week.rows.append(Row(activity_month.activity, [by_day.get(d) for d in shown]))
        weeks.append(week)
    return MonthPage(
        first=start,
        previous=(start - timedelta(days=1)).replace(day=1),
        next=last + timedelta(days=1),
        weeks=weeks,
        # month_grid loaded each activity with its options: no query more
        options={row.activity.id: list(row.activity.options) for row in grid.activities},
        has_activities=bool(grid.activities),
    )


def cell_label(child: Child, activity: Activity, cell: Cell) -> str:
    """What a screen reader says for a cell: the day, the activity, the status, the action."""
    words = [date_fr(cell.day, "EEEE d MMMM"), activity.name, STATUS_LABELS[cell.status]]
    if cell.attendance:
        words.append(ATTENDANCE_LABELS.get(cell.attendance.value, ""))
    if cell.reason:
        words.append(cell.reason)
    action = cell_action(cell, [])
    if action:
        words.append(ACTION_WORDS[action])
    return ", ".join(w for w in words if w)


ACTION_WORDS = {
    "book": "touchez pour réserver",
    "withdraw": "touchez pour retirer la demande",
    "cancel": "touchez pour demander l'annulation",
    "choose": "touchez pour choisir",
    "absence": "touchez pour signaler une absence",
    "detail": "touchez pour le détail",
}


def cell_action(cell: Cell, options: list[ActivityOption]) -> str:
    """What a tap on the cell does: a direct POST action, or a page to open."""
    if cell.status == CellStatus.CLOSED:
        return ""
    if not cell.editable:
        held = cell.status in (CellStatus.REGISTERED, CellStatus.CHANGE_REQUESTED)
        return "absence" if held and not cell.attendance else "detail"
    if cell.status == CellStatus.AVAILABLE:
        return "choose" if len(options) > 1 else "book"
    if cell.status == CellStatus.PENDING:
        return "withdraw"
    if cell.status == CellStatus.REGISTERED:
        return "choose" if len(options) > 1 else "cancel"
    return "detail"


# --- One day ----------------------------------------------------------------------------


@dataclass
class DayDetail:
    activity: Activity
    cell: Cell
    options: list[ActivityOption]
    option: ActivityOption | None
    requested: ActivityOption | None


def day_detail(child: Child, activity: Activity, day: date, now: datetime) -> DayDetail:
    grid = booking.month_grid([child.id], day.replace(day=1), now)[child.id]
    row = next((r for r in grid.activities if r.activity.id == activity.id), None)
    cell = next((c for c in row.cells if c.day == day), None) if row else None
    if cell is None:
        cell = Cell(day, CellStatus.CLOSED, False, reason="Non inscrit à cette prestation")
    options = options_by_activity().get(activity.id, [])
    by_id = {option.id: option for option in options}
    return DayDetail(
        activity, cell, options, by_id.get(cell.option_id), by_id.get(cell.requested_option_id)
    )


def _option(activity: Activity, raw: str | None) -> ActivityOption | None:
    if not raw:
        return None
    # ASCII digits, and few: "²" is a digit to isdigit() but not to int(); a longer number
    # is no id (the database would refuse it).
    is_id = raw.isascii() and raw.isdigit() and len(raw) <= 9
    option = db.session.get(ActivityOption, int(raw)) if is_id else None
    if option is None or option.activity_id != activity.id:
        raise booking.BookingError("Cette formule ne correspond pas à cette prestation.")
    return option


def apply_action(child, activity, day, action, form, now) -> str:
    """Run the family's action through the booking service; say what happened."""
    when = f"{activity.name}, {date_fr(day, 'EEEE d MMMM')}"
    if action == "book":
        outcome = booking.book_day(child, activity, day, _option(activity, form.get("option")), now)
        return _booked_message(outcome.booking.status.value, when)
    if action == "withdraw":
        booking.withdraw(child, activity, day, now)
        return f"Demande retirée : {when}. Le jour est de nouveau disponible."
    if action == "cancel":
        outcome = booking.cancel(child, activity, day, now)
        if outcome.booking.status.value == "cancel-requested":
            return f"Annulation demandée : {when}. La mairie doit la valider."
        return f"Réservation annulée : {when}."
    if action == "change":
        option = _option(activity, form.get("option"))
        if option is None:
            raise booking.BookingError("Choisissez une formule.")
        outcome = booking.change_option(child, activity, day, option, now)
        if outcome.booking.status.value == "change-requested":
            return f"Changement demandé ({option.label}) : {when}. La mairie doit le valider."
        return f"Formule changée ({option.label}) : {when}."
    if action == "absence":
        booking.declare_absence(child, activity, day, form.get("reason", "")[:300], now)
        return f"Absence signalée : {when}. Le service des affaires scolaires est prévenu."
    raise booking.BookingError("Action inconnue.")


def _booked_message(status: str, when: str) -> str:
    if status == "registered":
        return f"Réservé : {when}."
    return (
        f"Demande envoyée : {when}. Elle est en attente de validation par la mairie "
        "(ou d'une place libre)."
    )


# --- Many days --------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


WEEKDAY_CHOICES = [(str(i + 1), WEEKDAYS_FR[i].capitalize()) for i in range(5)]


class ManyDaysForm(FlaskForm):
    children = MultiCheckboxField(
        "Enfants", validators=[DataRequired("Choisissez au moins un enfant.")]
    )
    what = SelectField("Prestation et formule", validators=[DataRequired()])
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

    def __init__(self, family: Family, today: date, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kids = children_of(family)
        self.children.choices = [(str(c.id), c.first_name) for c in kids]
        self.what.choices = _activity_option_choices()
        if not self.is_submitted():
            self.children.data = [str(c.id) for c in kids]
            next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            self.start.data = next_month
            self.end.data = month_bounds(next_month)[1]
            self.weekdays.data = ["1", "2", "4", "5"]

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("La date de fin est avant la date de début.")
        if self.start.data and field.data and (field.data - self.start.data).days > 366:
            raise ValidationError("Choisissez une période d'un an au plus.")

    def children_chosen(self, family: Family) -> list[Child]:
        chosen = set(self.children.data or [])
        return [c for c in children_of(family) if str(c.id) in chosen]

    def activity_and_option(self) -> tuple[Activity, ActivityOption | None]:
        activity_id, _, option_id = self.what.data.partition(":")
        activity = db.session.get(Activity, int(activity_id))
        option = db.session.get(ActivityOption, int(option_id)) if option_id else None
        return activity, option


def _activity_option_choices() -> list[tuple[str, str]]:
    choices = []
    options = options_by_activity()
    for activity in db.session.scalars(select(Activity).order_by(Activity.sort_order, Activity.id)):
        for option in options.get(activity.id, []) or [None]:
            if option is None:
                choices.append((f"{activity.id}:", activity.name))
            else:
                choices.append((f"{activity.id}:{option.id}", f"{activity.name} — {option.label}"))
    return choices


def run_many(form: ManyDaysForm, family: Family, now: datetime, preview: bool):
    children = form.children_chosen(family)
    activity, option = form.activity_and_option()
    weekdays = [int(day) for day in form.weekdays.data]
    if form.mode.data == "cancel":
        return booking.cancel_many(
            children, activity, form.start.data, form.end.data, weekdays, now, preview=preview
        )
    return booking.book_many(
        children, activity, option, form.start.data, form.end.data, weekdays, now, preview=preview
    )


def many_summary(form: ManyDaysForm, plan) -> str:
    activity, _ = form.activity_and_option()
    if form.mode.data == "cancel":
        return (
            f"{len(plan.bookings)} jour(s) annulé(s) ou en demande d'annulation : {activity.name}."
        )
    registered = sum(1 for b in plan.bookings if b.status.value == "registered")
    waiting = len(plan.bookings) - registered
    text = f"{registered} jour(s) réservé(s) : {activity.name}."
    if waiting:
        text += f" {waiting} demande(s) en attente de validation par la mairie."
    return text


# --- Absence ----------------------------------------------------------------------------

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

    def __init__(self, family: Family, today: date, prefill=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.child.choices = [(str(c.id), c.first_name) for c in children_of(family)]
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


def absence_summary(child: Child, declared: list) -> str:
    if not declared:
        return f"Aucune réservation de {child.first_name} à signaler sur ces jours."
    return (
        f"Absence de {child.first_name} signalée pour {len(declared)} réservation(s). "
        "Le service des affaires scolaires est prévenu."
    )


# --- Template helpers -------------------------------------------------------------------

MARKS = {
    CellStatus.AVAILABLE: "+",
    CellStatus.PENDING: "…",
    CellStatus.REGISTERED: "✓",
    CellStatus.CHANGE_REQUESTED: "↻",
    CellStatus.CANCEL_REQUESTED: "✕",
    CellStatus.CLOSED: "",
}


def status_mark(cell: Cell) -> str:
    """A shape beside the colour, so the status never depends on colour alone."""
    if cell.attendance and cell.attendance.value != "present":
        return "A"
    return MARKS[cell.status]


def template_helpers() -> dict:
    return {
        "cell_action": cell_action,
        "cell_label": cell_label,
        "status_mark": status_mark,
        "legend": LEGEND,
        "legend_marks": MARKS,
        "status_labels": STATUS_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
    }
