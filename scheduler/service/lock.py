"""One scheduler at a time: a lock that the operating system or the database server frees
when its holder dies, so a crashed scheduler never needs a human to clean up after it.

- SQLite: an exclusive ``flock`` on a file beside the database (``tenggat.db.lock``), taken
  without waiting.  The kernel drops it when the process exits, however it exits.  The file
  says who holds it (pid, host, since) so that a refused second ``tenggat run`` can name it.
- PostgreSQL: a session advisory lock, ``pg_try_advisory_lock(NAMESPACE, <schema key>)``, on a
  connection of its own that stays open while the lock is held.  The server drops it when
  that connection closes, i.e. when the process dies (or the network does: see
  ``still_held``).  The second key is derived from the schema, so deployments that share a
  database in different schemas do not block each other.  The connection's
  ``application_name`` ("tenggat scheduler HOST:PID") names the holder in ``pg_locks``.
- An in-memory SQLite database belongs to one process: there is nothing to lock.

Only *scheduling* needs the lock: dispatching is safe in any number of processes, because
the outbox is claimed row by row.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from notifications.message import Closing
from scheduler.catalog import Words
from scheduler.store.db import Database, DatabaseError, sqlite_path

# "TGGT": the first key of every Tenggat advisory lock, so `pg_locks` shows whose it is.
NAMESPACE = 0x54474754
APPLICATION = "tenggat scheduler"

_HOLDERS = """
SELECT l.pid, a.application_name, a.backend_start
FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid::bigint = :namespace AND l.objid::bigint = :key
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""

