"""a verification's moment is when it was verified, not when it was written down: until now
``verified_at`` was always the recording moment (a copy of ``recorded_at``), and the status
ignored it.  Verified rows are taken as verified when handed in, so no past status changes
(a month entered from a sheet, or ``submit --verified --at`` a past day, would otherwise turn
late after the fact); when they were written down stays in ``recorded_at``.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

submissions = sa.table(
    "submissions",
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
    sa.column("verified_at", sa.DateTime(timezone=True)),
)
verified = submissions.c.verified_at.is_not(None)


def upgrade() -> None:
    op.execute(submissions.update().where(verified).values(verified_at=submissions.c.submitted_at))


def downgrade() -> None:
    op.execute(submissions.update().where(verified).values(verified_at=submissions.c.recorded_at))
