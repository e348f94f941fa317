"""Réservations › Demandes: the families' requests, decided in bulk by staff.

Every decision goes through services.booking (approve / refuse commit each booking with
the family's alert) and is journaled in that same transaction (`journaled`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from admin_views.base import StaffAccessMixin
from admin_views.fields import row_id
from extensions import db
from models import Activity, Booking, BookingStatus, Child, Family, School, utcnow
from services import audit
from services import booking as booking_service
from services.formatting import date_fr, plural
from vocabulary import REQUEST_KINDS, enum_label, label

CATEGORY = "Réservations"
PAGE_SIZE = 50
# The days a back-office page can be about: the day after and before exist, and can be shown.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
# The decision form's values, and how a done decision is counted in French.
DECISIONS = {
    "approve": ("demande acceptée", "demandes acceptées"),
    "refuse": ("demande refusée", "demandes refusées"),
}
# The button that applies each row's own decision (`decision-<id>`).
ROW_BY_ROW = "rows"
# What a staff decision can change on a booking, as the journal records it.
JOURNALED_FIELDS = ("status", "option_id", "requested_option_id", "attendance", "refusal_reason")


# --- Shared by the back office's booking pages -------------------------------------------


def journaled(booking: Booking, action: str):
    """The decision on `booking` and its journal entry, in the transaction the service commits."""
    return audit.journaled(booking, action, JOURNALED_FIELDS, current_user, request.remote_addr)


def describe(booking: Booking) -> str:
    """« Léa Martin, jeudi 19 novembre 2026 » for an agent's message."""
    return f"{booking.child}, {date_fr(booking.day)}"


