"""An IKI file of any format the agencies hold, told by its content, as a Layout.

A file is what its bytes say it is, whatever its name: a ZIP archive is a Word document
(scheduler.iki.word), ``%PDF-`` starts a PDF (scheduler.iki.pdf), an old Word 97-2003 file
is refused with the advice to save it as .docx, and anything else is read as (OCR) text,
unless its name ends in .docx or .pdf: then it is a damaged one.  All of them become the
same Layout, so the blocks, people and review notes are read once
(scheduler.iki.document.parse_layout).
"""

from __future__ import annotations

from scheduler.iki.block import Layout
from scheduler.iki.document import NotAnIki, decode_text, text_layout
from scheduler.iki.pdf import is_pdf, read_pdf
from scheduler.iki.word import read_docx
from scheduler.messages import say

MAX_FILE_BYTES = 50 * 2**20
"""The largest IKI file read: a 150-page Word or PDF document is a megabyte or two, the
seed's text 200 KB; a PDF full of page scans is refused anyway."""

_DAMAGED = {"docx": "iki_docx_damaged", "pdf": "iki_pdf_damaged"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 (.doc) and other OLE files


def read_layout(data: bytes, path: str, language: str) -> Layout:
    """The file's Layout, whichever format its content is in; refusals (NotAnIki) are
    worded in ``language`` and say what to do."""
    if len(data) > MAX_FILE_BYTES:
        sizes = {"size": str(len(data) // 2**20), "limit": str(MAX_FILE_BYTES // 2**20)}
        raise NotAnIki(say("iki_file_too_large", language, path=path, **sizes))
    if data.startswith(b"PK\x03\x04"):
        return read_docx(data, path, language)
    if is_pdf(data):
        return read_pdf(data, path, language)
    if data.startswith(_OLE):
        raise NotAnIki(say("iki_doc_legacy", language, path=path))
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix in _DAMAGED:  # named so, but its content is no such file
        raise NotAnIki(say(_DAMAGED[suffix], language, path=path))
    text = decode_text(data)
    if text is None:
        raise NotAnIki(say("iki_binary_file", language, path=path))
    return text_layout(text, language)
