"""the web console's uploads, kept between their preview and the admin's confirmation

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["web_sessions.id"],
            name=op.f("fk_web_uploads_session_id_web_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_uploads")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_uploads_token_hash")),
    )
    op.create_index(op.f("ix_web_uploads_session_id"), "web_uploads", ["session_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_uploads_session_id"), table_name="web_uploads")
    op.drop_table("web_uploads")
