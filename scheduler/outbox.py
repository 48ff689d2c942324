"""The outbox: every planned notice is written once, claimed by one dispatcher, sent once.

Detecting and sending are separate steps joined by this table (as Healthchecks does it):
the plan inserts rows whose UNIQUE key makes planning idempotent; a dispatcher claims rows
with a conditional UPDATE (and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them outside
the transaction, then settles them.  A claim older than the lease is taken over, so a
dispatcher killed mid-batch delays its messages but never loses them.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from rules.plan import Notice
from scheduler import models

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def worker_name() -> str:
    """Who claims: host, process and a random part, unique among concurrent dispatchers."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def enqueue(session: Session, notices: Sequence[Notice], now: datetime) -> int:
    """Add the notices not in the outbox yet; return how many were new."""
    if not notices:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(models.Outbox)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(models.Outbox.id)
    )
    rows = [
        {
            "key": n.key,
            "recipient": n.recipient,
            "role": n.role,
            "kind": n.kind.value,
            "employee": n.employee,
            "rule_code": n.rule,
            "period": n.period,
            "step": n.step,
            "due": n.due,
            "days_late": n.days_late,
            "planned_at": now,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for n in notices
    ]
    return len(session.execute(statement, rows).all())


@dataclass(frozen=True)
class Claimed:
    """An outbox row taken by this dispatcher, detached from the session that claimed it."""

    id: int
    key: str
    recipient: str
    role: str
    kind: str
    employee: str
    rule: str
    period: str
    step: str
    due: date
    days_late: int | None
    attempts: int


def claim(session: Session, worker: str, now: datetime, recipients: int = 50) -> list[Claimed]:
    """Take every row that is due and free (or whose claim outlived the lease) for up to
    ``recipients`` people: all a person is owed is claimed together, to go in one message."""
    table = models.Outbox
    free = or_(
        and_(table.state == "pending", table.next_attempt_at <= now),
        and_(table.state == "claimed", table.claimed_at < now - LEASE),
    )
    people = (
        select(table.recipient)
        .where(free)
        .group_by(table.recipient)
        .order_by(func.min(table.id))
        .limit(recipients)
    )
    candidates = select(table.id).where(free, table.recipient.in_(people)).order_by(table.id)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    session.execute(
        update(table)
        .where(table.id.in_(ids), free)  # conditional: only what is still free
        .values(state="claimed", claimed_by=worker, claimed_at=now, attempts=table.attempts + 1)
    )
    mine = session.scalars(select(table).where(table.id.in_(ids), table.claimed_by == worker)).all()
    return [
        Claimed(
            row.id,
            row.key,
            row.recipient,
            row.role,
            row.kind,
            row.employee,
            row.rule_code,
            row.period,
            row.step,
            row.due,
            row.days_late,
            row.attempts,
        )
        for row in mine
    ]


def settle(
    session: Session,
    item: Claimed,
    worker: str,
    channel: str,
    now: datetime,
    receipt: str | None = None,
    error: str | None = None,
    permanent: bool = False,
) -> str:
    """Record the attempt and mark the row sent, or put it back with backoff, or give up
    (at once when the error is permanent, else after MAX_ATTEMPTS) as a dead letter with
    the reason.  Returns the new state."""
    if error is None:
        state, values = "sent", {"sent_at": now, "channel": channel, "receipt": receipt}
    elif permanent or item.attempts >= MAX_ATTEMPTS:
        state, values = "dead", {"channel": channel, "receipt": error[:200]}
    else:
        wait = min(60 * 2 ** (item.attempts - 1), 3600) * random.uniform(0.8, 1.2)
        state, values = "pending", {"next_attempt_at": now + timedelta(seconds=wait)}
    session.execute(
        update(models.Outbox)
        .where(models.Outbox.id == item.id, models.Outbox.claimed_by == worker)
        .values(state=state, claimed_by=None, claimed_at=None, **values)
    )
    session.add(
        models.Delivery(
            outbox_id=item.id,
            attempt=item.attempts,
            channel=channel,
            worker=worker,
            at=now,
            outcome="sent" if error is None else "permanent" if permanent else "transient",
            detail=receipt or error or "",
        )
    )
    return state
