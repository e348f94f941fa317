"""Page models of MES RÉSERVATIONS: what each page shows, from what the services answer.

Presentation only: what a family may do with a day comes from the cell's `actions`
(services.booking.day_actions), never decided here; a page offers exactly those.

The month page is the portal's busiest: its model holds every string its template writes
(classes, labels, URLs), the words that depend on the day alone made once per day and kept,
so rendering a cell is substitution only (bench/month_vs_hello.py measures it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache, partial

from flask import render_template, url_for
from markupsafe import Markup, escape

from blueprints.bookings.forms import ABSENCE_REASONS
from blueprints.bookings.rendered import WEEKS
from models import Activity, ActivityOption, Attendance, BookingStatus, Child, ValidationMode
from services import booking, tariffs
from services.booking import Cell, CellStatus, DayAction
from services.booking.day_actions import EDITING, WITHDRAWABLE
from services.calendar import DeadlineKind, deadline, month_bounds, paris_today
from services.formatting import date_fr, deadline_fr, money
from vocabulary import ATTENDANCES as ATTENDANCE_LABELS
from vocabulary import DAY_STATUSES as STATUS_LABELS
from vocabulary import LEGEND

SCHOOL_WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday: the grid's columns
# Whom a family calls when the portal can no longer do what they need (no number configured).
SERVICE = "le service des affaires scolaires de la mairie"
SERVICE_TOLD = "Le service des affaires scolaires est prévenu."
CSRF_STAND_IN = "\x00csrf\x00"  # stands for the CSRF token in the month's kept weeks
NOTICE_ANCHOR = "resultat"  # the id of the message shown beside the day an action concerns


# --- Words ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def day_words(day: date) -> str:
    """« jeudi 3 décembre »: a Babel format costs more than the rest of a cell, so it is
    made once per day and kept."""
    return date_fr(day, "EEEE d MMMM")


@lru_cache(maxsize=4096)
def deadline_words(until: datetime) -> str:
    """« lundi 7 décembre à 10 h », kept like day_words."""
    return deadline_fr(until)


def until_text(cell: Cell) -> str:
    """« modifiable jusqu'au lundi 7 décembre à 10 h » (« réservable » for a free day), or ''."""
    if cell.until is None:
        return ""
    verb = "réservable" if cell.status == CellStatus.AVAILABLE else "modifiable"
    return f"{verb} jusqu'au {deadline_words(cell.until)}"


def locked_text(cell: Cell, today: date) -> str:
    """Why an open day can no longer be changed online ('' when it still can, or is closed)."""
    if cell.status == CellStatus.CLOSED or cell.editable:
        return ""
    if cell.day < today:
        return "jour passé"
    if cell.status == CellStatus.AVAILABLE:
        return "délai de réservation dépassé"
    return "délai de modification dépassé"


MARKS = {
    CellStatus.AVAILABLE: "+",
    CellStatus.PENDING: "…",
    CellStatus.REGISTERED: "✓",
    CellStatus.CHANGE_REQUESTED: "↻",
    CellStatus.CANCEL_REQUESTED: "✕",
    CellStatus.CLOSED: "",
}
ABSENT_MARK = "A"


def status_mark(cell: Cell) -> str:
    """A shape beside the colour, so the status never depends on colour alone."""
    if cell.attendance and cell.attendance != Attendance.PRESENT:
        return ABSENT_MARK
    return MARKS[cell.status]


# --- What a tap does ----------------------------------------------------------------------


class Page(enum.StrEnum):
    """Where a tap on a cell leads when it does not act at once."""

    DAY = "day"
    ABSENCE = "absence"


# The actions a single tap runs at once; each is undone from the day page (or its message).
DIRECT = frozenset({DayAction.BOOK, DayAction.CANCEL, DayAction.WITHDRAW})


def cell_tap(cell: Cell) -> DayAction | Page | None:
    """What a tap on the cell does, from the actions the service allows now: the editing
    action when it is the only one (book with the usual option, cancel, withdraw a request:
    a POST); the absence form when an absence is all that is left; else the day page,
    which offers every allowed action. None for a closed day (a tap shows its reason)."""
    if cell.status == CellStatus.CLOSED:
        return None
    editing = cell.actions & EDITING
    if len(editing) == 1 and editing <= DIRECT:
        return next(iter(editing))
    if cell.actions == {DayAction.DECLARE_ABSENCE}:
        return Page.ABSENCE
    return Page.DAY


