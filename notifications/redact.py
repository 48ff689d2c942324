"""Secrets out of text: the one helper that the channels, the bot and the logs mask with.

A channel writes its errors to the outbox and the bot its failures to the audit trail, where
the log's own filter (`scheduler.logs`) does not reach; all three mask the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
SHORTEST = 4  # characters: a shorter value would mask ordinary words


def secrets(values: Iterable[str]) -> list[str]:
    """The values to mask: each one given, and the part after the first colon (a bot
    token's secret half, which an error may quote alone or after an encoded colon), without
    those shorter than `SHORTEST`; longest first, so that a half never spoils the whole."""
    found: set[str] = set()
    for value in values:
        found.add(value)
        if ":" in value:
            found.add(value.split(":", 1)[1])
    return sorted((value for value in found if len(value) >= SHORTEST), key=len, reverse=True)


def mask(text: str, hidden: Iterable[str]) -> str:
    """``text`` with each of ``hidden`` (as `secrets` gives them) replaced by ``***``."""
    for secret in hidden:
        text = text.replace(secret, MASK)
    return text
