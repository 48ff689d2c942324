"""A PDF IKI document with a text layer, laid out as the block reader reads it.

A PDF exported from Word keeps its tables as ruled cells; pdfplumber finds them by their
rules, and each table row becomes one line of its cells joined by tabs, so cells stay
cells (reading the page as plain text would give whole columns one after another, and no
row could be rebuilt).  The text outside the tables (the header items, the signature)
becomes lines as they stand on the page, tables and lines in their order from top to
bottom.  Every line is named by its page, and its table and row, for the problems an
administrator reads.

A PDF that is only scanned images has no text to read: it is refused with the advice to
OCR it first, as is a password-protected or damaged one, never read into garbage or in
part.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import PdfminerException

from scheduler.iki.block import Layout
from scheduler.iki.document import NotAnIki
from scheduler.iki.words import clean
from scheduler.messages import say

MAX_PAGES = 1000
"""The most pages an IKI PDF may have: one position takes one to three pages, and an
agency has at most a few hundred."""

_SCANNED_LISTED = 10  # pages named when some pages are scanned images


def is_pdf(data: bytes) -> bool:
    """A PDF by its header, which the format allows anywhere in the first kilobyte."""
    return b"%PDF-" in data[:1024]


def read_pdf(data: bytes, path: str, language: str) -> Layout:
    """The text lines and table rows of every page, top to bottom, as a Layout."""
    lines: list[str] = []
    places: list[str] = []
    scanned: list[int] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = len(pdf.pages)
        if pages > MAX_PAGES:
            limits = {"pages": str(pages), "limit": str(MAX_PAGES)}
            raise NotAnIki(say("iki_pdf_too_many_pages", language, path=path, **limits))
        for part in _in_parts(data, pages, language):
            lines.extend(part.lines)
            places.extend(part.places)
            scanned.extend(part.scanned)
    except NotAnIki:
        raise
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else None
        encrypted = isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError))
        key = "iki_pdf_encrypted" if encrypted else "iki_pdf_damaged"
        raise NotAnIki(say(key, language, path=path)) from exc
    except Exception as exc:  # pdfminer fails on a damaged file in many ways
        raise NotAnIki(say("iki_pdf_damaged", language, path=path)) from exc
    if not lines:
        raise NotAnIki(say("iki_pdf_scanned", language, path=path))
    if scanned:
        listed = ", ".join(str(n) for n in scanned[:_SCANNED_LISTED])
        listed += ", …" if len(scanned) > _SCANNED_LISTED else ""
        raise NotAnIki(say("iki_pdf_pages_scanned", language, path=path, pages=listed))
    return Layout(lines, places)


@dataclass
class _Part:
    """What a run of pages holds: lines with their places, and the pages that are scans."""

    lines: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    scanned: list[int] = field(default_factory=list)


PAGES_A_PROCESS = 24
"""Pages worth another process: pdfminer reads a page of dense table in a tenth of a
second of pure Python, so a long PDF is read on every core, in runs of pages; a short one
is not worth starting a process for."""
_MAX_WORKERS = 4  # each adds some 35 MB (151 pages on 2: 153 MB for all processes)


def _in_parts(data: bytes, pages: int, language: str) -> list[_Part]:
    """Every page read, in runs of pages on as many cores as the length is worth."""
    workers = min(os.cpu_count() or 1, _MAX_WORKERS, pages // PAGES_A_PROCESS)
    if workers < 2:
        return [_read_pages(data, 1, pages, language)]
    size = -(-pages // workers)
    firsts = list(range(1, pages + 1, size))
    lasts = [min(first + size - 1, pages) for first in firsts]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        runs = pool.map(_read_pages, repeat(data), firsts, lasts, repeat(language))
        return list(runs)


def _read_pages(data: bytes, first: int, last: int, language: str) -> _Part:
    """Pages first..last (1-based) of the PDF; a page without text but with an image is
    noted as a scan."""
    part = _Part()
    with pdfplumber.open(io.BytesIO(data), pages=list(range(first, last + 1))) as pdf:
        for number, page in zip(range(first, last + 1), pdf.pages, strict=True):
            if not page.chars:
                if page.images:
                    part.scanned.append(number)
                continue
            for line, place in _page_lines(page, number, language):
                part.lines.append(line)
                part.places.append(place)
            page.close()  # its objects are not needed again: memory stays flat
    return part


def _page_lines(page: Page, number: int, language: str) -> Iterator[tuple[str, str]]:
    """(line, place) for one page: its table rows and the text lines outside the tables,
    in their order from the top of the page (two columns of text side by side, left
    before right)."""
    tables = page.find_tables()
    boxes = [table.bbox for table in tables]
    items: list[tuple[float, int, str, str]] = []  # top, order within a top, text, place
    outside = page.filter(lambda obj: not _inside(obj, boxes)) if boxes else page
    lines = _reading_order(_lines(outside.extract_words()), page.width / 2)
    for count, (top, order, text) in enumerate(lines, 1):
        place = say("iki_place_page_line", language, page=str(number), line=str(count))
        items.append((top, order, text, place))
    for index, table in enumerate(tables, 1):
        for row, (cells, found) in enumerate(zip(table.extract(), table.rows, strict=True), 1):
            texts = [clean(cell or "") for cell in cells]
            if not any(texts):
                continue
            where = {"page": str(number), "table": str(index), "row": str(row)}
            place = say("iki_place_page_table_row", language, **where)
            items.append((float(found.bbox[1]), 0, "\t".join(texts), place))
    items.sort(key=lambda item: item[:2])
    for _, _, text, place in items:
        yield text, place


_Piece = tuple[float, float, str]  # x0, x1 and the words of a run of text on a line
_SAME_LINE = 3.0  # points between the tops of words on one line
_COLUMN_GAP = 24.0  # points between two runs of words that are separate columns


def _lines(words: list[dict[str, Any]]) -> list[tuple[float, list[_Piece]]]:
    """The words as lines from the top, each line as its runs of words left to right; a
    gap wider than a few spaces starts a new run."""
    lines: list[tuple[float, list[dict[str, Any]]]] = []
    for word in sorted(words, key=lambda w: (float(w["top"]), float(w["x0"]))):
        if lines and float(word["top"]) - lines[-1][0] <= _SAME_LINE:
            lines[-1][1].append(word)
        else:
            lines.append((float(word["top"]), [word]))
    out: list[tuple[float, list[_Piece]]] = []
    for top, line in lines:
        pieces: list[_Piece] = []
        for word in sorted(line, key=lambda w: float(w["x0"])):
            x0, x1 = float(word["x0"]), float(word["x1"])
            if pieces and x0 - pieces[-1][1] <= _COLUMN_GAP:
                pieces[-1] = (pieces[-1][0], x1, f"{pieces[-1][2]} {word['text']}")
            else:
                pieces.append((x0, x1, str(word["text"])))
        out.append((top, pieces))
    return out


def _reading_order(
    lines: list[tuple[float, list[_Piece]]], middle: float
) -> list[tuple[float, int, str]]:
    """(top, order, text) of each line as a reader takes it in.

    Where text stands in two columns side by side (the superior's signature beside the
    holder's, each with a name and a NIP), the left column is read down first and the
    right one after, both placed at the top of the first such line: read across, every
    line would hold two people.  A line that runs across the middle ends the columns."""
    out: list[tuple[float, int, str]] = []
    k = 0
    while k < len(lines):
        top, pieces = lines[k]
        left = any(x1 <= middle for _, x1, _ in pieces)
        if not (left and any(x0 >= middle for x0, _, _ in pieces)):
            out.append((top, 0, clean(" ".join(text for _, _, text in pieces))))
            k += 1
            continue
        end = k
        while end < len(lines) and all(x1 <= middle or x0 >= middle for x0, x1, _ in lines[end][1]):
            end += 1
        columns = [
            clean(" ".join(text for x0, _, text in line if (x0 < middle) == is_left))
            for is_left in (True, False)
            for _, line in lines[k:end]
        ]
        out.extend((top, order, text) for order, text in enumerate(t for t in columns if t))
        k = end
    return out


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether an object's centre lies in one of the tables (its text is read as cells)."""
    if "x0" not in obj or "top" not in obj:
        return False
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)
