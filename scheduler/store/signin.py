"""Signing in to the web console without a password: one-time links, sessions, and the audit
trail of what is done through the console.

A link's token and a session's token are 256 random bits each, kept only as their SHA-256:
the database alone signs no one in.  A link works once and until it expires; opening it
uses nothing (chat apps and mail scanners open links to preview them), pressing its button
does (`use_link`).  Sessions are rows, not signed cookies, so that every instance on one
PostgreSQL database knows them and signing out ends one everywhere at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.store import models

if TYPE_CHECKING:
    from scheduler.config import WebSettings

ADDRESS_CHARS = 64


def digest(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Link(NamedTuple):
    token: str
    expires_at: datetime


def link_url(web: WebSettings, token: str) -> str:
    """The address a person opens: on ``[web] public_url``, else on ``listen:port``."""
    base = web.public_url or f"http://{web.listen}:{web.port}"
    return f"{base.rstrip('/')}/masuk/{token}"


def issue_link(
    session: Session, employee: models.Employee, now: datetime, minutes: int, by: str
) -> Link:
    """A new sign-in link for ``employee``, valid ``minutes``; audited."""
    token = new_token()
    expires = now + timedelta(minutes=minutes)
    session.add(
        models.WebLogin(
            token_hash=digest(token),
            employee_id=employee.id,
            created_at=now,
            expires_at=expires,
            created_by=by[:100],
        )
    )
    audit(session, now, employee.id, "login_link", f"by {by}, valid until {expires:%Y-%m-%d %H:%M}")
    return Link(token, expires)


def usable_link(session: Session, token: str, now: datetime) -> models.WebLogin | None:
    """The link ``token`` names if it can still be used; None if unknown, used or expired
    (which of these is not said: a stranger learns nothing)."""
    row = session.scalar(select(models.WebLogin).where(models.WebLogin.token_hash == digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


class Opened(NamedTuple):
    token: str  # the cookie's value
    csrf: str
    employee_id: int


def use_link(
    session: Session, token: str, now: datetime, hours: int, address: str
) -> Opened | None:
    """Use the link ``token`` (once: two presses at the same moment cannot both win, the
    UPDATE's condition decides) and open a session for its employee; None when the link
    cannot be used."""
    table = models.WebLogin
    claimed = session.execute(
        update(table)
        .where(table.token_hash == digest(token), table.used_at.is_(None), table.expires_at > now)
        .values(used_at=now)
        .returning(table.employee_id)
    ).scalar()
    if claimed is None:
        return None
    opened = Opened(new_token(), new_token(), claimed)
    session.add(
        models.WebSession(
            token_hash=digest(opened.token),
            csrf=opened.csrf,
            employee_id=claimed,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            address=address[:ADDRESS_CHARS],
        )
    )
    audit(session, now, claimed, "sign_in", "", address)
    return opened


def current(session: Session, token: str, now: datetime) -> models.WebSession | None:
    """The live session the cookie ``token`` names, or None (unknown, ended, expired)."""
    table = models.WebSession
    row = session.scalar(select(table).where(table.token_hash == digest(token)))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row


def end(session: Session, row: models.WebSession, now: datetime, address: str) -> None:
    """Sign out: the session ends on every instance at once."""
    row.ended_at = now
    audit(session, now, row.employee_id, "sign_out", "", address)


def audit(
    session: Session,
    now: datetime,
    employee_id: int | None,
    action: str,
    detail: str = "",
    address: str = "",
) -> None:
    session.add(
        models.WebAudit(
            at=now,
            employee_id=employee_id,
            action=action,
            detail=detail[:500],
            address=address[:ADDRESS_CHARS],
        )
    )
