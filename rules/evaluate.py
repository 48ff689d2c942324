"""Evaluation: the status of every occurrence a roster carries, and the IKI achievement.

The status answers "where does this person stand on this deadline at ``now``"; the
achievement is the IKI indicator itself, "Tingkat Kepatuhan ... 100%": on-time occurrences
divided by the occurrences due so far this year.  A measured indicator (SERAPAN) is met or
below its target by the value recorded for a period; its achievement is the periods met over
the periods whose checkpoint has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import NamedTuple

from rules.catalog import Rule, Scope
from rules.periods import period_year
from rules.schedule import Event, Occurrence, Schedule, index_events


class Status(StrEnum):
    UPCOMING = "upcoming"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PENDING = "pending"  # handed in, waiting for verification before its deadline
    ON_TIME = "on_time"
    LATE = "late"
    EXEMPT = "exempt"
    WAITING = "waiting"
    MET = "met"  # a measure's value reaches its target
    BELOW = "below"  # a measure's value is recorded and below its target: no debt, a fact

    @property
    def is_open(self) -> bool:
        """Still owed: reminders and escalations apply."""
        return self in OPEN


OPEN = frozenset({Status.UPCOMING, Status.DUE_SOON, Status.DUE_TODAY, Status.OVERDUE})
# What still speaks for a cell after its year is over: a debt, not a settled or future item.
_STILL_OWED = frozenset({Status.DUE_SOON, Status.DUE_TODAY, Status.OVERDUE, Status.PENDING})
ACHIEVED = frozenset({Status.ON_TIME, Status.MET})  # what counts towards the achievement


class Person(NamedTuple):
    id: str
    superior: str | None = None
    unit: str | None = None  # whose unit deliverables (``scope = "unit"``) serve them


class Assignment(NamedTuple):
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


class Submission(NamedTuple):
    """A record that ``rule`` for ``period`` was handed in.  ``employee`` is None when an
    agency-scope deliverable is recorded for the agency as a whole; ``unit`` is the
    submitter's unit, whose carriers a unit-scope deliverable serves."""

    rule: str
    period: str
    submitted_at: datetime
    employee: str | None = None
    verified: bool = True  # only matters for rules that require verification
    # When it was written down, which may be long after ``submitted_at`` (a sheet, a date
    # given by hand): what a report of a past moment may know.  None: known all along.
    recorded_at: datetime | None = None
    # When it was verified (None: as it was handed in).  A rule that needs verification is
    # only done by its deadline when it is verified by then too.
    verified_at: datetime | None = None
    value: float | None = None  # a measured rule's value for the period (e.g. 87.5 %)
    unit: str | None = None


_UNIT = "unit:"  # before a unit's name in ``holder``: no NIP or provisional key starts so


def holder(employee: str | None, unit: str | None) -> str | None:
    """Whose record a unit-scope deliverable is: the unit's (a key no NIP or provisional key
    can take), or the carrier's own where their unit is not known, so that a deliverable
    of one unknown unit never serves another."""
    return f"{_UNIT}{unit}" if unit else employee


class OccurrenceStatus(NamedTuple):
    """Where one carrier stands on one occurrence.  A named tuple: evaluation makes one per
    carrier and occurrence (about ten per employee), and tuples are the cheapest to build."""

    employee: str
    occurrence: Occurrence
    status: Status
    days_late: int | None = None
    submitted_at: datetime | None = None
    value: float | None = None  # a measure's recorded value (MET, BELOW)

    @property
    def awaits_verification(self) -> bool:
        """Handed in but not verified by its deadline: overdue, and the verifier's to act."""
        return self.status is Status.OVERDUE and self.submitted_at is not None

    @property
    def rule(self) -> str:
        return self.occurrence.rule

    @property
    def period(self) -> str:
        return self.occurrence.period


