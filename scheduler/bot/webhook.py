"""The bot's webhook: Telegram posts each update to us instead of holding it for getUpdates.

Used when ``[bot] webhook_url`` is set (behind a reverse proxy that terminates TLS).  Each
start registers the webhook with a fresh random secret, so no secret is configured or
stored; a post without it is refused before anything is read.  Telegram sends one update at
a time (``max_connections=1``), in order, and counts an update as delivered only when we
answer 200, which we do after its transaction committed: an update that failed for want of
the database is answered 503, and Telegram posts it again.  Replies go after the 200.

This module knows no HTTP server: `scheduler.web` serves ``POST /telegram`` and hands each
post to the `Receiver` that `Inbox` holds while this process holds the scheduler lock (none
otherwise: the post is answered 503).  The receiver handles updates and sends their replies
in one thread of its own, in order, whoever else is connected.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from scheduler import logs
from scheduler.bot.turn import Reply
from scheduler.bot.updates import Unreadable, read

if TYPE_CHECKING:
    from scheduler.bot.poller import Poller

log = logging.getLogger("tenggat")
MAX_BODY = 1 << 20  # bytes of one update: Telegram's are a few kilobytes
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ANSWER_WAIT = 5.0  # seconds the replies wait for the 200 to be sent (a client gone: no 200)


class Receiver:
    """Takes the updates Telegram posts: checks the secret, handles each in the bot's one
    thread, and sends its replies there once the answer went out."""

    def __init__(self, poller: Poller, secret: str) -> None:
        self._poller, self._secret = poller, secret
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="tenggat-webhook")

    def authentic(self, given: str) -> bool:
        """Whether a post carries the secret registered with Telegram (in constant time)."""
        return hmac.compare_digest(given.encode(), self._secret.encode())

    def take(self, body: bytes, answered: threading.Event) -> Future[int]:
        """Handle one update in the bot's thread; the status to answer.  Its replies follow
        in the same thread once ``answered`` is set (or after `ANSWER_WAIT`), before the
        next update: a poison update is answered 200 and skipped."""
        return self._worker.submit(self._handle, body, answered)

    def _handle(self, body: bytes, answered: threading.Event) -> int:
        update = read(body)
        try:
            if isinstance(update, Unreadable):
                replies: list[Reply] = []
                self._poller.skip(update, update.update_id)
            else:
                replies = self._poller.handle_update(update)
        except DBAPIError as exc:  # the database is away: Telegram will post it again
            log.warning("telegram update not handled: %s", self._poller.reason(exc))
            return 503
        if replies:  # queued now, so before any later update; sent once the 200 is out
            self._worker.submit(self._answer, replies, answered)
        return 200

    def _answer(self, replies: list[Reply], answered: threading.Event) -> None:
        answered.wait(ANSWER_WAIT)  # gone (or closed by a flood): the update is recorded,
        self._poller.answer(replies)  # so its replies go all the same

    def close(self) -> None:
        """Finish the update (and replies) under way; take no more."""
        self._worker.shutdown(wait=True)


class Inbox:
    """Where ``POST /telegram`` finds the receiver: set while this process holds the
    scheduler lock and serves the webhook, None otherwise."""

    def __init__(self) -> None:
        self.receiver: Receiver | None = None


def serve(poller: Poller, inbox: Inbox) -> Callable[[], None]:
    """Register the webhook and put its receiver in ``inbox``; return what stops both (the
    webhook is deleted on stop, so whoever holds the lock next can take the updates)."""
    secret = secrets.token_urlsafe(32)
    logs.REDACT.hide(secret)  # the library's DEBUG line shows setWebhook's parameters
    poller.open()
    receiver = Receiver(poller, secret)
    inbox.receiver = receiver
    poller.set_webhook(poller.settings.webhook_url, secret)
    log.info("telegram webhook listening on /telegram")

    def halt() -> None:
        inbox.receiver = None
        receiver.close()
        try:
            poller.delete_webhook()
        except Exception as exc:  # Telegram unreachable: the next start replaces it anyway
            log.warning("telegram webhook not deleted: %s", poller.reason(exc))
        poller.close()

    return halt
