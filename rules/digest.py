"""The weekly digest: where the agency (or one unit) stands on its deadlines, for its heads.

Built from two evaluations of the same records, at ``now`` and a week before (one, at
``now``, for a reader who compares nothing: ``build_digest(week_before=False)``), so it
reads no clock and no files.  Every list in a ``Digest`` has a fixed order (members by
unit, name and key; rules in catalog order; occurrences by due date), so the same records
always give the same digest, message and attachment.

**On-time %** (the IKI's "Tingkat Kepatuhan ... 100%", the target every line is held
against) is, over the people in scope and the rules they carry::

    occurrences due so far this year that were submitted before their deadline
    ─────────────────────────────────────────────────────────────────────────── × 100
    occurrences due so far this year

where *due so far* means the due day lies in the calendar year of ``now`` and has ended by
``now``.  A personal rule counts once per carrier.  An agency rule (``scope = "agency"``, one
submission serves every carrier, e.g. P3DN) counts once per occurrence in the lines of a
unit, a rule and the total: eight carriers of one monthly P3DN make 1 due a month, not 8,
and a unit line counts it once if any of its people carry it.  A unit rule (``scope =
"unit"``, e.g. e-Pantau, one per bidang) counts once per occurrence and unit: four units
carrying e-Pantau make 4 due a month.  A person's own score still holds it, as their IKI
does.  Exempt occurrences count in neither; a late submission, one
still awaiting verification and one not handed in count in the denominator only.  It is
``evaluate()``'s ``Achievement`` summed; with nothing due yet there is no percentage (None).
Submissions dated or recorded after ``now`` are left out.

A **measured** indicator (SERAPAN: a value per month against a target) is not a deadline met
on time: it is left out of the on-time percentages (its cells keep their periods met over
periods checked) and shown in ``measures`` instead: the value of its latest period whose
checkpoint has come, or that it is missing, and whether it meets the target.

**A week ago** is reconstructed from today's records: evaluated at ``now - 7 days`` with only
the submissions dated up to then, and scored over the same year as ``now`` (so the first
digest of January compares a fresh year with nothing, not with last December).  Exemptions,
events and verifications recorded since are taken as they stand today.

**The change** since a week ago mixes two things: how the items already due then stand (they
cannot change: an item due then was on time or not by then) and the items that reached their
deadline this week.  A share that drops 4 points says nothing got worse, only that new items
fell due and were not all on time; so each line also carries ``newly_due``, the items that
reached their deadline this week and how many of them were on time, which the digest says
beside the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from rules.calendar import LegalCalendar
from rules.catalog import Scope
from rules.evaluate import (
    OPEN,
    Achievement,
    OccurrenceStatus,
    Roster,
    Status,
    Submission,
    evaluate,
    headlines,
)
from rules.schedule import Event, Schedule

TARGET = 100  # percent: every IKI compliance indicator asks for 100%
WEEK = timedelta(days=7)
AHEAD_DAYS = 14  # how far the digest looks ahead for deadlines
AUDIENCES = ("employee", "superior", "secretary")  # the ladder's order, lowest first
# Handed in (on time, late, or awaiting verification): no longer owed by the person.
HANDED_IN = frozenset({Status.ON_TIME, Status.LATE, Status.PENDING})


class Member(NamedTuple):
    """A person the digest may name: the key evaluation uses, their name and their unit
    (empty when the roster does not say)."""

    key: str
    name: str
    unit: str


class Rate(NamedTuple):
    """On-time occurrences over occurrences due so far; see the module's definition."""

    on_time: int = 0
    due: int = 0

    @property
    def percent(self) -> float | None:
        return None if self.due == 0 else 100.0 * self.on_time / self.due

    @property
    def met(self) -> bool:
        """The target is met: something was due and all of it was on time."""
        return self.due > 0 and self.on_time == self.due

    def plus(self, other: Rate) -> Rate:
        return Rate(self.on_time + other.on_time, self.due + other.due)


