"""Spreadsheets in and out: the roster for the admin's review, and submissions in bulk.

Reading gives a :class:`Table` of raw cells with their spreadsheet row numbers (the header is
row 1).  Checking a table against the stored records yields the good rows and a
:class:`Problem` per bad one, without writing anything; applying the good rows happens in
the caller's transaction, so that "nothing unless everything is good" is one rollback.

CSV is read as UTF-8 (a byte-order mark is allowed) with ``,`` or ``;`` as delimiter (Excel
in an Indonesian locale writes ``;``); XLSX is read from its first sheet.  CSV is written as
UTF-8 with a byte-order mark so that Excel shows names with diacritics correctly.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from rules.catalog import Catalog
from scheduler import models
from scheduler.records import (
    NIP_PATTERN,
    ROLES,
    RecordError,
    check_rule_period,
    is_chat_id,
    is_email,
    normalise_nip,
)
from scheduler.words import say

SUFFIXES = (".csv", ".xlsx")

ROSTER_COLUMNS = (
    "key",
    "nip",
    "name",
    "position",
    "unit",
    "superior",
    "roles",
    "rules",
    "telegram_chat_id",
    "email",
    "active",
    "review",
)
ROSTER_REQUIRED = frozenset({"key", "nip", "name", "unit", "superior", "roles", "rules"})
SUBMISSION_COLUMNS = ("nip", "rule", "period", "submitted_at", "evidence", "agency")
SUBMISSION_REQUIRED = frozenset({"nip", "rule", "period", "submitted_at"})

TMP_KEY = re.compile(r"^TMP-[A-Za-z0-9_-]{1,28}$", re.IGNORECASE)
EXCEL_NUMBER = re.compile(r"^\d+([.,]\d+)?E\+?\d+$", re.IGNORECASE)
FLAGS = {
    "yes": True, "y": True, "true": True, "1": True, "ya": True,
    "no": False, "n": False, "false": False, "0": False, "tidak": False,
}  # fmt: skip
NOON = time(12, 0)

# Texts of this module's messages; ``say`` falls back to ``scheduler.words.MESSAGES``.


class SheetError(RecordError):
    """A file that cannot be read as a table at all (format, encoding, header)."""


@dataclass(frozen=True)
class Problem:
    """Why one spreadsheet row cannot be used; ``notes`` are further message names."""

    row: int
    message: str
    params: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def text(self, language: str) -> str:
        parts = [say(self.message, language, **self.params)]
        parts += [say(note, language) for note in self.notes]
        return "; ".join(parts)


# --------------------------------------------------------------------------- tables

Cell = str | int | float | bool | datetime | date | time | None


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    cells: Mapping[str, Cell]
    extra: int = 0  # non-empty cells beyond the last heading

    def raw(self, column: str) -> Cell:
        return self.cells.get(column)

    def text(self, column: str) -> str:
        return cell_text(self.cells.get(column))


@dataclass(frozen=True)
class Table:
    path: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    delimiter: str = ","


def cell_text(value: Cell) -> str:
    """A cell as text: numbers without a spurious ".0", dates in ISO form, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def suffix_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise SheetError("unsupported_format", path=path, suffix=suffix or "(no extension)")
    return suffix


def heading(value: Cell) -> str:
    """A column heading as a name: "Telegram Chat ID" → ``telegram_chat_id``."""
    return re.sub(r"[\s-]+", "_", cell_text(value).lower())


