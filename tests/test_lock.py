"""scheduler.service.lock: one scheduler per database, with real processes and real databases.

A second process is refused while the first lives, and gets the lock once the first is
killed with SIGKILL (no chance to clean up: the kernel or the server must free it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy
from conftest import POSTGRES_URL

from rules.calendar import WITA
from scheduler.service.lock import LockHeld, SchedulerLock, lock_path
from scheduler.store.db import DatabaseError

SINCE = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)


def clock() -> datetime:
    """The service's clock, as the tests set it."""
    return SINCE


# A process that tries the lock, says what it got, then holds on until stdin closes.
HOLD = """
import sys
from datetime import UTC, datetime
from scheduler.service.lock import SchedulerLock

lock = SchedulerLock(sys.argv[1], lambda: datetime.now(UTC))
print("held" if lock.try_acquire() else "refused", flush=True)
sys.stdin.read()
"""


def start(url: str) -> tuple[subprocess.Popen[str], str]:
    """A real process trying the lock on ``url``, and what it answered."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    answer = process.stdout.readline().strip()
    if not answer:
        process.kill()
        pytest.fail(f"the lock process said nothing: {process.communicate()[1]}")
    return process, answer


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate()


def acquire_eventually(lock: SchedulerLock, seconds: float = 60) -> bool:
    """Try until the lock comes free (the server notices a dead client's connection closed
    at once on a local socket; the deadline only bounds a broken case)."""
    deadline = time.monotonic() + seconds
    while not lock.try_acquire():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        stop(process)


def test_a_second_process_is_refused_and_takes_over_after_sigkill(
    database_url: str, processes: list[subprocess.Popen[str]]
) -> None:
    first, answer = start(database_url)
    processes.append(first)
    assert answer == "held"
    second, answer = start(database_url)
    processes.append(second)
    assert answer == "refused"

    lock = SchedulerLock(database_url, clock)
    try:
        assert not lock.try_acquire()
        holder = lock.holder()
        assert holder is not None and holder.pid == first.pid
        assert f"pid {first.pid}" in lock.refusal("en")

        first.send_signal(signal.SIGKILL)
        first.wait()
        assert acquire_eventually(lock)
        assert lock.still_held()
        mine = lock.holder()
        assert mine is not None and mine.pid == os.getpid()
        third, answer = start(database_url)
        processes.append(third)
        assert answer == "refused"  # now this process is the one holding it
    finally:
        lock.release()


def test_sqlite_lock_file_beside_the_database_names_the_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    lock = SchedulerLock(url, clock)
    assert lock.path == tmp_path / "tenggat.db.lock"
    with lock:
        record = json.loads((tmp_path / "tenggat.db.lock").read_text(encoding="utf-8"))
        assert record["pid"] == os.getpid()
        other = SchedulerLock(url, clock)
        with pytest.raises(LockHeld) as refused:
            other.__enter__()
        message = other.refusal("id")
    assert "tenggat run lain sudah berjalan" in message and str(os.getpid()) in message
    assert str(tmp_path / "tenggat.db.lock") in message
    assert "another tenggat run is already running" in str(refused.value)
    assert not lock.held
    assert lock.holder() is None  # released: the file no longer names anyone
    assert other.try_acquire()  # and the next one gets it
    other.release()


def test_the_lock_tells_since_when_by_the_clock_it_is_given(tmp_path: Path) -> None:
    """The holder's "since" comes from the service's clock (as `run --once --as-of` and the
    tests set it), not from the wall clock behind its back."""
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    with SchedulerLock(url, clock) as lock:
        record = json.loads((tmp_path / "tenggat.db.lock").read_text(encoding="utf-8"))
        holder = lock.holder()
    assert record["since"] == "2025-03-03T09:00:00+08:00"
    assert holder is not None and holder.since == SINCE


def test_a_relative_url_and_an_absolute_one_share_one_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = SchedulerLock("sqlite:///tenggat.db", clock)
    absolute = SchedulerLock(f"sqlite:///{tmp_path / 'tenggat.db'}", clock)
    assert relative.try_acquire()
    assert not absolute.try_acquire()
    relative.release()


def test_a_symlink_shares_the_lock_and_a_hard_link_is_refused(tmp_path: Path) -> None:
    """The lock file lies beside the database's real path: a symbolic link leads to it, a
    hard link would not, so a database file with two names is refused with a sentence."""
    database = tmp_path / "tenggat.db"
    database.write_bytes(b"")
    (tmp_path / "alias.db").symlink_to(database)
    first = SchedulerLock(f"sqlite:///{database}", clock)
    assert first.try_acquire()
    assert not SchedulerLock(f"sqlite:///{tmp_path / 'alias.db'}", clock).try_acquire()
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.link(database, other / "same.db")
    for path in (database, other / "same.db"):
        with pytest.raises(DatabaseError, match="2 names"):
            SchedulerLock(f"sqlite:///{path}", clock).try_acquire()
    assert not (other / "same.db.lock").exists()
    first.release()


def test_an_in_memory_database_needs_no_lock() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        assert lock_path(sqlalchemy.engine.make_url(url)) is None
        one, two = SchedulerLock(url, clock), SchedulerLock(url, clock)
        assert not one.needed
        assert one.try_acquire() and two.try_acquire()


def test_a_deleted_lock_file_means_the_lock_is_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    lock = SchedulerLock(url, clock)
    assert lock.try_acquire() and lock.still_held()
    (tmp_path / "tenggat.db.lock").unlink()  # someone else could now lock a new file
    assert not lock.still_held()
    assert not lock.held


@POSTGRES_ONLY
def test_postgres_lock_lost_with_its_connection_is_noticed(database_url: str) -> None:
    lock = SchedulerLock(database_url, clock)
    assert lock.try_acquire()
    holder = lock.holder()
    assert holder is not None and holder.backend is not None
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.begin() as connection:  # e.g. the server restarted, or an admin did this
            connection.execute(
                sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.backend}
            )
        assert not lock.still_held()
        assert lock.holder() is None
        assert lock.try_acquire()  # a new connection takes it again
    finally:
        lock.release()
        engine.dispose()


@POSTGRES_ONLY
def test_postgres_schemas_lock_separately(database_url: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    here, there = SchedulerLock(database_url, clock), SchedulerLock(database_url, clock)
    elsewhere = SchedulerLock(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", clock)
    try:
        assert here.try_acquire()
        assert not there.try_acquire()
        assert elsewhere.try_acquire()  # another deployment in the same database
    finally:
        for lock in (here, there, elsewhere):
            lock.release()
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
