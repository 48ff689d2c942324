"""The computed homes, kept while they hold: the agency's home reads and evaluates every
record (seconds at 100,000 people), and the Secretary opens it again and again while
nothing changes.

A home holds while the records' revision (`scheduler.store.changes.revision`, which the
database's triggers move on every write, whoever writes) stays the same and the moment
stays before the first instant at which its statuses move on their own: midnight, the
reminder time, a record dated later (`scheduler.service.planning.holds_until`, the tick's
notion of the same thing).  Kept per scope and language, a few at a time, per process:
several instances each keep their own, and each finds a change through the revision.

Routes run in Starlette's worker threads: two requests for the same cold home compute it
once, the second waiting for the first; requests for other homes do not wait.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

Page = TypeVar("Page")
Key = tuple[str | None, str]  # (unit as asked, None: the agency; language)
KEPT = 8  # homes kept: the agency's in two languages and a few units'


@dataclass(frozen=True)
class Kept(Generic[Page]):
    """A home computed at ``at`` from the records at ``revision``, good until ``until``."""

    revision: int
    at: datetime
    until: datetime
    page: Page

    def holds(self, revision: int, now: datetime) -> bool:
        return revision == self.revision and self.at <= now < self.until


class Homes(Generic[Page]):
    """The kept homes, the least recently read going first when more than ``size``."""

    def __init__(self, size: int = KEPT) -> None:
        self.size = size
        self.computed = 0  # how many homes were computed, kept or not: what a test counts
        self._kept: OrderedDict[Key, Kept[Page]] = OrderedDict()
        self._lock = threading.Lock()  # guards the two dicts and the count
        self._computing: dict[Key, threading.Lock] = {}  # held while a key is computed

    def get(
        self,
        key: Key,
        revision: int,
        now: datetime,
        compute: Callable[[], tuple[Page, datetime]],
    ) -> Page:
        """The home kept under ``key`` if it holds at ``revision`` and ``now``; else the
        one ``compute`` returns with the instant it holds until, kept.  Read the revision
        before the records ``compute`` reads: a change committed in between makes the next
        request compute again, and never keeps a page older than its revision."""
        with self._lock:
            found = self._fresh(key, revision, now)
            if found is not None:
                return found
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # a second cold request waits here for the first
            try:
                with self._lock:
                    found = self._fresh(key, revision, now)
                if found is not None:
                    return found
                page, until = compute()
                with self._lock:
                    self.computed += 1
                    self._kept[key] = Kept(revision, now, until, page)
                    self._kept.move_to_end(key)
                    while len(self._kept) > self.size:
                        self._kept.popitem(last=False)
                return page
            finally:
                with self._lock:
                    if self._computing.get(key) is gate:
                        del self._computing[key]

    def _fresh(self, key: Key, revision: int, now: datetime) -> Page | None:
        kept = self._kept.get(key)
        if kept is None or not kept.holds(revision, now):
            return None
        self._kept.move_to_end(key)
        return kept.page
