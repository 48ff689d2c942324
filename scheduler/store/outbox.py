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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Any, TypedDict, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rules.plan import Notice, NoticeKind
from scheduler.store import models
from scheduler.store.db import among, chunks

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
BATCH = 500  # people claimed at a time (with everything each is owed)


def worker_name() -> str:
    """Who claims: host, process and a random part, unique among concurrent dispatchers."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def digest_key(week: str, unit: str | None, recipient: str) -> str:
    """The key of a weekly digest's row: one per ISO week (`rules.periods.iso_week`), scope
    and reader, so that a digest is queued once a week; ``*`` is the whole agency's.  E.g.
    ``digest|2025-W10|*|197105152000121003``."""
    return f"digest|{week}|{unit or '*'}|{recipient}"


class Row(TypedDict):
    """An outbox row as planned: the columns from ``key`` to ``days_late``; the state columns
    are `add`'s."""

    key: str
    recipient: str
    role: str
    kind: str
    employee: str
    rule_code: str
    period: str
    step: str
    due: date
    days_late: int | None


COLUMNS = tuple(Row.__annotations__)  # the order of the tuples `_insert` writes


def enqueue(session: Session, notices: Sequence[Notice], now: datetime) -> int:
    """Add the planned notices not in the outbox yet; return how many were new.  Each notice
    becomes a plain tuple in `COLUMNS` order, its kind's text read from a table (an enum's
    ``.value`` cost a second at 400,000 notices)."""
    if not notices:
        return 0
    kinds = {kind: kind.value for kind in NoticeKind}
    return _insert(
        session,
        (
            (
                n.key,
                n.recipient,
                n.role,
                kinds[n.kind],
                n.employee,
                n.rule,
                n.period,
                n.step,
                n.due,
                n.days_late,
            )
            for n in notices
        ),
        now,
    )


def digest_row(week: str, unit: str | None, recipient: str, day: date) -> Row:
    """A weekly digest for ``recipient`` (a unit head's for ``unit``, or the Secretary's),
    queued for ISO ``week`` under `digest_key`, due on ``day``."""
    role = "unit_head" if unit else "secretary"
    return _about_no_rule(digest_key(week, unit, recipient), recipient, role, "digest", week, day)


def contact_row(employee: str, admin: str, channel: str, day: date) -> Row:
    """A warning to ``admin`` that ``channel`` cannot reach ``employee``: once per person,
    admin and day, which its key says."""
    key = f"{employee}|contact|{channel}|{day}|{admin}"
    return _about_no_rule(key, admin, "admin", "contact", channel, day, employee=employee)


def _about_no_rule(
    key: str,
    recipient: str,
    role: str,
    kind: str,
    period: str,
    due: date,
    employee: str | None = None,
) -> Row:
    """A row that is about no rule (a digest, a contact warning): the rule columns stay
    empty, and it concerns ``employee``, else its recipient."""
    return Row(
        key=key,
        recipient=recipient,
        role=role,
        kind=kind,
        employee=employee or recipient,
        rule_code="",
        period=period,
        step="",
        due=due,
        days_late=None,
    )


def add(session: Session, rows: Sequence[Row], now: datetime) -> int:
    """Insert outbox rows whose key is new, due at ``now``; return how many were new.  A key
    already there, in any state, adds nothing."""
    values = itemgetter(*COLUMNS)
    return _insert(session, (values(row) for row in rows), now) if rows else 0


def _insert(session: Session, rows: Iterable[tuple[Any, ...]], now: datetime) -> int:
    """Insert ``rows`` (tuples in `COLUMNS` order) due at ``now``, each whose key is not in
    the outbox; return how many were new.

    The database decides which are new, not a look-up from Python first: the outbox's
    UNIQUE key refuses a key queued before, by this tick or by another instance, however
    the two interleave (``ON CONFLICT DO NOTHING``, which waits for a writer that holds
    the same key uncommitted and then skips it).  Only a plan of everyone comes here with
    many rows (the first tick, the first after midnight): the driver's own bulk path
    writes them, as `_copy` and `_executemany` say.  The driver's errors are wrapped as
    SQLAlchemy wraps any statement's, so that a database read-only or away is said in one
    sentence (`scheduler.store.db.failure`) here as everywhere."""
    dialect = session.get_bind().dialect
    driver_error = dialect.loaded_dbapi.Error
    try:
        if dialect.name == "postgresql":
            return _copy(session, rows, now)
        return _executemany(session, rows, now)
    except driver_error as exc:
        raise DBAPIError.instance("INSERT INTO outbox", None, exc, driver_error) from exc