class Line(NamedTuple):
    """One line of a compliance table: a unit, a rule or the whole scope, now and a week ago."""

    name: str  # unit name ("" for people without one), rule code, or "" for the total
    now: Rate
    week_ago: Rate

    @property
    def newly_due(self) -> Rate:
        """The items that reached their deadline since a week ago, and how many of them were
        on time: the whole of the change, since what was due then stands as it stood."""
        return Rate(self.now.on_time - self.week_ago.on_time, self.now.due - self.week_ago.due)

    @property
    def change(self) -> float | None:
        """Percentage points gained (negative: lost) since a week ago; None when either
        side has nothing due."""
        now, before = self.now.percent, self.week_ago.percent
        return None if now is None or before is None else now - before


class Level(StrEnum):
    """How far up the ladder an overdue item has gone: who has been told about it."""

    NONE = "none"
    EMPLOYEE = "employee"
    SUPERIOR = "superior"
    SECRETARY = "secretary"


class Overdue(NamedTuple):
    """One person's overdue occurrence and the state of its escalation at ``now``.

    ``steps`` are the ladder steps whose moment has passed (e.g. H-3, H, H+1); ``told`` the
    audiences those steps reached, leaving out a superior or Secretary the roster lacks and
    the person themselves (as ``plan()`` does); ``next_step`` and ``next_at`` the step still
    to come, if any.  ``new``: not overdue a week ago.
    """

    employee: str
    rule: str
    period: str
    due: date
    days_late: int
    steps: tuple[str, ...]
    told: tuple[str, ...]
    level: Level
    next_step: str | None
    next_at: datetime | None
    new: bool


class Upcoming(NamedTuple):
    """An occurrence due in the next ``AHEAD_DAYS`` days (today included) and where its
    carriers in scope stand: not handed in, handed in awaiting verification, and done.
    Exempt carriers are in none of them."""

    rule: str
    period: str
    due: date
    days_left: int
    outstanding: tuple[str, ...]
    unverified: tuple[str, ...]
    submitted: tuple[str, ...]


class Settled(NamedTuple):
    """An occurrence handed in since a week ago (on time, late or awaiting verification)."""

    employee: str
    rule: str
    period: str
    due: date | None
    status: Status
    days_late: int | None
    submitted_at: datetime | None


class Measured(NamedTuple):
    """A measured rule's latest period whose checkpoint has come, as its carriers stand: its
    value and status (met, below, or still open: no value yet)."""

    rule: str
    period: str
    due: date
    status: Status
    value: float | None


class Week(NamedTuple):
    """Where the on-time share of the year stood as a week ended (the week holding ``now``:
    at ``now``): the items due from 1 January to that week's Sunday, as the digest would
    have counted them then."""

    monday: date
    rate: Rate


class Score(NamedTuple):
    """A person's IKI achievement: over all their rules, a week ago, and per rule."""

    employee: str
    now: Rate
    week_ago: Rate
    rules: tuple[tuple[str, Rate], ...]


@dataclass(frozen=True)
class Digest:
    """Everything the weekly digest says, for the whole agency (``unit`` None) or one unit.

    ``cells`` holds the headline status of every (member, rule) in scope, members in order
    and their rules in catalog order: the attachment's rows.
    """

    now: datetime
    week_ago: datetime
    year: int
    unit: str | None
    members: tuple[Member, ...]
    rules: tuple[str, ...]
    total: Line
    units: tuple[Line, ...]
    by_rule: tuple[Line, ...]
    overdue: tuple[Overdue, ...]
    upcoming: tuple[Upcoming, ...]
    newly_done: tuple[Settled, ...]
    people: tuple[Score, ...]
    cells: tuple[OccurrenceStatus, ...]
    measures: tuple[Measured, ...] = ()
    # The overdue deliverables, all and new this week: ``overdue`` lists who owes each, so
    # one agency deliverable owed by eight carriers is eight entries there and one here.
    owed: int = 0
    newly_owed: int = 0
    # The total's on-time share week by week, from the week holding 1 January to ``now``.
    trend: tuple[Week, ...] = ()
    # False: built without the week before (``build_digest(week_before=False)``, what the
    # console's home shows): every ``week_ago`` rate is empty, nothing is ``new`` and
    # ``newly_done`` is empty, not because nothing changed but because nothing was compared.
    compared: bool = True

    @property
    def newly_overdue(self) -> tuple[Overdue, ...]:
        return tuple(item for item in self.overdue if item.new)

    @property
    def target(self) -> int:
        return TARGET


