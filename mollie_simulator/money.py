"""Amounts as Mollie writes them: a string with exactly two decimals, kept in integer cents.

No float anywhere: `"0.30"` minus three `"0.10"` must leave `"0.00"`, not `-0.00`.
"""

from __future__ import annotations

import re

AMOUNT_VALUE = re.compile(r"^(\d{1,10})\.(\d{2})$")


def parse_cents(value: object) -> int | None:
    """`"12.30"` → 1230; None for anything Mollie would refuse (a number, one decimal…)."""
    if not isinstance(value, str):
        return None
    match = AMOUNT_VALUE.match(value)
    if match is None:
        return None
    return int(match.group(1)) * 100 + int(match.group(2))


def format_cents(cents: int) -> str:
    """1230 → `"12.30"`; a negative amount (a settlement of a refund) keeps its sign."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def amount(cents: int, currency: str = "EUR") -> dict[str, str]:
    """Mollie's amount object."""
    return {"currency": currency, "value": format_cents(cents)}
