"""the two-way Telegram bot: link codes, chat state and the bot's audit trail

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_chat", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_link_codes_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
    )
    op.create_index(op.f("ix_link_codes_employee_id"), "link_codes", ["employee_id"])
    op.create_table(
        "bot_chats",
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_bot_chats")),
    )
    op.create_table(
        "bot_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.String(length=32), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_bot_audit_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_audit")),
    )
    op.create_index("ix_bot_audit_chat_at", "bot_audit", ["chat_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_bot_audit_chat_at", table_name="bot_audit")
    op.drop_table("bot_audit")
    op.drop_table("bot_chats")
    op.drop_index(op.f("ix_link_codes_employee_id"), table_name="link_codes")
    op.drop_table("link_codes")
