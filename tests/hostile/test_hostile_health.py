"""`tenggat health` under a busy or a read-only database: only a database that refuses
writes is red for it, and a busy one does not keep the answer waiting.  Real SQLite files,
a real PostgreSQL server, real `tenggat` processes."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from test_hostile_store import tenggat
from test_service import seed_roster


def test_health_is_quick_and_not_red_for_a_database_another_writer_holds(tmp_path: Path) -> None:
    path = tmp_path / "tenggat.db"
    url = f"sqlite:///{path}"
    seed_roster(url)
    assert tenggat(tmp_path, url, "run", "--once").returncode == 0
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        start = time.monotonic()
        health = tenggat(tmp_path, url, "--lang", "en", "health")
        took = time.monotonic() - start
    finally:
        writer.close()
    assert took < 10, took
    assert "cannot be written" not in health.stdout, health.stdout
    assert "locked" not in health.stdout + health.stderr


# How a database that takes no writes is reached, by its kind: a read-only SQLite file; a
# PostgreSQL session whose transactions are read-only (the test URL already sets options).
READ_ONLY = {
    "sqlite": lambda url: f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true",
    "postgresql": lambda url: url + "%20-cdefault_transaction_read_only%3Don",
}


def test_health_is_red_for_a_database_that_refuses_writes(
    database_url: str, tmp_path: Path
) -> None:
    seed_roster(database_url)
    read_only = READ_ONLY[database_url.split(":")[0].split("+")[0]](database_url)
    health = tenggat(tmp_path, read_only, "--lang", "en", "health")
    assert health.returncode == 1, health.stdout + health.stderr
    assert "cannot be written" in health.stdout, health.stdout
