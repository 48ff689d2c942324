"""The bot's webhook: Telegram posts each update to us instead of holding it for getUpdates.

Used when ``[bot] webhook_url`` is set (behind a reverse proxy that terminates TLS).  Each
start registers the webhook with a fresh random secret, so no secret is configured or
stored; a post without it is refused before anything is read.  Telegram sends one update at
a time (``max_connections=1``), in order, and counts an update as delivered only when we
answer 200, which we do after its transaction committed: an update that failed for want of
the database is answered 503, and Telegram posts it again.  Replies go after the 200.
The connections are `scheduler.listener`'s (a silent client is dropped, a bounded number
are open); the updates they carry are handled one at a time, whoever else is connected.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from scheduler import logs
from scheduler.bot.updates import Unreadable, read
from scheduler.listener import Handler, Listener

if TYPE_CHECKING:
    from scheduler.bot.poller import Poller

log = logging.getLogger("tenggat")
MAX_BODY = 1 << 20  # bytes of one update: Telegram's are a few kilobytes
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def serve(poller: Poller) -> Callable[[], None]:
    """Register the webhook and serve it in a daemon thread; return what stops both (the
    webhook is deleted on stop, so whoever holds the lock next can take the updates)."""
    settings = poller.settings
    secret = secrets.token_urlsafe(32)
    logs.REDACT.hide(secret)  # the library's DEBUG line shows setWebhook's parameters
    server = Listener((settings.webhook_listen, settings.webhook_port), _handler(poller, secret))
    poller.open()
    poller.set_webhook(settings.webhook_url, secret)
    thread = threading.Thread(target=server.serve_forever, name="tenggat-webhook", daemon=True)
    thread.start()
    log.info("telegram webhook listening on %s:%d", *server.server_address[:2])

    def halt() -> None:
        server.shutdown()
        server.server_close()
        try:
            poller.delete_webhook()
        except Exception as exc:  # Telegram unreachable: the next start replaces it anyway
            log.warning("telegram webhook not deleted: %s", poller.reason(exc))
        poller.close()

    return halt


def _handler(poller: Poller, secret: str) -> type[Handler]:
    one_at_a_time = threading.Lock()  # the poller's loop and the offset: updates in order

    class WebhookHandler(Handler):
        def do_POST(self) -> None:
            given = self.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return self._status(403)
            try:
                size = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                size = 0
            if not 0 < size <= MAX_BODY:
                return self._status(413 if size > MAX_BODY else 400)
            update = read(self.rfile.read(size))  # a poison update is answered 200, skipped
            with one_at_a_time:
                try:
                    if isinstance(update, Unreadable):
                        replies = []
                        poller.skip(update, update.update_id)
                    else:
                        replies = poller.handle_update(update)
                except DBAPIError as exc:  # the database is away: Telegram will post it again
                    log.warning("telegram update not handled: %s", poller.reason(exc))
                    return self._status(503)
                with contextlib.suppress(OSError):  # gone (or closed by a flood): the update
                    self._status(200)  # is recorded, so its replies go all the same
                    self.wfile.flush()
                poller.answer(replies)

        def _status(self, code: int) -> None:
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return WebhookHandler
