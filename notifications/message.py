"""What every channel takes and what it may raise: the one small interface they share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """A rendered message for one recipient, about the notices whose keys it carries.

    ``address`` is the channel's own: an e-mail address, a Telegram chat id, or empty for
    the console.  ``html`` is optional; channels that cannot show it send ``text``.
    """

    recipient: str  # e.g. "SUTRISNO, S.Sos, M.Si (197105152000121003)"
    text: str
    keys: tuple[str, ...]
    subject: str = ""
    html: str = ""
    address: str = ""


class DeliveryError(Exception):
    """A message that did not go out.  ``permanent`` means retrying cannot help (a refused
    address, a blocked bot); ``retry_after`` is the server's own wait, in seconds."""

    def __init__(self, reason: str, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after
