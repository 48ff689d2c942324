"""The submissions sheet: submissions recorded in bulk, one new record per row.

:func:`check_submissions` checks every row (employee, rule and period, time) without
writing; :func:`apply_submissions` inserts the good rows.  Earlier records are never
changed: a correction is a new row, and the newest counts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from sqlalchemy.orm import Session

from rules.schedule import Schedule
from scheduler.sheets.table import (
    EXCEL_NUMBER,
    Cell,
    Keys,
    Problem,
    Row,
    Table,
    cell_text,
    check_columns,
    flag_cell,
    rows_to_read,
)
from scheduler.store import models, submissions
from scheduler.store.records import (
    RecordError,
    check_rule_period,
    check_submission_period,
    check_value,
    length_of,
)

SUBMISSION_COLUMNS = ("nip", "rule", "period", "submitted_at", "evidence", "agency", "value")
SUBMISSION_REQUIRED = frozenset({"nip", "rule", "period", "submitted_at"})
# The stored column behind each cell, whose own length bounds it (see sheets.long_cells).
SUBMISSION_FIELDS = {
    "rule": models.Submission.rule_code,
    "period": models.Submission.period,
    "evidence": models.Submission.evidence,
}
NOON = time(12, 0)


@dataclass(frozen=True)
class SubmissionRow:
    number: int
    employee_id: int
    employee: str  # key
    rule: str
    period: str
    submitted_at: datetime
    evidence: str
    agency: bool
    value: float | None = None  # a measured rule's value


@dataclass
class SubmissionCheck:
    rows: list[SubmissionRow]
    problems: list[Problem]
    skipped: list[int]


MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?")


def parse_moment(value: Cell, zone: tzinfo, now: datetime) -> datetime | None:
    """A submission time from a cell; None when it is not one.

    A naive time is local (``zone``).  A date alone means 12:00 local that day (or now,
    when that day is today and it is not yet noon), so that it counts within that day; so
    does a workbook cell at exactly 00:00, which is how a date cell reads back.
    An offset ("2025-02-10T14:30+08:00") is kept.  "14.30" is read as "14:30".
    """
    day: date | None = None
    moment: datetime | None = None
    if isinstance(value, datetime) and value.tzinfo is None and value.time() == time(0):
        day = value.date()  # a date cell of a workbook comes back as a midnight datetime
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        text = value.strip()
        match = MOMENT.fullmatch(text)
        try:
            if match and match.group(2) is None:
                day = date.fromisoformat(match.group(1))
            elif match:
                hour, minute, second = (int(match.group(i) or 0) for i in (2, 3, 4))
                moment = datetime.combine(
                    date.fromisoformat(match.group(1)), time(hour, minute, second)
                )
            elif re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", text):
                moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if day is not None:
        moment = datetime.combine(day, NOON, tzinfo=zone)
        return min(moment, now) if day == now.astimezone(zone).date() else moment
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _period_text(value: Cell) -> str:
    """Excel turns "2025-02" into 1 February 2025; read such a cell back as a month."""
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    return cell_text(value)


def check_submissions(
    table: Table,
    people: Sequence[tuple[int, str, str]],
    schedule: Schedule,
    zone: tzinfo,
    now: datetime,
) -> SubmissionCheck:
    """Check every row of a submissions sheet; ``people`` is (id, key, name) of everyone.
    A period due more than a year after its row's moment is refused as ``submit`` refuses
    it, with the likely meaning ("SPT 2025" handed in March 2025 is SPT 2024)."""
    catalog = schedule.catalog
    check_columns(table, SUBMISSION_COLUMNS, SUBMISSION_REQUIRED)
    keys = Keys(key for _, key, _ in people)
    ids = {key: employee_id for employee_id, key, _ in people}
    lengths = {column: length_of(field) for column, field in SUBMISSION_FIELDS.items()}
    good: list[SubmissionRow] = []
    problems: list[Problem] = []
    for row, found in rows_to_read(table, lengths, problems):
        for column in SUBMISSION_REQUIRED:
            if not row.text(column):
                found.append(Problem(row.number, "empty_cell", {"column": column}))
        key = _submitter(row, keys, people, found)
        rule, period = row.text("rule"), _period_text(row.raw("period"))
        value = None
        try:
            rule = check_rule_period(catalog, rule, period) if rule and period else rule
            if rule in catalog.rules:
                value = check_value(
                    catalog, rule, row.text("value") if "value" in table.columns else None
                )
        except RecordError as exc:
            found.append(Problem(row.number, exc.message, exc.params))
        moment = None
        if row.text("submitted_at"):
            moment = parse_moment(row.raw("submitted_at"), zone, now)
            if moment is None:
                params = {"value": row.text("submitted_at")}
                found.append(Problem(row.number, "bad_moment", params))
            elif moment > now:
                params = {"when": f"{moment:%Y-%m-%d %H:%M %Z}", "now": f"{now:%Y-%m-%d %H:%M %Z}"}
                found.append(Problem(row.number, "future", params))
            elif rule in catalog.rules and not found:
                try:
                    check_submission_period(schedule, rule, period, moment)
                except RecordError as exc:  # far from its period, or a year that is a typo
                    found.append(Problem(row.number, exc.message, exc.params))
        agency = flag_cell(row, "agency", found) if "agency" in table.columns else None
        problems += found
        if not found and key is not None and moment is not None:
            good.append(
                SubmissionRow(
                    row.number,
                    ids[key],
                    key,
                    rule,
                    period,
                    moment,
                    row.text("evidence"),
                    bool(agency),
                    value,
                )
            )
    skipped = sorted({problem.row for problem in problems})
    return SubmissionCheck(good, problems, skipped)


def _submitter(
    row: Row, keys: Keys, people: Sequence[tuple[int, str, str]], problems: list[Problem]
) -> str | None:
    raw, text = row.raw("nip"), row.text("nip")
    if not text:
        return None
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        problems.append(Problem(row.number, "nip_number", {"nip": text}, ("excel_number",)))
        return None
    key = keys.get(text)
    if key is None:
        wanted = Keys.fold(text)
        close = difflib.get_close_matches(wanted, [k for _, k, _ in people], n=3, cutoff=0.7)
        names = {k: name for _, k, name in people}
        hints = ", ".join(f"{k} ({names[k]})" for k in close)
        notes = ("excel_number",) if EXCEL_NUMBER.match(text) else ()
        problems.append(Problem(row.number, "no_employee", {"ident": text, "hints": hints}, notes))
    return key


def apply_submissions(
    session: Session, rows: Sequence[SubmissionRow], now: datetime, recorded_by: str
) -> int:
    """Insert a new submission per row, through the one writer: a row without evidence
    keeps the earlier record's, and a row that only repeats the record that counts (a sheet
    imported twice) is not written again.  Earlier records are never touched.  Returns the
    number of rows written."""
    written = 0
    for row in rows:
        added = submissions.add(
            session,
            row.employee_id,
            row.rule,
            row.period,
            row.submitted_at,
            now,
            recorded_by,
            row.evidence,
            source="import",
            value=row.value,
        )
        written += not added.repeated
    session.flush()
    return written
