"""The compliance matrix: people × rules at one moment, with the IKI achievement.

Built from one snapshot and one evaluation, so its cost does not grow with round trips.  A
cell is the headline of a person's rule (what is overdue or due first, else the latest
settled); every occurrence is listed only when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from rules.evaluate import Evaluation, OccurrenceStatus, evaluate, headlines
from rules.schedule import Schedule
from scheduler.records import EmployeeInfo, Snapshot


@dataclass(frozen=True)
class Matrix:
    now: datetime
    snapshot: Snapshot
    evaluation: Evaluation
    cells: dict[str, dict[str, OccurrenceStatus]]  # employee key → rule code → cell
    achievement: dict[str, dict[str, float | None]]  # employee key → rule code → percent
    overall: dict[str, float | None]  # employee key → on-time ÷ due over all their rules


def build(schedule: Schedule, snapshot: Snapshot, now: datetime, detail: bool = False) -> Matrix:
    """The matrix at ``now``; ``detail`` also keeps every occurrence's status."""
    evaluation = evaluate(
        schedule, snapshot.roster, snapshot.submissions, snapshot.events, now, detail=detail
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
    for entry in evaluation.achievements:
        rules = achievement.get(entry.employee)
        if rules is None:
            rules = achievement[entry.employee] = {}
            totals[entry.employee] = [0, 0]
        rules[entry.rule] = entry.percent
        total = totals[entry.employee]
        total[0] += entry.on_time
        total[1] += entry.due
    overall = {key: (100.0 * on / due if due else None) for key, (on, due) in totals.items()}
    return Matrix(now, snapshot, evaluation, cells, achievement, overall)


def _occurrence(item: OccurrenceStatus) -> dict[str, Any]:
    """One status as JSON sees it; orjson writes the dates, datetimes and Status itself."""
    occ = item.occurrence
    return {
        "rule": occ.rule,
        "period": occ.period,
        "due": occ.due,
        "status": item.status,
        "days_late": item.days_late,
        "submitted_at": item.submitted_at,
    }


_BATCH = 5_000  # people per orjson call: few calls, and never all of them as one document


def json_chunks(matrix: Matrix) -> Iterator[bytes]:
    """The matrix for scripts as UTF-8 JSON: identity, achievement, the cell of each rule, and
    every occurrence when the matrix was built with detail.

    orjson writes it in batches of people, so that 100,000 of them never sit in memory as
    one document.  Statuses reach it as they are (named tuples), and its ``default`` hook
    turns each into an object; a status without a submission is the same for every carrier
    of its occurrence (an overdue PK, an agency rule), so that object is made once and shared.
    """
    import orjson

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
    yield b'{"as_of":' + orjson.dumps(matrix.now.isoformat()) + b',"employees":['
    comma = b""
    while batch := list(islice(people, _BATCH)):
        yield comma + orjson.dumps(batch, default=occurrence)[1:-1]  # without its brackets
        comma = b","
    yield b"]}\n"