class Achievement(NamedTuple):
    """On-time occurrences over occurrences due so far in ``year``, for one person and rule
    (for a measure: periods met over periods whose checkpoint has passed)."""

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
    """``statuses`` lists every occurrence in the window (empty when only headlines were
    asked for); ``headlines`` the one status per (employee, rule) that speaks for the cell."""

    now: datetime
    statuses: list[OccurrenceStatus]
    achievements: list[Achievement] = field(default_factory=list)
    headlines: list[OccurrenceStatus] = field(default_factory=list)


_NO_PERIODS: frozenset[str] = frozenset()


class Headline(NamedTuple):
    """The status that speaks for a (person, rule) cell, less its carrier."""

    occurrence: Occurrence
    status: Status
    days_late: int | None
    submitted_at: datetime | None
    value: float | None = None


class Cell(NamedTuple):
    """A (person, rule) cell less its carrier: its headline (None when nothing speaks for it
    this year) and the year's achievement tally, on-time over due (0 due: no percentage)."""

    headline: Headline | None
    on_time: int
    due: int


# Which occurrence speaks for a (person, rule) cell: the most pressing open one first, then
# the latest settled one, then what is still ahead.
_RANK = {
    Status.OVERDUE: 0,
    Status.DUE_TODAY: 1,
    Status.DUE_SOON: 2,
    Status.PENDING: 2,
    Status.LATE: 3,
    Status.ON_TIME: 3,
    Status.EXEMPT: 3,
    Status.MET: 3,
    Status.BELOW: 3,
    Status.UPCOMING: 4,
    Status.WAITING: 5,
}


def headlines(statuses: Iterable[OccurrenceStatus], today: date) -> list[OccurrenceStatus]:
    """The headline of each (employee, rule) among detailed statuses: this year's items or
    debts still owed, the most pressing first.  ``evaluate(detail=False)`` picks the same
    ones without listing every occurrence."""
    best: dict[tuple[str, str], OccurrenceStatus] = {}
    for item in statuses:
        occ = item.occurrence
        year = occ.due.year if occ.due is not None else period_year(occ.period)
        if year != today.year and item.status not in _STILL_OWED:
            continue
        current = best.get((item.employee, item.rule))
        if current is None or speaks_before(item, current):
            best[(item.employee, item.rule)] = item
    return list(best.values())


def speaks_before(item: OccurrenceStatus, current: OccurrenceStatus) -> bool:
    """Whether ``item`` rather than ``current`` is the headline of their (person, rule)."""
    return _before(item.status, item.occurrence.due, current.status, current.occurrence.due)


def _before(status: Status, due: date | None, current: Status, current_due: date | None) -> bool:
    rank, current_rank = _RANK[status], _RANK[current]
    if rank != current_rank:
        return rank < current_rank
    if due is None or current_due is None:
        return False
    # Among settled items the latest speaks; among open or future ones the earliest.
    return due > current_due if rank == 3 else due < current_due


# A status with its days late, submission time and a measure's value.
_Outcome = tuple[Status, int | None, datetime | None, float | None]
# An occurrence; the day from which a carrier owes it (its due date, or 1 January of its
# period while it waits for an event); its deadline instant; its outcome for a carrier who
# has not submitted (for agency rules: for everyone); whether it lies in the window asked
# for, and whether it counts for the year's achievement.
_EXEMPT: _Outcome = (Status.EXEMPT, None, None, None)
_Row = tuple[Occurrence, date, datetime | None, _Outcome, bool, bool]


def _outcome(
    submitted: datetime | None,
    unverified: datetime | None,
    unsubmitted: _Outcome,
    deadline: datetime,
    due: date,
    tz: tzinfo,
) -> _Outcome:
    """On time or late when done (for a rule that needs verification: when verified), else
    the open status.  A record only handed in (``unverified``: when) is pending until the
    deadline and overdue after it, with its moment either way, so the verifier is the one
    reminded once it is overdue."""
    if submitted is None:
        if unverified is None:
            return unsubmitted
        if unsubmitted[0] is Status.OVERDUE:
            return (*unsubmitted[:2], unverified, None)
        return (Status.PENDING, None, unverified, None)
    if submitted < deadline:
        return (Status.ON_TIME, None, submitted, None)
    return (Status.LATE, (submitted.astimezone(tz).date() - due).days, submitted, None)