def tap_words(cell: Cell, tap: DayAction | Page | None, option: ActivityOption | None) -> str:
    """What the cell's accessible name says a tap does."""
    if tap == DayAction.BOOK:
        return f"touchez pour réserver ({option.label})" if option else "touchez pour réserver"
    if tap == DayAction.CANCEL:
        return "touchez pour annuler"
    if tap == DayAction.WITHDRAW:
        if cell.status == CellStatus.CANCEL_REQUESTED:
            return "touchez pour retirer la demande d'annulation"
        return "touchez pour retirer la demande"
    if tap == Page.ABSENCE:
        return "touchez pour signaler une absence"
    if tap == Page.DAY:
        return "touchez pour choisir" if cell.actions else "touchez pour le détail"
    return ""


def cell_label(
    activity: Activity, cell: Cell, today: date, option: ActivityOption | None = None
) -> str:
    """What a screen reader says for a cell: the day, the activity, the status, until when
    it can be changed (or why it no longer can), and what a tap does."""
    words = [
        "aujourd'hui" if cell.day == today else "",
        day_words(cell.day),
        activity.name,
        STATUS_LABELS[cell.status],
        ATTENDANCE_LABELS[cell.attendance] if cell.attendance else "",
        cell.reason,
        until_text(cell) or locked_text(cell, today),
        tap_words(cell, cell_tap(cell), option),
    ]
    return ", ".join(word for word in words if word)


# --- The month --------------------------------------------------------------------------


@dataclass(slots=True)
class CellView:
    """A cell as the month template writes it (ARCHITECTURE.md's calendar markup): every
    string ready, so rendering a cell is substitution only."""

    css: str
    date: str
    status: str
    editable: str
    label: str
    mark: str
    href: str = ""  # the form's action (a POST) or the link's target; '' for a closed day
    action: str = ""  # the DayAction the form posts; '' for a link
    option: str = ""  # the option id a one-tap booking sends
    reason: str = ""  # a closed day's reason, shown when tapped


@dataclass(slots=True)
class DayHead:
    """A column of the week: made once per day, shared by every activity's cell."""

    day: date
    iso: str
    weekday: str
    today: bool


@dataclass
class Row:
    activity: Activity
    cells: list[CellView | None]


@dataclass
class Week:
    anchor: str  # "s-<monday>": links to the current month open here
    days: list[DayHead | None]
    caption: str
    rows: list[Row] = field(default_factory=list)
    closed: str = ""  # a week closed for every activity, folded into this sentence
    notice: NoticeView | None = None

    @property
    def starts_before(self) -> bool:
        """The week began in the month before (its first days are on that month's page)."""
        return self.days[0] is None

    @property
    def goes_on_after(self) -> bool:
        return self.days[-1] is None


@dataclass
class MonthPage:
    """The month page: the month, the links around it, and its weeks."""

    first: date
    previous: date
    next: date
    label: str
    this_month: date
    this_week: str  # the anchor of the week that holds today (or the next school day)
    weeks: list[Week] = field(default_factory=list)
    has_activities: bool = False
    notice: NoticeView | None = None  # a message about a day the page does not show
    stable_until: datetime | None = None  # see services.booking.ChildMonth

    def anchor(self, month: date) -> str:
        """'#s-…' on links to the current month, so it opens at the current week."""
        return f"#{self.this_week}" if month == self.this_month else ""


def week_anchor(day: date) -> str:
    """The anchor of the week a family opening the calendar on `day` wants to see: the week
    of `day`, or from a weekend the next one when it is still in the same month."""
    monday = day - timedelta(days=day.weekday())
    if day.weekday() > 4 and (monday + timedelta(days=7)).month == day.month:
        monday += timedelta(days=7)
    return f"s-{monday}"


@lru_cache(maxsize=256)
def month_words(first: date) -> str:
    """« Décembre 2026 », kept like day_words."""
    return date_fr(first, "MMMM y").capitalize()


