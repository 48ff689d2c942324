"""Files uploaded to the console, kept between their preview and the admin's confirmation.

The preview's form carries a random token; the row keeps its SHA-256 and the session that
uploaded it, so only that session can confirm it, and no path ever comes from the client.
A session keeps one upload at a time, and an upload not confirmed within `KEPT` is
forgotten: the table holds a handful of files at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from scheduler.store import models
from scheduler.store.signin import digest, new_token

KEPT = timedelta(hours=1)  # how long a preview can be confirmed
NAME_CHARS = 200


def keep(
    session: Session, session_id: int, kind: str, name: str, data: bytes, now: datetime
) -> str:
    """Keep ``data`` for the session ``session_id``; its token for the preview's form.
    The session's earlier upload and everyone's stale ones go."""
    table = models.WebUpload
    session.execute(
        delete(table).where(or_(table.session_id == session_id, table.created_at < now - KEPT))
    )
    token = new_token()
    session.add(
        table(
            token_hash=digest(token),
            session_id=session_id,
            kind=kind,
            name=name[:NAME_CHARS],
            data=data,
            created_at=now,
        )
    )
    return token


def find(
    session: Session, token: str, session_id: int, kind: str, now: datetime
) -> models.WebUpload | None:
    """The upload ``token`` names if this session sent it, of ``kind``, and recently."""
    table = models.WebUpload
    row = session.scalar(select(table).where(table.token_hash == digest(token)))
    if row is None or row.session_id != session_id or row.kind != kind:
        return None
    return row if row.created_at > now - KEPT else None


def drop(session: Session, row: models.WebUpload) -> None:
    """Forget an upload once written (or refused at confirmation)."""
    session.delete(row)
