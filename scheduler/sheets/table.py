"""Spreadsheet tables in and out, and the checks every sheet shares.

Reading gives a :class:`Table` of raw cells with their spreadsheet row numbers (the header is
row 1).  Checking a table against the stored records yields the good rows and a
:class:`Problem` per bad one, without writing anything; applying the good rows happens in
the caller's transaction, so that "nothing unless everything is good" is one rollback.
The sheets themselves live beside this module: :mod:`scheduler.sheets.roster` (with
:mod:`scheduler.sheets.roster_check`) and :mod:`scheduler.sheets.submissions`.

CSV is read as UTF-8 (a byte-order mark is allowed) with ``,`` or ``;`` as delimiter (Excel
in an Indonesian locale writes ``;``); XLSX is read from its first sheet.  CSV is written as
UTF-8 with a byte-order mark so that Excel shows names with diacritics correctly.

Every CSV the project writes goes through :func:`write_csv`, which keeps a spreadsheet from
running a cell as a formula (CSV injection): a cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, after any apostrophes, gets one more apostrophe in front
(``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``, ``-100123`` → ``'-100123``).  Reading a CSV takes
exactly that apostrophe away again (:func:`restore`), so a value exported and imported back
is the value stored, whatever it begins with.  XLSX cells are written as text, never as
formulas, and are read as they are.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO

from scheduler.messages import say
from scheduler.store.records import NIP_PATTERN, QUOTED, RecordError, normalise_nip

SUFFIXES = (".csv", ".xlsx")
# A cell a spreadsheet would run as a formula (OWASP's list), after the apostrophes that mark
# it as text: one apostrophe more is added on writing and taken away on reading.
FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
EXCEL_ROWS = 1_048_576  # no spreadsheet has more; a row numbered beyond is not read
EXCEL_NUMBER = re.compile(r"^\d+([.,]\d+)?E\+?\d+$", re.IGNORECASE)
FLAGS = {
    "yes": True, "y": True, "true": True, "1": True, "ya": True,
    "no": False, "n": False, "false": False, "0": False, "tidak": False,
}  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """How much a sheet may hold.  A file beyond the first four is refused as a whole before
    much of it is read (an XLSX is a zip: its members' unpacked sizes are added up before
    openpyxl opens it, so a small file that would unpack to gigabytes never is); a cell
    beyond its column's length is one short problem on its row, quoting only its start."""

    file_bytes: int = 32 * 2**20  # a 200,000-row roster as CSV is about 25 MB
    unpacked_bytes: int = 256 * 2**20  # all members of an XLSX, unpacked
    rows: int = 200_000  # not counting the header and empty rows
    columns: int = 64
    cell_chars: int = 2_000  # a cell whose column sets no length of its own (review, evidence)
    quoted_chars: int = QUOTED  # how much of a cell too long a problem quotes
    quoted_values: int = 60  # how much of any value a problem shows (a name, a bad NIP)


LIMITS = Limits()


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
        """The reason in ``language``; every value longer than a few dozen characters (most
        often the cell itself) is cut short, so that no cell is echoed whole."""
        most = LIMITS.quoted_values
        params = {k: v if len(v) <= most else v[:most] + "…" for k, v in self.params.items()}
        parts = [say(self.message, language, **params)]
        parts += [say(note, language) for note in self.notes]
        return "; ".join(parts)


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
    if type(value) is str:  # most cells, read a dozen times each: the short way first
        return value.strip()
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


def read_table(path: str, expected: Sequence[str] = (), limits: Limits = LIMITS) -> Table:
    """Read a CSV or XLSX file within ``limits``; the first non-empty row is the header."""
    suffix = suffix_of(path)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise SheetError("bad_csv", path=path, row="-", reason=exc.strerror or str(exc)) from None
    if size > limits.file_bytes:
        raise SheetError("sheet_too_big", path=path, size=str(size), limit=str(limits.file_bytes))
    if suffix == ".csv":
        records, delimiter = _read_csv(path, limits)
    else:
        records, delimiter = _read_xlsx(path, limits), ","
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


