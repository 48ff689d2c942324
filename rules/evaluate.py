"""Evaluation: the status of every occurrence a roster carries, and the IKI achievement.

The status answers "where does this person stand on this deadline at ``now``"; the
achievement is the IKI indicator itself, "Tingkat Kepatuhan ... 100%": on-time occurrences
divided by the occurrences due so far this year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from rules.catalog import Rule, Scope
from rules.periods import period_year
from rules.schedule import Event, Occurrence, Schedule, index_events


class Status(StrEnum):
    UPCOMING = "upcoming"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PENDING = "pending"  # handed in, waiting for verification
    ON_TIME = "on_time"
    LATE = "late"
    EXEMPT = "exempt"
    WAITING = "waiting"

    @property
    def is_open(self) -> bool:
        """Still owed: reminders and escalations apply."""
        return self in _OPEN


_OPEN = frozenset({Status.UPCOMING, Status.DUE_SOON, Status.DUE_TODAY, Status.OVERDUE})


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    superior: str | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """An employee carries a rule from ``since`` on (None: always); ``exempt`` lists the
    periods they are excused from.  Nobody owes what fell due before they carried it."""

    employee: str
    rule: str
    exempt: frozenset[str] = frozenset()
    since: date | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    """Who carries what, who reports to whom, and who the Secretary is."""

    people: Mapping[str, Person]
    assignments: Sequence[Assignment]
    secretary: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """A record that ``rule`` for ``period`` was handed in.  ``employee`` is None when an
    agency-scope deliverable is recorded for the agency as a whole."""

    rule: str
    period: str
    submitted_at: datetime
    employee: str | None = None
    verified: bool = True  # only matters for rules that require verification


@dataclass(frozen=True, slots=True)
class OccurrenceStatus:
    employee: str
    occurrence: Occurrence
    status: Status
    days_late: int | None = None
    submitted_at: datetime | None = None

    @property
    def rule(self) -> str:
        return self.occurrence.rule

    @property
    def period(self) -> str:
        return self.occurrence.period


@dataclass(frozen=True, slots=True)
class Achievement:
    """On-time occurrences over occurrences due so far in ``year``, for one person and rule."""

    employee: str
    rule: str
    year: int
    on_time: int
    due: int

    @property
    def percent(self) -> float | None:
        return None if self.due == 0 else 100.0 * self.on_time / self.due


@dataclass(frozen=True)
class Evaluation:
    now: datetime
    statuses: list[OccurrenceStatus]
    achievements: list[Achievement] = field(default_factory=list)


# An occurrence with its deadline instant, its open status at ``now``, its due date, and
# whether it lies in the window asked for (or serves only the year's achievement).
_Row = tuple[Occurrence, datetime | None, Status, date | None, bool]


def default_window(today: date) -> tuple[date, date]:
    """This calendar year, stretched so late items of last quarter and the deadlines of the
    coming weeks stay in view across the new year."""
    start = min(date(today.year, 1, 1), today - timedelta(days=92))
    end = max(date(today.year, 12, 31), today + timedelta(days=62))
    return start, end


def _first_submissions(
    submissions: Iterable[Submission],
    agency_rules: frozenset[str],
    verified_rules: frozenset[str],
) -> tuple[
    dict[tuple[str, str, str], datetime], dict[tuple[str, str], datetime], set[tuple[str, ...]]
]:
    """The earliest submission per (employee, rule, period), and per (rule, period) for agency
    rules, where anyone's submission serves every carrier.  Unverified submissions of rules
    that need verification only mark their key as pending."""
    personal: dict[tuple[str, str, str], datetime] = {}
    agency: dict[tuple[str, str], datetime] = {}
    pending: set[tuple[str, ...]] = set()
    for sub in submissions:
        if not sub.verified and sub.rule in verified_rules:
            if sub.rule in agency_rules:
                pending.add((sub.rule, sub.period))
            elif sub.employee is not None:
                pending.add((sub.employee, sub.rule, sub.period))
            continue
        if sub.rule in agency_rules:
            key = (sub.rule, sub.period)
            if key not in agency or sub.submitted_at < agency[key]:
                agency[key] = sub.submitted_at
        elif sub.employee is not None:
            pkey = (sub.employee, sub.rule, sub.period)
            if pkey not in personal or sub.submitted_at < personal[pkey]:
                personal[pkey] = sub.submitted_at
    return personal, agency, pending


def evaluate(
    schedule: Schedule,
    roster: Roster,
    submissions: Iterable[Submission],
    events: Iterable[Event],
    now: datetime,
    window: tuple[date, date] | None = None,
    year: int | None = None,
) -> Evaluation:
    """The status of every occurrence due in ``window`` for every assignment, and the IKI
    achievement of ``year`` (default: the year of ``now``) counted over that whole year,
    whatever the window.  In January, pass last year to get its final score.

    Assignments are unique per (employee, rule): a repeated pair is ignored.  Rules that are
    disabled or unknown to the catalog are skipped.  ``now`` must be timezone-aware.
    """
    calendar = schedule.calendar
    local_now = now.astimezone(calendar.tz)
    today = local_now.date()
    year = today.year if year is None else year
    start, end = window or default_window(today)
    # The achievement needs the whole year even when the statuses asked for are fewer.
    first, last = min(start, date(year, 1, 1)), max(end, date(year, 12, 31))
    rules: dict[str, Rule] = {r.code: r for r in schedule.catalog.active}
    agency_rules = frozenset(code for code, r in rules.items() if r.scope is Scope.AGENCY)
    verified_rules = frozenset(code for code, r in rules.items() if r.verification)
    personal, agency, pending = _first_submissions(submissions, agency_rules, verified_rules)
    event_index = index_events(events)

    # Everything that does not depend on the person is computed once per occurrence.
    per_rule: dict[str, list[_Row]] = {}
    for code, rule in rules.items():
        ladder = schedule.catalog.ladder(rule)
        lead = min((step.at for step in ladder), default=0)
        rows: list[_Row] = []
        for occ in schedule.occurrences(rule, first, last, event_index):
            if occ.due is None:
                shown = start.year <= period_year(occ.period) <= end.year
                rows.append((occ, None, Status.WAITING, None, shown))
                continue
            soon = calendar.working_day_offset(occ.due, lead) if lead < 0 else occ.due
            if today < occ.due:
                open_status = Status.DUE_SOON if today >= soon else Status.UPCOMING
            elif today == occ.due:
                open_status = Status.DUE_TODAY
            else:
                open_status = Status.OVERDUE
            shown = start <= occ.due <= end
            rows.append((occ, calendar.deadline(occ.due), open_status, occ.due, shown))
        per_rule[code] = rows

    statuses: list[OccurrenceStatus] = []
    tally: dict[tuple[str, str], list[int]] = {}
    append = statuses.append
    seen: set[tuple[str, str]] = set()
    for assignment in roster.assignments:
        rows_for_rule = per_rule.get(assignment.rule)
        pair = (assignment.employee, assignment.rule)
        if rows_for_rule is None or pair in seen:
            continue
        seen.add(pair)
        is_agency = assignment.rule in agency_rules
        employee = assignment.employee
        exempt = assignment.exempt
        since = assignment.since
        for occ, deadline, open_status, due, shown in rows_for_rule:
            if since is not None and (
                due < since if due is not None else period_year(occ.period) < since.year
            ):
                continue
            if occ.period in exempt or deadline is None or due is None:
                if shown:
                    status = Status.EXEMPT if occ.period in exempt else Status.WAITING
                    append(OccurrenceStatus(employee, occ, status))
                continue
            submitted = (
                agency.get((occ.rule, occ.period))
                if is_agency
                else personal.get((employee, occ.rule, occ.period))
            )
            if (
                submitted is None
                and pending
                and ((occ.rule, occ.period) if is_agency else (employee, occ.rule, occ.period))
                in pending
            ):
                item = OccurrenceStatus(employee, occ, Status.PENDING)
            elif submitted is None:
                late = (today - due).days if open_status is Status.OVERDUE else None
                item = OccurrenceStatus(employee, occ, open_status, late)
            elif submitted < deadline:
                item = OccurrenceStatus(employee, occ, Status.ON_TIME, None, submitted)
            else:
                days = (submitted.astimezone(calendar.tz).date() - due).days
                item = OccurrenceStatus(employee, occ, Status.LATE, days, submitted)
            if shown:
                append(item)
            if due.year == year and deadline <= now:
                counts = tally.setdefault((employee, occ.rule), [0, 0])
                counts[0] += item.status is Status.ON_TIME
                counts[1] += 1
    achievements = [
        Achievement(employee, rule, year, on_time, due)
        for (employee, rule), (on_time, due) in tally.items()
    ]
    return Evaluation(now, statuses, achievements)
