"""one Telegram chat per employee: chat ids written one way, and unique

A chat shared by two employees made the bot act for whichever the database returned first.
Existing ids are first written as Telegram writes them ("0012345" is chat 12345, "" is no
chat); if two employees then share a chat, the upgrade stops and names them, since only an
admin can tell whose chat it is.  Nothing is changed until every chat is unique.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from scheduler.store.db import DatabaseError
from scheduler.store.records import is_chat_id, normal_chat_id

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "uq_employees_telegram_chat_id"


def upgrade() -> None:
    employees = sa.table(
        "employees",
        sa.column("id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("telegram_chat_id", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(employees.c.id, employees.c.key, employees.c.name, employees.c.telegram_chat_id)
        .where(employees.c.telegram_chat_id.is_not(None))
        .order_by(employees.c.key)
    ).all()
    written: dict[int, str | None] = {}
    holders: dict[str, list[tuple[str, str]]] = defaultdict(list)  # chat: (name, key)
    for row in rows:
        text = re.sub(r"\s", "", row.telegram_chat_id)
        chat = normal_chat_id(text) if is_chat_id(text) else text or None
        written[row.id] = chat
        if chat is not None:
            holders[chat].append((row.name, row.key))
    clashes = {chat: people for chat, people in holders.items() if len(people) > 1}
    if clashes:
        listed = "; ".join(
            f"{chat}: " + ", ".join(f"{name} ({key})" for name, key in people)
            for chat, people in clashes.items()
        )
        _, second = next(iter(clashes.values()))[1]
        raise DatabaseError("chat_clash", clashes=listed, key=second)
    for row in rows:
        if written[row.id] != row.telegram_chat_id:
            bind.execute(
                employees.update()
                .where(employees.c.id == row.id)
                .values(telegram_chat_id=written[row.id])
            )
    op.create_index(INDEX, "employees", ["telegram_chat_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="employees")
