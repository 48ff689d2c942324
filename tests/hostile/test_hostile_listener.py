"""Hostile connections to the web surface's server (`scheduler.web.server`), kept as data so
that more can be added: a flood of connections that never finish their request must not cut
off a request already being answered, nor keep a new one out."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scheduler.web.server import CONNECTIONS, serve

# What an idle connection sends before going silent: nothing, or headers never finished.
IDLE_SENDS = [b"", b"GET /", b"GET / HTTP/1.1\r\nHost: x\r\n", b"POST /hook HTTP/1.1\r\n"]


class Scene:
    """A real request whose answer waits until the test has set its scene (a flood of idle
    connections), however slowly a loaded machine gets there.  Each server has one of its
    own."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)  # released once per request being answered
        self.answer = threading.Event()  # set by the test: the requests may now be answered

    async def slow(self, request: Request) -> PlainTextResponse:
        self.entered.release()
        await asyncio.to_thread(self.answer.wait, 30)
        return PlainTextResponse("ok")


@contextmanager
def listening() -> Iterator[tuple[int, Scene]]:
    scene = Scene()
    server = serve(Starlette(routes=[Route("/", scene.slow)]), "127.0.0.1", 0)
    try:
        yield server.address[1], scene
    finally:
        scene.answer.set()
        server.stop()


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