def _bounded(
    path: str, rows: Iterable[Sequence[Cell]], limits: Limits
) -> list[tuple[int, list[Cell]]]:
    """The rows that hold something, numbered, refused as a whole beyond ``limits``."""
    records: list[tuple[int, list[Cell]]] = []
    for number, cells in enumerate(rows, start=1):
        if not any(_filled(c) for c in cells):
            continue
        if len(records) > limits.rows:  # the header and ``rows`` rows are kept already
            raise SheetError("too_many_rows", path=path, limit=str(limits.rows))
        if len(cells) > limits.columns and any(_filled(c) for c in cells[limits.columns :]):
            raise SheetError("too_many_columns", path=path, limit=str(limits.columns))
        records.append((number, list(cells[: limits.columns])))
    return records


def _read_csv(path: str, limits: Limits) -> tuple[list[tuple[int, list[Cell]]], str]:
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = ([restore(cell) for cell in cells] for cells in reader)
        return _bounded(path, rows, limits), delimiter
    except csv.Error as exc:
        row = str(reader.line_num)
        if str(exc).startswith("field larger than field limit"):  # the csv module's own cap
            limit = str(limits.cell_chars)
            raise SheetError("csv_cell_huge", path=path, row=row, limit=limit) from None
        raise SheetError("bad_csv", path=path, row=row, reason=str(exc)) from None


def _cell(value: object) -> Cell:
    """A workbook value as one of the plain kinds rows hold; anything richer (rich text,
    formulas kept as objects) is read as its text."""
    if value is None or isinstance(value, str | int | float | date | time):
        return value
    return str(value)


def _read_xlsx(path: str, limits: Limits) -> list[tuple[int, list[Cell]]]:
    """The first sheet's rows, read as a stream (openpyxl's read-only mode) after the zip's
    declared sizes are checked: Python's zip reader never unpacks more than a member
    declares, so the check holds for a file that lies about them too."""
    import openpyxl

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetError("bad_xlsx", path=path, reason=str(exc) or type(exc).__name__) from None
    if unpacked > limits.unpacked_bytes:
        words = {"size": str(unpacked), "limit": str(limits.unpacked_bytes)}
        raise SheetError("xlsx_unpacked", path=path, **words)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file: any of zip, XML or key errors
        raise SheetError("bad_xlsx", path=path, reason=str(exc) or type(exc).__name__) from None
    try:
        sheet = workbook.worksheets[0]
        # The reader pads every row to the width the sheet declares, so a sheet declared
        # wider than the limit is refused unread, and cells beyond it are never read.
        if (sheet.max_column or 0) > limits.columns:
            raise SheetError("too_many_columns", path=path, limit=str(limits.columns))
        rows = sheet.iter_rows(max_row=EXCEL_ROWS, max_col=limits.columns, values_only=True)
        return _bounded(path, ([_cell(value) for value in values] for values in rows), limits)
    except SheetError:
        raise
    except Exception as exc:
        raise SheetError("bad_xlsx", path=path, reason=str(exc) or type(exc).__name__) from None
    finally:
        workbook.close()


def neutralise(text: str) -> str:
    """A cell as CSV holds it: one apostrophe before what a spreadsheet would run."""
    return "'" + text if FORMULA_START.match(text) else text


def restore(text: str) -> str:
    """A CSV cell as it was before :func:`neutralise` (only its apostrophe goes)."""
    return text[1:] if text.startswith("'") and FORMULA_START.match(text) else text


# Excel set for Indonesia writes the decimal comma, so it splits CSV at semicolons.
DELIMITER = ";"


def write_csv(
    handle: TextIO,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    delimiter: str = DELIMITER,
) -> int:
    """The one CSV writer, for Excel as an Indonesian office runs it: a BOM (without one
    Excel reads UTF-8 as ANSI and garbles names), ``delimiter`` between cells, a header and
    rows, every cell neutralised and every NIP written as NIPs are (:func:`nip_text`);
    returns the row count.  The importers read all of it back unchanged."""
    handle.write("\ufeff")
    writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in columns])
    count = 0
    for row in rows:
        writer.writerow([neutralise(nip_text(cell)) for cell in row])
        count += 1
    return count


