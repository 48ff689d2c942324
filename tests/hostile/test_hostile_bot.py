"""Hostile input to the bot and its HTTP listeners, kept as data so that more can be added:
idle and half-sent connections (`IDLE_REQUESTS`) against the health endpoint and the webhook
of a running `tenggat run`, malformed updates (`POISON`) through long polling and the
webhook, and raw HTTP requests to the webhook (`RAW_REQUESTS`).  Loopback only; every wait
is bounded."""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from conftest import free_port
from fake_telegram import FakeBotAPI, text_message
from sqlalchemy import select
from test_bot import Harness, api, both, seeded_file  # noqa: F401 (fixtures)
from test_service import TENGGAT, environment
from test_telegram import telegram_environ
from test_webhook import Hooked, hooked  # noqa: F401 (a fixture)

from scheduler.bot.webhook import SECRET_HEADER
from scheduler.store import models

# What an idle or slow client sends before it stops: nothing, half a request line, headers
# without their end, or a body shorter than its Content-Length.
IDLE_REQUESTS = [
    b"",
    b"GET /hea",
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    b'POST /telegram HTTP/1.1\r\nContent-Length: 5000\r\n\r\n{"update_id": 1',
]
HOOK = "https://tenggat.example.go.id/telegram"


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def few_files() -> None:
    """In the service's process: a file-descriptor limit of 256, so that a few hundred idle
    connections would exhaust it as they exhaust 1024 in a bigger flood."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


@contextmanager
def running(tmp_path: Path, fake: FakeBotAPI, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`tenggat run` on a fresh SQLite file against the fake Bot API, stopped afterwards."""
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    environ = environment(url) | telegram_environ(url, fake) | env
    environ["TENGGAT_BOT_POLL_SECONDS"] = "1"
    log = (tmp_path / "run.log").open("wb")
    service = subprocess.Popen(
        [TENGGAT, "run"], cwd=tmp_path, env=environ, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=few_files,
    )  # fmt: skip
    try:
        yield service
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=30)
        finally:
            service.kill()
            log.close()


def hold(port: int, count: int, stack: ExitStack) -> int:
    """Open ``count`` connections that send a little (`IDLE_REQUESTS`, in turn) and then
    nothing; they stay open until ``stack`` closes.  The number the listener let in."""
    opened, deadline = 0, time.monotonic() + 10
    for number in range(count):
        if time.monotonic() > deadline:
            break
        try:
            idle = stack.enter_context(socket.create_connection(("127.0.0.1", port), 1))
            idle.sendall(IDLE_REQUESTS[number % len(IDLE_REQUESTS)])
            opened += 1
        except OSError:  # refused or timed out: the listener is full, which is allowed
            pass
    return opened


def threads_of(process: subprocess.Popen[bytes]) -> int:
    status = Path(f"/proc/{process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads")))


