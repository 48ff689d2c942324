"""The evidence_files table's one writer and its readers: files handed in as a
submission's evidence through the console.

A file is what its bytes say it is: its name must end as one of the accepted kinds and its
content must be that kind (a PDF's header, an image's signature, an Office document's
parts), or it is refused with a sentence; the type it is served with later is the one
checked here, never the browser's claim.  Nothing is parsed beyond those few bytes and, for
the ZIP-based Office documents, the archive's list of names (no member is decompressed).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models
from scheduler.store.records import RecordError

MAX_BYTES = 10 * 2**20  # a scanned receipt or a signed PDF is well under this
NAME_CHARS = 200  # the column's


def _zip_names(data: bytes) -> list[str]:
    """The member names of a ZIP archive, read from its directory; none when it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return []


def _ooxml(folder: str) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        names = _zip_names(data) if data.startswith(b"PK\x03\x04") else []
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return check


def _odf(mimetype: bytes) -> Callable[[bytes], bool]:
    # The ODF format puts its mimetype, stored uncompressed, first in the archive.
    return lambda data: (
        data.startswith(b"PK\x03\x04")
        and data[30:38] == b"mimetype"
        and (data[38 : 38 + len(mimetype)] == mimetype)
    )


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word, Excel and PowerPoint 97-2003


@dataclass(frozen=True)
class Kind:
    """An accepted kind of file: the name's endings, the type it is served as, and the test
    its content must pass."""

    suffixes: tuple[str, ...]
    content_type: str
    matches: Callable[[bytes], bool]


KINDS = (
    Kind(("pdf",), "application/pdf", lambda d: b"%PDF-" in d[:1024]),
    Kind(("jpg", "jpeg"), "image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    Kind(("png",), "image/png", lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    Kind(
        ("docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ooxml("word/"),
    ),
    Kind(
        ("xlsx",),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ooxml("xl/"),
    ),
    Kind(
        ("pptx",),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ooxml("ppt/"),
    ),
    Kind(("doc",), "application/msword", lambda d: d.startswith(_OLE)),
    Kind(("xls",), "application/vnd.ms-excel", lambda d: d.startswith(_OLE)),
    Kind(
        ("odt",),
        "application/vnd.oasis.opendocument.text",
        _odf(b"application/vnd.oasis.opendocument.text"),
    ),
    Kind(
        ("ods",),
        "application/vnd.oasis.opendocument.spreadsheet",
        _odf(b"application/vnd.oasis.opendocument.spreadsheet"),
    ),
)
ACCEPTED = ", ".join(suffix.upper() for kind in KINDS for suffix in kind.suffixes)
SUFFIXES = tuple(f".{suffix}" for kind in KINDS for suffix in kind.suffixes)


def clean_name(name: str) -> str:
    """A file name as it may be stored and offered again: its last path part (a browser
    may send ``C:\\Users\\…``), without control characters, within the column."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    if len(base) > NAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        base = stem[: NAME_CHARS - len(suffix) - 1] + dot + suffix if dot else base[:NAME_CHARS]
    return base


def check(name: str, data: bytes) -> str:
    """The content type of the file ``name`` holding ``data``, once its name and content
    agree on an accepted kind; a RecordError that says why and what is accepted otherwise."""
    shown = clean_name(name) or "?"
    if not data:
        raise RecordError("evidence_empty", name=shown)
    if len(data) > MAX_BYTES:
        size = f"{len(data) / 2**20:.1f}"
        raise RecordError("evidence_too_large", name=shown, size=size, limit=str(MAX_BYTES >> 20))
    suffix = shown.lower().rpartition(".")[2] if "." in shown else ""
    kind = next((k for k in KINDS if suffix in k.suffixes), None)
    if kind is None:
        raise RecordError("evidence_kind", name=shown, accepted=ACCEPTED)
    if not kind.matches(data):
        raise RecordError("evidence_content", name=shown, kind=suffix.upper())
    return kind.content_type


def add(
    session: Session,
    submission: models.Submission,
    name: str,
    data: bytes,
    content_type: str,
    by: str,
    now: datetime,
) -> models.EvidenceFile:
    """Keep ``data`` (checked by `check`) as the evidence of ``submission``, a person's."""
    assert submission.employee_id is not None
    row = models.EvidenceFile(
        submission_id=submission.id,
        employee_id=submission.employee_id,
        rule_code=submission.rule_code,
        period=submission.period,
        name=clean_name(name),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=by,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    return row


class Listed(NamedTuple):
    """A file as a person's page lists it (without its bytes)."""

    id: int
    name: str
    size: int
    uploaded_at: datetime


def listed(session: Session, employee_id: int) -> dict[tuple[str, str], list[Listed]]:
    """The files of one person by (rule, period), oldest first; their bytes stay unread."""
    table = models.EvidenceFile
    query = (
        select(table.rule_code, table.period, table.id, table.name, table.size, table.uploaded_at)
        .where(table.employee_id == employee_id)
        .order_by(table.id)
    )
    found: dict[tuple[str, str], list[Listed]] = {}
    for code, period, file_id, name, size, at in session.execute(query):
        found.setdefault((code, period), []).append(Listed(file_id, name, size, at))
    return found
