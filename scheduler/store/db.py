"""Database access: one engine per process, SQLite tuned for a service, Alembic migrations.

SQLite runs in WAL mode with a busy timeout, and a transaction that reads then writes starts
with ``BEGIN IMMEDIATE``: two processes that both begin deferred and then write get "database
is locked" instead of waiting their turn.

A SQLite database is known by its file, not its path: the file's (device, inode) is noted
when it is first opened and checked before every session, so a file deleted or replaced
under a running process stops it (`DatabaseLost`) instead of letting it write to an unlinked
inode, and a command never creates an empty file where a database was expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import QueryableAttribute, Session

from scheduler.messages import Said

BUSY_TIMEOUT_MS = 30_000
# The newest migration. Kept here so that checking a database needs no Alembic import (a
# third of a second on every command); a test holds it equal to the migrations' head.
SCHEMA_REVISION = "0014"
# The revision before Telegram chats became unique: `tenggat contact` works on it, so that
# an admin can mend the clashes that stop the upgrade (see migration 0006).
BEFORE_UNIQUE_CHATS = "0005"
# The service_state row holding the database's instance id (migration 0007).
INSTANCE = "instance"
# The most values one statement binds in an IN list.  A list made from the data (every
# notice of one recipient, every key of a plan) would otherwise grow with it past what the
# databases take: PostgreSQL's protocol carries 65,535 parameters a statement, SQLite 32,766.
PARAMETERS = 10_000
T = TypeVar("T")


def among(
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: list[str] | list[int],
    backend: str,
) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (texts, or ids), bound as ONE parameter: a PostgreSQL
    array, a JSON array that SQLite unpacks (``json_each``).  An IN list binds a parameter
    per value, and SQLAlchemy names each one in Python: a third of a second per 35,000 keys."""
    if backend == "postgresql":
        kind = Integer if values and isinstance(values[0], int) else String
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(kind)))
    unpacked = func.json_each(bindparam(None, json.dumps(values))).table_valued("value")
    return column.in_(select(unpacked.c.value))


def chunks(values: Iterable[T], size: int = PARAMETERS) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``, in their order: one statement each, so that
    no statement's parameters grow with the data."""
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


class DatabaseError(Said, RuntimeError):
    """The database cannot be used as it is; says what to do, in the admin's language."""


class DatabaseLost(DatabaseError):
    """The database file was deleted or replaced while this process was using it."""


