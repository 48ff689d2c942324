"""the web console's sign-in: one-time links and sessions (both kept only as hashes of their
tokens) and the audit trail of what was done through it

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _employee(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["employee_id"], ["employees.id"], name=op.f(f"fk_{table}_employee_id_employees")
    )


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "web_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("expires_at", moment, nullable=False),
        sa.Column("used_at", moment, nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _employee("web_logins"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_logins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_logins_token_hash")),
    )
    op.create_index(op.f("ix_web_logins_employee_id"), "web_logins", ["employee_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("expires_at", moment, nullable=False),
        sa.Column("ended_at", moment, nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        _employee("web_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_employee_id"), "web_sessions", ["employee_id"])
    op.create_table(
        "web_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", moment, nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        _employee("web_audit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_audit")),
    )
    op.create_index("ix_web_audit_at", "web_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_web_audit_at", table_name="web_audit")
    op.drop_table("web_audit")
    op.drop_index(op.f("ix_web_sessions_employee_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_web_logins_employee_id"), table_name="web_logins")
    op.drop_table("web_logins")
