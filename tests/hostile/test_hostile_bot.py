"""Hostile input to the bot and its HTTP listeners, kept as data so that more can be added:
idle and half-sent connections (`IDLE_REQUESTS`) against the health endpoint and the webhook
of a running `tenggat run`, and malformed updates (`POISON`) through long polling and the
webhook.  Loopback only; every wait is bounded."""

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

from conftest import free_port
from fake_telegram import FakeBotAPI, text_message
from test_service import TENGGAT, environment
from test_telegram import telegram_environ

from scheduler.webhook import SECRET_HEADER

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
def running(tmp_path: Path, api: FakeBotAPI, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`tenggat run` on a fresh SQLite file against the fake Bot API, stopped afterwards."""
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    environ = environment(url) | telegram_environ(url, api) | env
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
    with FakeBotAPI() as api, running(tmp_path, api, TENGGAT_SERVICE_HEALTH_PORT=str(port)) as run:
        wait_until(lambda: api.calls["getUpdates"] >= 2)
        assert get_health(port)[0] in (200, 503)
        with ExitStack() as stack:
            hold(port, 400, stack)
            status, took = get_health(port)
            assert status in (200, 503) and took < 3.0
            api.push(text_message(777, "/bantuan"))  # the bot still polls and answers
            wait_until(lambda: len(api.texts(777)) == 1, 10)
            assert threads_of(run) < 60  # bounded, not one per idle connection
        assert run.poll() is None


def test_idle_connections_do_not_hold_the_webhook(tmp_path: Path) -> None:
    port = free_port()
    hooked = {"TENGGAT_BOT_WEBHOOK_URL": HOOK, "TENGGAT_BOT_WEBHOOK_PORT": str(port)}
    with FakeBotAPI() as api, running(tmp_path, api, **hooked) as run:
        wait_until(lambda: bool(api.webhook))
        time.sleep(0.5)  # listening once the webhook is set
        secret = str(api.webhook["secret_token"])
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
            wait_until(lambda: len(api.texts(777)) == 3, 10)
        assert run.poll() is None
