"""What the service writes to its log, and what it may never write there: a secret.

`tenggat run` logs to stderr (the journal, under systemd).  Two things keep every secret
out of it.  The transport libraries' own lines are raised to WARNING, since httpx logs every
request with its URL and a Bot API URL carries the bot token.  And `Redact`, attached to
every handler, replaces each secret the process knows (`health.secrets_of`, and the
webhook's secret once it is made) in every line and traceback, whichever logger wrote it: a
filter on a logger would not see the records its children pass up to the handlers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scheduler.health import scrub, secrets_of

if TYPE_CHECKING:
    from scheduler.config import Config

# One line per request or event of their own; ours say what matters.  At DEBUG they speak.
CHATTY = ("httpx", "httpcore", "telegram", "aiohttp", "alembic", "apscheduler")
FORMAT = "%(asctime)s %(levelname)s %(message)s"


class Redact(logging.Filter):
    """Replaces every secret in a record's message, traceback and stack with ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def hide(self, *values: str) -> None:
        """Also replace these (longest first, so a secret's half never spoils the whole)."""
        known = {*self.secrets, *(value for value in values if len(value) >= 4)}
        self.secrets = sorted(known, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        return True


REDACT = Redact()  # one filter on every handler, so a secret made later reaches them all


def configure(config: Config, level: str = "info") -> None:
    """Log at ``level`` to stderr, every handler behind `REDACT`."""
    logging.basicConfig(level=level.upper(), format=FORMAT)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    REDACT.hide(*secrets_of(config))
    for handler in logging.getLogger().handlers:
        handler.addFilter(REDACT)
