"""How the back office shows and reads values: money in euros, French dates, enum labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import filters, typefmt
from flask_admin.model.form import converts
from wtforms import StringField

from services import formatting
from vocabulary import enum_choices, enum_label

CENT = Decimal("0.01")


def money_cell(_view, _context, model, name) -> str:
    """Integer cents shown as 12,50 €."""
    return formatting.money(getattr(model, name))


def money_columns(*names: str) -> dict:
    """column_formatters for the given cents columns."""
    return dict.fromkeys(names, money_cell)


def related_cell(describe):
    """A column formatter showing a related row, or each row of a list, with `describe`."""

    def cell(_view, _context, model, name) -> str:
        value = getattr(model, name)
        if isinstance(value, list):
            return " ; ".join(describe(item) for item in value)
        return "" if value is None else describe(value)

    return cell


def month_cell(_view, _context, model, name) -> str:
    """The month a first-of-month date stands for: novembre 2026."""
    return formatting.date_fr(getattr(model, name), "LLLL y")


def _enum_cell(_view, value: Enum, _name) -> str:
    return enum_label(value)


def _date_cell(_view, value: date, _name) -> str:
    return formatting.date_fr(value, "medium")


def _short_date_cell(_view, value: date, _name) -> str:
    return formatting.date_fr(value, "short")


def _datetime_cell(_view, value: datetime, _name) -> str:
    return formatting.datetime_fr(value)


# datetime before date: a datetime is a date too, and the first matching type wins.
LIST_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    Enum: _enum_cell,
    datetime: _datetime_cell,
    date: _date_cell,
}
DETAIL_FORMATTERS = {
    **typefmt.DETAIL_FORMATTERS,
    Enum: _enum_cell,
    datetime: _datetime_cell,
    date: _date_cell,
}
# dd/mm/yyyy: a spreadsheet set to French reads it as a date.
EXPORT_FORMATTERS = {
    **typefmt.EXPORT_FORMATTERS,
    Enum: _enum_cell,
    datetime: _datetime_cell,
    date: _short_date_cell,
}


class MoneyField(StringField):
    """An amount typed in euros ("12,50"), kept in integer cents."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{Decimal(self.data) / 100:.2f}".replace(".", ",")

    def process_formdata(self, valuelist: list[str]) -> None:
        text = "".join((valuelist[0] if valuelist else "").replace("€", "").split())
        self.data = None
        if not text:
            return
        try:
            euros = Decimal(text.replace(",", "."))
        except InvalidOperation:
            euros = Decimal("NaN")
        if not euros.is_finite() or euros != euros.quantize(CENT):
            raise ValueError("Montant invalide : écrivez par exemple 12,50.")
        self.data = int(euros * 100)


def _enum_value(value) -> str | None:
    return value.value if isinstance(value, Enum) else value


class StaffModelConverter(AdminModelConverter):
    """Enum selects by stored value with French labels.

    Flask-Admin coerces members to their *names*, so an edit form would show the wrong
    status selected for our value-stored enums and save it back on a careless click.
    """

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column, field_args, **extra):
        field = super().convert_enum(column, field_args, **extra)
        field.kwargs["choices"] = enum_choices(column.type.enum_class)
        field.kwargs["coerce"] = _enum_value
        return field


class StaffFilterConverter(sqla_filters.FilterConverter):
    """Enum filters by stored value with French options (Flask-Admin looks members up by name)."""

    enum = (sqla_filters.FilterEqual, sqla_filters.FilterNotEqual)

    @filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        options = options or enum_choices(column.type.enum_class)
        return [flt(column, name, options, **kwargs) for flt in self.enum]