def month_view(
    children: list[Child],
    child: Child,
    first: date,
    now: datetime,
    notice: Notice | None,
    token: str,
) -> Markup:
    """The month page's content as the route serves it, rendered by
    templates/bookings/_month.html, or taken from rendered.WEEKS when the same rows were
    rendered before and nothing has changed with time since (a page with a notice is
    always rendered: the notice is shown once).

    The content is kept with a stand-in for the CSRF token, which changes every second,
    and given this request's token when served. A change committed while the page was
    being rendered makes the key read again differ: that page is served, not kept."""
    key = (booking.month_key(child, first), tuple((c.id, c.first_name) for c in children))
    html = WEEKS.get(key, now) if notice is None else None
    if html is None:
        page = month_page(child, first, now, notice)
        html = render_template(
            "bookings/_month.html", children=children, child=child, page=page, token=CSRF_STAND_IN
        )
        # The grid's queries ran after the key's: kept only if nothing changed in between.
        if notice is None and booking.month_key(child, first) == key[0]:
            WEEKS.put(key, html, now, page.stable_until)
    content = html.replace(CSRF_STAND_IN, str(escape(token)))
    return Markup(content)  # noqa: S704 (escaped by the template, autoescape is on)


def month_page(child: Child, first: date, now: datetime, notice: Notice | None = None) -> MonthPage:
    """The child's month as weeks of Monday-Friday, one row of cells per activity."""
    grid = booking.month_grid([child], first, now)[child.id]
    today = paris_today(now)
    start, last = month_bounds(first)
    lines = [_Line.of(child, activity_month) for activity_month in grid.activities]
    page = MonthPage(
        first=start,
        previous=(start - timedelta(days=1)).replace(day=1),
        next=last + timedelta(days=1),
        label=month_words(start),
        this_month=today.replace(day=1),
        this_week=week_anchor(today),
        weeks=[_week(monday, start, last, today, lines) for monday in _mondays(start, last)],
        has_activities=bool(lines),
        stable_until=grid.stable_until,
    )
    if notice is not None:
        _place(page, notice, grid, child)
    return page


DAY_SLOT = "0000-00-00"  # stands for the day in URLs built once per activity


@dataclass
class _Line:
    """One activity of the month, with what each of its cells needs made once."""

    activity: Activity
    cells: dict[date, Cell]
    day_href: str  # the day page's URL (also its forms' action), DAY_SLOT for the day
    absence_href: str
    usual: ActivityOption | None

    @classmethod
    def of(cls, child: Child, activity_month) -> _Line:
        activity = activity_month.activity
        options = {option.id: option for option in activity.options}
        return cls(
            activity,
            {cell.day: cell for cell in activity_month.cells},
            url_for("bookings.day", child_id=child.id, day=DAY_SLOT, activity_code=activity.code),
            url_for("bookings.absence", child=child.id, start=DAY_SLOT),
            options.get(activity_month.usual_option_id),
        )

    def view(self, cell: Cell, head: DayHead, today: date) -> CellView:
        tap = cell_tap(cell)
        editable = cell.editable
        css = f"cell s-{cell.status}"
        if not editable and cell.status != CellStatus.CLOSED:
            css += " locked"
        if cell.attendance:
            css += f" a-{cell.attendance}"
        if head.today:
            css += " today"
        option = self.usual if tap == DayAction.BOOK else None
        if tap is None:
            href = ""
        elif tap == Page.ABSENCE:
            href = self.absence_href.replace(DAY_SLOT, head.iso)
        else:
            href = self.day_href.replace(DAY_SLOT, head.iso)
        return CellView(
            css=css,
            date=head.iso,
            status=cell.status.value,
            editable="true" if editable else "false",
            label=cell_label(self.activity, cell, today, option),
            mark=status_mark(cell),
            href=href,
            action=tap.value if isinstance(tap, DayAction) else "",
            option=str(option.id) if option else "",
            reason="" if tap else f"{day_words(head.day)} : {cell.reason or 'pas de service'}",
        )


def _mondays(start: date, last: date) -> list[date]:
    monday = start - timedelta(days=start.weekday())
    mondays = []
    while monday <= last:
        if monday + timedelta(days=4) >= start:  # a month starting on a weekend skips it
            mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


WEEKDAYS_SHORT = ("lun", "mar", "mer", "jeu", "ven")


