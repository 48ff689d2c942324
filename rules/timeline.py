"""A replay of the service over a period: the notices its ticks would queue, and when the
sending window would let each go out.

The service ticks every few minutes; each tick plans, queues what is new (the outbox refuses
a key it holds) and sends what is queued if the tick falls inside the sending window.  With
the records fixed, ticking through a year need not evaluate every tick: the plan is
level-triggered (rules/plan.py), so a notice's key enters the plan at its ladder step's
moment and stays there until the next step's moment.  Its first tick in that span, on a day
whose evaluation window holds the due day, is when it is queued; the first tick at or after
that inside the sending window is when it goes out, together with everything else its
recipient has waiting then.  One evaluation of the whole period says which occurrences are
open; ``plan()`` itself, at each queueing tick, says who is told and in which words.

Pure: no clock and no I/O.  ``tests/test_simulate.py`` checks the shortcut against ticking
every tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from rules.calendar import LegalCalendar, SendingWindow
from rules.catalog import Catalog
from rules.evaluate import (
    OPEN,
    Evaluation,
    OccurrenceStatus,
    Roster,
    Status,
    Submission,
    default_window,
    evaluate,
)
from rules.periods import iso_week
from rules.plan import Notice, plan
from rules.schedule import Event, Schedule

# Openings tried before concluding that no tick ever falls inside the sending window (a
# window shorter than the tick interval and out of step with it): more than a year of days.
_MAX_OPENINGS = 400


class Queued(NamedTuple):
    """One notice of the replay: the tick that first plans it (the outbox takes it then)
    and the tick that sends it (the first at or after, inside the sending window)."""

    notice: Notice
    queued: datetime
    sent: datetime


class NoOpening(ValueError):
    """No tick of the service's clock falls inside the sending window."""


@dataclass(frozen=True)
class Ticks:
    """The service's clock: a tick at ``start`` and every ``every`` after it."""

    start: datetime
    every: timedelta

    def ceil(self, moment: datetime) -> datetime:
        """The first tick at or after ``moment`` (``start`` for anything before it)."""
        if moment <= self.start:
            return self.start
        return self.start + -((self.start - moment) // self.every) * self.every

    def sending(self, moment: datetime, calendar: LegalCalendar, window: SendingWindow) -> datetime:
        """The first tick at or after ``moment`` inside the sending window: when a notice
        queued at ``moment`` goes out.  It waits for an opening; it is never dropped."""
        tick = self.ceil(moment)
        for _ in range(_MAX_OPENINGS):
            opening = calendar.sending_window(tick, window)
            if opening == tick:
                return tick
            tick = self.ceil(opening)
        raise NoOpening(
            f"no tick every {self.every} from {self.start:%H:%M} falls inside the sending "
            f"window {window.start:%H:%M}-{window.end:%H:%M}"
        )


def replay(
    schedule: Schedule,
    roster: Roster,
    submissions: Iterable[Submission],
    events: Iterable[Event],
    start: datetime,
    end: datetime,
    every: timedelta,
    window: SendingWindow,
) -> list[Queued]:
    """Every notice that ticks at ``start``, ``start + every`` … before ``end`` would queue,
    starting from an empty outbox, in the order they would be queued, each with the tick
    that sends it (which may lie after ``end``: what is queued is never dropped)."""
    if end <= start:
        return []
    calendar, catalog = schedule.calendar, schedule.catalog
    tz = calendar.tz
    ticks = Ticks(start, every)
    first_day = start.astimezone(tz).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
    # The evaluation window of a day only moves forward: the first day's start and the last
    # day's end hold every occurrence any tick evaluates.
    span = (default_window(first_day)[0], default_window(last_day)[1])
    # Whether an occurrence is open does not depend on the moment (submissions are read
    # whatever their date, exemptions and start dates are fixed): one evaluation says.
    evaluation = evaluate(schedule, roster, submissions, events, start, window=span, hindsight=True)
    leads = {
        rule.code: min((step.at for step in catalog.ladder(rule)), default=0)
        for rule in catalog.active
    }
    spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    waiting: dict[datetime, list[OccurrenceStatus]] = {}
    for item in evaluation.statuses:
        occ = item.occurrence
        if occ.due is None or (item.status not in OPEN and item.status is not Status.PENDING):
            continue
        found = spans.get((occ.rule, occ.period))
        if found is None:
            found = _spans(catalog, calendar, occ.rule, occ.due, end)
            spans[(occ.rule, occ.period)] = found
        # Handed in and awaiting verification: nothing to say until its deadline passes
        # unverified, when it becomes overdue and the verifier's (``_as_of`` says so).
        opens = calendar.deadline(occ.due) if item.status is Status.PENDING else start
        for begin, until in found:
            if until <= opens:
                continue
            tick = _first_tick(ticks, max(begin, opens), until, occ.due, tz)
            if tick is not None:
                today = tick.astimezone(tz).date()
                waiting.setdefault(tick, []).append(_as_of(item, today, calendar, leads[occ.rule]))
    queued: list[Queued] = []
    for tick in sorted(waiting):
        sent = ticks.sending(tick, calendar, window)
        notices = plan(schedule, roster, Evaluation(tick, waiting[tick]))
        queued.extend(Queued(notice, tick, sent) for notice in notices)
    return queued


def _spans(
    catalog: Catalog, calendar: LegalCalendar, rule: str, due: date, end: datetime
) -> list[tuple[datetime, datetime]]:
    """When each ladder step is the newest one reached (as ``plan()`` picks it), before
    ``end``: from its moment to the next step's, the last one until ``end``."""
    moments = sorted(
        {
            calendar.at(calendar.working_day_offset(due, step.at), catalog.reminder_time)
            for step in catalog.ladder(catalog.rules[rule])
        }
    )
    return list(zip(moments, [*(min(m, end) for m in moments[1:]), end], strict=True))


def _first_tick(
    ticks: Ticks, begin: datetime, until: datetime, due: date, tz: tzinfo
) -> datetime | None:
    """The first tick in [begin, until) on a day whose evaluation window holds ``due``."""
    tick = ticks.ceil(begin)
    while tick < until:
        day = tick.astimezone(tz).date()
        low, high = default_window(day)
        if low <= due <= high:
            return tick
        if due < low:  # the window's start only moves forward: it has passed for good
            return None
        tick = ticks.ceil(datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz))
    return None


