"""The console channel: messages printed to standard output, the default when no Telegram
token or SMTP host is configured, so a fresh install shows what it would send."""

from __future__ import annotations

import sys
from typing import TextIO

from notifications.message import Closing, Message, OneByOne


class ConsoleChannel(Closing, OneByOne):
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: Message) -> str:
        """Print the message; the receipt names the channel and how many notices it held."""
        print(f"[console] → {message.recipient}:\n{message.text}\n", file=self.stream, flush=True)
        return f"console:{len(message.keys)}"
