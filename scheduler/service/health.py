"""How the service is doing: its last tick, the outbox backlog, dead letters, its last error.

The service writes small facts about itself to ``service_state`` (`record`); `report` reads
them together with a few aggregate queries over the outbox, and says whether all is well
and, if not, why.  ``tenggat health`` prints it; `scheduler.web.health` answers ``GET /health``
with the same JSON for a monitor to poll.

The state is kept in the database, so every instance of a PostgreSQL deployment reports
the same thing: whichever instance schedules writes the last tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from scheduler.catalog import Words
from scheduler.store import models
from scheduler.store.db import failure
from scheduler.store.outbox import LEASE
from scheduler.store.state import LAST_ERROR, LAST_TICK, LAST_TICK_AS_OF

if TYPE_CHECKING:
    from scheduler.store.db import Database


# A dead letter makes the service unhealthy for this long after its last attempt: long
# enough for a monitor to raise it, short enough that one refused address does not turn
# the check red for ever (the outbox keeps it: `tenggat outbox --status dead`).
DEAD_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Problem:
    """Why the service is not healthy: a code and what the message needs."""

    code: str  # never_ticked | tick_stale | tick_failed | dead_letters | backlog | unwritable
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    key: str
    recipient: str
    reason: str
    at: datetime | None


@dataclass(frozen=True)
class Health:
    now: datetime
    tick_minutes: int
    last_tick: datetime | None
    last_tick_summary: str | None
    replay_of: datetime | None  # the moment the last tick was run for, if not the clock's
    pending: int  # waiting to be sent, now or after a backoff
    pending_due: int  # of which due now
    oldest_pending: datetime | None  # when the oldest pending notice was planned
    overdue: int  # pending notices that should have gone out two ticks ago
    claimed: int  # being sent
    stale_claims: int  # claimed longer than the lease: their dispatcher died
    dead: int  # dead letters, all time
    dead_recent: int  # dead letters last tried within DEAD_WINDOW
    latest_dead: DeadLetter | None
    last_error: str | None
    last_error_at: datetime | None
    problems: tuple[Problem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def tick_age(self) -> timedelta | None:
        return self.now - self.last_tick if self.last_tick else None

    @property
    def oldest_pending_age(self) -> timedelta | None:
        return self.now - self.oldest_pending if self.oldest_pending else None

    def as_json(self, language: str = "en") -> dict[str, Any]:
        """What ``tenggat health --json`` prints and ``GET /health`` returns."""
        zone = self.now.tzinfo

        def moment(value: datetime | None) -> str | None:
            return value.astimezone(zone).isoformat(timespec="seconds") if value else None

        def seconds(value: timedelta | None) -> int | None:
            return int(value.total_seconds()) if value is not None else None

        dead = self.latest_dead
        return {
            "healthy": self.healthy,
            "problems": [{"code": p.code, "message": describe(p, language)} for p in self.problems],
            "now": moment(self.now),
            "tick_minutes": self.tick_minutes,
            "last_tick": {
                "at": moment(self.last_tick),
                "age_seconds": seconds(self.tick_age),
                "summary": self.last_tick_summary,
                "replay_of": moment(self.replay_of),
            },
            "outbox": {
                "pending": self.pending,
                "pending_due": self.pending_due,
                "oldest_pending_at": moment(self.oldest_pending),
                "oldest_pending_age_seconds": seconds(self.oldest_pending_age),
                "overdue": self.overdue,
                "claimed": self.claimed,
                "stale_claims": self.stale_claims,
                "dead": self.dead,
                "dead_recent": self.dead_recent,
                "latest_dead": {
                    "key": dead.key,
                    "recipient": dead.recipient,
                    "reason": dead.reason,
                    "at": moment(dead.at),
                }
                if dead
                else None,
            },
            "last_error": {"at": moment(self.last_error_at), "message": self.last_error},
        }


PROBE_WAIT_MS = 500  # how long the write probe waits behind another writer
# PostgreSQL's refusals of a write as such: read_only_sql_transaction, insufficient_privilege.
_READ_ONLY_STATES = frozenset({"25006", "42501"})


def unwritable(db: Database) -> str | None:
    """Why the service cannot write to the database (a read-only file, mount or role), or
    None.  The last tick cannot record its own failure there, so it is asked directly: an
    UPDATE of no row is refused like any write, and changes nothing when allowed.  It waits
    only briefly for a lock: a database busy with another writer is not a problem, and only
    a refusal to write as such counts (`read_only`)."""
    from sqlalchemy import false, update

    from scheduler.store.db import BUSY_TIMEOUT_MS

    table = models.ServiceState
    db.check_file()
    sqlite = db.url.get_backend_name() == "sqlite"
    try:
        with db.engine.connect() as connection:
            raw: Any = connection.connection.driver_connection
            if sqlite:  # before BEGIN IMMEDIATE, which waits for the lock
                raw.execute(f"PRAGMA busy_timeout={PROBE_WAIT_MS}")
            try:
                with connection.execution_options(immediate=True).begin():
                    if not sqlite:
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {PROBE_WAIT_MS}")
                    connection.execute(update(table).where(false()).values(value=table.value))
            finally:
                if sqlite:  # the pooled connection goes back as it came
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except DBAPIError as exc:
        said = failure(db.url, exc) if read_only(exc) else None
        return said.params["error"] if said is not None else None
    return None


def read_only(error: DBAPIError) -> bool:
    """Whether the driver refused a write because the database, file or role takes none,
    rather than for being busy, locked or away (which other checks report)."""
    cause = error.orig
    if getattr(cause, "sqlite_errorname", None) == "SQLITE_READONLY":
        return True
    if "attempt to write a readonly database" in str(cause):
        return True
    return getattr(cause, "sqlstate", None) in _READ_ONLY_STATES


def report(
    session: Session, now: datetime, tick_minutes: int, unwritable: str | None = None
) -> Health:
    """The service's health at ``now``: its state, one aggregate over the outbox and two over
    its dead letters (if any), however many rows it holds; ``unwritable`` says why the
    database takes no writes, if it does not."""
    state = _state(session)
    tick_value, tick_at = state.get(LAST_TICK, (None, None))
    error_value, error_at = state.get(LAST_ERROR, (None, None))
    replay_value, _ = state.get(LAST_TICK_AS_OF, (None, None))
    counts = _outbox_counts(session, now, tick_minutes)
    n_recent, latest = _dead_letters(session, now) if counts.dead else (0, None)
    problems: list[Problem] = []
    if unwritable is not None:
        problems.append(Problem("unwritable", {"error": unwritable}))
    minutes = 2 * tick_minutes
    if tick_at is None:
        problems.append(Problem("never_ticked"))
    elif now - tick_at > timedelta(minutes=minutes):
        at = tick_at.astimezone(now.tzinfo)  # said in the reader's zone, with its offset
        problems.append(Problem("tick_stale", {"minutes": minutes, "at": at}))
    if error_at is not None and (tick_at is None or error_at > tick_at):
        problems.append(Problem("tick_failed", {"error": error_value or ""}))
    if counts.overdue:
        problems.append(Problem("backlog", {"count": counts.overdue, "minutes": minutes}))
    if n_recent:
        reason = latest.reason if latest else ""
        problems.append(Problem("dead_letters", {"count": n_recent, "reason": reason}))
    return Health(
        now=now,
        tick_minutes=tick_minutes,
        last_tick=tick_at,
        last_tick_summary=tick_value,
        replay_of=datetime.fromisoformat(replay_value) if replay_value else None,
        **counts._asdict(),  # the outbox's numbers, each under its name in Health
        dead_recent=n_recent,
        latest_dead=latest,
        last_error=error_value,
        last_error_at=error_at,
        problems=tuple(problems),
    )


def _state(session: Session) -> dict[str, tuple[str, datetime]]:
    """The last tick (and what it was run for) and the last error, each as (value, when), by
    name; absent if never."""
    table = models.ServiceState
    names = [LAST_TICK, LAST_TICK_AS_OF, LAST_ERROR]
    query = select(table.name, table.value, table.at).where(table.name.in_(names))
    return {name: (value, at) for name, value, at in session.execute(query)}


class _Counts(NamedTuple):
    """The outbox in numbers, under :class:`Health`'s own names: `report` passes them on
    as they are."""

    pending: int
    pending_due: int
    oldest_pending: datetime | None
    overdue: int
    claimed: int
    stale_claims: int
    dead: int


def _outbox_counts(session: Session, now: datetime, tick_minutes: int) -> _Counts:
    """One aggregate query over the live and dead rows of the outbox."""
    table = models.Outbox
    late = now - timedelta(minutes=2 * tick_minutes)
    pending = table.state == "pending"
    claimed = table.state == "claimed"
    counts = session.execute(
        select(
            func.count().filter(pending),
            func.count().filter(and_(pending, table.next_attempt_at <= now)),
            func.min(table.planned_at).filter(pending),
            func.count().filter(and_(pending, table.next_attempt_at < late)),
            func.count().filter(claimed),
            func.count().filter(and_(claimed, table.claimed_at < now - LEASE)),
            func.count().filter(table.state == "dead"),
        ).where(table.state.in_(["pending", "claimed", "dead"]))
    ).one()
    return _Counts(*counts)


def _dead_letters(session: Session, now: datetime) -> tuple[int, DeadLetter | None]:
    """How many dead letters were last tried within DEAD_WINDOW, and the latest of all."""
    table = models.Outbox
    attempts = models.Delivery
    dead = (
        select(
            table.key,
            table.recipient,
            table.receipt,
            func.max(attempts.at).label("at"),
        )
        .join(attempts, attempts.outbox_id == table.id)
        .where(table.state == "dead")
        .group_by(table.id, table.key, table.recipient, table.receipt)
        .subquery()
    )
    n_recent = (
        session.scalar(select(func.count()).select_from(dead).where(dead.c.at >= now - DEAD_WINDOW))
        or 0
    )
    row = session.execute(select(dead).order_by(dead.c.at.desc()).limit(1)).first()
    latest = DeadLetter(row.key, row.recipient, row.receipt or "", row.at) if row else None
    return n_recent, latest


WORDS = Words("health")  # the words of this module, in the catalogs


def describe(problem: Problem, language: str) -> str:
    params = {
        key: value.isoformat(timespec="minutes") if isinstance(value, datetime) else value
        for key, value in problem.params.items()
    }
    return WORDS[language][problem.code].format(**params)


def unavailable(message: str) -> dict[str, Any]:
    """The report when the database cannot be read at all, in `Health.as_json`'s shape: a
    monitor reads one form whatever went wrong."""
    return {"healthy": False, "problems": [{"code": "unavailable", "message": message}]}
