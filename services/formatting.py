"""French formatting of money and dates for templates, PDFs and emails."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

PARIS = ZoneInfo("Europe/Paris")


def money(cents: int | None) -> str:
    """12,50 € (cents are integers: no float anywhere)."""
    from decimal import Decimal

    return format_currency(Decimal(cents or 0) / 100, "EUR", locale="fr_FR")


def date_fr(day: date | None, style: str = "full") -> str:
    """jeudi 26 novembre 2026 (style 'full'), 26 nov. 2026 ('medium')."""
    if day is None:
        return ""
    return format_date(day, format=style, locale="fr_FR")


def datetime_fr(moment: datetime | None) -> str:
    """A stored naive-UTC time shown in Paris time: 26 nov. 2026, 14:05."""
    if moment is None:
        return ""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS)
    return format_datetime(local, format="d MMM y, HH:mm", locale="fr_FR")


def deadline_fr(moment: datetime) -> str:
    """A stored naive-UTC deadline in Paris time: « lundi 7 décembre à 10 h », « … à 9 h 30 »."""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS)
    hour = f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"
    return f"{format_date(local.date(), 'EEEE d MMMM', locale='fr_FR')} à {hour}"


def plural(count: int, singular: str, several: str) -> str:
    """« 1 demande acceptée », « 3 demandes acceptées »."""
    return f"{count} {singular if count == 1 else several}"