def _executemany(session: Session, rows: Iterable[tuple[Any, ...]], now: datetime) -> int:
    """`_insert` on SQLite: one prepared INSERT that sqlite3 runs once a row (its
    ``executemany``; 130,000 new rows a second here, under load), the values bound as
    SQLAlchemy would store them.  SQLAlchemy's own executemany of an INSERT with RETURNING
    made multi-row statements of the rows in Python: 18 s for the 409,000 of a first tick
    at 100,000 employees, where this takes 3."""
    processors = _processors(session.get_bind().dialect)
    fresh = _fresh(now)
    state = next(_bound([tuple(fresh.values())], processors, tuple(fresh)))
    names = ", ".join([*COLUMNS, *fresh])
    marks = ", ".join("?" * (len(COLUMNS) + len(fresh)))
    cursor = _driver(session).cursor()
    try:  # sqlite3 reads the rows as it writes them, and sums the rows it inserted
        cursor.executemany(
            f"INSERT INTO outbox ({names}) VALUES ({marks}) ON CONFLICT (key) DO NOTHING",
            (row + state for row in _bound(rows, processors)),
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _copy(session: Session, rows: Iterable[tuple[Any, ...]], now: datetime) -> int:
    """`_insert` on PostgreSQL: the rows go by ``COPY`` (no statement parameters, psycopg's
    C adaptation) into a temporary table dropped at commit, and ONE ``INSERT … SELECT``
    moves those not in the outbox into it.  The anti-join spares the ids of rows queued
    already (``ON CONFLICT`` alone takes a sequence value before it finds the key); the
    ``ON CONFLICT`` is for a key another planner queued since."""
    cursor = _driver(session).cursor()
    names = ", ".join(COLUMNS)
    with cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE planned_rows ON COMMIT DROP AS"
            f" SELECT {names} FROM outbox WITH NO DATA"
        )
        with cursor.copy(f"COPY planned_rows ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        fresh = _fresh(now)
        cursor.execute(
            f"INSERT INTO outbox ({names}, {', '.join(fresh)})"
            f" SELECT {names}, {', '.join(['%s'] * len(fresh))} FROM planned_rows"
            " WHERE NOT EXISTS (SELECT FROM outbox WHERE outbox.key = planned_rows.key)"
            " ON CONFLICT (key) DO NOTHING",
            list(fresh.values()),
        )
        added = cursor.rowcount
        cursor.execute("DROP TABLE planned_rows")  # another batch may follow before commit
    return added


def _driver(session: Session) -> Any:
    """The driver's own connection under ``session``, in its transaction."""
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a connection checked out of the pool
    return driver


def _fresh(now: datetime) -> dict[str, Any]:
    """The state columns of a row queued at ``now``."""
    return {"planned_at": now, "state": "pending", "attempts": 0, "next_attempt_at": now}


Processor = Callable[[Any], Any]


def _processors(dialect: Any) -> dict[str, Processor]:
    """The outbox's columns whose type changes a Python value before the driver binds it
    (on SQLite a moment becomes UTC with no zone, a day its ISO text), each with the
    function that does: what rows sent to the driver as they are must have done first."""
    table = cast(Table, models.Outbox.__table__)
    found = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.c}
    return {name: process for name, process in found.items() if process is not None}


def _bound(
    rows: Iterable[tuple[Any, ...]],
    processors: dict[str, Processor],
    columns: tuple[str, ...] = COLUMNS,
) -> Iterator[tuple[Any, ...]]:
    """``rows`` (of ``columns``) with each value bound as its column's type binds it, as
    they are read (on SQLite the due day: a tuple sliced a row)."""
    for i, name in enumerate(columns):
        if name in processors:
            rows = _processed(rows, i, processors[name])
    return iter(rows)


