"""The compliance matrix: people × rules at one moment, with the IKI achievement.

Built from one snapshot and one evaluation, so its cost does not grow with round trips.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.evaluate import Evaluation, OccurrenceStatus, Status, evaluate
from rules.schedule import Schedule
from scheduler.records import Snapshot

# Which occurrence speaks for a (person, rule) cell: the most pressing open one first,
# then the latest settled one, then what is still ahead.
_URGENCY = {
    Status.OVERDUE: 0,
    Status.DUE_TODAY: 1,
    Status.DUE_SOON: 2,
    Status.PENDING: 2,
    Status.LATE: 3,
    Status.ON_TIME: 3,
    Status.EXEMPT: 3,
    Status.UPCOMING: 4,
    Status.WAITING: 5,
}


@dataclass(frozen=True)
class Matrix:
    now: datetime
    snapshot: Snapshot
    evaluation: Evaluation
    cells: dict[str, dict[str, OccurrenceStatus]]  # employee key → rule code → cell
    achievement: dict[str, dict[str, float | None]]  # employee key → rule code → percent
    overall: dict[str, float | None]  # employee key → on-time ÷ due over all their rules


def build(schedule: Schedule, snapshot: Snapshot, now: datetime) -> Matrix:
    evaluation = evaluate(schedule, snapshot.roster, snapshot.submissions, snapshot.events, now)
    today = now.astimezone(schedule.calendar.tz).date()
    cells: dict[str, dict[str, OccurrenceStatus]] = defaultdict(dict)
    for item in evaluation.statuses:
        due = item.occurrence.due
        off_year = due is not None and due.year != today.year
        if off_year and (not item.status.is_open or item.status is Status.UPCOMING):
            continue  # last year's settled items and next year's are not this year's cells
        current = cells[item.employee].get(item.rule)
        if current is None or _better(item, current):
            cells[item.employee][item.rule] = item
    achievement: dict[str, dict[str, float | None]] = defaultdict(dict)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in evaluation.achievements:
        achievement[entry.employee][entry.rule] = entry.percent
        totals[entry.employee][0] += entry.on_time
        totals[entry.employee][1] += entry.due
    overall = {key: (100.0 * on / due if due else None) for key, (on, due) in totals.items()}
    return Matrix(now, snapshot, evaluation, dict(cells), dict(achievement), overall)


def _better(item: OccurrenceStatus, current: OccurrenceStatus) -> bool:
    rank, current_rank = _URGENCY[item.status], _URGENCY[current.status]
    if rank != current_rank:
        return rank < current_rank
    due, current_due = item.occurrence.due, current.occurrence.due
    if due is None or current_due is None:
        return False
    # Among settled items the latest speaks; among open or future ones the earliest.
    return due > current_due if rank == 3 else due < current_due


def as_json(matrix: Matrix) -> dict[str, Any]:
    """The matrix for scripts: every occurrence of every person, plus the achievement."""
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in matrix.evaluation.statuses:
        occ = item.occurrence
        by_person[item.employee].append(
            {
                "rule": occ.rule,
                "period": occ.period,
                "due": occ.due.isoformat() if occ.due else None,
                "status": item.status.value,
                "days_late": item.days_late,
                "submitted_at": item.submitted_at.isoformat() if item.submitted_at else None,
            }
        )
    return {
        "as_of": matrix.now.isoformat(),
        "employees": [
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
                "occurrences": by_person.get(key, []),
            }
            for key, info in matrix.snapshot.employees.items()
        ],
    }