def _as_of(
    item: OccurrenceStatus, today: date, calendar: LegalCalendar, lead: int
) -> OccurrenceStatus:
    """An open item as evaluation states it on ``today`` (rules/evaluate.py: due soon from
    the ladder's first step, due today, overdue with the days late)."""
    due = item.occurrence.due
    assert due is not None
    if today < due:
        soon = calendar.working_day_offset(due, lead) if lead < 0 else due
        status = Status.DUE_SOON if today >= soon else Status.UPCOMING
        return item._replace(status=status, days_late=None)
    if today == due:
        return item._replace(status=Status.DUE_TODAY, days_late=None)
    return item._replace(status=Status.OVERDUE, days_late=(today - due).days)


def weekly(
    ticks: Ticks, end: datetime, weekday: int, at: time, tz: tzinfo
) -> list[tuple[str, datetime]]:
    """The ISO week ("2025-W10") and queueing tick of each weekly digest in [ticks.start,
    end): queued at the first tick at or after the week's moment (``weekday``, 0 = Monday,
    at ``at``) and before the week is out, as the service queues it."""
    found: list[tuple[str, datetime]] = []
    first = ticks.start.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    while datetime.combine(monday, time(0), tzinfo=tz) < end:
        moment = datetime.combine(monday + timedelta(days=weekday), at, tzinfo=tz)
        week_out = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
        tick = ticks.ceil(moment)
        if tick < min(week_out, end):
            found.append((iso_week(moment), tick))
        monday += timedelta(days=7)
    return found


def by_send(queued: Sequence[Queued]) -> list[tuple[datetime, str, list[Queued]]]:
    """The messages: one per recipient and sending tick, as the dispatcher groups what it
    claims in one run; in sending order, then in the order the outbox received them."""
    grouped: dict[tuple[datetime, str], list[Queued]] = {}
    for entry in queued:
        grouped.setdefault((entry.sent, entry.notice.recipient), []).append(entry)
    order = sorted(grouped, key=lambda pair: pair[0])  # stable: first queued first
    return [(sent, recipient, grouped[(sent, recipient)]) for sent, recipient in order]
