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
from wtforms.validators import NumberRange, ValidationError

from services import formatting
from vocabulary import enum_choices, enum_label

CENT = Decimal("0.01")
# The largest value of an integer column (PostgreSQL): a larger id, count or amount in cents
# would make the query itself fail (a 500), so it is refused before.
LARGEST_INTEGER = 2**31 - 1


def row_id(value: str | None) -> int | None:
    """A row id typed in a URL or a form, or None when no row can have it."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= LARGEST_INTEGER else None


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
        # Checked before quantize(), which fails on a number of more than 28 digits (1e30).
        if euros.is_finite() and abs(euros * 100) > LARGEST_INTEGER:
            raise ValueError("Montant trop élevé.")
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

    @converts("Integer")
    def handle_integer_types(self, column, field_args, **extra):
        """Counts, days and quotients are never negative, and fit their column."""
        if not any(isinstance(v, NumberRange) for v in field_args["validators"]):
            field_args["validators"].append(IntegerRange(0, LARGEST_INTEGER, INTEGER_RANGE))
        return super().handle_integer_types(column, field_args, **extra)


class IntegerRange(NumberRange):
    """NumberRange for whole numbers of any length: WTForms' own asks math.isnan(), which
    cannot take an integer past a float's range (a 400-digit number was a 500)."""

    def __call__(self, form, field):
        if isinstance(field.data, int) and not self.min <= field.data <= self.max:
            raise ValidationError(self.message % {"min": self.min, "max": self.max})
        super().__call__(form, field)


INTEGER_RANGE = "Nombre entier compris entre %(min)s et %(max)s."


def _in_range(filter_class):
    """`filter_class` refusing a number no integer column holds (the query would fail)."""

    class InRange(filter_class):
        def clean(self, value):
            cleaned = super().clean(value)
            numbers = cleaned if isinstance(cleaned, list) else [cleaned]
            if any(abs(number) > LARGEST_INTEGER for number in numbers):
                raise ValueError(value)
            return cleaned

    return InRange


def _one_of_options(filter_class):
    """`filter_class` refusing a value that is none of its options (an unknown status)."""

    class OneOfOptions(filter_class):
        def clean(self, value):
            if value not in dict(self.options or ()):
                raise ValueError(value)
            return super().clean(value)

    return OneOfOptions


class StaffFilterConverter(sqla_filters.FilterConverter):
    """Enum filters by stored value with French options (Flask-Admin looks members up by name)."""

    enum = tuple(
        _one_of_options(flt) for flt in (sqla_filters.FilterEqual, sqla_filters.FilterNotEqual)
    )
    int_filters = tuple(
        _in_range(flt)
        if issubclass(flt, (filters.BaseIntFilter, filters.BaseIntListFilter))
        else flt
        for flt in sqla_filters.FilterConverter.int_filters
    )

    @filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        options = options or enum_choices(column.type.enum_class)
        return [flt(column, name, options, **kwargs) for flt in self.enum]
