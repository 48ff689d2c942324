"""A fake Telegram Bot API on 127.0.0.1, for tests and benchmarks.

python-telegram-bot talks to it through ``base_url`` exactly as it talks to Telegram:
form-encoded POSTs to ``/bot<TOKEN>/<method>``.  It answers ``getMe`` and ``sendMessage``,
records every message it accepted, and can be told to answer a chat with a scripted error
(429 with ``retry_after``, 403 blocked, 400 chat not found, 500) or to enforce Telegram's
limits (messages per second overall, one message per second per chat) with 429s, which it
counts.  For the two-way bot it also serves ``getUpdates`` from a queue of scripted updates
(`push`, built with `text_message`, `photo_message`, `document_message`, `callback`),
honouring ``offset`` as Telegram does (asking for offset N forgets every update below N),
and records ``answerCallbackQuery`` and ``editMessageText``; `push_raw` queues an update as
bytes, which need not be an update or even JSON (a poison update).  It lives beside the tests
because it is a test double of Telegram, not of our code.
"""

from __future__ import annotations

import json
import multiprocessing.connection
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token-never-printed"
BOT = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Tenggat",
    "username": "tenggat_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

BLOCKED = (403, "Forbidden: bot was blocked by the user")
NOT_FOUND = (400, "Bad Request: chat not found")
SERVER_ERROR = (500, "Internal Server Error")
ACCEPT = ()  # scripted: accept this one as usual (so that a later one fails)


def too_many(retry_after: int) -> tuple[int, str, int]:
    """A scripted 429 asking the client to wait ``retry_after`` seconds."""
    return (429, f"Too Many Requests: retry after {retry_after}", retry_after)


