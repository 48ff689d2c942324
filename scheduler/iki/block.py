"""One IKI block as a document lays it out, and the IkiBlock it becomes once read.

An IKI ("Indikator Kinerja Individu") document holds one block per employee: a title line,
four header items (PERANGKAT DAERAH, JABATAN, TUGAS, FUNGSI), an indicator table and a
signature (place and date, position, name, NIP).  Every reader of a file format (OCR text,
Word, PDF: scheduler.iki.files) fills the same Layout, lines in which a table row is its
cells joined by tabs, and this module reads the BlockParts of each block from it: that is
the one model of a block, so what it means is decided once whatever the format.  The text
may be OCR output, so every part of that layout may be damaged: headers go missing or
shift by one label, columns are duplicated or shifted, cells carry running numbers, NIPs
lose digits.

This module finds where blocks start and reads those parts as they stand.  Deciding what
they mean (identity, position, unit, codes) is left to scheduler.iki.document, so that the layout
rules can be read, and mended after the next OCR accident, without the catalog or the
roster in view.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from scheduler.iki.words import clean, drop_rank, is_nip, nip_value, split_nip
from scheduler.messages import say

Severity = Literal["error", "review"]
Column = Literal["indikator", "penjelasan"]


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Problem:
    """Something an administrator must know about the import, located by line (1-based).

    ``error``: the block could not be imported.  ``review``: it was imported on a guess.
    ``where`` names the place in a Word or PDF file (page, table, row) the line stands
    for; None in a text file, where the line number is the place.
    """

    line: int
    message: str
    severity: Severity
    where: str | None = None


@dataclass(frozen=True)
class Evidence:
    """Why a code was attributed: the cell that matched the rule's pattern, and where."""

    code: str
    line: int
    column: Column
    text: str


@dataclass
class IkiBlock:
    """One employee's IKI as read from the text, before people are merged across blocks."""

    number: int
    start_line: int
    end_line: int
    name: str | None
    nip: str | None
    raw_nip: str | None
    position: str | None
    unit: str | None
    signed_on: date | None
    evidence: dict[str, Evidence] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    where: str | None = None  # where it starts in a Word or PDF file; None in text


@dataclass(frozen=True)
class Layout:
    """A document as every reader hands it over: its lines, a table row being its cells
    joined by tabs (no other line holds a tab), and where each line stands in the file.

    ``places`` is None for a text file, whose lines are their own place ("L12"); a Word
    or PDF reader names each line by its page, table and row instead.
    """

    lines: list[str]
    places: list[str] | None = None

    def where(self, line: int) -> str:
        """Where line ``line`` (1-based) stands, as an administrator finds it in the file."""
        if self.places is None or not 0 < line <= len(self.places):
            return f"L{line}"
        return self.places[line - 1]


def in_block(number: int, note: str, language: str) -> str:
    """A block-level note as a problem's message: "block 5: ..." ("blok 5: ...")."""
    return say("iki_block", language, number=str(number), note=note)


# --------------------------------------------------------------------------- layout

# "INDIKATOR KINERJA INDIVIDU", with "(IKI)" and "TAHUN 2025" after it in some templates.
_TITLE = re.compile(
    r"^[\s*#_|>]*INDIKATOR\s+KINERJA\s+INDIVIDU[\s*#_|.:]*(?:\(IKI\)[\s*#_|.:]*)?"
    r"(?:TAHUN\s+(?:ANGGARAN\s+)?(?:19|20)\d{2}[\s*#_|.:]*)?$",
    re.IGNORECASE,
)

# Header labels are upper case in the template ("2. JABATAN :"); other agencies' templates
# number them "1)", "I." or "a." and write "Jabatan :" or "JABATAN. :".  A label in any
# case is taken only before its colon: "fungsi" in the TUGAS sentence is no label.
_LABEL = re.compile(
    r"(?P<num>(?<![\w.])(?:\d{1,2}|[IVX]{1,4}|[a-h])\s*[.)]\s*)?"
    r"\b(?P<label>(?i:PER+ANGKAT\s+DAERAH|(?:NAMA\s+)?JABATAN|TUGAS|FUNGSI))\b"
    r"(?P<colon>\s*\.?\s*:)?\s*"
)

_MONTHS = {
    "januari": 1,
    "februari": 2,
    "pebruari": 2,
    "maret": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "nopember": 11,
    "desember": 12,
}
# "Tenggarong, 20 Januari 2025", "Tanggal 1 Februari 2025"; text after the date is kept
# because one block (L1057) has the signature position on the same line.
_SIGN_DATE = re.compile(
    r"^(?P<place>[A-Z][A-Za-z.' ]{1,40},\s*|Tanggal\s+)?(?P<d>\d{1,2})\s+(?P<m>[A-Za-z]{3,10})\s+"
    r"(?P<y>(?:19|20)\d{2})\b\s*(?P<rest>.*)$"
)

