"""Getting the bot's updates to `bot.handle` and sending its replies.

`Poller` long-polls ``getUpdates``.  Telegram forgets an update once a later ``offset`` is
asked for, so the offset (``service_state`` ``telegram_offset``) advances in the same
transaction as the update's effects: an update is acknowledged only after it is handled and
committed, and one handled twice (a crash between commit and the next poll) is skipped.
`tenggat run` polls only while it holds the scheduler lock (`service.Leadership`), since
Telegram answers a second poller of one bot with 409 Conflict.  With ``[bot] webhook_url``
set, `scheduler.bot.webhook` receives the updates instead and hands each to
`Poller.handle_update`.  An update that cannot be read or handled (a poison update:
`scheduler.bot.updates`) is skipped: one ``bot_audit`` row, one log line, and the offset moves
past it; only an outage of the database leaves an update unacknowledged, to be tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from notifications import telegram as bot_api
from notifications.message import Closing
from notifications.redact import secrets
from scheduler.bot.conversation import handle
from scheduler.bot.records import audit
from scheduler.bot.turn import Reply
from scheduler.bot.updates import Unreadable, UpdatesRequest, as_update, chat_of
from scheduler.bot.words import WORDS as _WORDS
from scheduler.store import state

if TYPE_CHECKING:
    from scheduler.bot.webhook import Inbox
    from scheduler.config import Config
    from scheduler.store.db import Database

log = logging.getLogger("tenggat")

ALLOWED_UPDATES = ["message", "callback_query"]  # all the bot answers; Telegram drops the rest


class Poller(Closing):
    """Long-polls the Bot API and handles each update in its own transaction, which also
    moves the stored offset; opened once (``with Poller(...) as poller:``) per thread."""

    def __init__(
        self,
        config: Config,
        db: Database,
        clock: Callable[[], datetime],
        token: str | None = None,
        base_url: str | None = None,
    ) -> None:
        telegram = config.settings.telegram
        if token is None and telegram.token is not None:
            token = telegram.token.get_secret_value()
        if not token:
            raise ValueError("no bot token: set TENGGAT_TELEGRAM_TOKEN")
        self.config, self.db, self.clock = config, db, clock
        self.settings = config.settings.bot
        self.base_url = base_url or telegram.api_url
        self._token = token
        self._secrets = secrets([token])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: Any = None
        self.username = ""

    def open(self) -> None:
        from telegram import Bot
        from telegram.request import HTTPXRequest
        from telegram.warnings import PTBUserWarning

        # `poll_once` calls getUpdates through Bot.do_api_request to get the updates as
        # dicts: PTB would suggest Bot.get_updates, which parses them and fails on a bad one.
        warnings.filterwarnings("ignore", r"Please use 'Bot\.getUpdates'", PTBUserWarning)
        loop = asyncio.new_event_loop()
        request = HTTPXRequest(read_timeout=self.settings.poll_seconds + 15.0)
        updates = UpdatesRequest(read_timeout=self.settings.poll_seconds + 15.0)
        bot = Bot(self._token, base_url=self.base_url, request=request, get_updates_request=updates)
        try:
            loop.run_until_complete(bot.initialize())  # getMe
        except BaseException:
            # Inside the loop: `gather` made outside it looks for the thread's current loop,
            # which the bot's thread has none of, and that error would hide this one.
            loop.run_until_complete(_shut(request, updates))
            loop.close()
            raise
        self._loop, self._bot, self.username = loop, bot, bot.username

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run_until_complete(self._bot.shutdown())
            self._loop.close()
            self._loop = self._bot = None

    def reason(self, exc: BaseException) -> str:
        """The error as a line for the log and the audit trail, the token masked."""
        return bot_api.reason(exc, self._secrets)

    def poll_once(self, now: datetime | None = None, timeout: float | None = None) -> int:
        """One ``getUpdates`` (waiting up to ``timeout`` seconds for one), each update handled
        and committed with the offset, then answered; the number of updates handled."""
        if self._loop is None:
            raise RuntimeError("open the poller first: with Poller(...) as poller: ...")
        with self.db.read() as session:
            stored = state.value(session, state.TELEGRAM_OFFSET)
        offset = int(stored) + 1 if stored else None
        wait = self.settings.poll_seconds if timeout is None else timeout
        asked = {"offset": offset, "timeout": int(wait), "allowed_updates": ALLOWED_UPDATES}
        found = self._loop.run_until_complete(
            self._bot.do_api_request("getUpdates", asked, read_timeout=wait + 15.0)
        )
        # Ids increase along the answer, from at least the offset asked for: an update
        # whose id cannot be read has at least the id after the one before it (`floor`).
        floor = offset
        for element in found:
            update = as_update(element)
            if isinstance(update, dict):
                self.answer(self.handle_update(update, now))
                floor = int(update["update_id"]) + 1
            else:
                through = update.update_id if update.update_id is not None else floor
                self.skip(update, through, now)
                floor = None if through is None else through + 1
        return len(found)

    def answer(self, replies: Sequence[Reply]) -> None:
        """Send the replies to handled updates (a reply that cannot go is logged, not retried:
        its update is recorded)."""
        assert self._loop is not None
        for reply in replies:
            self._loop.run_until_complete(self._send(reply))

    def set_webhook(self, url: str, secret: str) -> None:
        """Have Telegram post updates to ``url`` with ``secret`` in a header, one at a time
        (in order, as the offset expects), instead of holding them for getUpdates."""
        assert self._loop is not None
        self._loop.run_until_complete(
            self._bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=1
            )
        )

    def delete_webhook(self) -> None:
        """Back to getUpdates; Telegram keeps what arrives meanwhile for the next holder."""
        assert self._loop is not None
        self._loop.run_until_complete(self._bot.delete_webhook())

    def handle_update(self, data: dict[str, Any], now: datetime | None = None) -> list[Reply]:
        """Handle one update in its own transaction with the stored offset; the replies to
        send.  Raises while the database is away: the update is then not acknowledged."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        update_id = int(data["update_id"])
        moment = now or self.clock()
        try:
            with self.db.write() as session:
                if self._already(session, update_id, moment):
                    return []
                replies = handle(session, data, moment, self.config)
                state.record(session, state.TELEGRAM_OFFSET, str(update_id), moment)
            return replies
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise  # the database is away: not acknowledged, tried again later
            failure: Exception = exc
        except Exception as exc:
            failure = exc
        # A bug on this update, or an update we trip on, must not block every later one.
        log.exception("telegram update %s failed", update_id, exc_info=failure)
        chat = (chat_of(data) or ("", ""))[0]
        self._skip(update_id, update_id, chat, "error", self.reason(failure), moment)
        language = self.config.settings.service.language
        return [Reply(chat, _WORDS[language]["error"])] if chat else []

    def skip(self, update: Unreadable, through: int | None, now: datetime | None = None) -> None:
        """Audit what arrived in place of an update and move the offset ``through`` the id
        it has (or the least it can have; None: leave the offset)."""
        log.warning("telegram update %s skipped: %s", update.update_id or "?", update.reason)
        self._skip(update.update_id, through, "", "unparseable", update.reason, now or self.clock())

    def _skip(
        self,
        update_id: int | None,
        through: int | None,
        chat: str,
        action: str,
        detail: str,
        moment: datetime,
    ) -> None:
        """One transaction: the audit row of an update not handled and the offset past it;
        nothing when the offset is there already (served again after a crash)."""
        with self.db.write() as session:
            if through is not None and self._already(session, through, moment):
                return
            audit(session, moment, chat or None, None, action, detail, update_id)
            if through is not None:
                state.record(session, state.TELEGRAM_OFFSET, str(through), moment)

    @staticmethod
    def _already(session: Session, update_id: int, now: datetime) -> bool:
        """Lock the offset row (PostgreSQL: another poller waits; SQLite writes one at a
        time anyway) and say whether this update was handled already."""
        stored = state.value(session, state.TELEGRAM_OFFSET, lock=True)
        return bool(stored) and int(str(stored)) >= update_id

    async def _send(self, reply: Reply) -> None:
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup
        from telegram.constants import ParseMode
        from telegram.error import BadRequest, Forbidden, RetryAfter

        bot = self._bot
        try:
            if reply.callback:
                with contextlib.suppress(BadRequest):  # too old: it stops spinning anyway
                    await bot.answer_callback_query(reply.callback)
            if not reply.text:
                return
            parts = bot_api.split(reply.text)
            for number, part in enumerate(parts, start=1):
                markup = None
                if reply.buttons and number == len(parts):
                    markup = InlineKeyboardMarkup(
                        [
                            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                            for row in reply.buttons
                        ]
                    )
                for attempt in range(3):
                    try:
                        await bot.send_message(
                            reply.chat, part, parse_mode=ParseMode.HTML, reply_markup=markup
                        )
                        break
                    except RetryAfter as exc:
                        await asyncio.sleep(min(bot_api.retry_seconds(exc), bot_api.MAX_WAIT))
                    except (BadRequest, Forbidden):
                        raise
                    except Exception:
                        if attempt == 2:
                            raise
                        await asyncio.sleep(1.0 + attempt)
        except Exception as exc:  # the update is recorded; only the answer is lost
            log.warning("telegram reply to %s not sent: %s", reply.chat, self.reason(exc))

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; network errors and Telegram outages wait and retry
        (1, 2, 4 … 60 seconds), and nothing unhandled is ever acknowledged."""
        delay = 1.0
        while not stop.is_set():
            try:
                if self._loop is None:
                    self.open()
                    self.delete_webhook()  # set by an earlier run with [bot] webhook_url
                self.poll_once()
                delay = 1.0
            except Exception as exc:
                from telegram.error import RetryAfter

                if isinstance(exc, RetryAfter):
                    delay = bot_api.retry_seconds(exc)
                log.warning("telegram polling: %s; again in %.0f s", self.reason(exc), delay)
                stop.wait(delay)
                delay = min(delay * 2, 60.0)
        self.close()


async def _shut(*requests: Any) -> None:
    """Close the bot's HTTP requests (a failed start leaves them open)."""
    await asyncio.gather(*(request.shutdown() for request in requests))


def start(
    config: Config, db: Database, clock: Callable[[], datetime], inbox: Inbox | None = None
) -> Callable[[], None]:
    """Poll in a daemon thread (a bot token must be set), or, when ``[bot] webhook_url`` is
    set, take the updates posted to the web surface through ``inbox``; return what stops it.
    Stopping waits for a poll (or an update) under way, so the next holder of the lock never
    receives beside it."""
    poller = Poller(config, db, clock)
    if poller.settings.webhook_url:
        from scheduler.bot.webhook import serve

        if inbox is None:
            raise ValueError("a webhook needs the web surface's inbox")
        return serve(poller, inbox)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), name="tenggat-bot", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=poller.settings.poll_seconds + 20)

    return halt