def read_table(path: str, expected: Sequence[str] = ()) -> Table:
    """Read a CSV or XLSX file; the first non-empty row is the header."""
    if suffix_of(path) == ".csv":
        records, delimiter = _read_csv(path)
    else:
        records, delimiter = _read_xlsx(path), ","
    filled = [(number, cells) for number, cells in records if any(_filled(c) for c in cells)]
    if not filled:
        raise SheetError("empty_file", path=path, columns=", ".join(expected) or "?")
    (_, header), body = filled[0], filled[1:]
    names = [heading(value) for value in header]
    for index, name in enumerate(names):
        if name and name in names[:index]:
            raise SheetError("duplicate_column", path=path, column=name)
        if not name and any(len(c) > index and _filled(c[index]) for _, c in body):
            raise SheetError("unnamed_column", path=path, number=str(index + 1))
    if not body:
        raise SheetError("no_rows", path=path)
    width = len(names)
    rows = tuple(
        Row(
            number,
            {name: cells[i] for i, name in enumerate(names) if name and i < len(cells)},
            sum(1 for value in cells[width:] if _filled(value)),
        )
        for number, cells in body
    )
    return Table(path, tuple(name for name in names if name), rows, delimiter)


def _filled(value: Cell) -> bool:
    return value is not None and cell_text(value) != ""


