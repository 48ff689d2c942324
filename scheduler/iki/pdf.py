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
from collections.abc import Iterator
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
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = len(pdf.pages)
            if pages > MAX_PAGES:
                limits = {"pages": str(pages), "limit": str(MAX_PAGES)}
                raise NotAnIki(say("iki_pdf_too_many_pages", language, path=path, **limits))
            scanned: list[int] = []
            for number, page in enumerate(pdf.pages, 1):
                if not page.chars:
                    if page.images:
                        scanned.append(number)
                    continue
                for line, place in _page_lines(page, number, language):
                    lines.append(line)
                    places.append(place)
                page.close()  # its objects are not needed again: memory stays flat
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


def _page_lines(page: Page, number: int, language: str) -> Iterator[tuple[str, str]]:
    """(line, place) for one page: its table rows and the text lines outside the tables,
    in their order from the top of the page."""
    tables = page.find_tables()
    boxes = [table.bbox for table in tables]
    items: list[tuple[float, str, str]] = []
    outside = page.filter(lambda obj: not _inside(obj, boxes)) if boxes else page
    for count, line in enumerate(outside.extract_text_lines(), 1):
        place = say("iki_place_page_line", language, page=str(number), line=str(count))
        items.append((float(line["top"]), clean(line["text"]), place))
    for index, table in enumerate(tables, 1):
        for row, (cells, found) in enumerate(zip(table.extract(), table.rows, strict=True), 1):
            texts = [clean(cell or "") for cell in cells]
            if not any(texts):
                continue
            where = {"page": str(number), "table": str(index), "row": str(row)}
            place = say("iki_place_page_table_row", language, **where)
            items.append((float(found.bbox[1]), "\t".join(texts), place))
    items.sort(key=lambda item: item[0])
    for _, text, place in items:
        yield text, place


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether an object's centre lies in one of the tables (its text is read as cells)."""
    if "x0" not in obj or "top" not in obj:
        return False
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)