def _written(submission: Submission, known_at: datetime | None) -> bool:
    """Written down by ``known_at``, where it is given (what was handed in after a moment
    ``evaluate`` leaves out itself)."""
    recorded = submission.recorded_at
    return known_at is None or recorded is None or recorded <= known_at


def _unit_order(unit: str) -> tuple[bool, str]:
    """Units by name; people without a unit last."""
    return (unit == "", unit)


def build_digest(
    schedule: Schedule,
    roster: Roster,
    submissions: Iterable[Submission],
    events: Iterable[Event],
    members: Iterable[Member],
    now: datetime,
    unit: str | None = None,
    known_at: datetime | None = None,
    week_before: bool = True,
) -> Digest:
    """The digest at ``now`` of ``members`` (only those of ``unit`` when given).

    ``roster`` may hold more people than the scope (the Secretary and superiors are looked
    up in it); assignments of people outside the scope are left out.  ``now`` must be
    timezone-aware.  ``known_at`` leaves out what was written down after it: a queued
    digest passes its own moment, so every attempt at sending it reads the same records;
    without it the records count as they stand, as an admin looking back expects.
    ``week_before`` False leaves out the comparison with a week ago (see ``Digest.compared``):
    one evaluation instead of two, for a reader who looks at where things stand now.
    """
    calendar = schedule.calendar
    today = now.astimezone(calendar.tz).date()
    year = today.year
    week_ago = now - WEEK
    scope = sorted(
        (m for m in members if unit is None or m.unit == unit),
        key=lambda m: (_unit_order(m.unit), m.name, m.key),
    )
    order = {member.key: index for index, member in enumerate(scope)}
    narrowed = Roster(
        roster.people, [a for a in roster.assignments if a.employee in order], roster.secretary
    )
    # Only what was written down by ``known_at`` (evaluate leaves out what was handed in
    # after its moment): what came after a queued digest, even dated before (a sheet,
    # ``submit --at``), is the next one's.
    records = [s for s in submissions if _written(s, known_at)]
    known = list(events)
    current = evaluate(schedule, narrowed, records, known, now, year=year)
    before = (
        evaluate(schedule, narrowed, records, known, week_ago, year=year) if week_before else None
    )

    rule_index = {code: index for index, code in enumerate(schedule.catalog.rules)}
    carried = {a.rule for a in narrowed.assignments if a.rule in rule_index}
    active = {rule.code for rule in schedule.catalog.active}
    codes = tuple(sorted(carried & active, key=rule_index.__getitem__))
    carried_codes = frozenset(codes)
    measured = frozenset(code for code in codes if schedule.catalog.rules[code].measured)

    then: dict[tuple[str, str, str], Status] | None = None
    if before is not None:
        then = {(item.employee, item.rule, item.period): item.status for item in before.statuses}

    def place(item: OccurrenceStatus) -> tuple[date, int, str, int]:
        due = item.occurrence.due or date.max
        return (due, rule_index[item.rule], item.period, order[item.employee])

    statuses = sorted(current.statuses, key=place)
    overdue = _overdue(schedule, narrowed, statuses, then, now)
    upcoming = _upcoming(statuses, today)
    done = _settled(statuses, then) if then is not None else []

    unit_of = {m.key: m.unit for m in scope}
    scopes = {r.code: r.scope for r in schedule.catalog.active if r.scope is not Scope.PERSONAL}
    shared = frozenset(scopes)
    counted = {code: scope for code, scope in scopes.items() if code not in measured}
    shared_now = _shared(current.statuses, counted, unit_of, calendar, now, year)
    tally_now = _Tally(current.achievements, unit_of, shared, shared_now, measured)
    tally_then = _Tally((), unit_of, shared, {}, measured)  # nothing compared: empty rates
    if before is not None:
        shared_then = _shared(before.statuses, counted, unit_of, calendar, week_ago, year)
        tally_then = _Tally(before.achievements, unit_of, shared, shared_then, measured)
    units = sorted({m.unit for m in scope}, key=_unit_order)
    unit_lines = tuple(Line(name, tally_now.units[name], tally_then.units[name]) for name in units)
    rule_lines = tuple(
        Line(code, tally_now.rules[code], tally_then.rules[code])
        for code in codes
        if code not in measured
    )
    total = Line("", tally_now.total, tally_then.total)
    # each person's rules in catalog order, from their cells: not every code tried for
    # every person (1.5 million lookups at 100,000 people)
    their_rules: dict[str, list[tuple[int, str, Rate]]] = {}
    for (key, code), rate in tally_now.cells.items():
        if code in carried_codes:
            their_rules.setdefault(key, []).append((rule_index[code], code, rate))
    people = tuple(
        Score(
            m.key,
            tally_now.people[m.key],
            tally_then.people[m.key],
            tuple((code, rate) for _, code, rate in sorted(their_rules.get(m.key, ()))),
        )
        for m in scope
    )
    cells = sorted(
        headlines(current.statuses, today),
        key=lambda item: (order[item.employee], rule_index[item.rule]),
    )
    trend = _trend(current.statuses, counted, measured, unit_of, calendar, now, year)
    owed = _deliverables(overdue, scopes, unit_of)
    newly_owed = _deliverables([item for item in overdue if item.new], scopes, unit_of)
    return Digest(
        now=now,
        week_ago=week_ago,
        year=year,
        unit=unit,
        members=tuple(scope),
        rules=codes,
        total=total,
        units=unit_lines,
        by_rule=rule_lines,
        overdue=tuple(overdue),
        upcoming=tuple(upcoming),
        newly_done=tuple(done),
        people=people,
        cells=tuple(cells),
        measures=_measures(statuses, measured, today),
        owed=owed,
        newly_owed=newly_owed,
        trend=trend,
        compared=before is not None,
    )


