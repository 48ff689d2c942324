"""A database error is an outage (one sentence, exit 2) only when the database is away,
read-only, has no schema or refused a change another command raced for (a unique key);
a statement of ours that is wrong or breaks another constraint is a fault: its traceback
goes to the log and the command exits 1.  Real `tenggat` processes on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scheduler.store.db import Database, DatabaseLost, failure

SCRIPT = """if True:
    import sys
    from scheduler.cli.main import cli, main
    from scheduler.cli.shared import current

    statement = sys.argv[1]

    @cli.command()
    def boom() -> None:
        db = current().db
        with db.write() as session:
            connection = session.connection()
            connection.exec_driver_sql(statement, ())

    sys.argv = ["tenggat", "--lang", "en", "boom"]
    main()
"""

STATE = "('x', 'y', '2025-01-01 00:00:00')"  # a row the unique case adds again

# (what the statement is, per backend, and how the command must end)
STATEMENTS = {
    "not null": ({"any": "INSERT INTO employees (key) VALUES ('x')"}, 1),
    "foreign key": (
        {
            "any": "INSERT INTO assignments (employee_id, rule_code, origin, review) "
            "VALUES (999999, 'SKP', 'manual', '')"
        },
        1,
    ),
    "wrong statement": ({"sqlite": "SELECT ?", "postgresql": "SELEC 1"}, 1),
    "unique key": ({"any": f"INSERT INTO service_state (name, value, at) VALUES {STATE}"}, 2),
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_only_an_outage_or_a_race_is_one_sentence(database_url: str, name: str) -> None:
    database = Database(database_url)
    database.migrate()
    with database.write() as session:
        session.connection().exec_driver_sql(
            f"INSERT INTO service_state (name, value, at) VALUES {STATE}"
        )
    database.engine.dispose()
    statements, status = STATEMENTS[name]
    backend = database_url.split(":")[0].split("+")[0]
    statement = statements.get(backend, statements.get("any"))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(statement)],
        env=environ | {"TENGGAT_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == status, done.stderr
    if status == 1:
        assert "CRITICAL unexpected error" in done.stderr and "Traceback" in done.stderr
        assert "run it again" not in done.stderr
    else:
        assert "refused the change" in done.stderr and "Traceback" not in done.stderr


def test_one_helper_says_every_database_error_and_no_other() -> None:
    """`db.failure` is where the commands, the tick, `tenggat health` and ``GET /health``
    turn an error into "the database cannot be used": a database error of ours (a lost
    file) passes through as itself, said in either language; a bug is none of its business."""
    url = "sqlite:////srv/tenggat/tenggat.db"
    lost = DatabaseLost("db_gone", path="/srv/tenggat/tenggat.db")
    assert failure(url, lost) is lost
    assert "terhapus saat dipakai" in lost.text("id") and "was deleted" in str(lost)
    assert failure(url, KeyError("tick")) is None
