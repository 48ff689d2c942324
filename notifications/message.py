"""What every channel takes and what it may raise: the one small interface they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

MAX_BUTTONS = 8  # buttons a message offers at most: more would bury the message under them


@dataclass(frozen=True)
class Message:
    """A rendered message for one recipient, about the notices whose keys it carries.

    ``address`` is the channel's own: an e-mail address, a Telegram chat id, or empty for
    the console.  ``html`` is optional; channels that cannot show it send ``text``.
    ``buttons`` are answers the recipient may give with one press (the Telegram bot's
    "Sudah lapor"), one a row, at most `MAX_BUTTONS`; the message must make sense without
    them, because channels that cannot show buttons (e-mail, the console) leave them out.

    ``skip`` holds the fingerprints of parts already delivered to this address by an
    earlier attempt, which a channel that sends a long message in parts (Telegram) does
    not send again: a retry after a failure between parts resumes where it stopped
    instead of repeating the first part.  Channels that send a message whole ignore it.
    """

    recipient: str  # e.g. "SUTRISNO, S.Sos, M.Si (197105152000121003)"
    text: str
    keys: tuple[str, ...]
    subject: str = ""
    html: str = ""
    address: str = ""
    # (file name, content, MIME type): sent by channels that can carry files (e-mail).
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    # (Content-ID, PNG): pictures ``html`` shows by ``cid:``, sent beside it (e-mail).
    images: tuple[tuple[str, bytes], ...] = ()
    # (label, callback data of at most 64 bytes): what the bot receives when one is pressed.
    buttons: tuple[tuple[str, str], ...] = ()
    # Fingerprints of parts delivered on an earlier attempt (see Progress).
    skip: frozenset[str] = frozenset()


class DeliveryError(Exception):
    """A message that did not go out.  ``permanent`` means retrying cannot help (a refused
    address, a blocked bot); ``unreachable`` that the address itself is dead, so another
    channel should be tried; ``retry_after`` is the server's own wait, in seconds."""

    def __init__(
        self,
        reason: str,
        permanent: bool,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent or unreachable
        self.retry_after = retry_after
        self.unreachable = unreachable


@dataclass(frozen=True)
class Progress:
    """The parts of a message sent in parts that have gone out while the rest has not yet:
    their fingerprints, all of them so far (those of `Message.skip` included).  The one
    record of them: kept with the outbox rows and given back as ``skip``, they stop a retry
    from sending those parts twice."""

    delivered: tuple[str, ...]


# Told each message's index and result as soon as it is known, so that the caller can record
# it before the rest of the batch is done: a crash then repeats at most what was in flight.
# A channel that sends in parts also reports its Progress after each part but the last.
Report = Callable[[int, "str | DeliveryError | Progress"], None]


class Closing:
    """``with thing:`` opens it and closes it again however the block ends.  The channels,
    the bot's poller, the dispatcher's recorder and the scheduler's lock share this one
    protocol and say only what opening and closing mean to them; either does nothing
    unless they say otherwise."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Nothing to open by default (the console)."""

    def close(self) -> None:
        """Nothing to close by default (the console)."""


class Channel(Protocol):
    """The one interface of every channel: opened once for a dispatch run (``with
    channel:``, so a connection or a bot session is reused), then given batches.  Each
    message gets a receipt or a DeliveryError, in order; nothing else escapes."""

    name: str

    def __enter__(self) -> Channel: ...

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None: ...

    def deliver(
        self, messages: Sequence[Message], report: Report | None = None
    ) -> list[str | DeliveryError]: ...


class OneByOne:
    """For channels that send one message at a time: ``deliver`` is ``send`` in a loop, and
    any failure, even a bug, becomes that message's error instead of ending the batch."""

    def send(self, message: Message) -> str:
        raise NotImplementedError

    def deliver(
        self, messages: Sequence[Message], report: Report | None = None
    ) -> list[str | DeliveryError]:
        results: list[str | DeliveryError] = []
        for index, message in enumerate(messages):
            result: str | DeliveryError
            try:
                result = self.send(message)
            except DeliveryError as exc:
                result = exc
            except Exception as exc:
                result = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
            if report is not None:
                report(index, result)
            results.append(result)
        return results
