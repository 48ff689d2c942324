"""record_changes: every change to the records, written by triggers, so that a tick (and a
page cache) can ask what changed since a revision without trusting each writer to say so

Revision ID: 0012
Revises: 0011

SQLite writes a row per row changed (its triggers are row triggers).  PostgreSQL writes per
statement from its transition tables: one row for a statement on the roster's tables, one
per (employee, rule) for submissions and exemptions.  On PostgreSQL ids are handed out in
sequence order but transactions commit in any order, so a reader could see id 101 before
id 100 commits and never look back: the trigger takes a transaction advisory lock first, so
that transactions changing records commit one after another, in the order of their ids
(SQLite writes one transaction at a time anyway).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Tables whose rows change what is owed; submissions and exemptions name whose.
ROSTER = ("employees", "units", "assignments", "events")
PERSONAL = ("submissions", "exemptions")
# What of an employee planning reads: a change to anything else is "employee_details".
PLANNED = ("key", "unit_id", "superior_id", "roles", "active")
NAMESPACE = 0x54474743  # "TGGC": the advisory lock's first key (the scheduler's is "TGGT")

_PG_FUNCTION = f"""
CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({NAMESPACE}, hashtext(TG_TABLE_SCHEMA));
  IF TG_TABLE_NAME IN ('submissions', 'exemptions') THEN
    IF TG_OP <> 'DELETE' THEN
      INSERT INTO record_changes (source, employee_id, rule_code)
        SELECT DISTINCT TG_TABLE_NAME::text, employee_id, rule_code FROM new_rows;
    END IF;
    IF TG_OP <> 'INSERT' THEN
      INSERT INTO record_changes (source, employee_id, rule_code)
        SELECT DISTINCT TG_TABLE_NAME::text, employee_id, rule_code FROM old_rows;
    END IF;
  ELSIF TG_TABLE_NAME = 'employees' AND TG_OP = 'UPDATE' THEN
    IF EXISTS (
      SELECT 1 FROM new_rows AS n JOIN old_rows AS o USING (id)
      WHERE ({", ".join("n." + c for c in PLANNED)})
        IS DISTINCT FROM ({", ".join("o." + c for c in PLANNED)})
    ) THEN
      INSERT INTO record_changes (source) VALUES ('employees');
    ELSIF EXISTS (SELECT 1 FROM new_rows) THEN
      INSERT INTO record_changes (source) VALUES ('employee_details');
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
      INSERT INTO record_changes (source) VALUES (TG_TABLE_NAME::text);
    END IF;
  ELSIF EXISTS (SELECT 1 FROM new_rows) THEN
    INSERT INTO record_changes (source) VALUES (TG_TABLE_NAME::text);
  END IF;
  RETURN NULL;
END
$$
"""

_PG_TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


def _sqlite_triggers() -> list[str]:
    """Row triggers: the row's employee and rule for submissions and exemptions (the old
    row's too when it moves or goes), the table's name alone for the roster's tables."""
    made: list[str] = []

    def trigger(table: str, event: str, values: str, when: str = "", name: str = "") -> None:
        label = name or f"{table}_{event.lower()}"
        made.append(
            f"CREATE TRIGGER record_changes_{label} AFTER {event} ON {table}{when} BEGIN "
            f"INSERT INTO record_changes (source, employee_id, rule_code) VALUES ({values}); END"
        )

    for table in PERSONAL:
        trigger(table, "INSERT", f"'{table}', NEW.employee_id, NEW.rule_code")
        trigger(table, "UPDATE", f"'{table}', NEW.employee_id, NEW.rule_code")
        trigger(
            table,
            "UPDATE",
            f"'{table}', OLD.employee_id, OLD.rule_code",
            " WHEN OLD.employee_id IS NOT NEW.employee_id OR OLD.rule_code IS NOT NEW.rule_code",
            f"{table}_moved",
        )
        trigger(table, "DELETE", f"'{table}', OLD.employee_id, OLD.rule_code")
    for table in ROSTER:
        for event in ("INSERT", "DELETE") if table == "employees" else _PG_TRANSITIONS:
            trigger(table, event, f"'{table}', NULL, NULL")
    planned = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in PLANNED)
    trigger("employees", "UPDATE", "'employees', NULL, NULL", f" WHEN {planned}")
    trigger(
        "employees",
        "UPDATE",
        "'employee_details', NULL, NULL",
        f" WHEN NOT ({planned})",
        "employee_details",
    )
    return made


def upgrade() -> None:
    op.create_table(
        "record_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("rule_code", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_changes")),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in (*ROSTER, *PERSONAL):
            for event, transitions in _PG_TRANSITIONS.items():
                op.execute(
                    f"CREATE TRIGGER record_changes_{event.lower()} AFTER {event} ON {table} "
                    f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION record_change()"
                )
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*ROSTER, *PERSONAL):
            for event in _PG_TRANSITIONS:
                op.execute(f"DROP TRIGGER record_changes_{event.lower()} ON {table}")
        op.execute("DROP FUNCTION record_change()")
    else:
        for statement in _sqlite_triggers():
            name = statement.split()[2]
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("record_changes")
