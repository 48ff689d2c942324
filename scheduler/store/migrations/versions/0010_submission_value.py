"""a measured indicator's value on its submission row (SERAPAN's percentage), empty for a
document: existing rows keep theirs as they are

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as table:  # SQLite drops a column by copying
        table.drop_column("value")
