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

A home that took long to compute (more than `SLOW` seconds: 20 s for the agency's home at
100,000 people) is not waited for again when it stops holding: the page shows it as it stood,
saying at what moment and that newer figures are coming, while one background thread
computes the next, for at most `STALE` after its moment (a morning's first visit sees the
evening's figures, saying so).  Past that, or for a home that is quick to compute (the
demo, a unit's), the reader waits for the figures of now.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Page = TypeVar("Page")
Key = tuple[str | None, str]  # (unit as asked, None: the agency; language)
KEPT = 8  # homes kept: the agency's in two languages and a few units'
SLOW = 1.0  # seconds: a home computed slower is shown as it stood while the next computes
STALE = timedelta(hours=12)  # how old a home shown while the next computes may be
Compute = Callable[[], tuple[Page, datetime]]  # the home and the instant it holds until
log = logging.getLogger("tenggat")


@dataclass(frozen=True)
class Kept(Generic[Page]):
    """A home computed at ``at`` from the records at ``revision``, good until ``until``."""

    revision: int
    at: datetime
    until: datetime
    page: Page
    took: float  # seconds its computation took

    def holds(self, revision: int, now: datetime) -> bool:
        return revision == self.revision and self.at <= now < self.until


@dataclass(frozen=True)
class Shown(Generic[Page]):
    """A home and the moment it stands at: ``now`` itself, or (``fresh`` False) an earlier
    moment whose figures are shown while those of now are computed."""

    page: Page
    at: datetime
    fresh: bool


class Homes(Generic[Page]):
    """The kept homes, the least recently read going first when more than ``size``."""

    def __init__(self, size: int = KEPT, slow: float = SLOW, stale: timedelta = STALE) -> None:
        self.size, self.slow, self.stale = size, slow, stale
        self.computed = 0  # how many homes were computed, kept or not: what a test counts
        self._kept: OrderedDict[Key, Kept[Page]] = OrderedDict()
        self._lock = threading.Lock()  # guards the two dicts and the count
        self._computing: dict[Key, threading.Lock] = {}  # held while a key is computed

    def get(self, key: Key, revision: int, now: datetime, compute: Compute[Page]) -> Shown[Page]:
        """The home kept under ``key`` if it holds at ``revision`` and ``now``; else, for a
        slow one not older than ``stale``, the kept one while a background thread computes
        the next; else the one ``compute`` returns with the instant it holds until, kept.
        Read the revision before the records ``compute`` reads: a change committed in
        between makes the next request compute again, and never keeps a page older than
        its revision."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept.holds(revision, now):
                self._kept.move_to_end(key)
                return Shown(kept.page, now, True)
            if kept is not None and kept.took > self.slow and kept.at <= now < kept.at + self.stale:
                if key not in self._computing:
                    gate = self._computing[key] = threading.Lock()
                    gate.acquire()  # a reader who may not be shown this one waits for the next
                    threading.Thread(
                        target=self._refresh,
                        args=(key, revision, now, compute, gate),
                        name="tenggat-home",
                        daemon=True,
                    ).start()
                return Shown(kept.page, kept.at, False)
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # a second cold request waits here for the first
            try:
                with self._lock:
                    kept = self._kept.get(key)
                if kept is not None and kept.holds(revision, now):
                    return Shown(kept.page, now, True)
                return Shown(self._fill(key, revision, now, compute), now, True)
            finally:
                self._done(key, gate)

    def join(self) -> None:
        """Wait for the homes being computed in the background (a test, a shutdown)."""
        with self._lock:
            gates = list(self._computing.values())
        for gate in gates:
            with gate:
                pass

    def _refresh(
        self,
        key: Key,
        revision: int,
        now: datetime,
        compute: Compute[Page],
        gate: threading.Lock,
    ) -> None:
        """Compute the next home of ``key`` in the background; a failure is logged, and the
        next request computes it while its reader waits (then the failure is theirs)."""
        try:
            self._fill(key, revision, now, compute)
        except Exception:
            log.exception("home computed in the background failed")
        finally:
            gate.release()
            self._done(key, gate)

    def _fill(self, key: Key, revision: int, now: datetime, compute: Compute[Page]) -> Page:
        start = time.monotonic()
        page, until = compute()
        took = time.monotonic() - start
        with self._lock:
            self.computed += 1
            self._kept[key] = Kept(revision, now, until, page, took)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return page

    def _done(self, key: Key, gate: threading.Lock) -> None:
        with self._lock:
            if self._computing.get(key) is gate:
                del self._computing[key]