def _settled(
    statuses: Iterable[OccurrenceStatus], then: Mapping[tuple[str, str, str], Status]
) -> list[Settled]:
    """What was handed in since a week ago: handed in now, not then."""
    return [
        Settled(
            item.employee,
            item.rule,
            item.period,
            item.occurrence.due,
            item.status,
            item.days_late,
            item.submitted_at,
        )
        for item in statuses
        if item.status in HANDED_IN
        and then.get((item.employee, item.rule, item.period)) not in HANDED_IN
    ]


def _deliverables(
    items: Iterable[Overdue], scopes: Mapping[str, Scope], unit_of: Mapping[str, str]
) -> int:
    """How many things are owed: a personal item per carrier, a unit rule's once per unit
    (a carrier without a unit is their own) and an agency rule's once."""
    owed: set[tuple[str, str, str]] = set()
    for item in items:
        scope = scopes.get(item.rule, Scope.PERSONAL)
        if scope is Scope.AGENCY:
            whose = ""
        elif scope is Scope.UNIT:
            whose = unit_of.get(item.employee) or item.employee
        else:
            whose = item.employee
        owed.add((item.rule, item.period, whose))
    return len(owed)


def _measures(
    statuses: Sequence[OccurrenceStatus], measured: frozenset[str], today: date
) -> tuple[Measured, ...]:
    """Each measured rule's latest period due by today, once per distinct value among its
    carriers (one line for an agency rule, whose value all of them share)."""
    latest: dict[str, date] = {}
    for item in statuses:
        due = item.occurrence.due
        if item.rule in measured and due is not None and due <= today:
            latest[item.rule] = max(due, latest.get(item.rule, due))
    found = {
        Measured(item.rule, item.period, due, item.status, item.value): None
        for item in statuses
        if (due := item.occurrence.due) is not None
        and latest.get(item.rule) == due
        and item.status is not Status.EXEMPT
    }
    return tuple(found)


class Shared(NamedTuple):
    """An agency rule's occurrence due so far, or a unit rule's for one unit: on time or
    not (one submission serves every carrier, or the unit's), and the units of its carriers
    in scope who owe it (exempt ones do not)."""

    on_time: bool
    units: frozenset[str]


