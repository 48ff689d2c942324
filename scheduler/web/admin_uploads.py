"""What an uploaded file would change, and writing it: an IKI document, a roster sheet or
a submissions sheet, checked and written by the same readers and writers as `tenggat
import-iki`, `tenggat roster import` and `tenggat submissions import`.

The preview and the confirmation run the very same function in a transaction: the preview
rolls it back, the confirmation commits it (as the commands' ``--dry-run`` does), so what
the admin saw is what the checks of that moment allow.  A sheet with a problem on any row
writes nothing, as the commands without ``--skip-bad``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.catalog import Words
from scheduler.iki import apply as iki_apply
from scheduler.iki.document import NotAnIki, parse_layout
from scheduler.iki.files import read_layout
from scheduler.messages import say
from scheduler.sheets import roster as roster_sheet
from scheduler.sheets import submissions as submission_sheet
from scheduler.sheets import table as sheets
from scheduler.sheets.roster_check import check_roster
from scheduler.store import records

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from scheduler.config import Config

KINDS = {  # what each upload may be, told by the name's ending; the content decides after
    "iki": (".txt", ".docx", ".pdf"),
    "roster": sheets.SUFFIXES,
    "submissions": sheets.SUFFIXES,
}
WORDS = Words("admin")
MAX_UPLOAD = 16 * 2**20  # bytes of one file: a 100,000-row sheet as CSV is about 12 MB
SHOWN = 20  # rows of the preview
PROBLEMS = 200  # problems listed; the rest are counted


@dataclass
class Outcome:
    """What a file does (or would do): counts, the first rows, the problems by place, and
    ``refused`` when nothing can be written at all."""

    counts: list[tuple[str, int]] = field(default_factory=list)  # (word key, count)
    heads: tuple[str, ...] = ()  # word keys of the columns of ``rows``
    rows: list[tuple[str, ...]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, sentence)
    more_problems: int = 0
    refused: str = ""

    @property
    def writable(self) -> bool:
        return not self.refused

    def problem(self, where: str, text: str) -> None:
        if len(self.problems) < PROBLEMS:
            self.problems.append((where, text))
        else:
            self.more_problems += 1


def suffix_ok(kind: str, name: str) -> bool:
    return Path(name).suffix.lower() in KINDS[kind]


def run(
    kind: str,
    session: Session,
    config: Config,
    name: str,
    data: bytes,
    now: datetime,
    by: str,
    language: str,
) -> Outcome:
    """Check ``data`` and write it in ``session`` (the caller commits or rolls back)."""
    if kind == "iki":
        return _iki(session, config, name, data, now, language)
    try:
        table = _table(kind, name, data)
    except sheets.SheetError as exc:
        return Outcome(refused=say(exc.message, language, **{**exc.params, "path": name}))
    if kind == "roster":
        return _roster(session, config, table, now, language)
    return _submissions(session, config, table, now, by, language)


def _table(kind: str, name: str, data: bytes) -> sheets.Table:
    """The sheet read by the commands' reader, from a private temporary file (the reader
    takes a path; the name the admin gave is used only for its ending)."""
    columns = (
        roster_sheet.ROSTER_COLUMNS if kind == "roster" else submission_sheet.SUBMISSION_COLUMNS
    )
    with tempfile.TemporaryDirectory(prefix="tenggat-upload-") as folder:
        path = Path(folder) / f"upload{Path(name).suffix.lower()}"
        path.write_bytes(data)
        return sheets.read_table(str(path), columns)


def _refused_rows(outcome: Outcome, problems: list[sheets.Problem], language: str) -> Outcome:
    for problem in problems:
        outcome.problem(WORDS[language]["row_n"].format(row=problem.row), problem.text(language))
    rows = len({problem.row for problem in problems})
    outcome.refused = say("nothing_written", language, count=str(rows))
    return outcome


def _roster(
    session: Session, config: Config, table: sheets.Table, now: datetime, language: str
) -> Outcome:
    try:
        check = check_roster(table, roster_sheet.load_roster(session), config.catalog)
    except sheets.SheetError as exc:
        return Outcome(refused=say(exc.message, language, **{**exc.params, "path": "-"}))
    if check.problems:
        return _refused_rows(Outcome(), check.problems, language)
    done = roster_sheet.apply_roster(session, check.rows, now)
    outcome = Outcome(
        counts=[
            ("created", len(done.created)),
            ("updated", len(done.updated)),
            ("unchanged", len(done.unchanged)),
        ],
        heads=("row", "nip", "name", "unit", "change"),
    )
    for row in (done.created + done.updated)[:SHOWN]:
        after = row.after
        change = row.describe() if row.before is not None else WORDS[language]["new_person"]
        outcome.rows.append((str(row.number), after.key, after.name, after.unit, change))
    return outcome


def _submissions(
    session: Session,
    config: Config,
    table: sheets.Table,
    now: datetime,
    by: str,
    language: str,
) -> Outcome:
    zone = now.tzinfo
    assert zone is not None
    people = records.identities(session)
    try:
        check = submission_sheet.check_submissions(table, people, config.schedule(), zone, now)
    except sheets.SheetError as exc:
        return Outcome(refused=say(exc.message, language, **{**exc.params, "path": "-"}))
    if check.problems:
        return _refused_rows(Outcome(), check.problems, language)
    written = submission_sheet.apply_submissions(session, check.rows, now, by)
    names = {key: name for _, key, name in people}
    outcome = Outcome(
        counts=[("recorded", written), ("repeated", len(check.rows) - written)],
        heads=("row", "nip", "name", "rule", "period", "submitted", "evidence"),
    )
    for row in check.rows[:SHOWN]:
        at = f"{row.submitted_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
        outcome.rows.append(
            (
                str(row.number),
                row.employee,
                names[row.employee],
                row.rule,
                row.period,
                at,
                row.evidence,
            )
        )
    return outcome


def _iki(
    session: Session, config: Config, name: str, data: bytes, now: datetime, language: str
) -> Outcome:
    try:
        result = parse_layout(read_layout(data, name, language), config.catalog, language)
        done = iki_apply.apply_import(session, result, now)
    except NotAnIki as exc:
        return Outcome(refused=str(exc))
    except records.RecordError as exc:
        return Outcome(refused=exc.text(language))
    outcome = Outcome(
        counts=[
            ("blocks", len(result.blocks)),
            ("created", len(done.created)),
            ("updated", len(done.updated)),
            ("unchanged", len(done.unchanged)),
        ],
        heads=("nip", "name", "unit", "rules", "review"),
    )
    for person in result.employees[:SHOWN]:
        rules = " ".join(sorted(person.codes))
        review = "; ".join(person.review)
        outcome.rows.append((person.key, person.name, person.unit, rules, review))
    for problem in result.problems:
        where = problem.where or f"L{problem.line}"
        severity = WORDS[language][f"severity_{problem.severity}"]
        outcome.problem(f"{where} ({severity})", problem.message)
    return outcome
