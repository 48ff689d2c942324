"""The Telegram channel: python-telegram-bot against the Bot API (or any server at ``base_url``).

Telegram's limits are data here, as apprise states them: 4096 characters a message, about
one message a second to a chat and about thirty a second overall.  A batch is sent
concurrently on one event loop, paced by a `Pacer` so the bot stays under both limits; a 429
for one chat holds that chat for ``retry_after`` while the others go on.  A blocked bot or a
chat that does not exist is a permanent error (the dispatcher then falls back to e-mail).
Messages are HTML (parse mode ``HTML``) whose values the templates have escaped; long ones
are split at line ends, closing and reopening any tag a split would cut.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from html import escape
from types import TracebackType
from typing import TYPE_CHECKING

from notifications.message import DeliveryError, Message, Report

if TYPE_CHECKING:
    from telegram.error import RetryAfter

# Opt in to PTB 22's future form of RetryAfter.retry_after (a timedelta): without it every
# 429 logs a deprecation warning.  Only this module talks to Telegram.
os.environ.setdefault("PTB_TIMEDELTA", "1")

MAX_LENGTH = 4096  # characters of one Telegram message, after entity parsing
PER_CHAT_SECONDS = 1.0  # about one message a second to one chat
RATE = 29.0  # messages a second overall: Telegram allows about 30; keep a margin

_TAG = re.compile(r"<(/?)([a-z]+)[^>]*>")
# What the Bot API answers about a chat it can never reach (a 403 always means that too).
_UNREACHABLE = ("blocked", "chat not found", "deactivated", "kicked")


class Pacer:
    """When the next message may go: at most one every ``per_chat`` seconds to a chat and
    ``rate`` a second overall.  Chats wait for their own slot first, then queue for the
    global one, so a chat held back by a 429 never delays the others."""

    def __init__(
        self, rate: float, per_chat: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.per_chat = per_chat
        self.clock = clock
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}
        self._turn = asyncio.Lock()

    def hold(self, chat: str, seconds: float) -> None:
        """Send nothing to ``chat`` for ``seconds`` (the server's retry_after)."""
        self._next_chat[chat] = max(self._next_chat.get(chat, 0.0), self.clock() + seconds)

    async def wait(self, chat: str) -> None:
        now = self.clock()
        mine = max(now, self._next_chat.get(chat, 0.0))
        self._next_chat[chat] = mine + self.per_chat
        if mine > now:
            await asyncio.sleep(mine - now)
        async with self._turn:  # FIFO: the global slots go out in order
            now = self.clock()
            if self._next_any > now:
                await asyncio.sleep(self._next_any - now)
            self._next_any = max(now, self._next_any) + self.interval


def split(html: str, limit: int = MAX_LENGTH) -> list[str]:
    """Cut ``html`` into parts of at most ``limit`` characters, at line ends where possible,
    each part well-formed: a tag open at a cut is closed there and reopened after it."""
    parts: list[str] = []
    current = ""
    for line in html.splitlines(keepends=True):
        while line:
            if len(current) + len(line) <= limit:
                current, line = current + line, ""
                continue
            if current:
                parts.append(current)
                current = ""
                continue
            cut = _safe_cut(line, limit - 32)  # room for the tags closed and reopened
            head, line = line[:cut], line[cut:]
            open_tags = _open_tags(head)
            parts.append(head + "".join(f"</{t}>" for t in reversed(open_tags)))
            line = "".join(f"<{t}>" for t in open_tags) + line
    if current:
        parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


def _safe_cut(line: str, limit: int) -> int:
    """A cut at or before ``limit`` that splits neither a tag nor an entity, at a space
    when there is one in the second half."""
    cut = limit
    space = line.rfind(" ", limit // 2, cut)
    cut = space + 1 if space > 0 else cut
    for opener, closer in (("<", ">"), ("&", ";")):
        start = line.rfind(opener, 0, cut)
        if start >= 0 and line.find(closer, start, cut) < 0:
            cut = start
    return max(cut, 1)


def _open_tags(html: str) -> list[str]:
    stack: list[str] = []
    for closing, name in _TAG.findall(html):
        if closing and name in stack:
            stack.remove(name)
        elif not closing:
            stack.append(name)
    return stack


class TelegramChannel:
    """Opened once for a dispatch run (``with channel:``): one event loop, one HTTP client
    with a connection pool and one ``getMe``, however many batches go through it."""

    name = "telegram"
    max_length = MAX_LENGTH

    def __init__(
        self,
        token: str,
        base_url: str,
        rate: float = RATE,
        per_chat: float = PER_CHAT_SECONDS,
        max_wait: float = 30.0,
        connections: int = 8,
    ) -> None:
        self.base_url = base_url
        self.rate, self.per_chat, self.max_wait = rate, per_chat, max_wait
        self.connections = connections
        self._token = token
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: object | None = None
        self._pacer: Pacer | None = None
        self.username = ""

    def __enter__(self) -> TelegramChannel:
        from telegram import Bot
        from telegram.request import HTTPXRequest

        loop = asyncio.new_event_loop()
        request = HTTPXRequest(connection_pool_size=self.connections)
        bot = Bot(self._token, base_url=self.base_url, request=request)
        try:
            loop.run_until_complete(bot.initialize())  # getMe: a wrong token fails here
        except Exception as exc:
            loop.run_until_complete(request.shutdown())
            loop.close()
            raise self._error(exc) from None
        self._loop, self._bot, self.username = loop, bot, bot.username
        # One pacer for the whole run: a new batch must not burst after the last one.
        self._pacer = Pacer(self.rate, self.per_chat)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            from telegram import Bot

            assert isinstance(self._bot, Bot)
            self._loop.run_until_complete(self._bot.shutdown())
            self._loop.close()
            self._loop = self._bot = None

    def send(self, message: Message) -> str:
        """Send one message; the receipt names the chat and the message ids."""
        result = self.deliver([message])[0]
        if isinstance(result, DeliveryError):
            raise result
        return result

    def deliver(
        self, messages: Sequence[Message], report: Report | None = None
    ) -> list[str | DeliveryError]:
        """Send a batch concurrently within the limits; a receipt or an error for each,
        each also reported as soon as it is known."""
        if self._loop is None:
            raise RuntimeError("open the channel first: with channel: ...")
        return self._loop.run_until_complete(self._all(messages, report))

    async def _all(
        self, messages: Sequence[Message], report: Report | None
    ) -> list[str | DeliveryError]:
        pacer = self._pacer
        assert pacer is not None  # set when the channel is opened

        async def one(index: int, message: Message) -> str | DeliveryError:
            result = await self._one(pacer, message)
            if report is not None:
                report(index, result)
            return result

        return list(await asyncio.gather(*(one(i, m) for i, m in enumerate(messages))))

    async def _one(self, pacer: Pacer, message: Message) -> str | DeliveryError:
        from telegram import Bot
        from telegram.constants import ParseMode
        from telegram.error import RetryAfter

        assert isinstance(self._bot, Bot)
        chat = message.address
        if not chat:
            return DeliveryError(f"no Telegram chat for {message.recipient}", permanent=True)
        ids: list[str] = []
        for part in split(message.html or escape(message.text), self.max_length):
            while True:
                await pacer.wait(chat)
                try:
                    sent = await self._bot.send_message(chat, part, parse_mode=ParseMode.HTML)
                except RetryAfter as exc:
                    wait = _retry_after(exc)
                    if wait > self.max_wait:
                        return DeliveryError(self._reason(exc), permanent=False, retry_after=wait)
                    pacer.hold(chat, wait)  # this chat waits; the others go on
                    continue
                except Exception as exc:
                    return self._error(exc)
                ids.append(str(sent.message_id))
                break
        return f"telegram:{chat}:{','.join(ids)}"

    def _reason(self, exc: Exception) -> str:
        """The error as a line for logs and the outbox, the token masked wherever it appears."""
        return f"{type(exc).__name__}: {exc}".replace(self._token, "***")

    def _error(self, exc: Exception) -> DeliveryError:
        from telegram.error import BadRequest, Forbidden, InvalidToken

        if isinstance(exc, InvalidToken):
            return DeliveryError("Telegram refused the bot token (InvalidToken)", permanent=False)
        text = str(exc).lower()
        unreachable = isinstance(exc, Forbidden) or any(w in text for w in _UNREACHABLE)
        return DeliveryError(
            self._reason(exc), permanent=isinstance(exc, BadRequest), unreachable=unreachable
        )


def _retry_after(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