def sqlite_path(url: URL) -> Path | None:
    """The real path of a SQLite database file; None for other databases and in memory."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file::memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # a URI filename (``?uri=true``)
        database = database[len("file:") :].split("?", 1)[0]
    return Path(os.path.realpath(database))


def shown(url: URL | str) -> str:
    """A database URL as it may be shown: its password hidden, whether in the user part or
    given as a ``password`` query parameter (which psycopg accepts too)."""
    url = make_url(url)
    if "password" in url.query:
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.path = sqlite_path(self.url)
        self._identity: tuple[int, int] | None = None  # the file's (device, inode), once seen
        self.instance_id: str | None = None  # the database's instance id, once checked
        self.engine: Engine = create_engine(self.url)
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._writer = self.engine.execution_options(immediate=True)

    @property
    def safe_url(self) -> str:
        """The URL as it may be shown: without its password."""
        return shown(self.url)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        self.check_file()
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        self.check_file()
        with Session(self._writer) as session, session.begin():
            yield session

    def check_file(self) -> None:
        """Refuse a SQLite file that does not exist (connecting would create an empty one)
        or that is not the file this process first opened (deleted, or replaced by another:
        a pooled connection would go on writing to the unlinked one).  A ``stat`` call."""
        if self.path is None:
            return
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            if self._identity is not None:
                raise DatabaseLost("db_gone", path=str(self.path)) from None
            raise DatabaseError("db_no_file", path=str(self.path)) from None
        identity = (found.st_dev, found.st_ino)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            raise DatabaseLost("db_replaced", path=str(self.path))

    def instance(self) -> str | None:
        """The database's instance id: written once by its migration, the same in a copy of
        it, different in any other database behind the same URL (dropped and made anew)."""
        with self.read() as session:
            found = session.execute(
                text("SELECT value FROM service_state WHERE name = :name"), {"name": INSTANCE}
            ).scalar()
        return str(found) if found is not None else None

    def check_instance(self) -> None:
        """Refuse a database that is not the one this object first checked: a schema
        dropped and made anew, or another database restored behind the same URL, whose
        records are not the ones planned from (`DatabaseLost`).  The first call notes the
        id; each later one is one query.  SQLite's file is also checked by `check_file`."""
        found = self.instance()
        if self.instance_id is None:
            self.instance_id = found
        elif found != self.instance_id:
            raise DatabaseLost("db_other", url=self.safe_url)

    def _alembic(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("scheduler.store").joinpath("migrations"))
        )
        config.attributes["engine"] = self.engine
        return config

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration (and, on SQLite, the file)."""
        from alembic import command

        if self._identity is not None:
            self.check_file()  # a database lost under this process is not made anew
        command.upgrade(self._alembic(), "head")
        self.check_file()

    def head(self) -> str | None:
        """The newest revision among the migration scripts."""
        from alembic.script import ScriptDirectory

        head: str | None = ScriptDirectory.from_config(self._alembic()).get_current_head()
        return head

    def revision(self) -> str | None:
        """The schema revision the database is at (Alembic's ``alembic_version``); None when
        it has no schema yet.  The driver's error when it cannot be reached."""
        with self.engine.connect() as connection:
            if "alembic_version" not in inspect(connection).get_table_names():
                return None
            found = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            current: str | None = found.scalar()
            return current

    def ensure_current(self, oldest: str = SCHEMA_REVISION) -> None:
        """Refuse to work on a database that is missing, unreachable, or behind the code's
        migrations (``oldest`` lets a command that needs less work on an older one)."""
        from sqlalchemy.exc import DBAPIError

        self.check_file()
        try:
            current = self.revision()
        except DBAPIError as exc:
            said = failure(self.url, exc)
            if said is None:
                raise
            raise said from None
        if current is None:
            raise DatabaseError("db_not_initialised", url=self.safe_url)
        if not oldest <= current <= SCHEMA_REVISION:  # revisions are numbered 0001, 0002, …
            raise DatabaseError(
                "db_revision", url=self.safe_url, revision=current, head=SCHEMA_REVISION
            )


# PostgreSQL states that say the database, not our statement, is at fault: no schema on
# the search_path, a read-only transaction or role.
_OUTAGE_STATES = frozenset({"3F000", "25006", "42501"})
_UNIQUE = "23505"  # unique_violation


def failure(url: URL | str, error: BaseException) -> DatabaseError | None:
    """The one place an error becomes "the database cannot be used": a message key and its
    parameters (`DatabaseError`, a `Said`), which the caller says in its reader's language
    (``.text(language)``; ``str()`` is the English, as the log keeps it).

    A `DatabaseError` of ours (the file missing, deleted or replaced, …) is its own answer.
    A driver's error becomes one sentence (the URL without password, the driver's first
    line) when the database is to blame: away, read-only, without schema (an
    OperationalError or one of `_OUTAGE_STATES`), or a unique key another command took
    meanwhile.  None for any other error (a wrong statement, a NOT NULL or foreign key
    broken, a bug that is no database's), a fault of ours that deserves its traceback
    rather than "run it again"."""
    from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

    if isinstance(error, DatabaseError):
        return error
    cause = getattr(error, "orig", None) or error
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    state = getattr(cause, "sqlstate", None)
    if state == "3F000":  # PostgreSQL: invalid_schema_name
        message = "db_no_schema"
    elif isinstance(error, IntegrityError):
        if state != _UNIQUE and not first.startswith("UNIQUE constraint failed"):
            return None
        message = "db_conflict"
    elif isinstance(error, OperationalError | InterfaceError) or state in _OUTAGE_STATES:
        message = "db_failed"
    else:
        return None
    return DatabaseError(message, url=shown(url), error=first)


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
