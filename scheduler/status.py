"""The compliance matrix: people × rules at one moment, with the IKI achievement.

Built from one snapshot and one evaluation, so its cost does not grow with round trips.  A
cell is the headline of a person's rule (what is overdue or due first, else the latest
settled); every occurrence is listed only when asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.evaluate import Evaluation, OccurrenceStatus, Status, evaluate, headlines
from rules.schedule import Schedule
from scheduler.records import Snapshot


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
    cells: dict[str, dict[str, OccurrenceStatus]] = defaultdict(dict)
    for item in heads:
        cells[item.employee][item.rule] = item
    achievement: dict[str, dict[str, float | None]] = defaultdict(dict)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in evaluation.achievements:
        achievement[entry.employee][entry.rule] = entry.percent
        totals[entry.employee][0] += entry.on_time
        totals[entry.employee][1] += entry.due
    overall = {key: (100.0 * on / due if due else None) for key, (on, due) in totals.items()}
    return Matrix(now, snapshot, evaluation, dict(cells), dict(achievement), overall)


def _occurrence(item: OccurrenceStatus) -> dict[str, Any]:
    occ = item.occurrence
    return {
        "rule": occ.rule,
        "period": occ.period,
        "due": occ.due.isoformat() if occ.due else None,
        "status": item.status.value,
        "days_late": item.days_late,
        "submitted_at": item.submitted_at.isoformat() if item.submitted_at else None,
    }


def json_chunks(matrix: Matrix) -> Iterator[str]:
    """The matrix for scripts as JSON text, one employee at a time so that 100,000 of them
    never sit in memory as one string: identity, achievement, the cell of each rule, and
    every occurrence when the matrix was built with detail.

    The carriers of an agency rule share their occurrence's outcome, so each distinct
    outcome is encoded once and reused as text.
    """
    import json

    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    fragments: dict[tuple[int, Status, int | None, datetime | None], str] = {}

    def fragment(item: OccurrenceStatus) -> str:
        key = (id(item.occurrence), item.status, item.days_late, item.submitted_at)
        text = fragments.get(key)
        if text is None:
            text = fragments[key] = encode(_occurrence(item))
        return text

    by_person: dict[str, list[OccurrenceStatus]] = defaultdict(list)
    for item in matrix.evaluation.statuses:
        by_person[item.employee].append(item)
    yield '{"as_of":' + encode(matrix.now.isoformat()) + ',"employees":['
    for index, (key, info) in enumerate(matrix.snapshot.employees.items()):
        identity = encode(
            {
                "key": info.key,
                "nip": info.nip,
                "name": info.name,
                "unit": info.unit,
                "superior": info.superior,
                "achievement": {
                    "overall": matrix.overall.get(key),
                    "rules": matrix.achievement.get(key, {}),
                },
            }
        )
        # rule codes are [A-Z0-9_]: safe as JSON keys without escaping
        cells = ",".join(
            f'"{code}":{fragment(cell)}' for code, cell in matrix.cells.get(key, {}).items()
        )
        text = identity[:-1] + ',"rules":{' + cells + "}"
        if matrix.evaluation.statuses:
            listed = ",".join(fragment(item) for item in by_person.get(key, ()))
            text += ',"occurrences":[' + listed + "]"
        yield ("," if index else "") + text + "}"
    yield "]}\n"