_WORDS = Words("lock")  # the words of this module, in the catalogs


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as far as can be told."""

    pid: int | None
    host: str | None
    since: datetime | None = None
    backend: int | None = None  # the PostgreSQL server process holding it

    def describe(self, language: str = "en") -> str:
        words = _WORDS[language]
        parts = []
        if self.pid is not None:
            parts.append(words["holder"].format(pid=self.pid, host=self.host or "?"))
        if self.backend is not None:
            parts.append(words["backend"].format(backend=self.backend))
        if self.since is not None:
            parts.append(words["since"].format(since=self.since.isoformat(timespec="seconds")))
        return ", ".join(parts) or words["unknown"]

    def __str__(self) -> str:
        return self.describe("en")


class LockHeld(RuntimeError):
    """Raised by ``with SchedulerLock(...)`` when another process holds the lock."""

    def __init__(self, lock: SchedulerLock, holder: Holder | None) -> None:
        self.lock = lock
        self.holder = holder
        super().__init__(lock.refusal("en", holder))


def _me() -> tuple[int, str]:
    return os.getpid(), socket.gethostname()


def lock_path(url: URL) -> Path | None:
    """The lock file of a SQLite database (its real path plus ``.lock``); None in memory."""
    path = sqlite_path(url)
    return None if path is None else path.with_name(path.name + ".lock")


class SchedulerLock(Closing):
    """The right to schedule on one database.  ``try_acquire()`` never waits.

    ``with SchedulerLock(db, clock):`` takes it or raises `LockHeld`; ``release()`` (or leaving the
    block) gives it back.  A process that dies loses it without any help.  Keep the object
    for as long as the lock should be held: on PostgreSQL it owns the connection that holds
    the lock.  ``clock`` is the service's: the lock file says since when by it."""

    def __init__(self, database: Database | str | URL, clock: Callable[[], datetime]) -> None:
        self.url: URL = database.url if isinstance(database, Database) else make_url(database)
        self.clock = clock
        self.backend = self.url.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise ValueError(f"no scheduler lock for {self.backend} databases")
        self.path = lock_path(self.url) if self.backend == "sqlite" else None
        self.held = False
        self._fd: int | None = None
        self._inode: int | None = None
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._key: int | None = None

    # ------------------------------------------------------------------ common

    @property
    def needed(self) -> bool:
        """False for an in-memory SQLite database, which no other process can open."""
        return self.backend == "postgresql" or self.path is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this object holds it afterwards."""
        if self.held:
            return True
        if not self.needed:
            self.held = True
        elif self.backend == "sqlite":
            self.held = self._flock()
        else:
            self.held = self._advisory()
        return self.held

    def release(self) -> None:
        """Give the lock back (and close what held it); harmless when not held."""
        held, self.held = self.held, False
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # nobody holds it now: say nothing about anyone
            os.close(fd)  # closing the only descriptor drops the flock
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                if held:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:namespace, :key)"),
                        {"namespace": NAMESPACE, "key": self._key},
                    )
            with contextlib.suppress(Exception):
                connection.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def still_held(self) -> bool:
        """Whether the lock is still ours: call it before each scheduling tick.

        On PostgreSQL the lock dies with its connection (server restart, network cut, an
        ``idle_session_timeout``); the query also keeps the connection from looking idle.
        On SQLite the lock file may have been deleted and made anew by someone else."""
        if not self.held or not self.needed:
            return self.held
        if self.backend == "sqlite":
            assert self._fd is not None and self.path is not None
            try:
                same = os.stat(self.path).st_ino == self._inode
            except OSError:
                same = False
        else:
            try:
                assert self._connection is not None
                found = self._connection.execute(
                    text(_HOLDERS + " AND l.pid = pg_backend_pid()"),
                    {"namespace": NAMESPACE, "key": self._key},
                ).first()
                same = found is not None
            except Exception:
                same = False
        if not same:
            self.release()
        return same

    def holder(self) -> Holder | None:
        """Who holds the lock now (this process included); None when nobody is known to."""
        if not self.needed:
            pid, host = _me()
            return Holder(pid, host) if self.held else None
        if self.backend == "sqlite":
            return self._file_holder()
        return self._pg_holder()

    def refusal(self, language: str = "en", holder: Holder | None = None) -> str:
        """What to tell the admin when the lock is refused: who holds it and what to do."""
        holder = holder or self.holder()
        words = _WORDS[language]
        described = holder.describe(language) if holder else words["unknown"]
        if self.backend == "sqlite":
            pid = str(holder.pid) if holder and holder.pid else "PID"
            return words["refused_sqlite"].format(holder=described, path=self.path, pid=pid)
        return words["standby"].format(holder=described)

    def open(self) -> None:
        """What ``with lock:`` does first: take the lock or raise `LockHeld`."""
        if not self.try_acquire():
            raise LockHeld(self, self.holder())

    def close(self) -> None:
        """What leaving ``with lock:`` does: `release`."""
        self.release()

    # ------------------------------------------------------------------ SQLite

    def _flock(self) -> bool:
        """The lock file beside the database's real path.  Symbolic links and bind mounts
        lead to that one file; only a hard link names the database in another place, with a
        lock file of its own, so a database with more than one name is refused."""
        assert self.path is not None
        database = sqlite_path(self.url)
        assert database is not None
        with contextlib.suppress(FileNotFoundError):
            links = os.stat(database).st_nlink
            if links > 1:
                raise DatabaseError("db_links", path=str(database), count=str(links))
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        pid, host = _me()
        since = self.clock().isoformat(timespec="seconds")
        record = json.dumps({"pid": pid, "host": host, "since": since}) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        self._fd, self._inode = fd, os.fstat(fd).st_ino
        return True

    def _file_holder(self) -> Holder | None:
        assert self.path is not None
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            return None
        since = None
        with contextlib.suppress(TypeError, ValueError):
            since = datetime.fromisoformat(data["since"])
        pid = data.get("pid")
        return Holder(pid if isinstance(pid, int) else None, data.get("host"), since)

    # ------------------------------------------------------------------ PostgreSQL

    def _advisory(self) -> bool:
        try:
            return self._try_advisory()
        except BaseException:
            self.release()  # e.g. the server is down: leave nothing half open
            raise

    def _try_advisory(self) -> bool:
        if self._connection is None:
            pid, host = _me()
            self._engine = create_engine(
                self.url,
                poolclass=NullPool,
                connect_args={"application_name": f"{APPLICATION} {host}:{pid}"[:63]},
            )
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
            schema = self._connection.execute(text("SELECT current_schema()")).scalar() or ""
            self._key = schema_key(schema)
        got = bool(
            self._connection.execute(
                text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                {"namespace": NAMESPACE, "key": self._key},
            ).scalar()
        )
        if not got:  # keep no idle connection around while standing by
            self.release()
        return got

    def _pg_holder(self) -> Holder | None:
        engine = self._engine or create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                key = self._key
                if key is None:
                    schema = connection.execute(text("SELECT current_schema()")).scalar() or ""
                    key = schema_key(schema)
                row = connection.execute(
                    text(_HOLDERS), {"namespace": NAMESPACE, "key": key}
                ).first()
        finally:
            if engine is not self._engine:
                engine.dispose()
        if row is None:
            return None
        backend, application, started = row
        pid, host = None, None
        prefix = APPLICATION + " "
        if application and application.startswith(prefix):
            host, _, number = application[len(prefix) :].rpartition(":")
            pid = int(number) if number.isdigit() else None
        return Holder(pid, host or None, started, backend)


def schema_key(schema: str) -> int:
    """The second advisory-lock key: a stable non-negative 31-bit number for a schema."""
    return zlib.crc32(schema.encode()) & 0x7FFFFFFF
