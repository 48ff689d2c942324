"""A tick that costs what changed: plan everything only when the plan as a whole may have
moved, plan only the people whose records changed otherwise, and nothing when nothing did.

What a plan depends on: the records (their revision, `scheduler.store.changes`), the
catalog and calendar (a fingerprint), and the moment.  The moment matters at three kinds
of instant: midnight (statuses move: due today, overdue, days late), the reminder time (a
ladder step's moment: every step falls due at it, on some working day) and a submission
or verification dated later than the moment planned for, which evaluation leaves out until
then.  A plan holds until the first of them; the mark saying so is kept in
``service_state``, written in the transaction that queues the plan, so that a process
started afresh (`tenggat run --once`) trusts only what was committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from rules.catalog import Scope
from rules.evaluate import Submission, evaluate
from rules.plan import Notice, plan
from rules.schedule import Schedule
from scheduler.config import Config
from scheduler.memory import paused_gc
from scheduler.store import changes, outbox, records, state
from scheduler.store.db import Database

# Told each stage's name and the rows it made, as it ends: what `bench/tick.py` times.
Stage = Callable[[str, int], None]


def _unwatched(stage: str, rows: int) -> None:
    """No one times the stages."""


class Extent(StrEnum):
    """How much of the roster a tick plans."""

    FULL = "full"  # everyone: no mark that holds, or something roster-wide changed
    CHANGED = "changed"  # only the people whose submissions or exemptions changed
    NONE = "none"  # nothing that planning reads changed


@dataclass(frozen=True)
class Mark:
    """What the last plan was made from: the records' ``revision``, the ``fingerprint`` of
    the catalog and calendar, and the span of moments [``at``, ``until``) it holds for."""

    revision: int
    at: datetime
    until: datetime
    fingerprint: str

    def holds(self, now: datetime, fingerprint: str) -> bool:
        """Whether a plan made under this mark is still the plan at ``now`` as far as the
        moment and the configuration go (a replay earlier than it plans afresh)."""
        return fingerprint == self.fingerprint and self.at <= now < self.until

    def text(self) -> str:
        return json.dumps(
            {
                "revision": self.revision,
                "at": self.at.isoformat(),
                "until": self.until.isoformat(),
                "fingerprint": self.fingerprint,
            }
        )

    @classmethod
    def read(cls, text: str | None) -> Mark | None:
        """The mark stored as ``text``; None when there is none or it cannot be read (then
        the tick plans everything, which is never wrong, only slower)."""
        try:
            found = json.loads(text or "")
            return cls(
                int(found["revision"]),
                datetime.fromisoformat(found["at"]),
                datetime.fromisoformat(found["until"]),
                str(found["fingerprint"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def fingerprint(config: Config) -> str:
    """What else the plan depends on: the catalog (rules, ladders, reminder time, deadline
    overrides), the calendar's overrides and the zone.  Their repr is made of values only."""
    settings = config.settings
    made = repr((config.catalog, settings.calendar, settings.service.timezone))
    return hashlib.sha256(made.encode()).hexdigest()[:16]


def holds_until(schedule: Schedule, now: datetime, submissions: Iterable[Submission]) -> datetime:
    """The first instant after ``now`` at which a plan made at ``now`` may change with no
    change to the records: midnight, the reminder time today, or the moment a submission or
    verification dated later than ``now`` counts."""
    calendar = schedule.calendar
    today = now.astimezone(calendar.tz).date()
    moments = [calendar.at(today + timedelta(days=1), time(0))]
    reminder = calendar.at(today, schedule.catalog.reminder_time)
    if reminder > now:
        moments.append(reminder)
    for item in submissions:
        for moment in (item.submitted_at, item.verified_at):
            if moment is not None and moment > now:
                moments.append(moment)
    return min(moments)


@dataclass(frozen=True)
class Planned:
    """What a tick planned: its scope, the statuses evaluated, the notices planned (those
    already queued included) and the rows it queued."""

    scope: Extent
    statuses: int
    notices: list[Notice]
    queued: int


def plan_and_queue(
    config: Config, db: Database, now: datetime, stage: Stage = _unwatched
) -> Planned:
    """Plan at ``now`` what changed since the last plan (everything when its mark no longer
    holds) and queue what is new, with the new mark, in one transaction."""
    schedule, catalog = config.schedule(), config.catalog
    unit_rules = frozenset(r.code for r in catalog.active if r.scope is Scope.UNIT)
    agency_rules = frozenset(r.code for r in catalog.active if r.scope is Scope.AGENCY)
    printed = fingerprint(config)
    with paused_gc(), db.read() as session:
        # The revision first: a change committed while the records are read is planned
        # again next tick (queueing is idempotent), never missed.
        revision = changes.revision(session)
        mark = Mark.read(state.value(session, state.PLAN_MARK))
        wanted: dict[str, frozenset[str]] | None = None  # None: everyone
        scope = Extent.FULL
        if mark is not None and mark.holds(now, printed):
            changed = changes.since(session, mark.revision)
            people = changed.people
            if changed.nothing:
                scope = Extent.NONE
            elif not changed.roster and not any(c & agency_rules for c in people.values()):
                wanted = changes.concerned(session, people, unit_rules)
                scope = Extent.CHANGED if wanted else Extent.NONE  # only people gone
        stage("changes", len(wanted or ()))
        if scope is Extent.NONE:
            assert mark is not None
            if revision != mark.revision:
                _remember(db, Mark(revision, mark.at, mark.until, printed), now)
            return Planned(scope, 0, [], 0)
        since = now.year - 1
        keys = None if wanted is None else sorted(wanted)
        snap = records.snapshot(session, catalog, since_year=since, keys=keys)
    stage("read", len(snap.roster.people))
    with paused_gc():
        evaluation = evaluate(schedule, snap.roster, snap.submissions, snap.events, now)
        stage("evaluate", len(evaluation.statuses))
        notices = plan(schedule, snap.roster, evaluation)
        if wanted is not None:  # a colleague's unchanged notices stay as they were queued
            notices = [n for n in notices if n.rule in wanted.get(n.employee, ())]
        until = holds_until(schedule, now, snap.submissions)
        if scope is Extent.CHANGED and mark is not None:
            until, at = min(until, mark.until), mark.at
        else:
            at = now
        stage("plan", len(notices))
    with paused_gc(), db.write() as session:
        queued = outbox.enqueue(session, notices, now)
        state.record(session, state.PLAN_MARK, Mark(revision, at, until, printed).text(), now)
    stage("write", queued)
    return Planned(scope, len(evaluation.statuses), notices, queued)


def _remember(db: Database, mark: Mark, now: datetime) -> None:
    with db.write() as session:
        state.record(session, state.PLAN_MARK, mark.text(), now)


def forget_planned(session: Session) -> int:
    """Forget the changes the last plan was made from: a tick reads only those after its
    mark, and the revision lives on in the newest row.  Returns how many rows went."""
    mark = Mark.read(state.value(session, state.PLAN_MARK))
    return changes.prune(session, mark.revision) if mark is not None else 0