def _measured(
    recorded: tuple[datetime, float] | None, target: float, unsubmitted: _Outcome
) -> _Outcome:
    """Met or below the target once a value is recorded, whenever it was: a late value is
    still the period's value.  Without one the period is owed like a document (due, overdue),
    and its reminders ask for the value."""
    if recorded is None:
        return unsubmitted
    submitted, value = recorded
    return (Status.MET if value >= target else Status.BELOW, None, submitted, value)


def timeliness(
    schedule: Schedule, occurrence: Occurrence, submitted: datetime
) -> tuple[Status, int | None]:
    """Whether a record handed in at ``submitted`` meets the occurrence's deadline, and how
    many days late it is if not: what evaluation will read from it once it counts, said as
    soon as it is recorded.  WAITING while the due date waits for its event."""
    if occurrence.due is None:
        return Status.WAITING, None
    calendar = schedule.calendar
    deadline = calendar.deadline(occurrence.due)
    # Submitted, so never pending, and the outcome of no submission (_EXEMPT) is not read.
    status, late, _, _ = _outcome(submitted, None, _EXEMPT, deadline, occurrence.due, calendar.tz)
    return status, late


def default_window(today: date) -> tuple[date, date]:
    """This calendar year, stretched so late items of last quarter and the deadlines of the
    coming weeks stay in view across the new year."""
    start = min(date(today.year, 1, 1), today - timedelta(days=92))
    end = max(date(today.year, 12, 31), today + timedelta(days=62))
    return start, end


def _first_submissions(
    submissions: Iterable[Submission],
    agency_rules: frozenset[str],
    unit_rules: frozenset[str],
    verified_rules: frozenset[str],
    now: datetime,
    values: dict[tuple[str, ...], tuple[datetime, float]],
    hindsight: bool = False,
) -> tuple[
    dict[tuple[str, str, str], datetime],
    dict[tuple[str, str], datetime],
    dict[tuple[str, ...], datetime],
]:
    """The earliest moment done per (employee, rule, period), and per (rule, period) for
    agency rules, where anyone's submission serves every carrier; a unit rule's records are
    its unit's (``holder``), kept as a person's are.  For rules that need
    verification, done means verified (the later of handed in and verified).  Unverified
    submissions of those rules (and those verified after ``now``: a report of a past moment)
    only mark their key as pending, with when they were handed in.  What was handed in after
    ``now`` is not known then and is left out (``status --as-of`` a past day shows that
    day), unless ``hindsight``.  A measure's latest value
    per key (a correction is a later record) goes into ``values``."""
    personal: dict[tuple[str, str, str], datetime] = {}
    agency: dict[tuple[str, str], datetime] = {}
    pending: dict[tuple[str, ...], datetime] = {}
    # Unpacked rather than read by name: 30% less time at 100,000 submissions.
    for rule, period, submitted_at, employee, verified, _, verified_at, value, unit in submissions:
        if submitted_at > now and not hindsight:
            continue
        if rule in unit_rules:
            employee = holder(employee, unit)
        if value is not None:
            _keep_latest(values, rule, period, employee, agency_rules, (submitted_at, value))
        if rule in verified_rules:
            if not verified or (verified_at is not None and verified_at > now):
                if rule in agency_rules:
                    key: tuple[str, ...] = (rule, period)
                elif employee is None:
                    continue
                else:
                    key = (employee, rule, period)
                if key not in pending or submitted_at < pending[key]:
                    pending[key] = submitted_at
                continue
            if verified_at is not None and verified_at > submitted_at:
                submitted_at = verified_at
        if rule in agency_rules:
            key = (rule, period)
            if key not in agency or submitted_at < agency[key]:
                agency[key] = submitted_at
        elif employee is not None:
            pkey = (employee, rule, period)
            first = personal.get(pkey)
            if first is None or submitted_at < first:
                personal[pkey] = submitted_at
    return personal, agency, pending