def _shared(
    statuses: Iterable[OccurrenceStatus],
    scopes: Mapping[str, Scope],
    unit_of: Mapping[str, str],
    calendar: LegalCalendar,
    now: datetime,
    year: int,
) -> dict[tuple[str, str, str], Shared]:
    """The agency and unit rules' occurrences that count towards ``year``'s achievement at
    ``now`` (due in ``year``, deadline passed, not exempt: as ``evaluate()`` counts them),
    once each, a unit rule's once per unit (a carrier without a unit is their own)."""
    units: defaultdict[tuple[str, str, str], set[str]] = defaultdict(set)
    on_time: dict[tuple[str, str, str], bool] = {}
    for item in statuses:
        due = item.occurrence.due
        scope = scopes.get(item.rule)
        if (
            scope is None
            or item.status is Status.EXEMPT
            or due is None
            or due.year != year
            or calendar.deadline(due) > now
        ):
            continue
        unit = unit_of[item.employee]
        key = (item.rule, item.period, unit or item.employee if scope is Scope.UNIT else "")
        units[key].add(unit)
        on_time[key] = item.status is Status.ON_TIME
    return {key: Shared(on_time[key], frozenset(found)) for key, found in units.items()}


def _trend(
    statuses: Iterable[OccurrenceStatus],
    scopes: Mapping[str, Scope],
    measured: frozenset[str],
    unit_of: Mapping[str, str],
    calendar: LegalCalendar,
    now: datetime,
    year: int,
) -> tuple[Week, ...]:
    """The total's on-time share at the end of each week of ``year`` up to ``now``, from the
    one evaluation at ``now`` rather than one per week: an item whose deadline has passed
    was on time or not by then, and stays so (a record handed in later is late; one
    verified later was not done by the deadline either way), so the evaluation at ``now``
    says how it stood at any moment after its deadline.  Each item is counted as the
    total counts it (a personal rule per carrier, a unit rule once per unit, an agency rule
    once), at the end of the week holding its due day (its deadline is midnight after it).
    Exemptions and events count as they stand today, as for the week-ago figures."""
    items: dict[tuple[str, str, str], tuple[date, bool]] = {}
    passed: dict[date, bool] = {}  # a deadline per due day, not per item
    for item in statuses:
        due = item.occurrence.due
        rule = item.rule
        if due is None or due.year != year or rule in measured or item.status is Status.EXEMPT:
            continue
        over = passed.get(due)
        if over is None:
            over = passed[due] = calendar.deadline(due) <= now
        if not over:
            continue
        scope = scopes.get(rule, Scope.PERSONAL)
        if scope is Scope.AGENCY:
            whose = ""
        elif scope is Scope.UNIT:
            whose = unit_of[item.employee] or item.employee
        else:
            whose = item.employee
        items[(rule, item.period, whose)] = (due, item.status is Status.ON_TIME)
    weekly: defaultdict[date, Rate] = defaultdict(Rate)
    for due, on_time in items.values():
        monday = due - timedelta(days=due.weekday())
        weekly[monday] = weekly[monday].plus(Rate(int(on_time), 1))
    first = date(year, 1, 1)
    monday = first - timedelta(days=first.weekday())
    today = now.astimezone(calendar.tz).date()
    so_far = Rate()
    trend = []
    while monday <= today:
        so_far = so_far.plus(weekly.get(monday, Rate()))
        trend.append(Week(monday, so_far))
        monday += WEEK
    return tuple(trend)


class _Tally:
    """Achievements summed per unit, rule, person and in all, in one pass; an agency or unit
    rule counts per carrier for a person and once per occurrence (``shared``, a unit rule's
    once per unit) for the others."""

    def __init__(
        self,
        achievements: Iterable[Achievement],
        unit_of: Mapping[str, str],
        agency: frozenset[str],
        shared: Mapping[tuple[str, str, str], Shared],
        measured: frozenset[str],
    ) -> None:
        """``measured`` rules keep their cells but count in no on-time percentage."""
        self.units: defaultdict[str, Rate] = defaultdict(Rate)
        self.rules: defaultdict[str, Rate] = defaultdict(Rate)
        self.people: defaultdict[str, Rate] = defaultdict(Rate)
        self.cells: dict[tuple[str, str], Rate] = {}
        self.total = Rate()
        for entry in achievements:
            rate = Rate(entry.on_time, entry.due)
            self.cells[(entry.employee, entry.rule)] = rate
            if entry.rule in measured:
                continue
            self.people[entry.employee] = self.people[entry.employee].plus(rate)
            if entry.rule not in agency:
                self._add(entry.rule, {unit_of[entry.employee]}, rate)
        for (rule, _, _), occurrence in shared.items():
            self._add(rule, occurrence.units, Rate(int(occurrence.on_time), 1))

    def _add(self, rule: str, units: Iterable[str], rate: Rate) -> None:
        for unit in units:
            self.units[unit] = self.units[unit].plus(rate)
        self.rules[rule] = self.rules[rule].plus(rate)
        self.total = self.total.plus(rate)