def parse_date(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day and FIRST_DAY <= day <= LAST_DAY else None


def parse_id(value: str | None) -> int | None:
    return row_id(value)


def selected_ids(form: Mapping) -> list[int]:
    """The checked rows' ids (`ids` checkboxes), in order, without duplicates."""
    ids = (row_id(value) for value in form.getlist("ids"))
    return list(dict.fromkeys(found for found in ids if found is not None))


@dataclass
class Page:
    """One page of a list: its rows, and where it stands among the others."""

    rows: list
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def paginate(query: Select, number: int, order: tuple, options: tuple) -> Page:
    """The page `number` (from 1) of a bookings query: two queries, whatever the page holds.

    `options` load what a row shows (many-to-one only, so LIMIT counts bookings).
    """
    total = db.session.scalar(query.with_only_columns(func.count(Booking.id)))
    number = min(max(number, 1), max(1, math.ceil(total / PAGE_SIZE)))
    rows = db.session.scalars(
        query.order_by(*order).options(*options).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    )
    return Page(list(rows), number, total)


def page_number(args: Mapping) -> int:
    return parse_id(args.get("page")) or 1


def schools_and_activities() -> tuple[list[School], list[Activity]]:
    schools = list(db.session.scalars(select(School).order_by(School.name)))
    activities = list(
        db.session.scalars(select(Activity).order_by(Activity.sort_order, Activity.name))
    )
    return schools, activities


# --- Filters and the list ----------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    """The list's filters, read from the query string (or the decision form's copy)."""

    school: int | None = None
    activity: int | None = None
    start: date | None = None
    end: date | None = None
    family: str = ""
    kind: BookingStatus | None = None

    @classmethod
    def parse(cls, values: Mapping) -> RequestFilters:
        kind = values.get("kind", "")
        return cls(
            school=parse_id(values.get("school")),
            activity=parse_id(values.get("activity")),
            start=parse_date(values.get("start")),
            end=parse_date(values.get("end")),
            family=values.get("family", "").strip()[:80],
            kind=BookingStatus(kind) if kind in REQUEST_KINDS else None,
        )

    def args(self) -> dict[str, str]:
        """The filters set, as query-string values."""
        values = {
            "school": self.school,
            "activity": self.activity,
            "start": self.start and self.start.isoformat(),
            "end": self.end and self.end.isoformat(),
            "family": self.family,
            "kind": self.kind and self.kind.value,
        }
        return {name: str(value) for name, value in values.items() if value}

    def apply(self, query: Select) -> Select:
        statuses = [self.kind] if self.kind else list(REQUEST_KINDS)
        query = query.where(Booking.status.in_(statuses))
        if self.school:
            query = query.where(Booking.school_id == self.school)
        if self.activity:
            query = query.where(Booking.activity_id == self.activity)
        if self.start:
            query = query.where(Booking.day >= self.start)
        if self.end:
            query = query.where(Booking.day <= self.end)
        if self.family:
            query = query.where(
                or_(
                    Family.name.icontains(self.family, autoescape=True),
                    Child.last_name.icontains(self.family, autoescape=True),
                )
            )
        return query


ROW_OPTIONS = (
    contains_eager(Booking.child).contains_eager(Child.family),
    joinedload(Booking.school),
    joinedload(Booking.activity),
    joinedload(Booking.option),
    joinedload(Booking.requested_option),
)


def requests_page(filters: RequestFilters, number: int) -> Page:
    """The requests the filters keep, oldest first, with all a row shows loaded."""
    query = filters.apply(select(Booking).join(Booking.child).join(Child.family))
    return paginate(query, number, (Booking.requested_at, Booking.id), ROW_OPTIONS)


# --- Decisions ---------------------------------------------------------------------------


def apply_to_each(bookings: list[Booking], action: str, call) -> int:
    """Run `call(booking)` on each booking, journaled, each in its own transaction.

    A refused one is reported in French with the child and the day; the others go on.
    Returns how many went through.
    """
    done = 0
    for booking in bookings:
        label = describe(booking)
        try:
            with journaled(booking, action):
                call(booking)
        except booking_service.BookingError as error:
            flash(f"Non traité ({label}) : {error.message}", "error")
        else:
            done += 1
    return done


def load_bookings(ids: list[int]) -> list[Booking]:
    """The bookings of these ids, oldest request first, child and activity loaded."""
    found = db.session.scalars(
        select(Booking)
        .where(Booking.id.in_(ids))
        .order_by(Booking.requested_at, Booking.id)
        .options(joinedload(Booking.child), joinedload(Booking.activity))
    )
    return list(found)


def journal(booking: Booking, action: str):
    """The booking service's journal hook: the agent's decision, journaled with it."""
    before = audit.fields_of(booking, JOURNALED_FIELDS)
    actor, ip = current_user._get_current_object(), request.remote_addr
    return lambda: audit.record_since(actor, action, booking, before, ip)


def chosen_decisions(form: Mapping) -> dict[int, str]:
    """Per row: the decision of the bulk button for the checked rows, or the row's own
    choice (`decision-<id>`) when the agent saved row by row."""
    bulk = form.get("decision", "")
    if bulk in DECISIONS:
        return {booking_id: bulk for booking_id in selected_ids(form)}
    chosen = {}
    for key, value in form.items():
        booking_id = row_id(key.partition("decision-")[2])
        if booking_id is not None and value in DECISIONS:
            chosen[booking_id] = value
    return chosen


def decide_requests(chosen: dict[int, str], reason: str) -> None:
    """Each decision through the booking service: one transaction and one alert per family."""
    decisions = [
        booking_service.Decision(booking, chosen[booking.id], reason)
        for booking in load_bookings(list(chosen))
    ]
    booking_service.decide(decisions, utcnow(), journal)
    for decision in decisions:
        if decision.error:
            flash(f"Non traité ({describe(decision.booking)}) : {decision.error}", "error")
    for kind, labels in DECISIONS.items():
        done = sum(1 for d in decisions if d.done and d.decision == kind)
        if done:
            flash(f"{plural(done, *labels)}.", "success")


class RequestsView(StaffAccessMixin, BaseView):
    """Pending bookings, change and cancellation requests, oldest first."""

    @expose("/")
    def index(self):
        filters = RequestFilters.parse(request.args)
        schools, activities = schools_and_activities()
        return self.render(
            "admin/requests/index.html",
            filters=filters,
            listing=requests_page(filters, page_number(request.args)),
            schools=schools,
            activities=activities,
            kinds={status: label(kind) for status, kind in REQUEST_KINDS.items()},
            status_label=enum_label,
        )

    @expose("/decider", methods=("POST",))
    def decide(self):
        filters = RequestFilters.parse(request.form)
        if request.form.get("decision") not in {*DECISIONS, ROW_BY_ROW}:
            abort(400)
        reason = request.form.get("reason", "").strip()
        chosen = chosen_decisions(request.form)
        if not chosen:
            flash("Cochez au moins une demande, ou choisissez une décision par ligne.", "warning")
        elif "refuse" in chosen.values() and not reason:
            flash("Indiquez le motif du refus : aucune décision n'a été enregistrée.", "error")
        else:
            decide_requests(chosen, reason)
        return redirect(url_for(".index", **filters.args()))


def add_views(admin: Admin) -> None:
    admin.add_view(
        RequestsView(name="Demandes", endpoint="demandes", url="demandes", category=CATEGORY)
    )