# The marks of a sub-list item: FUNGSI as "a. ...", "1) ...", "- i. ...".
_LIST_ITEM = re.compile(r"^[-–•\s]*(?:[ivx]+\.|\d+[.)]|[a-h][.)])?\s*")
_INDICATOR_HEAD = re.compile(r"^INDIKATOR\b", re.IGNORECASE)
_SASARAN_HEAD = re.compile(r"\bSASARAN\b", re.IGNORECASE)
_HEAD_LENGTH = 60  # a column's name; a row's SASARAN or INDIKATOR sentence is longer
_LIST_MARK = re.compile(r"^(?:[-–•]|(?:[ivx]+|\d+|[a-h])[.)]\s)")
_ROW_NUMBER = re.compile(r"\d{1,3}")
_RUNNING_NUMBER = re.compile(r"^\d{1,3}\s*\.?\s+(?=\S)")
_NUMERIC_CELL = re.compile(r"^[\d\s.,]*$")


# --------------------------------------------------------------------------- segmentation


def find_segments(lines: Sequence[str]) -> list[tuple[int, int, bool]]:
    """(first, last, titled) 1-based line ranges, one per block.

    A block starts at a title line.  Should OCR have lost a title, a block also starts
    where a header item or a table row follows a signature date, or where table content
    precedes the first title: otherwise two people would be read as one and the first
    silently lost.  Without any title line at all the text is not taken for an IKI.
    """
    starts: list[tuple[int, bool]] = []
    after_signature = False
    for number, line in enumerate(lines, 1):
        if _TITLE.match(line):
            starts.append((number, True))
            after_signature = False
            continue
        if not line.strip():
            continue
        is_row = "\t" in line
        content = is_row or bool(_label_items(clean(line.replace("|", " "))))
        if content and (after_signature or not starts):
            starts.append((number, False))
            after_signature = False
        if any(is_signing_date(cell, in_row=is_row) for cell in line.split("\t")):
            after_signature = True
    if not any(titled for _, titled in starts):
        return []
    out: list[tuple[int, int, bool]] = []
    for k, (start, titled) in enumerate(starts):
        end = starts[k + 1][0] - 1 if k + 1 < len(starts) else len(lines)
        while end > start and not lines[end - 1].strip():
            end -= 1
        out.append((start, end, titled))
    return out


def is_title(line: str) -> bool:
    """The title line that starts a block ("INDIKATOR KINERJA INDIVIDU (IKI)")."""
    return bool(_TITLE.match(line))


def is_signing_date(text: str, *, in_row: bool) -> bool:
    """A signature date; inside a table row only with its place ("Tenggarong, ..."), as a
    cell may well start with a deadline such as "31 Maret 2025"."""
    m = _SIGN_DATE.match(text.strip())
    return bool(m and _month(m.group("m")) is not None and (m.group("place") or not in_row))


# --------------------------------------------------------------------------- one block


@dataclass(frozen=True)
class Row:
    """An indicator row without its NO and SASARAN cells (SASARAN never decides a code)."""

    line: int
    cells: tuple[str, ...]  # INDIKATOR first, then PENJELASAN and duplicated extras


@dataclass
class Signature:
    """The signature under the table, each part with its line; None where OCR lost it."""

    date_line: int | None = None
    signed_on: date | None = None
    position: str | None = None
    position_line: int | None = None
    name: str | None = None
    name_line: int | None = None
    raw_nip: str | None = None
    nip_line: int | None = None


@dataclass
class BlockParts:
    """One block's parts as read from its lines, before anything is decided about them."""

    start: int
    end: int
    titled: bool
    headers: dict[str, tuple[int, str]]
    orphans: list[tuple[int, str]]
    rows: list[Row]
    signature: Signature


def read_block(lines: Sequence[str], start: int, end: int, titled: bool) -> BlockParts | None:
    """The parts of lines start..end (1-based, inclusive); None when there is nothing to
    read (the cover page repeats the title; it is not a block)."""
    numbered = list(enumerate(lines[start - 1 : end], start))
    headers, orphans = read_headers(numbered)
    rows = read_rows(numbered)
    signature = read_signature(numbered, rows)
    if not (rows or headers or signature.raw_nip or signature.signed_on):
        return None
    return BlockParts(start, end, titled, headers, orphans, rows, signature)


