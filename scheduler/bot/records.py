"""The records the bot and the command line share: link codes (``tenggat bot codes``, /start),
unlinking, the ``bot_audit`` trail, and verifying submissions (/verifikasi, ``tenggat bot
verify``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.store import models

if TYPE_CHECKING:
    from scheduler.config import Config

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


# --------------------------------------------------------------------------- verification


def pending_verification(
    session: Session, config: Config, limit: int = 10
) -> list[models.Submission]:
    """The newest row of each (employee or agency, rule, period) of a rule that needs
    verification, when it is not verified yet; oldest first."""
    codes = [r.code for r in config.catalog.rules.values() if r.verification]
    if not codes:
        return []
    table = models.Submission
    newest = (
        select(func.max(table.id))
        .where(table.rule_code.in_(codes))
        .group_by(table.employee_id, table.rule_code, table.period)
    )
    return list(
        session.scalars(
            select(table)
            .where(table.id.in_(newest), table.verified_at.is_(None))
            .order_by(table.id)
            .limit(limit)
        )
    )


def newest_submission(
    session: Session, employee_id: int | None, code: str, period: str
) -> models.Submission | None:
    table = models.Submission
    owner = table.employee_id.is_(None) if employee_id is None else table.employee_id == employee_id
    return session.scalar(
        select(table)
        .where(owner, table.rule_code == code, table.period == period)
        .order_by(table.id.desc())
        .limit(1)
    )


def verify(
    session: Session, row: models.Submission, now: datetime, by: str, source: str
) -> models.Submission:
    """Verify a pending submission: rows are never changed, so a new row repeats it (same
    moment, same evidence) with the verification."""
    verified = models.Submission(
        employee_id=row.employee_id,
        rule_code=row.rule_code,
        period=row.period,
        submitted_at=row.submitted_at,
        evidence=row.evidence,
        source=source,
        recorded_by=by,
        recorded_at=now,
        verified_at=now,
        verified_by=by,
    )
    session.add(verified)
    session.flush()
    return verified