def _week(monday: date, start: date, last: date, today: date, lines: list[_Line]) -> Week:
    days = [monday + timedelta(days=i) for i in SCHOOL_WEEKDAYS]
    heads = [
        DayHead(d, d.isoformat(), WEEKDAYS_SHORT[d.weekday()], d == today)
        if start <= d <= last
        else None
        for d in days
    ]
    shown = [head.day for head in heads if head]
    caption = f"Semaine du {day_words(shown[0])}"
    if monday <= today < monday + timedelta(days=7):
        caption = f"Cette semaine · du {day_words(shown[0])}"
    week = Week(f"s-{monday}", heads, caption)
    cells = []
    for line in lines:
        row = [line.cells.get(head.day) if head else None for head in heads]
        cells += [cell for cell in row if cell is not None]
        views = [line.view(c, h, today) if c else None for c, h in zip(row, heads, strict=True)]
        week.rows.append(Row(line.activity, views))
    reason = _closed_reason(cells)
    if reason:
        week.closed = f"Du {date_fr(shown[0], 'EEEE d')} au {day_words(shown[-1])} : {reason}"
    return week


def _closed_reason(cells: list[Cell]) -> str:
    """The reason when the whole week is closed for every activity (holidays), else ''."""
    if not cells or any(cell.status != CellStatus.CLOSED for cell in cells):
        return ""
    reasons = {cell.reason for cell in cells} - {"Pas de classe le mercredi", "Week-end"}
    return " · ".join(sorted(reasons))


# --- What an action did, beside its day ---------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """What an action did, or why it was refused: kept in the session across the redirect,
    shown above the week of its day (so it is on screen, beside the day, without
    scrolling). `undo` is the action that takes it back, offered while the service allows
    it; `change`: a booking, offer the day page to choose another option."""

    child_id: int
    day: date
    message: str
    error: bool = False
    activity_code: str = ""
    undo: str = ""
    undo_option: str = ""
    change: bool = False

    def to_session(self) -> dict:
        return {**self.__dict__, "day": self.day.isoformat()}

    @classmethod
    def from_session(cls, value) -> Notice | None:
        try:
            return cls(**{**value, "day": date.fromisoformat(value["day"])})
        except (TypeError, KeyError, ValueError):
            return None


@dataclass(frozen=True)
class NoticeView:
    message: str
    error: bool
    href: str = ""  # the day's page: the undo form's action, the "change" link
    undo: str = ""
    undo_option: str = ""
    change: bool = False


def _place(page: MonthPage, notice: Notice, grid, child: Child) -> None:
    """Put the notice above the week of its day (on top of the month for a weekend)."""
    view = _notice_view(notice, grid, child)
    monday = notice.day - timedelta(days=notice.day.weekday())
    anchor = f"s-{monday}" if notice.day.weekday() < 5 else ""
    week = next((w for w in page.weeks if w.anchor == anchor), None)
    if week is None:
        page.notice = view
    else:
        week.notice = view


def _notice_view(notice: Notice, grid, child: Child) -> NoticeView:
    """The notice with what its day still allows now: undo, another option."""
    cell = next(
        (
            cell
            for row in grid.activities
            if row.activity.code == notice.activity_code
            for cell in row.cells
            if cell.day == notice.day
        ),
        None,
    )
    if cell is None:
        return NoticeView(notice.message, notice.error)
    undo = notice.undo if notice.undo and DayAction(notice.undo) in cell.actions else ""
    href = url_for(
        "bookings.day",
        child_id=child.id,
        day=notice.day.isoformat(),
        activity_code=notice.activity_code,
    )
    return NoticeView(
        notice.message,
        notice.error,
        href,
        undo,
        notice.undo_option if undo else "",
        notice.change and DayAction.CHANGE_OPTION in cell.actions,
    )


# --- One day ----------------------------------------------------------------------------


@dataclass
class DayDetail:
    """The day page: the cell, its options, and exactly the actions the service allows."""

    activity: Activity
    cell: Cell
    options: list[ActivityOption]
    option: ActivityOption | None
    requested: ActivityOption | None
    usual: ActivityOption | None
    today: date
    missed: str = ""  # a free day past its booking deadline: when that deadline passed
    # What the family pays for the day, per option id (None: an activity without options).
    prices: dict[int | None, int] = field(default_factory=dict)

    def offers(self, action: DayAction) -> bool:
        return action in self.cell.actions

    @property
    def is_today(self) -> bool:
        return self.cell.day == self.today

    @property
    def asks_the_mairie(self) -> bool:
        """A manual activity: a booking, change or cancellation is a request staff decide."""
        editing = {DayAction.BOOK, DayAction.CHANGE_OPTION, DayAction.CANCEL}
        return self.activity.validation_mode == ValidationMode.MANUAL and bool(
            self.cell.actions & editing
        )

    @property
    def until(self) -> str:
        """« Modifiable jusqu'au lundi 7 décembre à 10 h », when the day can be changed."""
        text = until_text(self.cell)
        return text[:1].upper() + text[1:]

    @property
    def locked(self) -> bool:
        return self.cell.status != CellStatus.CLOSED and not self.cell.editable

    @property
    def locked_text(self) -> str:
        """Why a day that is not closed can no longer be changed online."""
        if self.cell.day < self.today:
            return "Ce jour est passé : il ne se modifie plus."
        return "Le délai pour modifier ou annuler ce jour est passé."

    @property
    def waits_for_staff(self) -> bool:
        return self.cell.status in WITHDRAWABLE

    @property
    def withdraw_help(self) -> str:
        """What withdrawing the pending request leaves."""
        if self.cell.status == CellStatus.PENDING:
            return "Si vous retirez votre demande, le jour redevient libre."
        if self.cell.status == CellStatus.CHANGE_REQUESTED and self.option:
            return f"Si vous retirez votre demande, vous gardez la formule {self.option.label}."
        return "Si vous retirez votre demande, vous gardez la réservation."

    @property
    def other_options(self) -> list[ActivityOption]:
        return [option for option in self.options if option.id != self.cell.option_id]

    @property
    def booking_choices(self) -> list[ActivityOption]:
        """The options a booking can take, the usual one first."""
        rest = [option for option in self.options if option != self.usual]
        return [self.usual, *rest] if self.usual else rest

    @property
    def price_text(self) -> str:
        """« Prix pour votre famille : 2,90 € » (the booked option's, or each option's when
        they differ); empty for a closed day, or one without a tariff yet."""
        if self.cell.status == CellStatus.CLOSED:
            return ""
        if self.option is not None and self.option.id in self.prices:
            return f"Prix de ce jour pour votre famille : {money(self.prices[self.option.id])}"
        shown = [o for o in self.booking_choices or self.options if o.id in self.prices]
        amounts = {self.prices[o.id] for o in shown}
        if len(amounts) == 1:
            return f"Prix de ce jour pour votre famille : {money(amounts.pop())}"
        if shown:
            each = ", ".join(f"{o.label} {money(self.prices[o.id])}" for o in shown)
            return f"Prix de ce jour pour votre famille : {each}"
        if None in self.prices:
            return f"Prix de ce jour pour votre famille : {money(self.prices[None])}"
        return ""