def _note(recorded: dict[str, tuple[str, ...]], who: str, code: str) -> None:
    """Add ``code`` to the rules ``who`` has records of, once."""
    codes = recorded.get(who, ())
    if code not in codes:
        recorded[who] = (*codes, code)


def _keep_latest(
    values: dict[tuple[str, ...], tuple[datetime, float]],
    rule: str,
    period: str,
    employee: str | None,
    agency_rules: frozenset[str],
    recorded: tuple[datetime, float],
) -> None:
    """Keep the latest submitted value of a (rule, period), per employee for personal rules."""
    key = (rule, period) if rule in agency_rules or employee is None else (employee, rule, period)
    held = values.get(key)
    if held is None or recorded[0] >= held[0]:
        values[key] = recorded


def evaluate(
    schedule: Schedule,
    roster: Roster,
    submissions: Iterable[Submission],
    events: Iterable[Event],
    now: datetime,
    window: tuple[date, date] | None = None,
    year: int | None = None,
    detail: bool = True,
    hindsight: bool = False,
) -> Evaluation:
    """The status of every occurrence due in ``window`` for every assignment, and the IKI
    achievement of ``year`` (default: the year of ``now``) counted over that whole year,
    whatever the window.  In January, pass last year to get its final score.

    With ``detail=False`` only the headline of each (employee, rule) is kept: the status
    that speaks for it this year (what is overdue or due first, else the latest settled).
    That is what a compliance matrix shows, and it costs one status per assignment rather
    than one per occurrence: agency rules, identical for every carrier, are worked out once.

    What was handed in after ``now`` is left out, unless ``hindsight``: a replay over the
    records as they stand reads them all whatever their date.

    Assignments are unique per (employee, rule): a repeated pair is ignored.  Rules that are
    disabled or unknown to the catalog are skipped.  ``now`` must be timezone-aware.
    """
    units = unit_map(schedule, ((key, p.unit) for key, p in roster.people.items()))
    cells = Cells(schedule, submissions, events, now, window, year, units, hindsight)
    if detail:
        return _listed(cells, roster.assignments)
    headlines: list[OccurrenceStatus] = []
    achievements: list[Achievement] = []
    for employee, code, exempt, since in _unique(roster.assignments):
        cell = cells.of(employee, code, exempt, since)
        if cell is None:
            continue
        head, on_time, due = cell
        if head is not None:
            headlines.append(OccurrenceStatus(employee, *head))
        if due:
            achievements.append(Achievement(employee, code, cells.year, on_time, due))
    return Evaluation(now, [], achievements, headlines)


def unit_map(schedule: Schedule, units: Iterable[tuple[str, str | None]]) -> dict[str, str | None]:
    """Each person's unit from (key, unit) pairs, as ``Cells`` needs it for unit-scope
    rules: empty when the catalog has none, which spares reading 100,000 of them."""
    if not any(rule.scope is Scope.UNIT for rule in schedule.catalog.active):
        return {}
    return dict(units)


def _unique(assignments: Iterable[Assignment]) -> Iterator[Assignment]:
    """The first assignment of each (employee, rule)."""
    taken: dict[str, set[str]] = {}  # rule codes per employee: cheaper than a set of pairs
    for item in assignments:
        codes = taken.get(item.employee)
        if codes is None:
            taken[item.employee] = {item.rule}
        elif item.rule in codes:
            continue
        else:
            codes.add(item.rule)
        yield item


def _listed(cells: Cells, assignments: Iterable[Assignment]) -> Evaluation:
    """Every occurrence's status in the window, and the achievement, per assignment.

    ``Cells.own`` folds the same outcomes into a headline; this lists them instead, in a
    loop of its own: the service lists 800,000 statuses at 100,000 people, and a call per
    assignment would cost it about a quarter more.
    """
    statuses: list[OccurrenceStatus] = []
    achievements: list[Achievement] = []
    append = statuses.append
    for employee, code, exempt, since in _unique(assignments):
        on_time = counted_due = 0
        for occ, _, outcome, shown, counted in cells.outcomes(employee, code, exempt, since):
            if shown:
                append(OccurrenceStatus(employee, occ, *outcome))
            if counted:
                counted_due += 1
                on_time += outcome[0] in ACHIEVED
        if counted_due:
            achievements.append(Achievement(employee, code, cells.year, on_time, counted_due))
    return Evaluation(cells.now, statuses, achievements)