def _overdue(
    schedule: Schedule,
    roster: Roster,
    statuses: Sequence[OccurrenceStatus],
    then: Mapping[tuple[str, str, str], Status] | None,
    now: datetime,
) -> list[Overdue]:
    """The overdue items, each with how far its ladder has gone, most overdue first; none
    is ``new`` when nothing is compared with a week ago (``then`` None)."""
    catalog, calendar = schedule.catalog, schedule.calendar
    ladders: dict[tuple[str, date], tuple[tuple[str, ...], set[str], str | None, datetime | None]]
    ladders = {}
    told_by: dict[tuple[str, date, bool, bool], tuple[tuple[str, ...], Level]] = {}
    found: list[Overdue] = []
    for item in statuses:
        occ = item.occurrence
        if item.status is not Status.OVERDUE or occ.due is None:
            continue
        state = ladders.get((occ.rule, occ.due))
        if state is None:
            steps: list[str] = []
            audiences: set[str] = set()
            next_step: str | None = None
            next_at: datetime | None = None
            ladder = sorted(catalog.ladder(catalog.rules[occ.rule]), key=lambda s: s.at)
            for step in ladder:
                moment = calendar.at(
                    calendar.working_day_offset(occ.due, step.at), catalog.reminder_time
                )
                if moment <= now:
                    steps.append(step.label)
                    audiences.update(step.to)
                elif next_step is None:
                    next_step, next_at = step.label, moment
            state = ladders[(occ.rule, occ.due)] = (tuple(steps), audiences, next_step, next_at)
        steps_reached, audiences, next_step, next_at = state
        person = roster.people.get(item.employee)
        superior = person is not None and person.superior not in (None, item.employee)
        secretary = roster.secretary not in (None, item.employee)
        # who was told depends on the ladder and on whom the person has: worked out once
        # for each of those, not once for each of 600,000 overdue items at 100,000 people
        told_key = (occ.rule, occ.due, superior, secretary)
        reached = told_by.get(told_key)
        if reached is None:
            reachable = {"employee": True, "superior": superior, "secretary": secretary}
            told = tuple(a for a in AUDIENCES if a in audiences and reachable[a])
            reached = told_by[told_key] = (told, Level(told[-1]) if told else Level.NONE)
        told, level = reached
        found.append(
            Overdue(
                item.employee,
                occ.rule,
                occ.period,
                occ.due,
                item.days_late or 0,
                steps_reached,
                told,
                level,
                next_step,
                next_at,
                then is not None
                and then.get((item.employee, occ.rule, occ.period)) is not Status.OVERDUE,
            )
        )
    return found


def _upcoming(statuses: Sequence[OccurrenceStatus], today: date) -> list[Upcoming]:
    """Occurrences due from today to ``AHEAD_DAYS`` days on, with who has not handed in."""
    last = today + timedelta(days=AHEAD_DAYS)
    grouped: dict[tuple[str, str, date], dict[str, list[str]]] = defaultdict(
        lambda: {"open": [], "pending": [], "done": []}
    )
    for item in statuses:
        due = item.occurrence.due
        if due is None or not today <= due <= last or item.status is Status.EXEMPT:
            continue
        lists = grouped[(item.rule, item.period, due)]
        if item.status in OPEN:
            lists["open"].append(item.employee)
        elif item.status is Status.PENDING:
            lists["pending"].append(item.employee)
        else:
            lists["done"].append(item.employee)
    return [
        Upcoming(
            rule,
            period,
            due,
            (due - today).days,
            tuple(lists["open"]),
            tuple(lists["pending"]),
            tuple(lists["done"]),
        )
        for (rule, period, due), lists in grouped.items()
    ]
