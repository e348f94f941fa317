"""The month page's content as rendered HTML, kept by each worker while nothing it shows can
have changed: the month page is the portal's busiest, and a family comes back to it after
every other page.

The key holds everything the content is made of (blueprints.bookings.pages.month_view):
the rows the grid reads (services.booking.month_key: the child's bookings and
registrations, the calendar, the activities and their options, the child and the school,
read in one statement) and the children's names. A booking, a closure or a renamed option
makes another key, so an entry never shows stale data. Time is the only other input: an
entry serves from the moment it was rendered until the grid's `stable_until` (the next
deadline of one of its days, or midnight in Paris).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class _Entry:
    html: str
    since: datetime
    until: datetime


class RenderedWeeks:
    """A least-recently-used map of rendered pages, each valid over [since, until)."""

    def __init__(self, size: int):
        self._size = size
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._lock = threading.Lock()  # the development server serves in threads

    def get(self, key: tuple, now: datetime) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.since <= now < entry.until:
                return None
            self._entries.move_to_end(key)
            return entry.html

    def put(self, key: tuple, html: str, since: datetime, until: datetime) -> None:
        with self._lock:
            self._entries[key] = _Entry(html, since, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# ~30 KB an entry: a few megabytes per worker at most.
WEEKS = RenderedWeeks(size=256)
