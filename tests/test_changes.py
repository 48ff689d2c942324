"""The records' revision and what changed since one, as the database's triggers record them
whoever writes: an IKI import, a command, the store's writers, a hand-typed UPDATE."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path

from conftest import shipped
from sqlalchemy import delete, select, text, update

from rules.calendar import WITA
from scheduler.iki.apply import apply_import
from scheduler.iki.document import parse_iki
from scheduler.store import changes, models, records, submissions
from scheduler.store.db import Database

TENGGAT = str(Path(sys.executable).parent / "tenggat")
SEED = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
SECRETARY = "197105152000121003"
STAFF = "197201202009021001"  # AHMAD JUNAIDI, Sekretariat, reports to the Kasubbag
KASUBBAG = "197308132007011009"
NOW = datetime(2025, 3, 3, 9, tzinfo=WITA)


def revision(db: Database) -> int:
    with db.read() as session:
        return changes.revision(session)


def since(db: Database, after: int) -> changes.Changed:
    with db.read() as session:
        return changes.since(session, after)


def ident(db: Database, key: str) -> int:
    with db.read() as session:
        found = session.scalar(select(models.Employee.id).where(models.Employee.key == key))
        assert found is not None
        return found


def test_every_writer_moves_the_revision_and_says_whose_records_changed(
    database: Database, tmp_path: Path
) -> None:
    db = database
    assert revision(db) == 0 and since(db, 0).nothing
    with db.write() as session:
        apply_import(session, parse_iki(SEED.read_text(encoding="utf-8"), shipped()), NOW)
    imported = revision(db)
    assert imported > 0 and since(db, 0).roster  # a roster arrived

    # A command in its own process (`tenggat submit`): one person's record.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    env["TENGGAT_DATABASE_URL"] = db.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [TENGGAT, "submit", STAFF, "SKP", "2024", "--at", "2025-01-20"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    staff = ident(db, STAFF)
    assert since(db, imported) == changes.Changed(False, {staff: frozenset({"SKP"})})
    submitted = revision(db)
    assert submitted > imported

    # A verification (a new row, by the store's writer) and a hand-typed UPDATE of one.
    with db.write() as session:
        row = submissions.newest(session, staff, "SKP", "2024")
        assert row is not None
        submissions.verify(session, row, NOW, "test", "cli")
    verified = revision(db)
    assert verified > submitted and since(db, submitted).people == {staff: frozenset({"SKP"})}
    with db.write() as session:
        session.execute(update(models.Submission).values(verified_at=NOW))
    assert revision(db) > verified and not since(db, verified).roster

    # An exemption and its removal, each for whom it is.
    boss = ident(db, KASUBBAG)
    before = revision(db)
    with db.write() as session:
        person = session.get(models.Employee, boss)
        assert person is not None
        records.exempt(session, person, "LHKPN", "2024", "cuti", NOW, "test")
    with db.write() as session:
        session.execute(delete(models.Exemption))
    assert since(db, before) == changes.Changed(False, {boss: frozenset({"LHKPN"})})

    # A contact is not what planning reads: the revision moves (a page shows it), the plan
    # has nothing to redo.
    before = revision(db)
    with db.write() as session:
        person = session.get(models.Employee, staff)
        assert person is not None
        records.set_contact(session, person, None, "junaidi@example.go.id")
    assert revision(db) > before and since(db, before).nothing

    # A superior changed, and the agency's own record: the whole roster.
    before = revision(db)
    with db.write() as session:
        person, superior = session.get(models.Employee, staff), session.get(models.Employee, boss)
        assert person is not None and superior is not None
        records.set_superior(person, superior.superior)
    assert since(db, before).roster
    before = revision(db)
    with db.write() as session:
        submissions.add(session, None, "RENJA", "2025", NOW, NOW, "test")
    assert since(db, before).roster


def test_ids_are_never_reused_and_pruning_keeps_the_revision(database: Database) -> None:
    db = database
    with db.write() as session:
        session.add(models.Unit(name="Bidang A"))
    with db.write() as session:
        session.add(models.Unit(name="Bidang B"))
    newest = revision(db)
    with db.write() as session:
        assert changes.prune(session, newest) == 1  # the older one: the newest stays
    assert revision(db) == newest
    with db.write() as session:
        session.execute(delete(models.RecordChange))  # even emptied by hand
        session.add(models.Unit(name="Bidang C"))
    assert revision(db) > newest


def test_migration_0012_makes_the_table_the_model_describes_and_goes_back(
    database_url: str,
) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    db = Database(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)
    assert [c for c in found if "record_changes" in repr(c)] == []
    command.downgrade(db._alembic(), "0011")
    with db.engine.connect() as connection:
        assert "record_changes" not in inspect(connection).get_table_names()
    with db.write() as session:  # no trigger is left writing to a table that is gone
        session.add(models.Unit(name="Bidang A"))
    db.migrate()
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM record_changes")).scalar() == 0
    db.engine.dispose()
