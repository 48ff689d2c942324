"""the database's instance id: a random id written once, so that a process can tell that
the database behind its URL is still the one it started on

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from scheduler.store.db import INSTANCE
from scheduler.store.models import Instant

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

state = sa.table(
    "service_state",
    sa.column("name", sa.String),
    sa.column("value", sa.Text),
    sa.column("at", Instant()),
)


def upgrade() -> None:
    op.bulk_insert(state, [{"name": INSTANCE, "value": uuid.uuid4().hex, "at": datetime.now(UTC)}])


def downgrade() -> None:
    op.execute(state.delete().where(state.c.name == INSTANCE))
