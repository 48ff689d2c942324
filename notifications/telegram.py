"""The Telegram channel: python-telegram-bot against the Bot API (or any server at ``base_url``).

Telegram's limits are data here, as apprise states them: 4096 characters a message, about
one message a second to a chat and about thirty a second overall.  A batch is sent
concurrently on one event loop, paced by a `Pacer` so the bot stays under both limits; a 429
for one chat holds that chat for ``retry_after`` while the others go on.  A blocked bot or a
chat that does not exist is a permanent error (the dispatcher then falls back to e-mail).
Messages are HTML (parse mode ``HTML``) whose values the templates have escaped; long ones
are split at line ends, closing and reopening any tag a split would cut.  A failure between
parts reports the parts that went out (`fingerprint`, ``DeliveryError.delivered``), and the
retry skips them (``Message.skip``): the recipient never reads a part twice.

PTB does the Bot API (request building, the mapping of answers to RetryAfter, Forbidden,
BadRequest …) over aiohttp (`_aiohttp`): PTB's httpx transport took milliseconds of CPU a
request, which held a run to ~140 messages a second.  ``sendMessage`` answers stay
raw dicts (only the message id is read), sparing PTB the building of a ``Message`` each.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import re
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from notifications.message import Closing, DeliveryError, Message, Progress, Report
from notifications.redact import mask, secrets

if TYPE_CHECKING:
    from telegram.error import RetryAfter
    from telegram.request import BaseRequest

# Opt in to PTB 22's future form of RetryAfter.retry_after (a timedelta): without it every
# 429 logs a deprecation warning.  Only this module talks to Telegram.
os.environ.setdefault("PTB_TIMEDELTA", "1")

MAX_LENGTH = 4096  # characters of one Telegram message, after entity parsing
PER_CHAT_SECONDS = 1.0  # about one message a second to one chat
RATE = 29.0  # messages a second overall: Telegram allows about 30; keep a margin
TIMEOUT = 5.0  # seconds to connect, to write a request, to read an answer (PTB's defaults)
MAX_WAIT = 30.0  # seconds a 429's retry_after is waited out in place; longer, it is given up

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_TAG = re.compile(r"<(/?)([a-z]+)[^>]*>")
# What the Bot API answers about a chat it can never reach (a 403 always means that too).
_UNREACHABLE = ("blocked", "chat not found", "deactivated", "kicked")


class Pacer:
    """When the next message may go: at most one every ``per_chat`` seconds to a chat and
    ``rate`` a second overall.  Chats wait for their own slot first, then queue for the
    global one, so a chat held back by a 429 never delays the others.

    The global slots keep a steady pace; one taken late (the process was busy) does not
    shift the ones after it.  Taken late, though, it would come closer than a second to the
    slot ``n`` later (n = one second's worth, plus one), and Telegram counts messages in
    any second: so of any ``n + 1`` slots in a row the last is also kept ``n / rate``
    seconds after the first, as they were actually taken."""

    def __init__(
        self, rate: float, per_chat: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.per_chat = per_chat
        self.clock = clock
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}
        self._turn = asyncio.Lock()
        window = min(int(rate) + 1, 1000) if rate > 0 else 1
        self._taken: deque[float] = deque(maxlen=window)  # when the last slots were taken
        self._window = window * self.interval

    def hold(self, chat: str, seconds: float) -> None:
        """Send nothing to ``chat`` for ``seconds`` (the server's retry_after)."""
        self._next_chat[chat] = max(self._next_chat.get(chat, 0.0), self.clock() + seconds)

    async def wait(self, chat: str) -> None:
        await self.wait_chat(chat)
        await self.wait_any()

    async def wait_chat(self, chat: str) -> None:
        """Until ``chat`` may have its next message."""
        now = self.clock()
        mine = max(now, self._next_chat.get(chat, 0.0))
        self._next_chat[chat] = mine + self.per_chat
        if mine > now:
            await asyncio.sleep(mine - now)

    async def wait_any(self) -> None:
        """Until the next overall slot (call it right before sending)."""
        async with self._turn:  # FIFO: the global slots go out in order
            now = self.clock()
            slot = max(now, self._next_any)
            self._next_any = slot + self.interval
            taken = self._taken
            if len(taken) == taken.maxlen:
                slot = max(slot, taken[0] + self._window)
            if slot > now:
                await asyncio.sleep(slot - now)
            taken.append(self.clock())


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


def fingerprint(chat: str, text: str) -> str:
    """What identifies one part sent to one chat: 16 hex digits of the SHA-256 of the chat
    and the part's text.  The same message split the same way gives the same fingerprints
    on a retry, so the parts that went out before can be skipped; a part whose text changed
    meanwhile (or a new chat) gives a new one, and is sent.  (Buttons go under the last
    part, which is never skipped: once it is out, the message is.)"""
    digest = hashlib.sha256(f"{chat}\0{text}".encode())
    return digest.hexdigest()[:16]


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


class TelegramChannel(Closing):
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
        max_wait: float = MAX_WAIT,
        connections: int = 8,
        timeout: float = TIMEOUT,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.rate, self.per_chat, self.max_wait = rate, per_chat, max_wait
        self.connections = connections
        self._token = token
        self._secrets = secrets([token])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: object | None = None
        self._pacer: Pacer | None = None
        self.username = ""

    def open(self) -> None:
        """Start the loop and the bot: a wrong token fails here, before any message."""
        from telegram import Bot
        from telegram.warnings import PTBUserWarning

        # `_one` calls sendMessage through Bot.do_api_request to get the answer as a dict;
        # PTB would suggest Bot.send_message each time, which builds a Message we never read.
        warnings.filterwarnings(
            "ignore", r"Please use 'Bot\.sendMessage'", PTBUserWarning, __name__
        )
        loop = asyncio.new_event_loop()
        transport = _aiohttp()
        proxy = _proxy(self.base_url)
        bot = Bot(
            self._token,
            base_url=self.base_url,
            request=transport(self.connections, proxy, self.timeout),
            get_updates_request=transport(1, proxy, self.timeout),  # never used here
        )
        try:
            loop.run_until_complete(bot.initialize())  # getMe: a wrong token fails here
        except Exception as exc:
            loop.run_until_complete(bot.shutdown())
            loop.close()
            raise self._error(exc) from None
        self._loop, self._bot, self.username = loop, bot, bot.username
        # One pacer for the whole run: a new batch must not burst after the last one.
        self._pacer = Pacer(self.rate, self.per_chat)

    def close(self) -> None:
        """Shut the bot's session and the loop down, if they were started."""
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
        # As many requests in flight as there are connections: the others wait here, not in
        # the transport, and take their overall slot only once a connection is theirs.
        slots = asyncio.Semaphore(self.connections)

        async def one(index: int, message: Message) -> str | DeliveryError:
            def progress(delivered: tuple[str, ...]) -> None:
                if report is not None:
                    report(index, Progress(delivered))

            result = await self._one(pacer, slots, message, progress)
            if report is not None:
                report(index, result)
            return result

        return list(await asyncio.gather(*(one(i, m) for i, m in enumerate(messages))))

    async def _one(
        self,
        pacer: Pacer,
        slots: asyncio.Semaphore,
        message: Message,
        progress: Callable[[tuple[str, ...]], None],
    ) -> str | DeliveryError:
        """Send ``message``, in parts where it is long, skipping the parts an earlier
        attempt delivered; ``progress`` is told after each part but the last, so that even
        a process killed between parts does not send those again."""
        import json

        from telegram import Bot
        from telegram.constants import ParseMode
        from telegram.error import RetryAfter

        from notifications.message import MAX_BUTTONS

        assert isinstance(self._bot, Bot)
        chat = message.address
        if not chat:
            return DeliveryError(f"no Telegram chat for {message.recipient}", permanent=True)
        ids: list[str] = []
        parts = split(message.html or escape(message.text), self.max_length)
        keyboard = [
            [{"text": label, "callback_data": data}]
            for label, data in message.buttons[:MAX_BUTTONS]
        ]
        delivered = set(message.skip)

        def failed(error: DeliveryError, number: int) -> DeliveryError:
            """The error of part ``number``, saying how many went out before it (their
            fingerprints were reported as Progress already)."""
            if number == 1:
                return error
            now = f", this time as message ids {','.join(ids)}" if ids else ""
            reason = f"{error} ({number - 1} of {len(parts)} parts delivered{now})"
            return DeliveryError(reason, error.permanent, error.retry_after, error.unreachable)

        for number, part in enumerate(parts, start=1):
            request = {"chat_id": chat, "text": part, "parse_mode": ParseMode.HTML.value}
            if keyboard and number == len(parts):  # under the end, once all has been read
                # As JSON text: PTB hands a string parameter to the transport unchanged.
                request["reply_markup"] = json.dumps({"inline_keyboard": keyboard})
            printed = fingerprint(chat, part)
            if printed in delivered:  # by an earlier attempt
                continue
            while True:
                await pacer.wait_chat(chat)
                try:
                    async with slots:
                        await pacer.wait_any()
                        sent = await self._bot.do_api_request("sendMessage", request)
                except RetryAfter as exc:
                    wait = retry_seconds(exc)
                    if wait > self.max_wait:
                        error = DeliveryError(
                            reason(exc, self._secrets), permanent=False, retry_after=wait
                        )
                        return failed(error, number)
                    pacer.hold(chat, wait)  # this chat waits; the others go on
                    continue
                except Exception as exc:
                    return failed(self._error(exc), number)
                ids.append(str(sent["message_id"]))
                if number < len(parts):
                    delivered.add(printed)
                    progress(tuple(sorted(delivered)))
                break
        return f"telegram:{chat}:{','.join(ids)}"

    def _error(self, exc: Exception) -> DeliveryError:
        from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

        # A 401/404 is InvalidToken at getMe and EndPointNotFound through do_api_request.
        if isinstance(exc, InvalidToken | EndPointNotFound):
            return DeliveryError("Telegram refused the bot token (InvalidToken)", permanent=False)
        text = str(exc).lower()
        unreachable = isinstance(exc, Forbidden) or any(w in text for w in _UNREACHABLE)
        return DeliveryError(
            reason(exc, self._secrets),
            permanent=isinstance(exc, BadRequest),
            unreachable=unreachable,
        )


def reason(exc: BaseException, hidden: Sequence[str]) -> str:
    """An error of the Bot API as a line for logs, the outbox and the bot's audit trail,
    each of ``hidden`` (`redact.secrets` of the token) masked wherever it appears."""
    return mask(f"{type(exc).__name__}: {exc}", hidden)


def retry_seconds(exc: RetryAfter) -> float:
    """How long a 429 asks to wait, in seconds (a timedelta with PTB_TIMEDELTA, else a
    number)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@functools.cache
def _aiohttp() -> Callable[[int, str | None, float], BaseRequest]:
    """PTB's transport over aiohttp: a pool of up to ``connections`` keep-alive connections
    (PTB's httpx transport spent milliseconds of CPU a request, which held a run to ~140
    messages a second).  A proxy set in the environment is looked up once, by the channel
    (`_proxy`): aiohttp's ``trust_env`` looks it up in a thread for every request.
    PTB turns the status and body into its exceptions; here a timeout becomes TimedOut and
    any other failure NetworkError, never with the URL (it holds the token).  Built on
    first use, when PTB is imported."""
    import aiohttp
    from telegram.error import NetworkError, TimedOut
    from telegram.request import BaseRequest, RequestData

    class AiohttpRequest(BaseRequest):
        def __init__(
            self, connections: int, proxy: str | None = None, timeout: float = TIMEOUT
        ) -> None:
            self._connections = connections
            self._proxy = proxy
            self._timeout = timeout
            self._session: aiohttp.ClientSession | None = None

        @property
        def read_timeout(self) -> float | None:
            return self._timeout

        async def initialize(self) -> None:
            if self._session is None:
                connector = aiohttp.TCPConnector(limit=self._connections)
                self._session = aiohttp.ClientSession(connector=connector)

        async def shutdown(self) -> None:
            if self._session is not None:
                await self._session.close()
                self._session = None

        async def do_request(
            self,
            url: str,
            method: str,
            request_data: RequestData | None = None,
            read_timeout: object = BaseRequest.DEFAULT_NONE,
            write_timeout: object = BaseRequest.DEFAULT_NONE,
            connect_timeout: object = BaseRequest.DEFAULT_NONE,
            pool_timeout: object = BaseRequest.DEFAULT_NONE,
        ) -> tuple[int, bytes]:
            if request_data is not None and request_data.contains_files:
                raise NetworkError("uploading files is not supported by this transport")
            await self.initialize()
            assert self._session is not None
            timeout = aiohttp.ClientTimeout(
                connect=self._seconds(pool_timeout) + self._seconds(connect_timeout),
                sock_read=self._seconds(read_timeout),
            )
            # Encoded here: handing aiohttp the dict costs it a FormData, half a millisecond.
            body = urlencode(request_data.json_parameters).encode() if request_data else None
            try:
                async with self._session.request(
                    method, url, data=body, headers=_FORM, timeout=timeout, proxy=self._proxy
                ) as answer:
                    return answer.status, await answer.read()
            except TimeoutError:
                raise TimedOut() from None
            except (aiohttp.ClientError, OSError) as exc:
                raise NetworkError(f"Bot API connection failed: {type(exc).__name__}") from None

        def _seconds(self, value: object) -> float:
            """A timeout PTB passed, or ours when it passed its default (or none)."""
            return float(value) if isinstance(value, int | float) else self._timeout

    return AiohttpRequest


def _proxy(url: str) -> str | None:
    """The proxy the environment (HTTPS_PROXY, ALL_PROXY …, less NO_PROXY) sets for ``url``."""
    import urllib.request

    target = urlsplit(url)
    if urllib.request.proxy_bypass(target.hostname or ""):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(target.scheme) or proxies.get("all")
