"""Reading the updates Telegram sends, so that one we cannot read is named, never raised.

An update the library would not parse, that is not a JSON object, or that no JSON parser
reads (nested deeper than the parser's recursion) would otherwise fail its whole
``getUpdates`` answer: the offset would never move past it and the bot would ask for it
for ever.  Here the webhook's body and each element of a ``getUpdates`` answer become either
the update (a dict with an integer ``update_id``) or an `Unreadable`, which the poller
audits and skips.  Text that is not UTF-8 is read with U+FFFD in its place, as the library
reads it.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from telegram.error import TelegramError
from telegram.request import HTTPXRequest

# A JSON string, or a bracket or comma outside one: enough to split an array whose elements
# are too deep to parse.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[][{},]')
# Telegram writes the id first; read from there when the rest of an update is unreadable.
_LEADING_ID = re.compile(rb'\s*\{\s*"update_id"\s*:\s*(\d+)\s*[,}]')


class Unreadable(NamedTuple):
    """What arrived in place of an update: its id when it could be read, and why not."""

    update_id: int | None
    reason: str


def update_id_of(value: Any) -> int | None:
    """The id of a decoded update; None when it has none that Telegram could have given."""
    found = value.get("update_id") if isinstance(value, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) and found >= 0 else None


def as_update(value: Any) -> dict[str, Any] | Unreadable:
    """A decoded element as an update, or why it is none."""
    if isinstance(value, Unreadable):
        return value
    if update_id_of(value) is not None:
        return dict(value)
    if isinstance(value, dict):
        return Unreadable(None, "no update_id")
    return Unreadable(None, f"not a JSON object: {type(value).__name__}")


def chat_of(update: dict[str, Any]) -> tuple[str, str] | None:
    """The chat an update comes from (a message's, or that of the message whose button
    was pressed, else the presser's) and its type; None when it names no chat that
    Telegram could have given (a 64-bit integer id)."""
    source, query = update.get("message"), update.get("callback_query")
    if isinstance(query, dict):
        sender = query.get("from")
        presser = sender.get("id") if isinstance(sender, dict) else None
        source = query.get("message") or {"chat": {"id": presser}}
    chat = source.get("chat") if isinstance(source, dict) else None
    found = chat.get("id") if isinstance(chat, dict) else None
    if not isinstance(found, int) or isinstance(found, bool) or not -(2**63) <= found < 2**63:
        return None
    kind = chat.get("type", "private") if isinstance(chat, dict) else "private"
    return str(found), kind if isinstance(kind, str) else "unknown"


def read(body: bytes) -> dict[str, Any] | Unreadable:
    """One update as the webhook receives it."""
    try:
        return as_update(json.loads(body.decode("utf-8", "replace")))
    except (ValueError, RecursionError) as exc:
        return _unreadable(body, exc)


class UpdatesRequest(HTTPXRequest):
    """The transport of ``getUpdates``: an element of the answer that does not decode
    becomes an `Unreadable` instead of failing the whole answer."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        try:
            answer = json.loads(payload.decode("utf-8", "replace"))
        except (ValueError, RecursionError) as exc:
            elements = _elements(payload)
            if elements is None:
                raise TelegramError("Invalid server response") from exc
            return {"ok": True, "result": [_decode(element) for element in elements]}
        if not isinstance(answer, dict):
            raise TelegramError("Invalid server response")
        return answer


def _decode(element: bytes) -> Any:
    try:
        return json.loads(element.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        return _unreadable(element, exc)


def _unreadable(body: bytes, error: Exception) -> Unreadable:
    found = _LEADING_ID.match(body)
    reason = f"not JSON ({type(error).__name__}, {len(body)} bytes)"
    return Unreadable(int(found.group(1)) if found else None, reason)


def _elements(payload: bytes) -> list[bytes] | None:
    """The elements of the answer's ``result`` array, split by counting brackets outside
    strings (no recursion, whatever the depth); None when the answer has no such array."""
    depth, key, start, found = 0, b"", -1, []
    for token in _TOKEN.finditer(payload):
        text = token.group()
        if text in (b"{", b"["):
            if depth == 1 and text == b"[" and key == b'"result"':
                start = token.end()
            depth += 1
        elif text in (b"}", b"]"):
            depth -= 1
            if depth == 1 and start >= 0:
                found.append(payload[start : token.start()])
                return [element for element in found if element.strip()]
        elif text == b"," and depth == 2 and start >= 0:
            found.append(payload[start : token.start()])
            start = token.end()
        elif depth == 1:
            key = text
    return None
