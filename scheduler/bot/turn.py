"""What handling one update works with: the replies it sends, the `Turn` (who wrote, where,
the ``[bot]`` settings, what to answer and audit) and the chat's state between updates.

Shared by the conversation (`scheduler.bot.conversation`) and its /lapor flow
(`scheduler.bot.report`), and by the poller, which sends the replies.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy.orm import Session

from scheduler.bot.buttons import Button
from scheduler.bot.words import WORDS as _WORDS
from scheduler.memory import paused_gc
from scheduler.store import models

if TYPE_CHECKING:
    from scheduler.config import BotConfig, Config
    from scheduler.reports.status import Matrix

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # dropped from what people write


class Reply(NamedTuple):
    """One thing to send: a message (HTML, values escaped) with optional inline buttons,
    and/or the answer to a callback query (stops the pressed button's spinner)."""

    chat: str
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    callback: str = ""


def esc(text: str) -> str:
    """A value for a message in HTML parse mode (quotes need no escaping there)."""
    return html.escape(text, quote=False)


def sample(text: str) -> str:
    """A bit of what someone wrote, safe to audit or echo: no control characters, 80 at most."""
    return CONTROL.sub("", text)[:80]


def own_matrix(turn: Turn, detail: bool = False) -> Matrix:
    """The compliance matrix of the linked employee as of this update: what /status shows,
    what /lapor offers, and what a receipt reports."""
    from scheduler.reports.status import build
    from scheduler.store import records

    employee = turn.employee
    assert employee is not None
    with paused_gc():
        snap = records.snapshot(
            turn.session, turn.config.catalog, since_year=turn.now.year - 1, key=employee.key
        )
        return build(turn.config.schedule(), snap, turn.now, detail=detail)


@dataclass
class Turn:
    """One update being handled: who, where, and what to answer and audit."""

    session: Session
    config: Config
    settings: BotConfig
    now: datetime
    language: str
    chat: str
    employee: models.Employee | None
    replies: list[Reply] = field(default_factory=list)
    action: str = "ignored"
    detail: str = ""

    def w(self, word: str, /, **params: Any) -> str:
        """A text of the bot in the chat's language."""
        return _WORDS[self.language][word].format(**params)

    def say(
        self, word: str, /, buttons: tuple[tuple[Button, ...], ...] = (), **params: Any
    ) -> None:
        """Answer the chat with a text of the bot, under it rows of buttons."""
        self.replies.append(Reply(self.chat, self.w(word, **params), buttons))

    def done(self, action: str, detail: str = "") -> None:
        """What this update did, for the audit trail."""
        self.action, self.detail = action, detail


def chat_state(turn: Turn) -> dict[str, Any]:
    """Where the chat stands in a conversation between updates (a /lapor awaiting evidence);
    empty when nothing is under way."""
    row = turn.session.get(models.BotChat, turn.chat)
    if row is None or not row.state:
        return {}
    try:
        found = json.loads(row.state)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def set_chat_state(turn: Turn, state: dict[str, Any]) -> None:
    """Store the chat's state for its next update; an empty one forgets it."""
    row = turn.session.get(models.BotChat, turn.chat)
    if not state:
        if row is not None:
            turn.session.delete(row)
        return
    if row is None:
        row = models.BotChat(chat_id=turn.chat)
        turn.session.add(row)
    row.state, row.updated_at = json.dumps(state), turn.now
