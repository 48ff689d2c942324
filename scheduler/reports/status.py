"""The compliance matrix: people × rules at one moment, with the IKI achievement.

Built from one snapshot and one evaluation, so its cost does not grow with round trips.  A
cell is the headline of a person's rule (what is overdue or due first, else the latest
settled); every occurrence is listed only when asked for.  ``status --json`` writes the same
bytes from leaner records without building the matrix (``matrix_json``): at 100,000 people
the objects of the matrix were most of the command's time.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, Protocol

import orjson

from rules.evaluate import (
    Cell,
    Cells,
    Evaluation,
    OccurrenceStatus,
    Status,
    evaluate,
    headlines,
    unit_map,
)
from rules.schedule import Occurrence, Schedule
from scheduler.store.records import Carried, Carriers, EmployeeInfo, Snapshot


@dataclass(frozen=True)
class Matrix:
    now: datetime
    snapshot: Snapshot
    evaluation: Evaluation
    cells: dict[str, dict[str, OccurrenceStatus]]  # employee key → rule code → cell
    achievement: dict[str, dict[str, float | None]]  # employee key → rule code → percent
    # employee key → on-time ÷ due over all their deadlines (a measure is met or not, not on
    # time: it keeps its own percentage and stays out of this one, as in the digest)
    overall: dict[str, float | None]


def build(
    schedule: Schedule,
    snapshot: Snapshot,
    now: datetime,
    detail: bool = False,
    window: tuple[date, date] | None = None,
) -> Matrix:
    """The matrix at ``now``; ``detail`` also keeps every occurrence's status, of those due
    in ``window`` (default: this year, stretched across the new year)."""
    evaluation = evaluate(
        schedule,
        snapshot.roster,
        snapshot.submissions,
        snapshot.events,
        now,
        window=window,
        detail=detail,
    )
    today = now.astimezone(schedule.calendar.tz).date()
    heads = headlines(evaluation.statuses, today) if detail else evaluation.headlines
    # Plain dicts filled by hand: a defaultdict's factory call per person costs more.
    cells: dict[str, dict[str, OccurrenceStatus]] = {}
    for item in heads:
        row = cells.get(item.employee)
        if row is None:
            row = cells[item.employee] = {}
        row[item.occurrence.rule] = item
    achievement: dict[str, dict[str, float | None]] = {}
    totals: dict[str, list[int]] = {}
    measured = schedule.catalog.measured
    for entry in evaluation.achievements:
        rules = achievement.get(entry.employee)
        if rules is None:
            rules = achievement[entry.employee] = {}
            totals[entry.employee] = [0, 0]
        rules[entry.rule] = entry.percent
        if entry.rule in measured:
            continue
        total = totals[entry.employee]
        total[0] += entry.on_time
        total[1] += entry.due
    overall = {key: (100.0 * on / due if due else None) for key, (on, due) in totals.items()}
    return Matrix(now, snapshot, evaluation, cells, achievement, overall)


class _Shown(Protocol):
    """What JSON shows of a status: an ``OccurrenceStatus``, or a ``Headline``."""

    @property
    def occurrence(self) -> Occurrence: ...
    @property
    def status(self) -> Status: ...
    @property
    def days_late(self) -> int | None: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def value(self) -> float | None: ...


def _occurrence(item: _Shown) -> dict[str, Any]:
    """One status as JSON sees it; orjson writes the dates, datetimes and Status itself.
    ``value`` is a measure's (null for a document); ``submitted_at`` comes last, which
    ``matrix_json`` relies on."""
    occ = item.occurrence
    return {
        "rule": occ.rule,
        "period": occ.period,
        "due": occ.due,
        "status": item.status,
        "days_late": item.days_late,
        "value": item.value,
        "submitted_at": item.submitted_at,
    }


_BATCH = 5_000  # people per orjson call: few calls, and never all of them as one document


def _document(
    now: datetime, people: Iterator[dict[str, Any]], default: Any = None
) -> Iterator[bytes]:
    """``{"as_of": …, "employees": […]}``, written by orjson in batches of people so that
    100,000 of them never sit in memory as one document."""
    yield b'{"as_of":' + orjson.dumps(now.isoformat()) + b',"employees":['
    comma = b""
    while batch := list(islice(people, _BATCH)):
        yield comma + orjson.dumps(batch, default=default)[1:-1]  # without its brackets
        comma = b","
    yield b"]}\n"


def json_chunks(matrix: Matrix) -> Iterator[bytes]:
    """The matrix for scripts as UTF-8 JSON: identity, achievement, the cell of each rule, and
    every occurrence when the matrix was built with detail.

    Statuses reach orjson as they are (named tuples), and its ``default`` hook turns each
    into an object; a status without a submission is the same for every carrier of its
    occurrence (an overdue PK, an agency rule), so that object is made once and shared.
    ``matrix_json`` writes the same bytes, without detail, from lean records for less.
    """
    shared: dict[tuple[int, int, int | None], dict[str, Any]] = {}

    def occurrence(item: OccurrenceStatus) -> dict[str, Any]:
        if item.submitted_at is not None:
            return _occurrence(item)
        # Occurrences outlive this call and Status members are singletons: ids are keys.
        key = (id(item.occurrence), id(item.status), item.days_late)
        found = shared.get(key)
        if found is None:
            found = shared[key] = _occurrence(item)
        return found

    detail = matrix.evaluation.statuses
    by_person: dict[str, list[OccurrenceStatus]] = {}
    for item in detail:
        by_person.setdefault(item.employee, []).append(item)
    overall, achievement, cells = matrix.overall, matrix.achievement, matrix.cells

    def person(key: str, info: EmployeeInfo) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "key": info.key,
            "nip": info.nip,
            "name": info.name,
            "unit": info.unit,
            "superior": info.superior,
            "achievement": {"overall": overall.get(key), "rules": achievement.get(key, {})},
            "rules": cells.get(key, {}),
        }
        if detail:
            entry["occurrences"] = by_person.get(key, [])
        return entry

    people = (person(key, info) for key, info in matrix.snapshot.employees.items())
    return _document(matrix.now, people, default=occurrence)


# A cell as output: its ',"CODE":{…}' member of the rules object, comma first (None without a
# headline), and its tally (code, on time, due), None while nothing of it was due.
_Part = tuple[bytes | None, tuple[str, int, int] | None]
_NO_PART: _Part = (None, None)  # the cell of a rule disabled or unknown


def matrix_json(schedule: Schedule, records: Carriers, now: datetime) -> Iterator[bytes]:
    """The bytes of ``json_chunks(build(schedule, snapshot, now))`` for the same records,
    without building the matrix: that was most of the work of ``status --json``.

    Cells come from the engine's ``Cells``.  The carriers of a rule with no exemption and
    nothing of their own recorded share its common cell, whose JSON is made once.  People
    who carry the same rules and have records of their own for the same ones share a
    ``_Shape``: the JSON of all their common cells, so that only who they are and their own
    cells (about one each) are written per person.
    """
    dumps = orjson.dumps
    measured = schedule.catalog.measured
    units = unit_map(schedule, ((row[1], row[4]) for row in records.people))
    cells = Cells(schedule, records.submissions, records.events, now, units=units)
    starts: dict[tuple[str, int, Status, int | None, float | None], bytes] = {}
    commons: dict[tuple[str, date | None], _Part | None] = {}
    shapes: dict[tuple[int, tuple[str, ...]], _Shape] = {}

    def part(code: str, cell: Cell | None) -> _Part | None:
        if cell is None:  # a rule disabled or unknown: no cell
            return None
        tally = (code, cell.on_time, cell.due) if cell.due else None
        head = cell.headline
        if head is None:
            return None, tally
        # Only the submission time, written last, tells most cells of an occurrence apart:
        # the rest is made once.  (Occurrences live as long as ``cells``: ids are keys.)
        shape = (code, id(head.occurrence), head.status, head.days_late, head.value)
        start = starts.get(shape)
        if start is None:
            whole = dumps({code: _occurrence(head._replace(submitted_at=None))})
            start = starts[shape] = b"," + whole[1 : -len(b"null}}")]
        return start + dumps(head.submitted_at) + b"}", tally

    def common(code: str, since: date | None) -> _Part | None:
        if (code, since) not in commons:
            commons[(code, since)] = part(code, cells.common(code, since))
        return commons[(code, since)]

    def people() -> Iterator[dict[str, Any]]:
        carried_by, recorded, own = records.carried, cells.recorded, cells.own
        for employee_id, key, nip, name, unit, superior in records.people:
            carried = carried_by.get(employee_id, ())
            mine = recorded.get(key, ())
            # ``carried`` tuples live in ``records`` while this runs: their ids are keys.
            shape = shapes.get((id(carried), mine))
            if shape is None:
                shape = shapes[(id(carried), mine)] = _Shape(carried, mine, common, measured)
            if shape.alike is not None:
                achievement, rules = shape.alike
            else:
                parts = [
                    part(c, own(key, c, exempt, since)) or _NO_PART
                    for c, exempt, since in shape.own
                ]
                achievement, rules = shape.objects(parts)
            yield {
                "key": key,
                "nip": nip,
                "name": name,
                "unit": unit,
                "superior": superior,
                "achievement": achievement,
                "rules": rules,
            }

    return _document(now, people())


class _Shape:
    """What people carrying the same rules, with records of their own for the same ones,
    have in common: their cells as ``Cells.of`` picks them (their own for a rule they are
    exempt from or have records of, else the common one) are the common cells' JSON in
    order with a slot for each of their own; their achievement depends on the tallies of
    their own cells alone, so it is made once per distinct tallies."""

    def __init__(
        self,
        carried: tuple[Carried, ...],
        mine: Container[str],
        common: Callable[[str, date | None], _Part | None],
        measured: frozenset[str],
    ) -> None:
        self.measured = measured  # left out of the overall percentage
        self.own: list[Carried] = []  # the rules whose cells are the person's own
        self.pieces: list[bytes] = [b""]  # common members before each own slot, and after
        self.tallies: list[tuple[str, int, int] | int] = []  # or the own slot's index
        for code, exempt, since in carried:
            if exempt or code in mine:
                self.tallies.append(len(self.own))
                self.own.append((code, exempt, since))
                self.pieces.append(b"")
                continue
            made = common(code, since)
            if made is not None:
                self.pieces[-1] += made[0] or b""
                if made[1] is not None:
                    self.tallies.append(made[1])
        self.summaries: dict[tuple[tuple[str, int, int] | None, ...], orjson.Fragment] = {}
        # Nothing of their own: the same objects for all of them.
        self.alike = None if self.own else self.objects([])

    def objects(self, parts: list[_Part]) -> tuple[orjson.Fragment, orjson.Fragment]:
        """The achievement and rules objects of one person, given their own cells' parts."""
        own = tuple([made[1] for made in parts])
        summary = self.summaries.get(own)
        if summary is None:
            tallies = [own[t] if isinstance(t, int) else t for t in self.tallies]
            summary = self.summaries[own] = orjson.Fragment(
                orjson.dumps(_achievement([t for t in tallies if t is not None], self.measured))
            )
        pieces = self.pieces
        body = pieces[0]
        for i, made in enumerate(parts, 1):
            body += made[0] + pieces[i] if made[0] else pieces[i]
        return summary, orjson.Fragment(b"{" + body[1:] + b"}")  # without the first comma


def _achievement(tallies: list[tuple[str, int, int]], measured: frozenset[str]) -> dict[str, Any]:
    """As ``build`` computes it: each rule's percentage, and on time over due of them all
    but the ``measured``."""
    timed = [t for t in tallies if t[0] not in measured]
    on_time, due = sum(t[1] for t in timed), sum(t[2] for t in timed)
    return {
        "overall": 100.0 * on_time / due if due else None,
        "rules": {code: 100.0 * on / of for code, on, of in tallies},
    }