def day_detail(child: Child, activity: Activity, day: date, now: datetime) -> DayDetail:
    grid = booking.month_grid([child], day.replace(day=1), now)[child.id]
    row = next((r for r in grid.activities if r.activity.id == activity.id), None)
    cell = next((c for c in row.cells if c.day == day), None) if row else None
    if cell is None:
        cell = Cell(day, CellStatus.CLOSED, reason="Non inscrit à cette prestation")
    options = list(activity.options)
    by_id = {option.id: option for option in options}
    missed, today = "", paris_today(now)
    if cell.status == CellStatus.AVAILABLE and not cell.actions and day >= today:
        missed = deadline_words(deadline(activity, day, DeadlineKind.BOOKING))
    prices = {
        price.option.id if price.option else None: price.unit_price_cents
        for price in tariffs.family_prices(child.family, day, [activity])
    }
    return DayDetail(
        activity,
        cell,
        options,
        by_id.get(cell.option_id),
        by_id.get(cell.requested_option_id),
        by_id.get(row.usual_option_id) if row else None,
        today,
        missed,
        prices,
    )


def _option(activity: Activity, raw: str | None) -> ActivityOption | None:
    """The activity's option of the form's value; None when none was sent."""
    if not raw:
        return None
    option = next((o for o in activity.options if str(o.id) == raw), None)
    if option is None:
        raise booking.BookingError("Cette formule ne correspond pas à cette prestation.")
    return option


