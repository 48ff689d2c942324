"""A Word (.docx) IKI document laid out as the block reader reads it.

Agencies keep their IKI as a Word file: header items and the signature as paragraphs (or in
a table of their own), the indicators as a table.  Each table row becomes one line of its
cells joined by tabs, so cells stay cells however many lines a cell was broken into (it
reads as the sentence it is); each paragraph becomes a line of its own (a line break
inside a paragraph too).  A table used for layout only (a signature set beside the
superior's in a borderless table, header items in a frame) is read as the paragraphs of
its cells, as the eye reads it.  Every line is named by its table and row,
or its paragraph, for the problems an administrator reads.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from docx import Document
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from scheduler.iki.block import Layout, is_header_row, is_signing_date, is_title
from scheduler.iki.document import NotAnIki
from scheduler.iki.words import clean
from scheduler.messages import say

MAX_XML_BYTES = 64 * 2**20
"""The most the document's XML may unpack to: python-docx holds it all as a tree, and a
150-page IKI is a few megabytes; a small file that unpacks to gigabytes is a zip bomb."""

DOCUMENT_PART = "word/document.xml"
_COLUMN_BREAK = re.compile(r"\t[\t ]*\t")  # two tab stops or more between texts


def read_docx(data: bytes, path: str, language: str) -> Layout:
    """The document's paragraphs and table rows, in their order, as a Layout.

    A damaged file, or a ZIP archive that holds no Word document, is refused (in
    ``language``) with what to do about it, never read in part: an import is all or
    nothing."""
    _check_parts(data, path, language)
    try:
        document = Document(io.BytesIO(data))
        lines: list[str] = []
        places: list[str] = []
        for line, place in _lines(document.iter_inner_content(), language):
            lines.append(line)
            places.append(place)
    except Exception as exc:  # python-docx and lxml fail on a damaged part in many ways
        raise NotAnIki(say("iki_docx_damaged", language, path=path)) from exc
    return Layout(lines, places)


def _check_parts(data: bytes, path: str, language: str) -> None:
    """Refuse, before unpacking anything, a damaged archive, one without a Word document,
    and a document whose XML unpacks to more than MAX_XML_BYTES."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:  # a damaged .docx; by any other name, just binary
        damaged = path.lower().endswith(".docx")
        key = "iki_docx_damaged" if damaged else "iki_binary_file"
        raise NotAnIki(say(key, language, path=path)) from exc
    if DOCUMENT_PART not in {part.filename for part in parts}:
        raise NotAnIki(say("iki_zip_not_docx", language, path=path))
    size = sum(part.file_size for part in parts if part.filename.endswith(".xml"))
    if size > MAX_XML_BYTES:
        megabytes = {"size": str(size // 2**20), "limit": str(MAX_XML_BYTES // 2**20)}
        raise NotAnIki(say("iki_docx_too_large", language, path=path, **megabytes))


def _lines(content: Iterator[Paragraph | Table], language: str) -> Iterator[tuple[str, str]]:
    """(line, place) for the body's paragraphs and tables in document order."""
    paragraphs = tables = 0
    run: list[tuple[str, str]] = []  # the lines of the paragraphs since the last table
    for item in content:
        if isinstance(item, Paragraph):
            paragraphs += 1
            place = say("iki_place_paragraph", language, number=str(paragraphs))
            run.extend((line, place) for line in item.text.split("\n"))
            continue
        yield from _in_columns(run)
        run = []
        tables += 1
        rows = [_distinct(row.cells) for row in item.rows]
        texts = [[clean(cell.text) for cell in row] for row in rows]
        layout = not any(is_header_row(row) for row in texts)
        for number, (row, text) in enumerate(zip(rows, texts, strict=True), 1):
            place = say("iki_place_table_row", language, table=str(tables), row=str(number))
            for line in _row_lines(row, text, layout=layout):
                yield line, place
    yield from _in_columns(run)


def _paragraph_lines(paragraph: Paragraph) -> list[str]:
    """A paragraph's lines (a manual line break starts one); tabs and runs of spaces that
    only indent are one space, so no paragraph line is taken for a table row."""
    return [clean(line) for line in paragraph.text.split("\n")]


def _in_columns(run: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Paragraph lines as they are read, each on one line without its tabs.

    A signature set beside the superior's with tab stops ("Mengetahui,<tab><tab>Tenggarong,
    20 Januari 2025", "NIP. ...<tab><tab>NIP. ...") is read column by column, left first,
    from its signing date to the next title: read across, every line would hold two
    people.  A line indented by tabs alone stands in the right column."""
    sides = [_sides(line) for line, _ in run]
    start = next(
        (k for k, (left, right) in enumerate(sides) if _dated(left) or _dated(right)), None
    )
    end = next((k for k in range(start or 0, len(run)) if is_title(clean(run[k][0]))), len(run))
    if start is None or not any(left and right for left, right in sides[start:end]):
        start = end = len(run)
    for line, place in run[:start]:
        yield clean(line), place
    for column in (0, 1):
        for (_, place), both in zip(run[start:end], sides[start:end], strict=True):
            if both[column]:
                yield both[column], place
    for line, place in run[end:]:
        yield clean(line), place


def _sides(line: str) -> tuple[str, str]:
    """(left, right) of a line split where two tabs or more part its texts; a text
    indented by tabs alone is the right one."""
    parts = [clean(part) for part in _COLUMN_BREAK.split(line.strip(" ")) if part.strip()]
    if len(parts) >= 2:
        return parts[0], " ".join(parts[1:])
    text = clean(line)
    return ("", text) if line.lstrip(" ").startswith("\t") else (text, "")


def _dated(text: str) -> bool:
    return bool(text) and is_signing_date(text, in_row=False)


def _row_lines(cells: list[_Cell], texts: list[str], *, layout: bool) -> list[str]:
    """A table row as one line of tab-joined cells, each cell on one line however many
    lines it was broken into; an empty row as nothing.

    A row with a single filled cell, and in a layout table (one without an indicator
    header: a signature set beside the superior's, header items in a frame) a row with a
    cell of several paragraphs, is read as its cells' paragraphs, one after another."""
    filled = [cell for cell, text in zip(cells, texts, strict=True) if text]
    if not filled:
        return []
    if len(filled) == 1 or (layout and any(_paragraphs(cell) > 1 for cell in filled)):
        return [line for cell in filled for p in cell.paragraphs for line in _paragraph_lines(p)]
    return ["\t".join(texts)]


def _paragraphs(cell: _Cell) -> int:
    return sum(1 for p in cell.paragraphs if p.text.strip())


def _distinct(cells: list[_Cell]) -> list[_Cell]:
    """The row's cells, a cell merged across columns once (python-docx repeats it)."""
    out: list[_Cell] = []
    for cell in cells:
        if not out or cell._tc is not out[-1]._tc:
            out.append(cell)
    return out