def _processed(
    rows: Iterable[tuple[Any, ...]], i: int, process: Processor
) -> Iterator[tuple[Any, ...]]:
    """``rows`` with their ``i``-th value processed; each distinct value once (the due days
    of a plan are a few dozen)."""
    stored: dict[Any, Any] = {None: None}
    for row in rows:
        value = row[i]
        if value not in stored:
            stored[value] = process(value)
        yield (*row[:i], stored[value], *row[i + 1 :])


@dataclass(frozen=True)
class Claimed:
    """An outbox row taken by this dispatcher, detached from the session that claimed it.
    ``planned_at``: when it was queued, the moment a digest reports on (so every attempt
    reads the same); ``delivered_parts``: fingerprints of the parts of its message that
    earlier attempts delivered (`Message.skip`)."""

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
    planned_at: datetime
    attempts: int
    delivered_parts: frozenset[str] = frozenset()


def claim(session: Session, worker: str, now: datetime, recipients: int = BATCH) -> list[Claimed]:
    """Take every row that is due and free (or whose claim outlived the lease) for up to
    ``recipients`` people: all a person is owed is claimed together, to go in one message.

    One statement whatever the count: the rows are chosen by a subquery, not by a list of
    their ids, so that a recipient owed 100,000 notices (the Secretary, every escalation of
    an agency) is claimed as one owed ten; a list that long is past what PostgreSQL's
    protocol carries."""
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
    candidates = select(table.id).where(free, table.recipient.in_(people))
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    columns = cast(Table, table.__table__).c
    taken = session.execute(
        update(table)
        .where(table.id.in_(candidates), free)  # conditional: only what is still free
        .values(state="claimed", claimed_by=worker, claimed_at=now, attempts=table.attempts + 1)
        .returning(*columns),
        execution_options={"synchronize_session": False},
    ).all()
    # In id order, that is as planned: a message retried reads as it did the first time
    # (neither database returns updated rows in a set order), so the parts it delivered match.
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
            row.planned_at,
            row.attempts,
            parts(row.delivered_parts),
        )
        for row in sorted(taken, key=lambda row: row.id)
    ]


def parts(stored: str) -> frozenset[str]:
    """The fingerprints in an ``outbox.delivered_parts`` value (comma-separated)."""
    return frozenset(filter(None, stored.split(",")))


def keep_parts(
    session: Session, parts: Sequence[tuple[Claimed, tuple[str, ...]]], worker: str
) -> None:
    """Remember the parts of a message sent so far, on each of its rows still claimed by
    ``worker``, while the rest are on their way: if the process dies before they are,
    the row is claimed again after the lease and its next attempt skips these."""
    table = cast(Table, models.Outbox.__table__)
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("row"), table.c.claimed_by == worker)
        .values(delivered_parts=bindparam("parts")),
        [{"row": item.id, "parts": ",".join(delivered)} for item, delivered in parts],
    )


@dataclass(frozen=True)
class Attempt:
    """What became of one claimed row: a receipt, or an error and what it allows.

    ``reroute`` puts the row straight back for another channel (the Telegram chat is
    dead, e-mail may still reach the person); ``retry_after`` is the server's own wait.
    """

    item: Claimed
    channel: str
    receipt: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None
    reroute: bool = False

    @property
    def outcome(self) -> str:
        if self.error is None:
            return "sent"
        return "rerouted" if self.reroute else "permanent" if self.permanent else "transient"


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Wait before the next try: doubling from a minute, at most an hour, with jitter so
    that messages failed together do not all come back together; never less than the
    server asked for."""
    wait = min(60 * 2 ** (attempts - 1), 3600) * random.uniform(0.8, 1.2)
    return timedelta(seconds=max(wait, retry_after or 0))


def _failure(a: Attempt) -> tuple[str, str, str | None, float | None]:
    """What the rows of one failed message share: whom, by which channel, why."""
    return a.item.recipient, a.channel, a.error, a.retry_after


def _waits(
    attempts: Sequence[Attempt],
) -> dict[tuple[str, str, str | None, float | None], timedelta]:
    """One backoff per failed message, from the most tries any of its rows had: its rows
    come back together, as the same message, so that a part of it already delivered is
    recognised and skipped.  Never shorter than the server's own wait."""
    most: dict[tuple[str, str, str | None, float | None], int] = {}
    for a in attempts:
        if a.error is not None:
            most[_failure(a)] = max(most.get(_failure(a), 0), a.item.attempts)
    return {key: backoff(tries, key[3]) for key, tries in most.items()}


