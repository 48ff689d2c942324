"""The records the bot and the command line share: link codes (``tenggat bot codes``, /start),
unlinking and the ``bot_audit`` trail.  Submissions, verified ones too, are written by
`scheduler.store.submissions`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models

SOURCE = "telegram"  # the source of the submissions the bot records


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# --------------------------------------------------------------------------- link codes


class IssuedCode(NamedTuple):
    employee: str  # key
    name: str
    unit: str
    code: str
    expires_at: datetime


def issue_code(
    session: Session, employee: models.Employee, now: datetime, hours: int, by: str
) -> IssuedCode:
    """A new one-time code for ``employee`` (128 random bits); their older unused codes stop
    working, so only the newest list handed out counts."""
    table = models.LinkCode
    for older in session.scalars(
        select(table).where(
            table.employee_id == employee.id, table.used_at.is_(None), table.expires_at > now
        )
    ):
        older.expires_at = now
    code = secrets.token_urlsafe(16)
    while code.startswith("-"):  # a CSV would show it as '-…, which the bot cannot take
        code = secrets.token_urlsafe(16)
    expires = now + timedelta(hours=hours)
    session.add(
        table(
            code_hash=hash_code(code),
            employee_id=employee.id,
            created_at=now,
            expires_at=expires,
            created_by=by,
        )
    )
    audit(
        session,
        now,
        None,
        employee.id,
        "link_code",
        f"by {by}, valid until {expires:%Y-%m-%d %H:%M}",
    )
    unit = employee.unit.name if employee.unit else ""
    return IssuedCode(employee.key, employee.name, unit, code, expires)


def unlink(session: Session, employee: models.Employee, now: datetime) -> str | None:
    """Forget ``employee``'s chat and revoke their unused codes; return the chat it had.
    The caller audits it: the bot as the update that asked, the command line as its user."""
    chat = employee.telegram_chat_id
    employee.telegram_chat_id = None
    employee.telegram_unreachable = None
    table = models.LinkCode
    for row in session.scalars(
        select(table).where(
            table.employee_id == employee.id, table.used_at.is_(None), table.expires_at > now
        )
    ):
        row.expires_at = now
    if chat is not None:
        state = session.get(models.BotChat, chat)
        if state is not None:
            session.delete(state)
    return chat


def deep_link(username: str, code: str) -> str:
    return f"https://t.me/{username}?start={code}"


def audit(
    session: Session,
    now: datetime,
    chat: str | None,
    employee_id: int | None,
    action: str,
    detail: str = "",
    update_id: int | None = None,
) -> None:
    session.add(
        models.BotAudit(
            at=now,
            update_id=update_id,
            chat_id=chat,
            employee_id=employee_id,
            action=action,
            detail=detail[:500],
        )
    )
