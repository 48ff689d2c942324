"""Database access: one engine per process, SQLite tuned for a service, Alembic migrations.

SQLite runs in WAL mode with a busy timeout, and a transaction that reads then writes starts
with ``BEGIN IMMEDIATE``: two processes that both begin deferred and then write get "database
is locked" instead of waiting their turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 30_000
# The newest migration. Kept here so that checking a database needs no Alembic import (a
# third of a second on every command); a test holds it equal to the migrations' head.
SCHEMA_REVISION = "0005"


class DatabaseError(RuntimeError):
    """The database cannot be used as it is; the message says what to do."""


class Database:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.engine: Engine = create_engine(self.url)
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._writer = self.engine.execution_options(immediate=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with Session(self._writer) as session, session.begin():
            yield session

    def _alembic(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("scheduler").joinpath("migrations"))
        )
        config.attributes["engine"] = self.engine
        return config

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        from alembic import command

        command.upgrade(self._alembic(), "head")

    def head(self) -> str | None:
        """The newest revision among the migration scripts."""
        from alembic.script import ScriptDirectory

        head: str | None = ScriptDirectory.from_config(self._alembic()).get_current_head()
        return head

    def ensure_current(self) -> None:
        """Refuse to work on a database that is missing or behind the code's migrations."""
        with self.engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            current = (
                connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                if "alembic_version" in tables
                else None
            )
        if current != SCHEMA_REVISION:
            state = (
                "is not initialised" if not tables else f"is at {current}, not {SCHEMA_REVISION}"
            )
            safe = self.url.render_as_string(hide_password=True)
            raise DatabaseError(f"database {safe} {state}: run `tenggat init`")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the begin event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