def settle(session: Session, attempts: Sequence[Attempt], worker: str, now: datetime) -> list[str]:
    """Record every attempt in the delivery log and mark each row sent, or put it back
    (at once when rerouted, else with backoff), or give up on it (at once when the error
    is permanent, else after MAX_ATTEMPTS) as a dead letter with the reason.  Two
    statements for the whole batch; a row no longer claimed by ``worker`` is left alone.
    Returns the new states."""
    rows, states = [], []
    waits = _waits(attempts)
    for a in attempts:
        values: dict[str, object] = {"row": a.item.id, "channel": a.channel, "receipt": None}
        values["sent_at"] = None
        values["next"] = now
        if a.error is None:
            state = "sent"
            values.update(sent_at=now, receipt=(a.receipt or "")[:200])  # whole in the log
        elif a.reroute:
            state, values["next"] = "pending", now
        elif a.permanent or a.item.attempts >= MAX_ATTEMPTS:
            state, values["receipt"] = "dead", a.error[:200]
        else:
            state, values["next"] = "pending", now + waits[_failure(a)]
        rows.append({**values, "state": state})
        states.append(state)
    if not rows:
        return states
    table = cast(Table, models.Outbox.__table__)
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("row"), table.c.claimed_by == worker)
        .values(
            state=bindparam("state"),
            claimed_by=None,
            claimed_at=None,
            sent_at=bindparam("sent_at"),
            channel=bindparam("channel"),
            receipt=bindparam("receipt"),
            next_attempt_at=bindparam("next"),
        ),
        rows,
    )
    session.execute(
        insert(models.Delivery),
        [
            {
                "outbox_id": a.item.id,
                "attempt": a.item.attempts,
                "channel": a.channel,
                "worker": worker,
                "at": now,
                "outcome": a.outcome,
                "detail": a.receipt or a.error or "",
            }
            for a in attempts
        ],
    )
    return states


def states_of(session: Session, keys: Sequence[str]) -> dict[str, str]:
    """The state of each of ``keys`` already in the outbox (a key not there is missing):
    what ``tenggat plan`` says became of each notice it plans."""
    return {key: state for key, state in _known(session, keys, models.Outbox.state)}


def _known(session: Session, keys: Sequence[str], *columns: Any) -> Iterator[Any]:
    """The rows of ``keys`` already in the outbox, as (key, *columns), asked a bounded batch
    of keys at a time; with no columns, read from the unique index alone."""
    table, backend = models.Outbox, session.get_bind().dialect.name
    for batch in chunks(keys):
        yield from session.execute(
            select(table.key, *columns).where(among(table.key, batch, backend))
        )


def counts(session: Session) -> dict[str, int]:
    """How many rows are in each state."""
    table = models.Outbox
    query = select(table.state, func.count()).group_by(table.state)
    return {state: count for state, count in session.execute(query)}


def newest(
    session: Session, state: str | None, limit: int, before: int | None = None
) -> list[tuple[models.Outbox, str | None]]:
    """The newest ``limit`` rows (in ``state``, when given; older than the row ``before``,
    for the next page), each with its recipient's name where the roster still has them:
    what ``tenggat outbox`` lists."""
    table, E = models.Outbox, models.Employee
    query = (
        select(table, E.name)
        .outerjoin(E, E.key == table.recipient)
        .order_by(table.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(table.state == state)
    if before is not None:
        query = query.where(table.id < before)
    return [(row, name) for row, name in session.execute(query)]