@dataclass
class Sent:
    chat_id: str
    text: str
    parse_mode: str | None
    reply_markup: Any
    at: float  # time.monotonic() when accepted

    def buttons(self) -> list[tuple[str, str]]:
        """Its inline buttons, row by row: (label, callback data)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button["text"], button["callback_data"]) for row in rows for button in row]


@dataclass
class FakeBotAPI:
    """Start with ``with FakeBotAPI() as api:``; ``api.base_url`` goes to the client."""

    token: str = TOKEN
    rate: float | None = None  # accepted sendMessage per second overall; more → 429
    per_chat: float | None = None  # minimum seconds between two messages to one chat
    delay: float = 0.0  # seconds before answering a sendMessage, like a distant server
    hang_after: int | None = None  # accept this many messages, then never answer again
    sent: list[Sent] = field(default_factory=list)
    refused_429: int = 0
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _script: dict[str, deque[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(deque))
    _always: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _window: deque[float] = field(default_factory=deque)
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    _admitted: int = 0
    # The two-way bot: scripted updates, what getUpdates confirmed, answered callbacks.
    updates: list[dict[str, Any] | Raw] = field(default_factory=list)  # not yet confirmed
    confirmed: int = 0  # every update below this id was acknowledged by an offset
    served: list[int] = field(default_factory=list)  # update ids handed out, in order
    answered: list[dict[str, Any]] = field(default_factory=list)  # answerCallbackQuery
    edited: list[dict[str, Any]] = field(default_factory=list)  # editMessageText
    max_poll_wait: float = 1.0  # cap on a getUpdates timeout, to keep tests quick
    webhook: dict[str, Any] = field(default_factory=dict)  # setWebhook's parameters, if set
    _next_update: int = 1
    _updates_script: deque[tuple[Any, ...]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)  # getUpdates waits without the lock

    def __enter__(self) -> FakeBotAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Telegram does
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK hold every answer back by ~40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(body or "{}")
                else:
                    params = dict(parse_qsl(body))
                status, payload = api.answer(self.path, params)
                data = _dumps(payload)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:  # quiet
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def script(self, chat_id: str | int, *answers: tuple[Any, ...]) -> None:
        """Answer the next sendMessage calls to ``chat_id`` with these errors, in order
        (`ACCEPT` lets one through: ``script(7, ACCEPT, SERVER_ERROR)`` fails the second)."""
        self._script[str(chat_id)].extend(answers)

    def always(self, chat_id: str | int, answer: tuple[Any, ...]) -> None:
        """Answer every sendMessage to ``chat_id`` with this error."""
        self._always[str(chat_id)] = answer

    def texts(self, chat_id: str | int) -> list[str]:
        return [s.text for s in self.sent if s.chat_id == str(chat_id)]

    def push(self, *updates: dict[str, Any]) -> list[int]:
        """Queue updates for getUpdates (an update_id is given to each); return the ids."""
        ids = []
        with self._lock:
            for body in updates:
                update = {"update_id": self._next_update, **body}
                self._next_update += 1
                self.updates.append(update)
                ids.append(update["update_id"])
            self._arrived.notify_all()
        return ids

    def push_raw(self, *bodies: bytes) -> list[int]:
        """Queue updates exactly as these bytes (``{update_id}`` in one becomes its id);
        return the ids Telegram would have given them."""
        ids = []
        with self._lock:
            for body in bodies:
                update_id = self._next_update
                self._next_update += 1
                self.updates.append(Raw(update_id, body.replace(b"{update_id}", b"%d" % update_id)))
                ids.append(update_id)
            self._arrived.notify_all()
        return ids

    def fail_updates(self, *answers: tuple[Any, ...]) -> None:
        """Answer the next getUpdates calls with these errors (an outage), in order."""
        self._updates_script.extend(answers)

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Called holding the lock.  Like Telegram: an offset confirms (forgets) every update
        below it; the answer waits up to ``timeout`` seconds (capped) for one to arrive."""
        if self._updates_script:
            return _error(*self._updates_script.popleft())
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self.confirmed = max(self.confirmed, offset)
            self.updates = [u for u in self.updates if _id(u) >= offset]
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        if not self.updates and wait > 0:
            self._arrived.wait(wait)
        found = self.updates[:limit]
        self.served += [_id(u) for u in found]
        return 200, {"ok": True, "result": found}

    def answer(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        token, _, method = path.removeprefix("/bot").partition("/")
        if method == "sendMessage":
            with self._lock:
                self._admitted += 1
                hang = self.hang_after is not None and self._admitted > self.hang_after
            if hang:
                self._released.wait()  # a server that stopped answering: nothing recorded
                return _error(502, "Bad Gateway")
            time.sleep(self.delay)
        with self._lock:
            self.calls[method] += 1
            if token != self.token:
                return _error(401, "Unauthorized")
            if method == "getMe":
                return 200, {"ok": True, "result": BOT}
            if method == "getUpdates":
                if self.webhook:  # as Telegram: one way of receiving at a time
                    return _error(409, "Conflict: can't use getUpdates while webhook is active")
                return self._get_updates(params)
            if method == "setWebhook":
                self.webhook = params
                return 200, {"ok": True, "result": True}
            if method == "deleteWebhook":
                self.webhook = {}
                return 200, {"ok": True, "result": True}
            if method == "answerCallbackQuery":
                self.answered.append(params)
                return 200, {"ok": True, "result": True}
            if method == "editMessageText":
                self.edited.append(params)
                message = {"message_id": int(params.get("message_id") or 0), "date": 0}
                message |= {"chat": {"id": int(params.get("chat_id") or 0), "type": "private"}}
                return 200, {"ok": True, "result": message | {"text": params.get("text")}}
            if method == "getStats":  # not Telegram's: for a benchmark running us elsewhere
                stats = {"sent": len(self.sent), "refused_429": self.refused_429}
                return 200, {"ok": True, "result": stats}
            if method != "sendMessage":
                return _error(404, "Not Found: method not found")
            chat = str(params.get("chat_id"))
            scripted = self._script[chat].popleft() if self._script[chat] else None
            scripted = scripted or self._always.get(chat)
            if scripted:
                if scripted[0] == 429:
                    self.refused_429 += 1
                return _error(*scripted)
            now = time.monotonic()
            if self.rate is not None:
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate:
                    self.refused_429 += 1
                    return _error(429, "Too Many Requests: retry after 1", 1)
            if self.per_chat is not None:
                last = self._last.get(chat)
                if last is not None and now - last < self.per_chat:
                    self.refused_429 += 1
                    return _error(429, "Too Many Requests: retry after 1", 1)
            self._window.append(now)
            self._last[chat] = now
            markup = params.get("reply_markup")
            self.sent.append(
                Sent(
                    chat,
                    str(params.get("text")),
                    params.get("parse_mode"),
                    json.loads(markup) if isinstance(markup, str) else markup,
                    now,
                )
            )
            message = {
                "message_id": len(self.sent),
                "date": int(time.time()),
                "chat": {"id": int(chat) if chat.lstrip("-").isdigit() else 0, "type": "private"},
                "text": params.get("text"),
            }
            return 200, {"ok": True, "result": message}


@dataclass(frozen=True)
class Raw:
    """An update served as these bytes, whatever they hold; Telegram's id for it."""

    update_id: int
    body: bytes


def _id(update: dict[str, Any] | Raw) -> int:
    return update.update_id if isinstance(update, Raw) else int(update["update_id"])


def _dumps(payload: dict[str, Any]) -> bytes:
    """The answer's bytes: JSON, with each `Raw` update spliced in as it is."""
    result = payload.get("result")
    if not (isinstance(result, list) and any(isinstance(u, Raw) for u in result)):
        return json.dumps(payload).encode()
    items = [u.body if isinstance(u, Raw) else json.dumps(u).encode() for u in result]
    return b'{"ok": true, "result": [' + b", ".join(items) + b"]}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (killed mid-request, in the crash test) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error(
    code: int, description: str, retry_after: int | None = None
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        payload["parameters"] = {"retry_after": retry_after}
    return code, payload


def serve(rate: float | None, port: multiprocessing.connection.Connection) -> None:
    """Run a fake in this process until killed, sending its base URL through ``port``:
    a benchmark runs it in a process of its own, so that the server's Python does not
    share the client's interpreter lock."""
    with FakeBotAPI(rate=rate) as api:
        port.send(api.base_url)
        threading.Event().wait()


# ---- scripted updates for the two-way bot ------------------------------------------------

_MESSAGE_IDS = iter(range(1000, 10**9))


def user(chat: str | int, name: str = "Pegawai") -> dict[str, Any]:
    return {"id": int(chat), "is_bot": False, "first_name": name, "language_code": "id"}


def _message(chat: str | int, chat_type: str = "private", **fields: Any) -> dict[str, Any]:
    chat_info: dict[str, Any] = {"id": int(chat), "type": chat_type}
    if chat_type == "private":
        chat_info["first_name"] = "Pegawai"
    else:
        chat_info["title"] = "Grup"
    return {
        "message_id": next(_MESSAGE_IDS),
        "date": int(time.time()),
        "chat": chat_info,
        "from": user(chat),
        **fields,
    }


def text_message(
    chat: str | int, text: str, chat_type: str = "private", **fields: Any
) -> dict[str, Any]:
    """An update carrying a text message (a command gets its bot_command entity)."""
    if text.startswith("/"):
        fields.setdefault(
            "entities", [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        )
    return {"message": _message(chat, chat_type, text=text, **fields)}


def forwarded(chat: str | int, text: str) -> dict[str, Any]:
    """A text forwarded from someone else's chat."""
    origin = {"type": "user", "sender_user": user(999, "Orang Lain"), "date": int(time.time())}
    return text_message(chat, text, forward_origin=origin)


def photo_message(chat: str | int, file_id: str, caption: str = "") -> dict[str, Any]:
    sizes = [
        {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 960},
    ]
    fields: dict[str, Any] = {"photo": sizes}
    if caption:
        fields["caption"] = caption
    return {"message": _message(chat, **fields)}


def document_message(
    chat: str | int, file_id: str, file_name: str, caption: str = ""
) -> dict[str, Any]:
    document = {
        "file_id": file_id,
        "file_unique_id": file_id[-8:],
        "file_name": file_name,
        "mime_type": "application/pdf",
    }
    fields: dict[str, Any] = {"document": document}
    if caption:
        fields["caption"] = caption
    return {"message": _message(chat, **fields)}


def sticker_message(chat: str | int) -> dict[str, Any]:
    sticker = {
        "file_id": "sticker-1",
        "file_unique_id": "st1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return {"message": _message(chat, sticker=sticker)}


def callback(chat: str | int, data: str, query_id: str = "") -> dict[str, Any]:
    """A press of an inline button under one of the bot's messages in ``chat``."""
    bot = {"id": BOT["id"], "is_bot": True, "first_name": BOT["first_name"]}
    message = _message(chat, text="…") | {"from": bot}
    query_id = query_id or f"q{next(_MESSAGE_IDS)}"
    return {
        "callback_query": {
            "id": query_id,
            "from": user(chat),
            "chat_instance": f"ci{chat}",
            "message": message,
            "data": data,
        }
    }
