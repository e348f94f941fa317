"""The application's one clock: now in naive UTC, the one time representation the database
stores. Everything that reads the time calls `utcnow()`; tests, the demo screenshots and
the benchmarks pin it here, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_pinned: datetime | None = None


def utcnow() -> datetime:
    """Now, in naive UTC, or the pinned moment."""
    if _pinned is not None:
        return _pinned
    return datetime.now(UTC).replace(tzinfo=None)


def pin(moment: datetime | None) -> None:
    """Stop the clock at `moment` (naive UTC); None lets it run again."""
    global _pinned
    _pinned = moment


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """The clock stopped at `moment` for the block."""
    previous = _pinned
    pin(moment)
    try:
        yield
    finally:
        pin(previous)
