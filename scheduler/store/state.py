"""Small facts the service keeps about itself in ``service_state``, one row a name.

The last tick and the last error (read by `scheduler.service.health`), the bot's offset (the
last update handled and committed) and the database's instance id (written once by its
migration, read by `scheduler.store.db`).  They live in the database so that every instance of
a PostgreSQL deployment sees the same ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.store import models

LAST_TICK = "last_tick"  # value: a short summary of the tick, e.g. "statuses=500 sent=3"
LAST_ERROR = "last_error"  # value: what went wrong, one line
# value: the moment the last tick was run for when it was a replay (`run --once --as-of`),
# in ISO form; empty when it ticked on the clock
LAST_TICK_AS_OF = "last_tick_as_of"
# value: what the last plan was made from and how long it holds, as JSON
# (`scheduler.service.planning.Mark`)
PLAN_MARK = "plan_mark"
TELEGRAM_OFFSET = "telegram_offset"  # the last update id handled and committed
MAX_VALUE = 2000  # characters of a state value kept


def record(session: Session, name: str, value: str, now: datetime) -> None:
    """Set the state ``name`` to ``value`` as of ``now`` (insert or update, one statement)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(models.ServiceState).values(
        name=name, value=value[:MAX_VALUE], at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"value": statement.excluded.value, "at": statement.excluded.at},
        )
    )


def value(session: Session, name: str, lock: bool = False) -> str | None:
    """The state ``name``, or None; ``lock`` holds its row until the transaction ends
    (PostgreSQL: another writer of it waits; SQLite writes one at a time anyway)."""
    query = select(models.ServiceState.value).where(models.ServiceState.name == name)
    return session.scalar(query.with_for_update() if lock else query)