def _read_csv(path: str) -> tuple[list[tuple[int, list[Cell]]], str]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SheetError("bad_csv", path=path, row="-", reason=exc.strerror or str(exc)) from None
    if data.startswith(b"PK\x03\x04"):
        raise SheetError("xlsx_as_csv", path=path)
    if b"\0" in data or re.search(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f]", data[:65536]):
        raise SheetError("binary_csv", path=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError("not_utf8", path=path, position=str(exc.start)) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=lambda d: len(next(csv.reader([first], delimiter=d))))
    records: list[tuple[int, list[Cell]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            records.append((number, list(cells)))
    except csv.Error as exc:
        raise SheetError("bad_csv", path=path, row=str(len(records) + 1), reason=str(exc)) from None
    return records, delimiter


def _cell(value: object) -> Cell:
    """A workbook value as one of the plain kinds rows hold; anything richer (rich text,
    formulas kept as objects) is read as its text."""
    if value is None or isinstance(value, str | int | float | date | time):
        return value
    return str(value)


def _read_xlsx(path: str) -> list[tuple[int, list[Cell]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file: any of zip, XML or key errors
        raise SheetError("bad_xlsx", path=path, reason=str(exc) or type(exc).__name__) from None
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, [_cell(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    except Exception as exc:
        raise SheetError("bad_xlsx", path=path, reason=str(exc) or type(exc).__name__) from None
    finally:
        workbook.close()


def write_table(
    path: str, columns: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str = ","
) -> int:
    """Write a header and rows of text; return the number of rows written."""
    rows = list(rows)
    if suffix_of(path) == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(columns)
            writer.writerows(rows)
    else:
        _write_xlsx(path, columns, rows)
    return len(rows)


def _write_xlsx(path: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = Path(path).stem[:31] or "Sheet1"
    widths = [len(name) for name in columns]
    for col, name in enumerate(columns, start=1):
        sheet.cell(row=1, column=col, value=name).font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            if not text:
                continue
            cell = sheet.cell(row=number, column=col, value=text)
            cell.data_type = "s"  # text stays text: no formulas, no NIP turned into a number
            cell.number_format = "@"
            widths[col - 1] = max(widths[col - 1], min(len(text), 60))
    for col, width in enumerate(widths, start=1):
        dimension = sheet.column_dimensions[get_column_letter(col)]
        dimension.width = width + 2
        dimension.number_format = "@"  # what the admin types in new rows stays text too
    sheet.freeze_panes = "A2"
    workbook.save(path)


def check_columns(table: Table, columns: Sequence[str], required: frozenset[str]) -> None:
    """Refuse a header that lacks a required column or has one nobody knows."""
    missing = [name for name in columns if name in required and name not in table.columns]
    unknown = [name for name in table.columns if name not in columns]
    if not missing and not unknown:
        return
    hints = [
        f"{name} → {close[0]}"
        for name in unknown
        if (close := difflib.get_close_matches(name, columns, n=1, cutoff=0.6))
    ]
    raise SheetError(
        "bad_header",
        path=table.path,
        missing=", ".join(missing) or "-",
        unknown=", ".join(unknown) or "-",
        expected=", ".join(columns),
        hints=", ".join(hints),
    )


def _flag(row: Row, column: str, problems: list[Problem]) -> bool | None:
    """yes/no/true/false/1/0 (and ya/tidak); None when the cell is empty."""
    text = row.text(column)
    if not text:
        return None
    value = FLAGS.get(text.lower())
    if value is None:
        problems.append(Problem(row.number, "bad_flag", {"column": column, "value": text}))
    return value


def _extra(table: Table, row: Row) -> list[Problem]:
    if not row.extra:
        return []
    params = {"count": str(row.extra), "delimiter": table.delimiter}
    return [Problem(row.number, "extra_cells", params)]


def _nip_cell(row: Row, column: str, problems: list[Problem]) -> str | None:
    """An 18-digit NIP from a cell (spaces and dots allowed), None when empty."""
    raw = row.raw(column)
    text = cell_text(raw)
    if not text:
        return None
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        problems.append(Problem(row.number, "nip_number", {"nip": text}, ("excel_number",)))
        return None
    nip = normalise_nip(text)
    if not NIP_PATTERN.match(nip):
        notes = ("excel_number",) if EXCEL_NUMBER.match(text) else ()
        problems.append(Problem(row.number, "bad_nip", {"nip": text}, notes))
        return None
    return nip


# --------------------------------------------------------------------------- roster


@dataclass(frozen=True)
class Stored:
    """An employee as the roster sheet shows it; ``superior`` is the superior's key."""

    key: str
    nip: str | None
    name: str
    position: str
    unit: str
    superior: str | None
    roles: frozenset[str]
    rules: frozenset[str]
    telegram_chat_id: str | None
    email: str | None
    active: bool
    review: str

    def cells(self) -> list[str]:
        return [
            self.key,
            self.nip or "",
            self.name,
            self.position,
            self.unit,
            self.superior or "",
            " ".join(sorted(self.roles)),
            " ".join(sorted(self.rules)),
            self.telegram_chat_id or "",
            self.email or "",
            "yes" if self.active else "no",
            self.review,
        ]


def load_roster(session: Session) -> dict[str, Stored]:
    """Every employee (active or not) with unit, superior and rule codes: two queries."""
    employee, boss = models.Employee, aliased(models.Employee)
    codes: dict[int, set[str]] = defaultdict(set)
    for employee_id, code in session.execute(
        select(models.Assignment.employee_id, models.Assignment.rule_code)
    ):
        codes[employee_id].add(code)
    query = (
        select(
            employee.id,
            employee.key,
            employee.nip,
            employee.name,
            employee.position,
            models.Unit.name,
            boss.key,
            employee.roles,
            employee.telegram_chat_id,
            employee.email,
            employee.active,
            employee.review,
        )
        .outerjoin(models.Unit, models.Unit.id == employee.unit_id)
        .outerjoin(boss, boss.id == employee.superior_id)
    )
    stored: dict[str, Stored] = {}
    for row in session.execute(query):
        stored[row[1]] = Stored(
            key=row[1],
            nip=row[2],
            name=row[3],
            position=row[4] or "",
            unit=row[5] or "",
            superior=row[6],
            roles=frozenset(row[7].split()),
            rules=frozenset(codes.get(row[0], ())),
            telegram_chat_id=row[8] or None,
            email=row[9] or None,
            active=bool(row[10]),
            review=row[11] or "",
        )
    return stored


def roster_rows(stored: Mapping[str, Stored]) -> list[list[str]]:
    """The roster sheet: by unit (employees without one last), then name."""
    ordered = sorted(
        stored.values(),
        key=lambda s: (s.unit == "", s.unit.casefold(), s.name.casefold(), s.key),
    )
    return [person.cells() for person in ordered]


@dataclass
class RosterRow:
    """A good row: the employee ``ident`` (their key today, or the new key) as it will be."""

    number: int
    ident: str
    before: Stored | None
    after: Stored
    superior_ref: str = ""

    @property
    def changed(self) -> list[str]:
        """The columns that differ from the stored employee; empty for a new one."""
        if self.before is None:
            return []
        return [
            name
            for name in Stored.__dataclass_fields__
            if getattr(self.before, name) != getattr(self.after, name)
        ]


@dataclass
class RosterCheck:
    rows: list[RosterRow]
    problems: list[Problem]
    skipped: list[int]  # row numbers with problems


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def _hint(word: str, known: Iterable[str]) -> str:
    return ", ".join(difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.5))


class _Keys:
    """Employee keys as typed in a cell (any case for TMP- keys, spaces in NIPs) → stored."""

    def __init__(self, stored: Iterable[str]) -> None:
        self.by_fold = {key.casefold(): key for key in stored}

    @staticmethod
    def fold(text: str) -> str:
        text = text.strip()
        return text.casefold() if text.upper().startswith("TMP-") else normalise_nip(text)

    def get(self, text: str) -> str | None:
        return self.by_fold.get(self.fold(text))


def check_roster(table: Table, stored: Mapping[str, Stored], catalog: Catalog) -> RosterCheck:
    """Check every row of a roster sheet against each other and the stored roster."""
    check_columns(table, ROSTER_COLUMNS, ROSTER_REQUIRED)
    keys = _Keys(stored)
    problems: list[Problem] = []
    candidates: list[RosterRow] = []
    for row in table.rows:
        found: list[Problem] = _extra(table, row)
        checked = _roster_row(table, row, stored, keys, catalog, found)
        problems += found
        if checked is not None and not found:
            candidates.append(checked)
    problems += _clashes(candidates, stored)
    typed: dict[str, int] = {}
    for row in table.rows:
        for column in ("key", "nip"):
            if row.text(column):
                typed.setdefault(_Keys.fold(row.text(column)).casefold(), row.number)
    problems += _superiors(candidates, problems, stored, keys, typed)
    bad = {problem.row for problem in problems}
    problems.sort(key=lambda p: p.row)
    good = [row for row in candidates if row.number not in bad]
    return RosterCheck(good, problems, sorted(bad))


def _roster_row(
    table: Table,
    row: Row,
    stored: Mapping[str, Stored],
    keys: _Keys,
    catalog: Catalog,
    problems: list[Problem],
) -> RosterRow | None:
    number = row.number
    nip = _nip_cell(row, "nip", problems)
    nip_given = bool(row.text("nip"))
    raw_key = row.raw("key")
    typed = row.text("key")
    ident: str | None = None
    if not typed:
        if not nip_given:
            problems.append(Problem(number, "no_key"))
        ident = nip
    elif isinstance(raw_key, float | int) and not isinstance(raw_key, bool):
        problems.append(Problem(number, "nip_number", {"nip": typed}, ("excel_number",)))
    elif typed.upper().startswith("TMP-"):
        ident = keys.get(typed) or (typed if TMP_KEY.match(typed) else None)
        if ident is None:
            problems.append(Problem(number, "bad_key", {"key": typed}))
    elif NIP_PATTERN.match(normalise_nip(typed)):
        ident = normalise_nip(typed)
        if nip is not None and nip != ident:
            problems.append(Problem(number, "nip_differs", {"nip": row.text("nip"), "key": ident}))
        if not nip_given:
            nip = ident
    else:
        notes = ("excel_number",) if EXCEL_NUMBER.match(typed) else ()
        problems.append(Problem(number, "bad_key", {"key": typed}, notes))

    before = stored.get(ident) if ident else None
    kept_roles, kept_rules = (before.roles, before.rules) if before else (frozenset(), frozenset())
    name = row.text("name")
    if not name:
        problems.append(Problem(number, "name_missing"))
    # A role or code already stored stays acceptable (a rule since dropped from the
    # catalog must not block re-importing an unchanged sheet); only new ones are checked.
    roles = frozenset(role.lower() for role in _split(row.text("roles")))
    for role in sorted(roles - ROLES - kept_roles):
        hints = _hint(role, ROLES)
        params = {"role": role, "roles": ", ".join(sorted(ROLES)), "hints": hints}
        problems.append(Problem(number, "unknown_role", params))
    rules = frozenset(code.upper() for code in _split(row.text("rules")))
    for code in sorted(rules - set(catalog.rules) - kept_rules):
        hints = _hint(code, catalog.rules)
        problems.append(Problem(number, "unknown_rule", {"code": code, "hints": hints}))

    values: dict[str, Any] = {"name": name, "unit": row.text("unit"), "roles": roles}
    values["rules"] = rules
    if "position" in table.columns:
        values["position"] = row.text("position")
    if "review" in table.columns:
        values["review"] = row.text("review")
    if "telegram_chat_id" in table.columns:
        chat_id = re.sub(r"\s", "", row.text("telegram_chat_id"))
        if chat_id and not is_chat_id(chat_id):
            problems.append(Problem(number, "bad_chat_id", {"chat_id": chat_id}))
        values["telegram_chat_id"] = chat_id or None
    if "email" in table.columns:
        email = row.text("email")
        if email and not is_email(email):
            problems.append(Problem(number, "bad_email", {"email": email}))
        values["email"] = email or None
    if "active" in table.columns:
        active = _flag(row, "active", problems)
        if active is not None:
            values["active"] = active
    if ident is None or problems:
        return None
    key = nip or ident
    base = before or Stored(
        key, None, "", "", "", None, frozenset(), frozenset(), None, None, True, ""
    )
    after = replace(base, key=key, nip=nip, superior=None, **values)
    return RosterRow(number, ident, before, after, _Keys.fold(row.text("superior")))


def _clashes(rows: list[RosterRow], stored: Mapping[str, Stored]) -> list[Problem]:
    """Two rows for one employee or one NIP; a NIP that belongs to someone else."""
    by_nip = {s.nip: s for s in stored.values() if s.nip}
    problems: list[Problem] = []
    for group_of in (lambda r: r.ident, lambda r: r.after.key):
        groups: dict[str, list[RosterRow]] = defaultdict(list)
        for row in rows:
            groups[group_of(row)].append(row)
        for group in groups.values():
            for row in group:
                for other in group:
                    if other is not row:
                        problems.append(_clash(row, other))
    seen: set[tuple[int, str]] = set()
    unique = []
    for problem in problems:
        if (problem.row, problem.message) not in seen:
            seen.add((problem.row, problem.message))
            unique.append(problem)
    clashing = {problem.row for problem in unique}
    for row in rows:
        holder = by_nip.get(row.after.nip or "") or stored.get(row.after.key)
        if row.number in clashing or holder is None or holder.key == row.ident:
            continue
        params = {"nip": row.after.nip or row.after.key, "key": holder.key, "name": holder.name}
        unique.append(Problem(row.number, "nip_taken", params))
    return unique


def _clash(row: RosterRow, other: RosterRow) -> Problem:
    nip = row.after.nip
    if nip is None or nip != other.after.nip:
        return Problem(row.number, "same_employee", {"other": str(other.number)})
    if row.after.name.casefold() != other.after.name.casefold():
        params = {
            "nip": nip,
            "name": row.after.name,
            "other_name": other.after.name,
            "other": str(other.number),
        }
        return Problem(row.number, "nip_twice_names", params)
    return Problem(row.number, "nip_twice", {"nip": nip, "other": str(other.number)})


def _superiors(
    candidates: list[RosterRow],
    earlier: list[Problem],
    stored: Mapping[str, Stored],
    keys: _Keys,
    typed: Mapping[str, int],
) -> list[Problem]:
    """Resolve superiors and refuse loops, over the good rows and the stored roster.

    A row whose superior is only on a bad row is bad too, and bad rows keep their stored
    superior, so this repeats until no further row drops out.
    """
    problems: list[Problem] = []
    bad = {problem.row for problem in earlier}
    rows = [row for row in candidates if row.number not in bad]
    names = {key: s.name for key, s in stored.items()}
    while True:
        refs: dict[str, str] = {s.nip: s.key for s in stored.values() if s.nip}
        refs.update(keys.by_fold)
        for row in rows:
            refs[row.ident.casefold()] = row.ident
            refs[row.after.key.casefold()] = row.ident
            names[row.ident] = row.after.name
        found: list[Problem] = []
        for row in rows:
            ref = row.superior_ref
            if not ref:
                row.after = replace(row.after, superior=None)
                continue
            boss = refs.get(ref.casefold())
            if boss is None and ref.casefold() in typed:
                params = {"superior": ref, "other": str(typed[ref.casefold()])}
                found.append(Problem(row.number, "superior_skipped", params))
            elif boss is None:
                hints = _hint(ref, stored) if not ref.upper().startswith("TMP-") else ""
                found.append(
                    Problem(row.number, "superior_unknown", {"superior": ref, "hints": hints})
                )
            elif boss == row.ident:
                found.append(Problem(row.number, "superior_self"))
            else:
                row.after = replace(row.after, superior=boss)
        failed = {problem.row for problem in found}
        line = {key: s.superior for key, s in stored.items()}
        line.update({row.ident: row.after.superior for row in rows if row.number not in failed})
        for row in rows:
            chain = _loop(row.ident, line) if row.number not in failed else None
            if chain is not None:
                text = " → ".join(names.get(key, key) for key in [*chain, row.ident])
                found.append(Problem(row.number, "superior_loop_rows", {"chain": text}))
        if not found:
            return problems
        problems += found
        failed = {problem.row for problem in found}
        rows = [row for row in rows if row.number not in failed]


def _loop(start: str, line: Mapping[str, str | None]) -> list[str] | None:
    """The reporting chain from ``start`` back to itself, or None when it ends."""
    chain, seen = [start], {start}
    boss = line.get(start)
    while boss is not None:
        if boss == start:
            return chain
        if boss in seen:
            return None  # a loop above, not through ``start``
        seen.add(boss)
        chain.append(boss)
        boss = line.get(boss)
    return None


@dataclass
class RosterOutcome:
    created: list[RosterRow] = field(default_factory=list)
    updated: list[RosterRow] = field(default_factory=list)
    unchanged: list[RosterRow] = field(default_factory=list)


def apply_roster(session: Session, rows: Sequence[RosterRow], now: datetime) -> RosterOutcome:
    """Write checked rows: a handful of queries, whatever the number of employees."""
    from scheduler.records import units_by_name

    outcome = RosterOutcome()
    for row in rows:
        if row.before is None:
            outcome.created.append(row)
        elif row.changed:
            outcome.updated.append(row)
        else:
            outcome.unchanged.append(row)
    writing = outcome.created + outcome.updated
    if not writing:
        return outcome
    wanted = {row.ident for row in writing} | {
        row.after.superior for row in writing if row.after.superior
    }
    employees = {
        e.key: e
        for e in session.scalars(select(models.Employee).where(models.Employee.key.in_(wanted)))
    }
    units = units_by_name(session, (row.after.unit for row in writing))
    for row in outcome.created:
        employee = models.Employee(key=row.after.key, superior_origin="iki", updated_at=now)
        session.add(employee)
        employees[row.ident] = employee
    for row in writing:
        employee, after = employees[row.ident], row.after
        if employee.key and employee.key != after.key and employee.key.startswith("TMP-"):
            employee.former_key = employee.key
        employee.key, employee.nip, employee.name = after.key, after.nip, after.name
        employee.position, employee.review = after.position, after.review
        employee.unit_id = units[after.unit].id if after.unit else None
        employee.roles = " ".join(sorted(after.roles))
        employee.telegram_chat_id, employee.email = after.telegram_chat_id, after.email
        employee.active = after.active
        employee.updated_at = now
    session.flush()
    for row in writing:
        before_boss = row.before.superior if row.before else None
        if row.after.superior != before_boss:
            employee = employees[row.ident]
            employee.superior_id = employees[row.after.superior].id if row.after.superior else None
            employee.superior_origin = "manual"
    ids = [employees[row.ident].id for row in writing]
    assigned: dict[int, dict[str, models.Assignment]] = defaultdict(dict)
    for assignment in session.scalars(
        select(models.Assignment).where(models.Assignment.employee_id.in_(ids))
    ):
        assigned[assignment.employee_id][assignment.rule_code] = assignment
    for row in writing:
        employee_id = employees[row.ident].id
        current = assigned.get(employee_id, {})
        for code, assignment in current.items():
            if code not in row.after.rules:
                session.delete(assignment)  # exemptions are kept: they name the period
        for code in sorted(row.after.rules - set(current)):
            session.add(models.Assignment(employee_id=employee_id, rule_code=code, origin="manual"))
    session.flush()
    return outcome


# --------------------------------------------------------------------------- submissions


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
    catalog: Catalog,
    zone: tzinfo,
    now: datetime,
) -> SubmissionCheck:
    """Check every row of a submissions sheet; ``people`` is (id, key, name) of everyone."""
    check_columns(table, SUBMISSION_COLUMNS, SUBMISSION_REQUIRED)
    keys = _Keys(key for _, key, _ in people)
    ids = {key: employee_id for employee_id, key, _ in people}
    good: list[SubmissionRow] = []
    problems: list[Problem] = []
    for row in table.rows:
        found = _extra(table, row)
        for column in SUBMISSION_REQUIRED:
            if not row.text(column):
                found.append(Problem(row.number, "empty_cell", {"column": column}))
        key = _submitter(row, keys, people, found)
        rule, period = row.text("rule"), _period_text(row.raw("period"))
        try:
            rule = check_rule_period(catalog, rule, period) if rule and period else rule
        except RecordError as exc:
            found.append(Problem(row.number, exc.message, exc.params))
        moment = None
        if row.text("submitted_at"):
            moment = parse_moment(row.raw("submitted_at"), zone, now)
            if moment is None:
                params = {"value": row.text("submitted_at")}
                found.append(Problem(row.number, "bad_moment", params))
            elif moment > now:
                params = {"when": f"{moment:%Y-%m-%d %H:%M %Z}", "now": f"{now:%Y-%m-%d %H:%M}"}
                found.append(Problem(row.number, "future", params))
        agency = _flag(row, "agency", found) if "agency" in table.columns else None
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
                )
            )
    skipped = sorted({problem.row for problem in problems})
    return SubmissionCheck(good, problems, skipped)


def _submitter(
    row: Row, keys: _Keys, people: Sequence[tuple[int, str, str]], problems: list[Problem]
) -> str | None:
    raw, text = row.raw("nip"), row.text("nip")
    if not text:
        return None
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        problems.append(Problem(row.number, "nip_number", {"nip": text}, ("excel_number",)))
        return None
    key = keys.get(text)
    if key is None:
        wanted = _Keys.fold(text)
        close = difflib.get_close_matches(wanted, [k for _, k, _ in people], n=3, cutoff=0.7)
        names = {k: name for _, k, name in people}
        hints = ", ".join(f"{k} ({names[k]})" for k in close)
        notes = ("excel_number",) if EXCEL_NUMBER.match(text) else ()
        problems.append(Problem(row.number, "no_employee", {"ident": text, "hints": hints}, notes))
    return key


def apply_submissions(
    session: Session, rows: Sequence[SubmissionRow], now: datetime, recorded_by: str
) -> int:
    """Insert one new submission per row; earlier records are never touched."""
    session.add_all(
        models.Submission(
            employee_id=row.employee_id,
            rule_code=row.rule,
            period=row.period,
            submitted_at=row.submitted_at,
            evidence=row.evidence,
            source="import",
            recorded_by=recorded_by,
            recorded_at=now,
        )
        for row in rows
    )
    session.flush()
    return len(rows)