def read_headers(
    numbered: Sequence[tuple[int, str]],
) -> tuple[dict[str, tuple[int, str]], list[tuple[int, str]]]:
    """Header items by label (first occurrence wins), and ': value' lines without a label.

    Handles "2. JABATAN : X", "JABATAN : X", "1) Jabatan : X", "I. JABATAN : X", "JABATAN. :
    X", "| 2. JABATAN | : X |", tab-separated items (a Word table's cells), several items
    on one physical line (L1308), a FUNGSI whose value sits on the next line (L657-658)
    or is a lettered sub-list (its first item names the unit), and a value wrapped onto the
    lines right below it, as a PDF's lines are ("... di bidang Ideologi dan" / "Wawasan
    Kebangsaan").
    """
    found: dict[str, tuple[int, str]] = {}
    orphans: list[tuple[int, str]] = []
    pending_fungsi: int | None = None
    wrapped: tuple[str, int] | None = None  # the item the line before ended with
    for line_no, raw in numbered:
        text = clean(raw.replace("|", " ").replace("\t", " "))
        if not text:
            wrapped = None
            continue
        items = _label_items(text)
        if wrapped is not None and not items and line_no == wrapped[1] + 1 and _wraps(raw):
            first, value = found[wrapped[0]]
            found[wrapped[0]] = (first, f"{value} {text}")
            wrapped = (wrapped[0], line_no)
            continue
        wrapped = None
        if pending_fungsi is not None and not items:
            if "\t" not in raw and not text.upper().startswith("NO "):
                found["FUNGSI"] = (line_no, _LIST_ITEM.sub("", text))
            pending_fungsi = None
            continue
        pending_fungsi = None
        if not items and text.startswith(":") and "\t" not in raw:
            orphans.append((line_no, text.lstrip(": ").strip()))
            continue
        for label, value in items:
            key = "PERANGKAT" if label.startswith("PER") else label
            if key in found:
                wrapped = None
                continue
            found[key] = (line_no, value)
            wrapped = (key, line_no) if value else None
            if key == "FUNGSI" and not value:
                pending_fungsi = line_no
    if "FUNGSI" in found and not found["FUNGSI"][1]:
        del found["FUNGSI"]
    return found, orphans


def _wraps(raw: str) -> bool:
    """Whether a line without a label can be the rest of the item above it: not a table
    row, an orphaned ': value', a sub-list item, a title or a signing date."""
    text = clean(raw)
    return not (
        "\t" in raw
        or text.startswith(":")
        or _LIST_MARK.match(text)
        or _TITLE.match(raw)
        or is_signing_date(text, in_row=False)
    )


def _label_items(text: str) -> list[tuple[str, str]]:
    """Split a normalised line into (LABEL, value) items; labels must start the line or
    follow their item number, so ordinary words in a sentence never count."""
    matches = [
        m
        for m in _LABEL.finditer(text)
        if (m.start() == 0 or m.group("num") or _is_row_prefix(text[: m.start()]))
        and (m.group("label").isupper() or m.group("colon"))
    ]
    items: list[tuple[str, str]] = []
    for k, m in enumerate(matches):
        stop = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        value = text[m.end() : stop].strip(" :|")
        label = re.sub(r"\s+", " ", m.group("label")).upper().removeprefix("NAMA ")
        items.append((label, value))
    return items


def _is_row_prefix(prefix: str) -> bool:
    return bool(re.fullmatch(r"\s*\d{1,3}\s*", prefix))


def read_rows(numbered: Sequence[tuple[int, str]]) -> list[Row]:
    """Indicator rows: numbered rows, and un-numbered continuation rows inside a table.

    Column-number rows ("1 2 3"), header rows embedded in the table and a signature that
    strayed into a row are skipped.  Cells lose their running-number prefix ("16 Tingkat
    ...") and purely numeric cells are dropped, so the first remaining cell after SASARAN
    is the INDIKATOR even when OCR inserted empty or duplicated columns.

    The header row says where the INDIKATOR column is when a template has more named
    columns before it ("NO | SASARAN STRATEGIS | SASARAN PROGRAM | INDIKATOR") or no NO
    column at all ("SASARAN/KINERJA UTAMA | INDIKATOR KINERJA INDIVIDU"): below such a
    header every row of the table is an indicator row, numbered or not.
    """
    rows: list[Row] = []
    in_table = False
    headed = False  # under a header without a NO column: rows carry no number
    skip = 2  # the cells before the INDIKATOR: NO and SASARAN in the template
    for line_no, raw in numbered:
        if "\t" not in raw:
            continue
        cells = raw.split("\t")
        first = cells[0].strip()
        if is_header_row(cells):
            at = _indicator_column(cells)
            in_table = True
            headed = not _is_no(first)
            skip = at if at is not None else 2
            continue
        is_numbered = bool(_ROW_NUMBER.fullmatch(first))
        if not (is_numbered or headed or (first == "" and in_table)):
            continue
        joined = clean(" ".join(cells))
        if _label_items(joined) or any(is_signing_date(c, in_row=True) for c in cells):
            continue
        in_table = True
        rest = tuple(
            cell
            for cell in (_RUNNING_NUMBER.sub("", clean(c)) for c in cells[skip:])
            if cell and not _NUMERIC_CELL.match(cell)
        )
        if rest:
            rows.append(Row(line_no, rest))
    return rows