def apply_action(child, activity, day, action, form, now) -> Notice:
    """Run the family's action through the booking service; say what happened."""
    when = f"{activity.name}, {day_words(day)}"
    notice = partial(Notice, child.id, day, activity_code=activity.code)
    match action:
        case DayAction.BOOK:
            option = _option(activity, form.get("option"))
            outcome = booking.book_day(child, activity, day, option, now)
            return notice(_booked_message(outcome.booking, activity, when), change=True)
        case DayAction.WITHDRAW:
            outcome = booking.withdraw(child, activity, day, now)
            if outcome.booking.status == BookingStatus.REGISTERED:
                return notice(f"Demande retirée : {when}. La réservation est maintenue.")
            return notice(f"Demande retirée : {when}.")
        case DayAction.CANCEL:
            return _cancel(child, activity, day, now, when, notice)
        case DayAction.CHANGE_OPTION:
            return notice(_change(child, activity, day, form, now, when))
        case DayAction.DECLARE_ABSENCE:
            booking.declare_absence(child, activity, day, absence_reason(form), now)
            return notice(f"Absence signalée : {when}. {SERVICE_TOLD}")
        case DayAction.WITHDRAW_ABSENCE:
            booking.withdraw_absence(child, activity, day, now)
            return notice(f"Absence retirée : {when}. L'enfant est attendu.")
    raise booking.BookingError("Action inconnue.")


def _cancel(child, activity, day, now, when, notice) -> Notice:
    """Cancelled, or asked: the message offers to take it back (re-book the same option,
    or withdraw the cancellation request)."""
    outcome = booking.cancel(child, activity, day, now)
    if outcome.booking.status == BookingStatus.CANCEL_REQUESTED:
        message = f"Annulation demandée : {when}. La mairie doit la valider."
        return notice(message, undo=DayAction.WITHDRAW.value)
    option = str(outcome.booking.option_id or "")
    return notice(f"Réservation annulée : {when}.", undo=DayAction.BOOK.value, undo_option=option)


def _change(child, activity, day, form, now, when) -> str:
    option = _option(activity, form.get("option"))
    if option is None:
        raise booking.BookingError("Choisissez une formule.")
    outcome = booking.change_option(child, activity, day, option, now)
    if outcome.booking.status == BookingStatus.CHANGE_REQUESTED:
        return f"Changement demandé ({option.label}) : {when}. La mairie doit le valider."
    return f"Formule changée ({option.label}) : {when}."


def _booked_message(booked, activity: Activity, when: str) -> str:
    what = f"{when} ({booked.option.label})" if len(activity.options) > 1 else when
    if booked.status == BookingStatus.REGISTERED:
        return f"Réservé : {what}."
    return (
        f"Demande envoyée : {what}. Elle est en attente de validation par la mairie "
        "(ou d'une place libre)."
    )


def absence_reason(form) -> str:
    """« Maladie — fièvre » from the day page's absence form."""
    label = dict(ABSENCE_REASONS).get(form.get("reason", ""), "Autre")
    details = (form.get("details") or "").strip()[:250]
    return f"{label} — {details}" if details else label


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
        return f"{_count(done, 'jour annulé', 'jours annulés')} (ou demandes d'annulation)."
    parts = []
    for plan in plans:
        counts = [
            _count(len(plan.registered), "jour réservé", "jours réservés"),
            _count(len(plan.requested), "demande à valider", "demandes à valider"),
            _count(len(plan.waiting), "jour en liste d'attente", "jours en liste d'attente"),
        ]
        said = ", ".join(count for count in counts if count)
        parts.append(f"{plan_title(plan)} : {said or 'aucun jour ajouté'}.")
    return " ".join(parts)


def many_estimate(form, plans: list, family) -> str:
    """« Environ 92,80 € pour janvier. »: what the days the request adds (booked, or asked
    of the mairie) would cost the family, per month, at its own prices; empty when
    cancelling or when nothing is added."""
    if form.mode.data == "cancel":
        return ""
    children = {child.id: child for child in form.children_chosen()}
    by_month: dict[date, list] = {}
    for plan in plans:
        for ref in (*plan.registered, *plan.requested):
            item = (children[ref.child_id], plan.activity, plan.option, ref.day)
            by_month.setdefault(ref.day.replace(day=1), []).append(item)
    amounts = [
        f"{money(tariffs.estimate_cents(family, items))} pour {date_fr(month, 'LLLL')}"
        for month, items in sorted(by_month.items())
    ]
    return f"Environ {', '.join(amounts)}." if amounts else ""