class Cells:
    """Evaluation's tables, worked out once, and the cell of any (carrier, rule) from them.

    Everything that does not depend on the person is computed per occurrence on construction:
    its due day, deadline, open status and window, and for agency rules the outcome itself,
    since one submission serves every carrier.  A carrier's cell then depends only on the
    rule, their start, their exempt periods and their own records of the rule.  Carriers with
    no exemption and nothing of their own recorded (always so for agency rules) therefore
    share one ``common`` cell per (rule, start), worked out once: at 100,000 people that
    spares most of the work, and lets a caller turn each shared cell into output once.
    """

    def __init__(
        self,
        schedule: Schedule,
        submissions: Iterable[Submission],
        events: Iterable[Event],
        now: datetime,
        window: tuple[date, date] | None = None,
        year: int | None = None,
        units: Mapping[str, str | None] | None = None,
        hindsight: bool = False,
    ) -> None:
        """``units`` gives each carrier's unit, which unit-scope rules need (without it,
        every carrier of one is their own unit); ``hindsight`` reads submissions handed in
        after ``now`` too."""
        calendar = schedule.calendar
        self.now, self.tz = now, calendar.tz
        self.today = today = now.astimezone(calendar.tz).date()
        self.year = year = today.year if year is None else year
        start, end = window or default_window(today)
        # The achievement needs the whole year even when the statuses asked for are fewer.
        first, last = min(start, date(year, 1, 1)), max(end, date(year, 12, 31))
        rules: dict[str, Rule] = {r.code: r for r in schedule.catalog.active}
        self.agency_rules = agency_rules = frozenset(
            code for code, r in rules.items() if r.scope is Scope.AGENCY
        )
        self.unit_rules = unit_rules = frozenset(
            code for code, r in rules.items() if r.scope is Scope.UNIT
        )
        self.units: Mapping[str, str | None] = units or {}
        verified_rules = frozenset(code for code, r in rules.items() if r.verification)
        self.values: dict[tuple[str, ...], tuple[datetime, float]] = {}
        personal, agency, pending = _first_submissions(
            submissions, agency_rules, unit_rules, verified_rules, now, self.values, hindsight
        )
        self.personal, self.pending = personal, pending
        self.targets = {code: r.target for code, r in rules.items() if r.target is not None}
        # Rule codes with records of their own (a submission, or one awaiting verification)
        # per employee, a unit's records counted as each of its carriers' own; agency rules
        # never have any.
        # Tuples: most people have one or two, and a tuple is cheaper to make than a set.
        self.recorded: dict[str, tuple[str, ...]] = {}
        for key in (*personal, *(k for k in pending if len(k) == 3)):
            _note(self.recorded, key[0], key[1])
        held = {who: codes for who, codes in self.recorded.items() if who.startswith(_UNIT)}
        if held:
            for carrier, unit in self.units.items():
                for code in held.get(holder(carrier, unit) or "", ()):
                    _note(self.recorded, carrier, code)
        event_index = index_events(events)

        self.rows: dict[str, list[_Row]] = {}
        for code, rule in rules.items():
            ladder = schedule.catalog.ladder(rule)
            lead = min((step.at for step in ladder), default=0)
            rows: list[_Row] = []
            for occ in schedule.occurrences(rule, first, last, event_index):
                if occ.due is None:
                    shown = start.year <= period_year(occ.period) <= end.year
                    starts = date(period_year(occ.period), 1, 1)
                    waiting: _Outcome = (Status.WAITING, None, None, None)
                    rows.append((occ, starts, None, waiting, shown, False))
                    continue
                due = occ.due
                soon = calendar.working_day_offset(due, lead) if lead < 0 else due
                if today < due:
                    open_status = Status.DUE_SOON if today >= soon else Status.UPCOMING
                elif today == due:
                    open_status = Status.DUE_TODAY
                else:
                    open_status = Status.OVERDUE
                late = (today - due).days if open_status is Status.OVERDUE else None
                # In UTC, the zone submissions are read in: aware datetimes of one zone compare
                # without asking a ZoneInfo for offsets, thirty times faster.
                deadline = calendar.deadline(due).astimezone(UTC)
                unsubmitted: _Outcome = (open_status, late, None, None)
                if rule.target is not None:
                    # A measure with no value has a debt; personal ones resolve per carrier.
                    shared = (code, occ.period)
                    outcome = _measured(self.values.get(shared), rule.target, unsubmitted)
                elif code in agency_rules:
                    shared = (code, occ.period)
                    outcome = _outcome(
                        agency.get(shared), pending.get(shared), unsubmitted, deadline, due, self.tz
                    )
                else:
                    outcome = unsubmitted  # resolved per carrier
                counted = due.year == year and deadline <= now
                rows.append((occ, due, deadline, outcome, start <= due <= end, counted))
            self.rows[code] = rows
        self._common: dict[tuple[str, date | None], Cell] = {}

    def of(
        self,
        employee: str,
        code: str,
        exempt: frozenset[str] = frozenset(),
        since: date | None = None,
    ) -> Cell | None:
        """The cell of ``employee`` carrying ``code``: the common one when nothing sets them
        apart, else their own.  None for a rule that is disabled or unknown."""
        if exempt or code in self.recorded.get(employee, ()):
            return self.own(employee, code, exempt, since)
        return self.common(code, since)

    def common(self, code: str, since: date | None = None) -> Cell | None:
        """The cell every carrier of ``code`` from ``since`` shares while they have no
        exemption and nothing of their own recorded for it: the same object for all."""
        cell = self._common.get((code, since))
        if cell is None:
            cell = self.own(None, code, _NO_PERIODS, since)
            if cell is not None:
                self._common[(code, since)] = cell
        return cell

    def own(
        self, employee: str | None, code: str, exempt: frozenset[str], since: date | None
    ) -> Cell | None:
        """The cell of one carrier, worked out from their exemptions and records (None for
        a carrier with nothing recorded: a common cell)."""
        if code not in self.rows:
            return None
        this_year = self.today.year
        head: Headline | None = None
        on_time = due = 0
        for occ, starts, outcome, shown, counted in self.outcomes(employee, code, exempt, since):
            status = outcome[0]
            if (
                shown
                and (starts.year == this_year or status in _STILL_OWED)
                and (head is None or _before(status, occ.due, head.status, head.occurrence.due))
            ):
                head = Headline(occ, *outcome)
            if counted:
                due += 1
                on_time += status in ACHIEVED
        return Cell(head, on_time, due)

    def outcomes(
        self, employee: str | None, code: str, exempt: frozenset[str], since: date | None
    ) -> Iterator[tuple[Occurrence, date, _Outcome, bool, bool]]:
        """Each occurrence of the rule a carrier owes, with its day (the due date, or 1
        January of its year while it waits for its event; none before ``since``), its outcome
        for them (exempt, their own record, else the rule's), whether it is in the window and
        whether it counts towards the achievement: the one reading of a carrier's records
        that both the listing and the cells use."""
        personal_rule = code not in self.agency_rules
        if code in self.unit_rules and employee is not None:
            employee = holder(employee, self.units.get(employee))
        personal, pending, tz = self.personal, self.pending, self.tz
        for occ, starts, ends, outcome, shown, counted in self.rows.get(code, ()):
            if since is not None and starts < since:
                continue
            if exempt and occ.period in exempt:
                yield occ, starts, _EXEMPT, shown, False
                continue
            if personal_rule and ends is not None and employee is not None:
                mine = (employee, code, occ.period)
                if code in self.targets:
                    recorded = self.values.get(mine)
                    outcome = _measured(recorded, self.targets[code], outcome)
                else:
                    outcome = _outcome(
                        personal.get(mine), pending.get(mine), outcome, ends, starts, tz
                    )
            yield occ, starts, outcome, shown, counted
