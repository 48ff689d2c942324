"""The bot by webhook: registered with a fresh secret, updates posted to the web surface on
127.0.0.1 (a real uvicorn) handled once each, strangers refused, and long polling again
after it."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from fake_telegram import FakeBotAPI, text_message
from sqlalchemy import func, select
from test_bot import NOW, STAFF, Harness, seeded_file  # noqa: F401 (a fixture)
from test_telegram import telegram_environ

from scheduler.bot import poller as bot_poller
from scheduler.bot.webhook import SECRET_HEADER, Inbox
from scheduler.config import load_config
from scheduler.store import models
from scheduler.web.app import build
from scheduler.web.server import serve

CHAT = 600
HOOK = "https://tenggat.example.go.id/telegram"


class Hooked:
    """The bot started as `tenggat run` starts it, with ``[bot] webhook_url`` set: the web
    surface, and the bot taking updates through its inbox."""

    def __init__(self, harness: Harness) -> None:
        self.h, self.port = harness, free_port()
        environ = {"TENGGAT_BOT_WEBHOOK_URL": HOOK, "TENGGAT_WEB_PORT": str(self.port)}
        url = str(harness.db.url)
        config = load_config(None, environ=telegram_environ(url, harness.api) | environ)
        inbox = Inbox()
        self.web = serve(build(harness.db, config, inbox), "127.0.0.1", self.port)
        self.halt = bot_poller.start(config, harness.db, lambda: NOW, inbox)
        self.next_id = 1

    def post(self, update: dict[str, Any], secret: str | None = None, body: bytes = b"") -> int:
        """Post like Telegram does; the HTTP status of our answer."""
        if secret is None:
            secret = str(self.h.api.webhook["secret_token"])
        data = body or json.dumps(update).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/telegram",
            data=data,
            headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return refused.code

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        return {"update_id": self.next_id, **body}


@pytest.fixture
def hooked(tmp_path: Path, seeded_file: Path) -> Iterator[Hooked]:  # noqa: F811
    copy = tmp_path / "tenggat.db"
    shutil.copyfile(seeded_file, copy)
    with FakeBotAPI() as api:
        harness = Harness(f"sqlite:///{copy}", api)
        found = Hooked(harness)
        yield found
        found.halt()
        found.web.stop()
        harness.close()


def replies(api: FakeBotAPI, chat: int, count: int) -> list[str]:
    """The texts sent to ``chat`` once ``count`` have arrived (replies go after the 200)."""
    deadline = time.monotonic() + 10
    while len(api.texts(chat)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return api.texts(chat)


def audit_rows(h: Harness) -> int:
    with h.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(models.BotAudit)) or 0)


def test_updates_posted_with_the_secret_are_handled_once_and_answered(hooked: Hooked) -> None:
    h = hooked.h
    registered = h.api.webhook
    assert registered["url"] == HOOK and int(registered["max_connections"]) == 1
    assert len(str(registered["secret_token"])) >= 32
    assert json.loads(registered["allowed_updates"]) == ["message", "callback_query"]

    start = hooked.update(text_message(CHAT, f"/start {h.code_for(STAFF)}"))
    assert hooked.post(start) == 200
    assert "Halo, YANTI HEIDA YANI!" in replies(h.api, CHAT, 1)[0]
    assert h.employee(STAFF).telegram_chat_id == str(CHAT)
    before = audit_rows(h)
    assert hooked.post(start) == 200  # Telegram posting it again: acknowledged, not redone
    status = hooked.update(text_message(CHAT, "/status"))
    assert hooked.post(status) == 200
    assert len(replies(h.api, CHAT, 2)) == 2 and audit_rows(h) == before + 1


def test_strangers_are_refused_and_nothing_is_recorded(hooked: Hooked) -> None:
    """Without the secret nothing is read; with it, even garbage is Telegram's: acknowledged
    and audited (tests/hostile/test_hostile_bot.py), or Telegram would post it for ever."""
    h = hooked.h
    before = audit_rows(h)
    status = hooked.update(text_message(CHAT, "/status"))
    assert hooked.post(status, secret="") == 403
    assert hooked.post(status, secret="x" * 43) == 403
    assert hooked.post({}, body=b"{not json", secret="") == 403
    assert audit_rows(h) == before and h.api.sent == []
    assert hooked.post({}, body=b"{not json") == 200
    assert audit_rows(h) == before + 1 and h.api.sent == []


def test_stopping_deletes_the_webhook_and_polling_takes_the_updates_again(
    hooked: Hooked,
) -> None:
    h = hooked.h
    hooked.halt()
    hooked.halt = lambda: None  # the fixture's own stop
    assert h.api.webhook == {}
    before = audit_rows(h)  # the surface stays for /health; the bot takes no more updates
    assert hooked.post(hooked.update(text_message(CHAT, "/status")), secret="x") == 503
    assert audit_rows(h) == before

    h.api.webhook = {"url": HOOK}  # left behind by a run that died
    h.api.push(text_message(CHAT, "/bantuan"))
    config = load_config(None, environ=telegram_environ(str(h.db.url), h.api))
    halt = bot_poller.start(config, h.db, lambda: NOW)  # long polling: deletes it first
    try:
        assert "belum terhubung" in replies(h.api, CHAT, 1)[0]  # answered: polling works
    finally:
        halt()
    assert h.api.webhook == {}