def _count(number: int, one: str, several: str) -> str:
    return f"{number} {one if number == 1 else several}" if number else ""


def plan_title(plan) -> str:
    option = getattr(plan, "option", None)
    return f"{plan.activity.name} ({option.label})" if option else plan.activity.name


@dataclass
class DayGroup:
    """Days of a many-days plan that share one fate, as the page lists them."""

    count: int
    words: str  # « jours seront réservés », « demandes à valider par la mairie »…
    tone: str  # ok, wait, warn, info: the colour of the group
    days: list[str]  # « Tom — lundi 7 décembre (Jour férié) »
    done: bool = False  # what the request adds (the others are days not booked)


@dataclass
class PlanView:
    title: str
    how: str  # « réservation immédiate » or « validation par la mairie »
    groups: list[DayGroup]

    @property
    def missed(self) -> bool:
        """Days the family wanted and did not get (full, past the deadline, not registered)."""
        return any(group.tone == "warn" for group in self.groups)


def many_view(form, plans: list) -> list[PlanView]:
    """Per activity, the days grouped by what happens (or happened) to them, in words."""
    names = dict(form.children.choices)

    def group(refs, one, several, tone, done=False) -> DayGroup | None:
        if not refs:
            return None
        days = [_day_line(names, ref) for ref in refs]
        return DayGroup(len(refs), one if len(refs) == 1 else several, tone, days, done)

    views = []
    for plan in plans:
        if form.mode.data == "cancel":
            groups = _cancel_groups(plan, group)
            how = "annulation"
        else:
            groups = _booking_groups(plan, group)
            how = "validation par la mairie" if plan.manual else "réservation immédiate"
        views.append(PlanView(plan_title(plan), how, [g for g in groups if g]))
    return views


def _booking_groups(plan, group) -> list[DayGroup | None]:
    done = plan.confirmed
    return [
        group(
            plan.registered,
            "jour réservé" if done else "jour sera réservé",
            "jours réservés" if done else "jours seront réservés",
            "ok",
            True,
        ),
        group(
            plan.requested,
            "demande à valider par la mairie",
            "demandes à valider par la mairie",
            "wait",
            True,
        ),
        group(
            plan.waiting,
            "jour en liste d'attente (complet)",
            "jours en liste d'attente (complet)",
            "warn",
        ),
        group(
            plan.past_deadline,
            "jour après le délai de réservation",
            "jours après le délai de réservation",
            "warn",
        ),
        group(plan.closed, "jour sans service", "jours sans service", "info"),
        group(plan.already_booked, "jour déjà réservé", "jours déjà réservés", "info"),
        group(
            plan.not_registered,
            "jour hors inscription à la prestation",
            "jours hors inscription à la prestation",
            "warn",
        ),
    ]


def _cancel_groups(plan, group) -> list[DayGroup | None]:
    done = plan.confirmed
    return [
        group(
            plan.to_cancel,
            "jour annulé (ou demande envoyée)" if done else "jour sera annulé",
            "jours annulés (ou demandes envoyées)" if done else "jours seront annulés",
            "ok",
            True,
        ),
        group(
            plan.past_deadline,
            "jour après le délai d'annulation",
            "jours après le délai d'annulation",
            "warn",
        ),
        group(plan.closed, "jour sans service, rien à annuler", "jours sans service", "info"),
    ]


def _day_line(names: dict, ref) -> str:
    who = names.get(str(ref.child_id), "")
    reason = f" ({ref.reason})" if ref.reason else ""
    return f"{who} — {day_words(ref.day)}{reason}"


# --- Absence ----------------------------------------------------------------------------


def absence_summary(child: Child, declared: list) -> str:
    if not declared:
        return f"Aucune réservation de {child.first_name} à signaler sur ces jours."
    count = _count(len(declared), "réservation", "réservations")
    return f"Absence de {child.first_name} signalée pour {count}. {SERVICE_TOLD}"


# --- Template helpers -------------------------------------------------------------------


def template_helpers() -> dict:
    return {
        "DayAction": DayAction,
        "status_mark": status_mark,
        "legend": LEGEND,
        "legend_marks": MARKS,
        "absent_mark": ABSENT_MARK,
        "status_labels": STATUS_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
        "absence_reasons": ABSENCE_REASONS,
        "service": SERVICE,
    }
