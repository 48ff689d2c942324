"""What handling one update works with: the ``[bot]`` settings, the replies it sends, the
`Turn` (who wrote, where, what to answer and audit) and the chat's state between updates.

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
    from rules.schedule import Schedule
    from scheduler.config import Config
    from scheduler.reports.status import Matrix

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # dropped from what people write


@dataclass(frozen=True)
class BotSettings:
    """``[bot]`` of the configuration, in the forms the bot works with."""

    link_hours: int = 72  # how long a link code is valid
    groups: frozenset[str] = frozenset()  # group chat ids the bot answers; others are ignored
    flood_count: int = 20  # updates from one chat within flood_seconds before it is throttled
    flood_seconds: int = 60
    poll_seconds: int = 10  # long-polling timeout of one getUpdates
    max_evidence: int = 1000  # characters of a text given as evidence
    webhook_url: str = ""  # where Telegram posts updates; empty: long polling
    webhook_listen: str = "127.0.0.1"  # the address the webhook server binds
    webhook_port: int = 8443


def settings_of(config: Config) -> BotSettings:
    """``[bot]`` of the configuration (validated there) as the bot uses it."""
    section = config.settings.bot
    return BotSettings(
        link_hours=section.link_hours,
        groups=frozenset(section.groups),
        flood_count=section.flood_count,
        flood_seconds=section.flood_seconds,
        poll_seconds=section.poll_seconds,
        max_evidence=min(section.max_evidence, models.NOTE_CHARS),
        webhook_url=section.webhook_url,
        webhook_listen=section.webhook_listen,
        webhook_port=section.webhook_port,
    )


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


_SCHEDULES: dict[int, tuple[Config, Schedule]] = {}


def schedule(config: Config) -> Schedule:
    """One schedule (and holiday cache) per configuration."""
    found = _SCHEDULES.get(id(config))
    if found is None or found[0] is not config:
        found = _SCHEDULES[id(config)] = (config, config.schedule())
    return found[1]


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
        return build(schedule(turn.config), snap, turn.now, detail=detail)


@dataclass
class Turn:
    """One update being handled: who, where, and what to answer and audit."""

    session: Session
    config: Config
    settings: BotSettings
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
