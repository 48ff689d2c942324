"""periods as the agency names them: the records of a rule that reports on the year before
(SPT, LHKPN, LKJP, LKSKPD) move to that year, and SHS, a proposal for the next budget year,
to that year, so that every record stays with the deadline it was made for

The SPT due 31 March 2025 was period "2025" and is now "2024" (tax year 2024): a submission,
an exemption and an outbox row of "2025" move to "2024".  Outbox rows move too, with their
idempotency key (employee|rule|period|step|recipient): the plan now names the same notice
with the new period, and a notice already sent must be recognised, not sent again.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The shipped rules whose yearly period changed meaning, and by how many years their keys
# move: frozen here, as the catalog may change after this migration.
SHIFT = {"SPT": -1, "LHKPN": -1, "LKJP": -1, "LKSKPD": -1, "SHS": 1}

submissions = sa.table(
    "submissions", sa.column("id", sa.Integer), sa.column("rule_code"), sa.column("period")
)
exemptions = sa.table(
    "exemptions", sa.column("id", sa.Integer), sa.column("rule_code"), sa.column("period")
)
outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("rule_code"),
    sa.column("period"),
    sa.column("key"),
)


def _moved_key(key: str, rule: str, old: str, new: str) -> str:
    """The notice key with its period replaced; any other key (a digest's) stays."""
    parts = key.split("|")
    if len(parts) == 5 and parts[1:3] == [rule, old]:
        parts[2] = new
    return "|".join(parts)


def _shift(table: sa.TableClause, rule: str, by: int) -> None:
    """Move one rule's yearly keys ``by`` years.  Rows go one at a time, the farthest first
    in the direction of the move, so that a key is freed before another row takes it (the
    exemptions and the outbox keys are UNIQUE)."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(*table.c).where(table.c.rule_code == rule)).all()
    for row in sorted(rows, key=lambda r: r.period, reverse=by > 0):
        if not (len(row.period) == 4 and row.period.isdigit()):
            continue  # not a year key: nothing this migration knows how to move
        new = f"{int(row.period) + by:04d}"
        values = {"period": new}
        if "key" in table.c:
            values["key"] = _moved_key(row.key, rule, row.period, new)
        connection.execute(table.update().where(table.c.id == row.id).values(**values))


def _move(direction: int) -> None:
    for rule, by in SHIFT.items():
        for table in (submissions, exemptions, outbox):
            _shift(table, rule, by * direction)


def upgrade() -> None:
    _move(1)


def downgrade() -> None:
    _move(-1)
