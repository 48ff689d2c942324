"""The console channel: messages printed to standard output, the default when no Telegram
token or SMTP host is configured, so a fresh install shows what it would send."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Message:
    """A rendered message for one recipient."""

    key: str  # idempotency key of what it is about
    recipient: str  # e.g. "SUTRISNO, S.Sos, M.Si (197105152000121003)"
    text: str


class ConsoleChannel:
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: Message) -> str:
        """Print the message; the receipt is its key."""
        print(f"[console] → {message.recipient}: {message.text}", file=self.stream, flush=True)
        return message.key