def get_health(port: int) -> tuple[int, float]:
    """GET /health the way a monitor does: its status and how long the answer took."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as unhealthy:
        status = unhealthy.code
    return status, time.monotonic() - start


def test_idle_connections_do_not_hold_the_health_endpoint_or_the_bot(tmp_path: Path) -> None:
    port = free_port()
    with (
        FakeBotAPI() as fake,
        running(tmp_path, fake, TENGGAT_WEB_PORT=str(port)) as run,
    ):
        wait_until(lambda: fake.calls["getUpdates"] >= 2)
        assert get_health(port)[0] in (200, 503)
        with ExitStack() as stack:
            hold(port, 400, stack)
            status, took = get_health(port)
            assert status in (200, 503) and took < 3.0
            fake.push(text_message(777, "/bantuan"))  # the bot still polls and answers
            wait_until(lambda: len(fake.texts(777)) == 1, 10)
            assert threads_of(run) < 60  # bounded, not one per idle connection
        assert run.poll() is None


def test_idle_connections_do_not_hold_the_webhook(tmp_path: Path) -> None:
    port = free_port()
    webhook = {"TENGGAT_BOT_WEBHOOK_URL": HOOK, "TENGGAT_WEB_PORT": str(port)}
    with FakeBotAPI() as fake, running(tmp_path, fake, **webhook) as run:
        wait_until(lambda: bool(fake.webhook))
        time.sleep(0.5)  # listening once the webhook is set
        secret = str(fake.webhook["secret_token"])
        with ExitStack() as stack:
            assert hold(port, 8, stack) >= 5
            for update_id, text in enumerate(["/bantuan", "/status", "/bantuan"], start=1):
                body = json.dumps({"update_id": update_id} | text_message(777, text)).encode()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/telegram", data=body, headers={SECRET_HEADER: secret}
                )
                start = time.monotonic()
                with urllib.request.urlopen(request, timeout=10) as answer:
                    assert answer.status == 200 and time.monotonic() - start < 3.0
            wait_until(lambda: len(fake.texts(777)) == 3, 10)
        assert run.poll() is None


# ---- poison updates -----------------------------------------------------------------------

DEEP = 100_000  # levels of nesting: no JSON parser in Python reads it back
# Each is one update as Telegram's bytes (``{update_id}`` becomes its id) that the library
# could not parse, that our code could trip on, or that no JSON parser reads at all.  Each
# must leave one row in bot_audit and let the next update through.
POISON: list[tuple[str, bytes]] = [
    ("wrong types", b'{"update_id": {update_id}, "message": {"message_id": "x", "date": "today",'
     b' "chat": {"id": "abc", "type": 5}, "from": 7, "text": 42}}'),
    ("text not a string", b'{"update_id": {update_id}, "message": {"message_id": 1, "date": 0,'
     b' "chat": {"id": 777, "type": "private"}, "text": {"a": 1}}}'),
    ("no chat", b'{"update_id": {update_id}, "message": {"message_id": 1, "text": "/status"}}'),
    ("chat id too long", b'{"update_id": {update_id}, "message": {"chat": {"id": '
     + b"9" * 60 + b', "type": "private"}, "text": "/status"}}'),
    ("message a string", b'{"update_id": {update_id}, "message": "hello"}'),
    ("callback without message", b'{"update_id": {update_id}, "callback_query": {"id": 5,'
     b' "data": ["x"], "message": "gone", "from": null}}'),
    ("callback message a list", b'{"update_id": {update_id}, "callback_query": {"id": "q",'
     b' "from": {"id": 777}, "message": [1, 2], "data": "lapor:-"}}'),
    ("unknown update type", b'{"update_id": {update_id}, "message_reaction": {"chat":'
     b' {"id": 777, "type": "private"}, "new_reaction": []}}'),
    ("nothing but the id", b'{"update_id": {update_id}}'),
    ("huge nested", b'{"update_id": {update_id}, "message": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
    ("broken JSON", b'{"update_id": {update_id}, "message": {"chat": }}'),
    ("a number", b"42"),
    ("a string", b'"update_id"'),
    ("null", b"null"),
    ("an array", b'[{"update_id": 1}]'),
    ("no update_id", b'{"message": {"chat": {"id": 777, "type": "private"}, "text": "/bantuan"}}'),
    ("update_id a string", b'{"update_id": "{update_id}", "message": {}}'),
    ("update_id negative", b'{"update_id": -{update_id}, "message": {}}'),
    ("invalid UTF-8 in a text", b'{"update_id": {update_id}, "message": {"message_id": 1,'
     b' "date": 0, "chat": {"id": 778, "type": "private"}, "text": "/bantuan \xff\xfe"}}'),
]  # fmt: skip
GOOD = text_message(779, "/bantuan")  # an unlinked chat: answered with how to link


def audit_rows(h: Harness) -> list[tuple[int | None, str | None, str, str]]:
    with h.db.read() as session:
        rows = session.scalars(select(models.BotAudit).order_by(models.BotAudit.id))
        return [(r.update_id, r.chat_id, r.action, r.detail) for r in rows]


@pytest.mark.parametrize("together", [False, True], ids=["one per poll", "one batch"])
def test_poison_updates_are_skipped_and_audited_when_polling(
    both: Harness,  # noqa: F811
    together: bool,
) -> None:
    h = both
    before = len(audit_rows(h))
    if together:
        h.api.push_raw(*(body for _, body in POISON))
    else:
        for _, body in POISON:  # each alone: the last of its batch
            h.api.push_raw(body)
            h.poller.poll_once(h.now, timeout=0)
    (good,) = h.api.push(GOOD)
    for _ in range(5):  # bounded: a stalled poller would serve the poison again and again
        h.poller.poll_once(h.now, timeout=0)
        if h.api.texts(779):
            break
    assert any("belum terhubung" in text for text in h.api.texts(779))
    h.poller.poll_once(h.now, timeout=0)  # confirms the last one
    assert h.api.updates == [] and h.api.confirmed == good + 1
    rows = audit_rows(h)[before:]
    assert len(rows) == len(POISON) + 1, rows  # one per update, none twice
    assert rows[-1][0] == good
    actions = {action for _, _, action, _ in rows}
    assert {"unparseable", "error"} <= actions
    assert h.api.texts(778)  # the bytes that were not UTF-8 read as U+FFFD, the rest answered


def test_poison_updates_are_skipped_and_audited_by_the_webhook(hooked: Hooked) -> None:  # noqa: F811
    h = hooked.h
    before = len(audit_rows(h))
    bodies = [body.replace(b"{update_id}", b"%d" % (100 + n)) for n, (_, body) in enumerate(POISON)]
    bodies += [b"\xff\xfe\x00 not even text", b" ", b"{}"]
    for body in bodies:
        assert hooked.post({}, body=body) == 200, body[:80]
    good = {"update_id": 500} | GOOD
    assert hooked.post(good) == 200
    wait_until(lambda: bool(h.api.texts(779)), 10)
    rows = audit_rows(h)[before:]
    assert len(rows) == len(bodies) + 1, rows
    assert rows[-1][0] == 500
    assert {"unparseable", "error"} <= {action for _, _, action, _ in rows}


# Raw requests to the webhook ({secret} becomes the registered one) and the status each
# gets (h11 refuses what is not HTTP or a malformed length with 400);
# none may crash the server or keep the next update out.
RAW_REQUESTS: list[tuple[bytes, int]] = [
    (b"POST /telegram HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 403),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: nope\r\n"
     b"Content-Length: 2\r\n\r\n{}", 403),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: {secret}\r\n\r\n", 400),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
     b"Content-Length: abc\r\n\r\n", 400),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
     b"Content-Length: \xb2\r\n\r\n", 400),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
     b"Content-Length: -1\r\n\r\n", 400),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
     b"Content-Length: 99999999999\r\n\r\n", 413),
    (b"POST /telegram HTTP/1.1\r\nX-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
     b"Content-Length: 2\r\n\r\n{}", 200),  # Telegram's, but no update: audited, skipped
    (b"GET /telegram HTTP/1.1\r\n\r\n", 405),
    (b"\x00\x01\x02 \xff\r\n\r\n", 400),
    (b"POST /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"POST /telegram HTTP/1.1\r\n" + b"X: y\r\n" * 120 + b"\r\n", 431),
]  # fmt: skip


def test_raw_requests_to_the_webhook_get_a_status_and_the_next_update_goes_through(
    hooked: Hooked,  # noqa: F811
) -> None:
    h = hooked.h
    secret = str(h.api.webhook["secret_token"]).encode()
    for raw, expected in RAW_REQUESTS:
        # Host, as every HTTP/1.1 client sends (h11 refuses a request without one with 400)
        raw = raw.replace(b"{secret}", secret).replace(
            b" HTTP/1.1\r\n", b" HTTP/1.1\r\nHost: x\r\n"
        )
        with socket.create_connection(("127.0.0.1", hooked.port), timeout=10) as client:
            client.sendall(raw)
            answer = client.makefile("rb").read(4096)  # the listener closes after it
        # An HTTP/1.x answer's status line, or (no version given) the error page alone
        status = answer.split()[1] if answer.startswith(b"HTTP/") else answer
        assert b"%d" % expected in status, (raw[:60], answer[:200])
    assert hooked.post({"update_id": 600} | GOOD) == 200
    wait_until(lambda: bool(h.api.texts(779)), 10)


def test_a_bot_api_that_is_away_is_named_as_such_from_the_bot_thread(
    both: Harness,  # noqa: F811 (a fixture)
) -> None:
    """The bot polls in a thread of its own; a Bot API that refuses connections must be
    reported as that (a network error), not as the asyncio error of cleaning up after it."""
    import threading

    from scheduler.bot.poller import Poller

    failed: list[BaseException] = []

    def start() -> None:
        away = f"http://127.0.0.1:{free_port()}/bot"
        poller = Poller(both.config, both.db, lambda: both.now, base_url=away)
        try:
            poller.open()
        except Exception as exc:
            failed.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join(60)
    assert len(failed) == 1
    assert type(failed[0]).__name__ == "NetworkError", repr(failed[0])
