"""How a person is reached: their contacts as the roster holds them, and the channel chosen.

The dispatcher sends by it and `tenggat simulate` foretells by it, so the two can only
agree: Telegram when the person has a chat (one Telegram has not given up on) and a bot is
set, else e-mail when they have an address and SMTP is set, else the console.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models
from scheduler.store.db import chunks


class Contact(NamedTuple):
    """How one person can be reached; ``chat`` is None once Telegram has failed for them,
    and ``problem`` says why.  A key the roster does not know is ``Contact(key)``."""

    name: str
    nip: str | None = None
    email: str | None = None
    chat: str | None = None
    problem: str = ""


def find_contacts(session: Session, keys: Collection[str] | None = None) -> dict[str, Contact]:
    """How to reach each employee of ``keys`` (None: everyone, active or not), in one query
    per bounded batch of keys: a Secretary's escalations name the whole agency."""
    table = models.Employee
    query = select(
        table.key,
        table.name,
        table.nip,
        table.email,
        table.telegram_chat_id,
        table.telegram_unreachable,
    )
    batches = [query] if keys is None else [query.where(table.key.in_(b)) for b in chunks(keys)]
    return {
        key: Contact(name, nip, email, None if unreachable else chat, unreachable or "")
        for batch in batches
        for key, name, nip, email, chat, unreachable in session.execute(batch)
    }


def route(person: Contact, channels: Collection[str]) -> tuple[str, str]:
    """The channel of ``channels`` (the names of those configured) that reaches ``person``,
    and their address on it (none on the console)."""
    if person.chat and "telegram" in channels:
        return "telegram", person.chat
    if person.email and "email" in channels:
        return "email", person.email
    return "console", ""
