"""Page models of MES RÉSERVATIONS: what each page shows, from what the services answer.

Presentation only: what a family may do with a day comes from the cell's `actions`
(services.booking.day_actions), never decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from models import Activity, ActivityOption, Child
from services import booking
from services.booking import Cell, CellStatus, DayAction
from services.calendar import month_bounds
from services.formatting import date_fr, deadline_fr
from vocabulary import ATTENDANCES as ATTENDANCE_LABELS
from vocabulary import DAY_STATUSES as STATUS_LABELS
from vocabulary import LEGEND

SCHOOL_WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday: the grid's columns


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
    """What a screen reader says for a cell: the day, the activity, the status, until when
    it can be changed, and what a tap does."""
    words = [date_fr(cell.day, "EEEE d MMMM"), activity.name, STATUS_LABELS[cell.status]]
    if cell.attendance:
        words.append(ATTENDANCE_LABELS.get(cell.attendance.value, ""))
    if cell.reason:
        words.append(cell.reason)
    if cell.until:
        words.append(until_text(cell.until))
    action = cell_action(cell, [])
    if action:
        words.append(ACTION_WORDS[action])
    return ", ".join(w for w in words if w)


def until_text(until: datetime) -> str:
    """« modifiable jusqu'au lundi 7 décembre à 10 h »."""
    return f"modifiable jusqu'au {deadline_fr(until)}"


ACTION_WORDS = {
    "book": "touchez pour réserver",
    "withdraw": "touchez pour retirer la demande",
    "cancel": "touchez pour annuler",
    "choose": "touchez pour choisir",
    "absence": "touchez pour signaler une absence",
    "detail": "touchez pour le détail",
}


def cell_action(cell: Cell, options: list[ActivityOption]) -> str:
    """What a tap on the cell does: a direct POST action, or a page to open, from the
    actions the service allows on the day."""
    actions = cell.actions
    if cell.status == CellStatus.CLOSED:
        return ""
    if DayAction.BOOK in actions:
        return "book"
    if cell.status == CellStatus.PENDING and DayAction.WITHDRAW in actions:
        return "withdraw"
    if DayAction.CANCEL in actions and cell.status == CellStatus.REGISTERED:
        return "choose" if len(options) > 1 else "cancel"
    if actions == {DayAction.DECLARE_ABSENCE}:
        return "absence"
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
        cell = Cell(day, CellStatus.CLOSED, reason="Non inscrit à cette prestation")
    options = list(activity.options)
    by_id = {option.id: option for option in options}
    return DayDetail(
        activity, cell, options, by_id.get(cell.option_id), by_id.get(cell.requested_option_id)
    )


def _option(activity: Activity, raw: str | None) -> ActivityOption | None:
    """The activity's option of the form's value; None when none was sent."""
    if not raw:
        return None
    option = next((o for o in activity.options if str(o.id) == raw), None)
    if option is None:
        raise booking.BookingError("Cette formule ne correspond pas à cette prestation.")
    return option


def apply_action(child, activity, day, action, form, now) -> str:
    """Run the family's action through the booking service; say what happened."""
    when = f"{activity.name}, {date_fr(day, 'EEEE d MMMM')}"
    match action:
        case DayAction.BOOK:
            option = _option(activity, form.get("option"))
            outcome = booking.book_day(child, activity, day, option, now)
            return _booked_message(outcome.booking.status.value, when)
        case DayAction.WITHDRAW:
            booking.withdraw(child, activity, day, now)
            return f"Demande retirée : {when}."
        case DayAction.CANCEL:
            outcome = booking.cancel(child, activity, day, now)
            if outcome.booking.status.value == "cancel-requested":
                return f"Annulation demandée : {when}. La mairie doit la valider."
            return f"Réservation annulée : {when}."
        case DayAction.CHANGE_OPTION:
            return _change(child, activity, day, form, now, when)
        case DayAction.DECLARE_ABSENCE:
            booking.declare_absence(child, activity, day, form.get("reason", "")[:300], now)
            return f"Absence signalée : {when}. Le service des affaires scolaires est prévenu."
        case DayAction.WITHDRAW_ABSENCE:
            booking.withdraw_absence(child, activity, day, now)
            return f"Absence retirée : {when}. L'enfant est attendu."
    raise booking.BookingError("Action inconnue.")


def _change(child, activity, day, form, now, when) -> str:
    option = _option(activity, form.get("option"))
    if option is None:
        raise booking.BookingError("Choisissez une formule.")
    outcome = booking.change_option(child, activity, day, option, now)
    if outcome.booking.status.value == "change-requested":
        return f"Changement demandé ({option.label}) : {when}. La mairie doit le valider."
    return f"Formule changée ({option.label}) : {when}."


def _booked_message(status: str, when: str) -> str:
    if status == "registered":
        return f"Réservé : {when}."
    return (
        f"Demande envoyée : {when}. Elle est en attente de validation par la mairie "
        "(ou d'une place libre)."
    )


# --- Many days --------------------------------------------------------------------------


def run_many(form, now: datetime, preview: bool) -> list:
    """The many-days form's plans: one per activity chosen."""
    children = form.children_chosen()
    args = (form.start.data, form.end.data, form.weekdays_chosen(), now)
    if form.mode.data == "cancel":
        return booking.cancel_many(children, form.activities_chosen(), *args, preview=preview)
    return booking.book_many(children, form.choices_chosen(), *args, preview=preview)


def many_summary(form, plans: list) -> str:
    """The confirmation's first line; the page lists every day and what became of it."""
    if form.mode.data == "cancel":
        done = sum(len(plan.bookings) for plan in plans)
        return f"{done} jour(s) annulé(s) ou en demande d'annulation."
    parts = []
    for plan in plans:
        counts = [
            (len(plan.registered), "réservé(s)"),
            (len(plan.requested), "demande(s) à valider par la mairie"),
            (len(plan.waiting), "en liste d'attente"),
        ]
        said = ", ".join(f"{n} {words}" for n, words in counts if n)
        parts.append(f"{plan.activity.name} : {said or 'aucun jour ajouté'}")
    return "; ".join(parts) + "."


# --- Absence ----------------------------------------------------------------------------


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
