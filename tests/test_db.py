"""The database layer on real SQLite and PostgreSQL: migrations, time zones, write locks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from rules.calendar import WITA
from scheduler.store import models
from scheduler.store.db import SCHEMA_REVISION, Database, DatabaseError


def test_unmigrated_database_is_refused_with_a_hint(database_url: str) -> None:
    assert Database(database_url).revision() is None
    with pytest.raises(DatabaseError, match="tenggat init"):
        Database(database_url).ensure_current()


def test_migrated_database_is_current_and_migration_is_idempotent(database: Database) -> None:
    assert database.revision() == SCHEMA_REVISION  # what the doctor reports, read in one place
    database.ensure_current()
    database.migrate()  # a second run changes nothing and does not fail
    database.ensure_current()


def test_instants_come_back_timezone_aware_and_equal(database: Database) -> None:
    moment = datetime(2025, 2, 28, 23, 59, tzinfo=WITA)
    with database.write() as session:
        session.add(models.Event(code="APBD_ADOPTED", key="2025", day=moment.date(),
                                 recorded_by="t", recorded_at=moment))  # fmt: skip
    with database.read() as session:
        stored = session.scalar(select(models.Event.recorded_at))
    assert stored is not None and stored.tzinfo is not None
    assert stored == moment
    assert stored.astimezone(UTC) == datetime(2025, 2, 28, 15, 59, tzinfo=UTC)


def test_naive_instant_is_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.write() as session:
        session.add(models.Event(code="X", key="2025", day=datetime(2025, 1, 1).date(),
                                 recorded_by="t", recorded_at=datetime(2025, 1, 1)))  # fmt: skip
        session.flush()


def test_failed_write_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        session.add(models.Unit(name="Sekretariat"))
        session.flush()
        raise RuntimeError("boom")
    with database.read() as session:
        assert session.scalars(select(models.Unit)).all() == []


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    db.migrate()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_schema_revision_constant_is_the_migrations_head(tmp_path: Path) -> None:
    assert Database(f"sqlite:///{tmp_path / 'h.db'}").head() == SCHEMA_REVISION


def test_migration_0010_adds_an_empty_value_and_keeps_existing_submissions(
    database_url: str,
) -> None:
    from alembic import command

    db = Database(database_url)
    command.upgrade(db._alembic(), "0009")  # a database made by the previous version
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO submissions (rule_code, period, submitted_at, evidence, source,"
            " recorded_by, recorded_at) VALUES ('SERAPAN', '2025-02', '2025-03-01 01:00:00',"
            " 'x', 'cli', 't', '2025-03-01 01:00:00')"
        )
    db.migrate()
    assert db.revision() == SCHEMA_REVISION
    with db.read() as session:
        row = session.scalars(select(models.Submission)).one()
        assert (row.rule_code, row.evidence, row.value) == ("SERAPAN", "x", None)
    with db.write() as session:
        session.scalars(select(models.Submission)).one().value = 87.5
    with db.read() as session:
        assert session.scalar(select(models.Submission.value)) == 87.5
    db.engine.dispose()


def test_migration_0011_adds_the_web_tables_as_the_models_have_them_and_goes_back(
    database_url: str,
) -> None:
    """The sign-in tables of the web console: what the migration makes is what the models
    describe (alembic finds nothing to add), and downgrading removes them again."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    db = Database(database_url)
    command.upgrade(db._alembic(), "0010")
    db.migrate()
    web = {"web_logins", "web_sessions", "web_audit"}
    with db.engine.connect() as connection:
        assert web <= set(inspect(connection).get_table_names())
        changes = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)
    about_web = [c for c in changes if any(name in repr(c) for name in web)]
    assert about_web == []
    command.downgrade(db._alembic(), "0010")
    with db.engine.connect() as connection:
        assert not web & set(inspect(connection).get_table_names())
    db.engine.dispose()
