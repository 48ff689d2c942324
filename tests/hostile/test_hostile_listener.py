"""Hostile connections to the HTTP listeners' common ground (`scheduler.listener`), kept as
data so that more can be added: a flood of connections that never finish their request must
not cut off a request already being answered."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from scheduler.listener import CONNECTIONS, Handler, Listener

# What an idle connection sends before going silent: nothing, or headers never finished.
IDLE_SENDS = [b"", b"GET /", b"GET / HTTP/1.1\r\nHost: x\r\n", b"POST /hook HTTP/1.1\r\n"]


class Slow(Handler):
    """A real request whose answer waits until the test has set its scene (a busy database,
    a slow update), however slowly a loaded machine gets there.  Each server has a subclass
    of its own: an idle connection of an earlier test that the server closes mid-line can
    still be read as an HTTP/0.9 request and must not count in the next test."""

    entered: threading.Semaphore  # released once per request being answered
    answer: threading.Event  # set by the test: the requests may now be answered

    def do_GET(self) -> None:
        type(self).entered.release()
        type(self).answer.wait(30)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@contextmanager
def listening() -> Iterator[tuple[int, type[Slow]]]:
    scene = type("Scene", (Slow,), {"entered": threading.Semaphore(0), "answer": threading.Event()})
    server = Listener(("127.0.0.1", 0), scene)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], scene
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, into: list[object]) -> None:
    """GET / and keep its status, or the error that ended it."""
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/")
        into.append(client.getresponse().status)
    except (OSError, http.client.HTTPException) as error:
        into.append(error)


@pytest.mark.parametrize("idle", [4 * CONNECTIONS])
def test_a_request_in_progress_survives_a_flood_of_idle_connections(idle: int) -> None:
    with listening() as (port, scene), ExitStack() as stack:
        answers: list[object] = []
        real = threading.Thread(target=get, args=(port, answers))
        real.start()
        assert scene.entered.acquire(timeout=5)
        for number in range(idle):
            silent = stack.enter_context(socket.create_connection(("127.0.0.1", port), 5))
            silent.sendall(IDLE_SENDS[number % len(IDLE_SENDS)])
        scene.answer.set()
        real.join(15)
        assert answers == [200]
        late: list[object] = []  # a real request after the flood still gets in
        get(port, late)
        assert late == [200] and scene.entered.acquire(timeout=1)


def test_when_every_connection_is_busy_the_new_one_is_closed() -> None:
    answers: list[object] = []
    with listening() as (port, scene):
        busy = [threading.Thread(target=get, args=(port, answers)) for _ in range(CONNECTIONS)]
        for thread in busy:
            thread.start()
        for _ in busy:
            assert scene.entered.acquire(timeout=5)
        with socket.create_connection(("127.0.0.1", port), 5) as extra:
            extra.settimeout(5)
            extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                refused = extra.recv(100) == b""
            except ConnectionResetError:
                refused = True
        scene.answer.set()
        for thread in busy:
            thread.join(15)
    assert refused
    assert answers == [200] * CONNECTIONS