def nip_text(text: str) -> str:
    """An 18-digit NIP as it is written on paper, "19710515 200012 1 003": Excel keeps that
    as text, where it turns 18 bare digits into 1,97105E+17 and loses the last three; the
    importers take the spaces out again.  Any other text is left as it is."""
    if not NIP_PATTERN.fullmatch(text):
        return text
    return f"{text[:8]} {text[8:14]} {text[14]} {text[15:]}"


def csv_text(
    columns: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str = DELIMITER
) -> str:
    """A table as CSV text, BOM first (e.g. an e-mail attachment), by :func:`write_csv`."""
    out = io.StringIO()
    write_csv(out, columns, rows, delimiter)
    return out.getvalue()


def write_table(
    path: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    delimiter: str = DELIMITER,
    title: str | None = None,
) -> int:
    """Write a header and rows of text; return the number of rows written.  An XLSX sheet
    is named ``title``, or after the file: pass the name the user asked for when ``path``
    is a temporary file beside it."""
    rows = list(rows)
    if suffix_of(path) == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            write_csv(handle, columns, rows, delimiter)
    else:
        _write_xlsx(path, columns, rows, title or Path(path).stem)
    return len(rows)


def _write_xlsx(
    path: str, columns: Sequence[str], rows: Sequence[Sequence[str]], title: str
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31] or "Sheet1"
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


def flag_cell(row: Row, column: str, problems: list[Problem]) -> bool | None:
    """yes/no/true/false/1/0 (and ya/tidak); None when the cell is empty."""
    text = row.text(column)
    if not text:
        return None
    value = FLAGS.get(text.lower())
    if value is None:
        problems.append(Problem(row.number, "bad_flag", {"column": column, "value": text}))
    return value


def long_cells(
    row: Row, lengths: Mapping[str, int | None], limits: Limits = LIMITS
) -> list[Problem]:
    """A problem for each cell longer than its column holds (``lengths``: the stored column's
    own length) or, where the column sets none, than ``limits.cell_chars``; each quotes only
    the cell's start, so a sheet of huge cells gives short errors."""
    problems = []
    for column, value in row.cells.items():
        if not isinstance(value, str):  # a workbook's number or date: read by its own rules
            continue
        text = cell_text(value)
        limit = lengths.get(column) or limits.cell_chars
        if len(text) > limit:
            start = text[: limits.quoted_chars]
            words = {"field": column, "length": str(len(text)), "limit": str(limit)}
            problems.append(Problem(row.number, "too_long", {**words, "start": start}))
    return problems


def extra_cells(table: Table, row: Row) -> list[Problem]:
    """Non-empty cells beyond the last heading: most often a delimiter inside a value that
    is not quoted, which shifts the row; the row is refused rather than read askew."""
    if not row.extra:
        return []
    params = {"count": str(row.extra), "delimiter": table.delimiter}
    return [Problem(row.number, "extra_cells", params)]


def rows_to_read(
    table: Table, lengths: Mapping[str, int | None], problems: list[Problem]
) -> Iterator[tuple[Row, list[Problem]]]:
    """Each row of ``table`` worth reading, with the problems found so far (`extra_cells`).
    A row with a cell too long (`long_cells`) is not read further, so that its errors stay
    short: they go to ``problems`` and the row is not yielded."""
    for row in table.rows:
        too_long = long_cells(row, lengths)
        if too_long:
            problems += too_long
        else:
            yield row, extra_cells(table, row)


def nip_cell(row: Row, column: str, problems: list[Problem]) -> str | None:
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


class Keys:
    """Employee keys as typed in a cell (any case for TMP- keys, spaces in NIPs) → stored."""

    def __init__(self, stored: Iterable[str]) -> None:
        self.by_fold = {key.casefold(): key for key in stored}

    @staticmethod
    def fold(text: str) -> str:
        text = text.strip()
        return text.casefold() if text.upper().startswith("TMP-") else normalise_nip(text)

    def get(self, text: str) -> str | None:
        return self.by_fold.get(self.fold(text))