def is_header_row(cells: Sequence[str]) -> bool:
    """The header row of an indicator table: "NO | SASARAN ... | INDIKATOR ...", or named
    columns with a SASARAN before the INDIKATOR."""
    return bool(cells) and (_is_no(cells[0]) or _indicator_column(cells) is not None)


def _is_no(cell: str) -> bool:
    return cell.strip().upper().rstrip(" .") == "NO"


def _indicator_column(cells: Sequence[str]) -> int | None:
    """Where a header row puts the INDIKATOR column, when every column before it is named
    (a SASARAN among them) with a name, not a sentence or a number; None for any other
    row, and for the template's own header or one where OCR inserted an empty column (the
    cells are then sorted out by content)."""
    names = [clean(cell) for cell in cells]
    at = next((k for k, name in enumerate(names) if _INDICATOR_HEAD.match(name)), None)
    if at is None or at == 0 or not all(0 < len(name) <= _HEAD_LENGTH for name in names[: at + 1]):
        return None  # a column without a name, or an indicator row's sentence
    if any(_NUMERIC_CELL.match(name) for name in names[:at]):
        return None  # a numbered row
    if not any(_SASARAN_HEAD.search(name) for name in names[:at]):
        return None
    return None if (at == 2 and _is_no(names[0])) else at


def read_signature(numbered: Sequence[tuple[int, str]], rows: Sequence[Row]) -> Signature:
    """Date, position, name and NIP from the lines after the table.

    The position is the first line after the date; the name is the first other line that
    is not the NIP, whichever order OCR put name and NIP in, without the pangkat and
    golongan some templates write after it (or between it and the NIP on one line).
    """
    sig = Signature()
    last_row = rows[-1].line if rows else 0
    date_index: int | None = None
    rest = ""
    for index in range(len(numbered) - 1, -1, -1):
        line_no, raw = numbered[index]
        if line_no <= last_row:
            break
        for cell in raw.split("\t"):
            m = _SIGN_DATE.match(cell.strip())
            if m and is_signing_date(cell, in_row="\t" in raw):
                date_index, rest = index, clean(m.group("rest"))
                sig.date_line = line_no
                sig.signed_on = _date(m)
                break
        if date_index is not None:
            break
    if date_index is not None:
        tail = [(n, clean(raw)) for n, raw in numbered[date_index + 1 :] if raw.strip()]
        if rest:
            sig.position, sig.position_line = rest.rstrip(","), sig.date_line
        elif tail and not is_nip(tail[0][1]):
            sig.position, sig.position_line = tail[0][1].rstrip(" ,"), tail[0][0]
            tail = tail[1:]
    else:
        tail = [
            (n, clean(raw))
            for n, raw in numbered[1:]
            if raw.strip() and "\t" not in raw and n > last_row
        ]
        tail = [(n, t) for n, t in tail if not _label_items(clean(t.replace("|", " ")))]
        if tail and not is_nip(tail[0][1]) and tail[0][1].endswith(","):
            sig.position, sig.position_line = tail[0][1].rstrip(" ,"), tail[0][0]
            tail = tail[1:]
    for line_no, text in tail:
        joined = None if is_nip(text) else split_nip(text)
        if joined is not None:  # name, pangkat and NIP on one line
            text, value = joined
            if sig.raw_nip is None:
                sig.raw_nip, sig.nip_line = value, line_no
        if is_nip(text):
            if sig.raw_nip is None and nip_value(text):  # a bare "NIP." is no NIP
                sig.raw_nip, sig.nip_line = nip_value(text), line_no
        elif sig.name is None and re.search(r"[A-Za-z]{2}", text):
            name = drop_rank(re.sub(r"\s*,\s*", ", ", text).strip(" ,"))
            sig.name, sig.name_line = name, line_no
    return sig


def _month(word: str) -> int | None:
    key = word.lower()
    if key in _MONTHS:
        return _MONTHS[key]
    close = difflib.get_close_matches(key, list(_MONTHS), n=1, cutoff=0.8)
    return _MONTHS[close[0]] if close else None


def _date(m: re.Match[str]) -> date | None:
    month = _month(m.group("m"))
    if month is None:
        return None
    try:
        return date(int(m.group("y")), month, int(m.group("d")))
    except ValueError:
        return None
