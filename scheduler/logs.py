"""The secrets a process knows, and the one place that keeps them out of what it writes.

Every command logs to stderr (`tenggat run` at INFO: the journal, under systemd; the others
only warnings).  Two things keep every secret out of it.  The transport libraries' own
lines are raised to WARNING, since httpx logs every request with its URL and a Bot API URL
carries the bot token.  And `Redact`, attached to the handler, replaces each secret the
process knows (`secrets_of`, and the webhook's secret once it is made) in every line and
traceback, whichever logger wrote it: a filter on a logger would not see the records its
children pass up to the handlers.  What commands print goes through `scrub` with the same
secrets.  This module imports nothing heavy: `main()` sets it up before any command runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from notifications import redact

if TYPE_CHECKING:
    from scheduler.config import Config

# One line per request or event of their own; ours say what matters.  At DEBUG they speak.
CHATTY = ("httpx", "httpcore", "telegram", "aiohttp", "alembic", "apscheduler", "uvicorn")
FORMAT = "%(asctime)s %(levelname)s %(message)s"
# A log line's moment with its offset from UTC ("2026-12-08 03:16:17+0800"), in the
# service's zone once the configuration is read (`Stamped`): the machine's zone need not be
# WITA, and a time without its zone reads as the wrong hour.
DATEFMT = "%Y-%m-%d %H:%M:%S%z"
# The settings read from the environment only, never from a file (the loader refuses them there).
SECRETS = {
    ("telegram", "token"): "TENGGAT_TELEGRAM_TOKEN",
    ("smtp", "password"): "TENGGAT_SMTP_PASSWORD",
}


def secrets_of(config: Config | None = None) -> list[str]:
    """The secret values this process knows (from the environment and the configuration):
    the bot token and its secret half, the SMTP password, the database URL's password (in
    its user part, or a ``password`` query parameter, which psycopg accepts too); as
    `notifications.redact` masks them, which the channels and the bot use too."""
    found = [os.environ.get(variable, "") for variable in SECRETS.values()]
    urls = [os.environ.get("TENGGAT_DATABASE_URL", "")]
    if config is not None:
        for secret in (config.settings.telegram.token, config.settings.smtp.password):
            if secret is not None:
                found.append(secret.get_secret_value())
        urls.append(config.settings.database.url)
    for url in urls:
        parts = urlsplit(url)
        query = (pair.partition("=") for pair in parts.query.split("&"))
        passwords = [parts.password or "", *(value for key, _, value in query if key == "password")]
        found += [*passwords, *map(unquote, passwords)]  # as written in the URL, and as meant
    return redact.secrets(found)


def scrub(data: Any, secrets: Iterable[str]) -> Any:
    """``data`` (strings, lists, dicts) with every secret value replaced by ``***``."""
    secrets = list(secrets)
    if isinstance(data, str):
        return redact.mask(data, secrets)
    if isinstance(data, dict):
        return {key: scrub(value, secrets) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [scrub(value, secrets) for value in data]
    return data


class Redact(logging.Filter):
    """Replaces every secret in a record's message, traceback and stack with ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def hide(self, *values: str) -> None:
        """Also replace these (longest first, so a secret's half never spoils the whole)."""
        self.secrets = redact.secrets([*self.secrets, *values])

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(_message(record), self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        return True


def _message(record: logging.LogRecord) -> str:
    """The record's text, or for a call whose arguments do not fit its format (or do not
    print) the format and the arguments side by side: a filter that raised would throw
    into the code that logged, where logging itself only reports its own error."""
    try:
        return record.getMessage()
    except Exception:  # any error of a caller's argument
        try:
            return f"{record.msg!s} {record.args!r}"
        except Exception:  # an argument that cannot even be printed
            return f"unprintable log message at {record.pathname}:{record.lineno}"


REDACT = Redact()  # one filter on every handler, so a secret made later reaches them all


class Stamped(logging.Formatter):
    """Lines stamped in ``zone`` (the service's, WITA by default) rather than the machine's,
    so that the journal's times read as the pages' and the letters' do."""

    zone: tzinfo | None = None  # None: the machine's, until the configuration is read

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone(self.zone)
        return moment.strftime(datefmt or DATEFMT)


def configure(level: str = "warning", config: Config | None = None) -> None:
    """Log at ``level`` to stderr through one handler behind `REDACT`; called again (by
    `tenggat run`, or once the configuration is read), it changes the level and learns the
    configuration's secrets, without a second handler."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if REDACT in handler.filters]
    if not ours:
        ours = [logging.StreamHandler()]
        ours[0].setFormatter(Stamped(FORMAT, DATEFMT))
        ours[0].addFilter(REDACT)
        root.addHandler(ours[0])
    if config is not None and isinstance(ours[0].formatter, Stamped):
        ours[0].formatter.zone = ZoneInfo(config.settings.service.timezone)
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    REDACT.hide(*secrets_of(config))
