"""Serving the web application with uvicorn in a thread of the process that asks for it
(`tenggat run` beside its jobs, `tenggat web` alone), and keeping idle clients from holding it.

A client that connects and then sends nothing, or its request headers slowly, must not hold
the surface the monitor, Telegram and people use.  `Guarded` gives each connection `TIMEOUT`
seconds to finish its request headers, and keeps at most `CONNECTIONS` open: one more closes
the oldest connection still without complete headers; a request being answered is never cut
off, and when every open connection carries one, the newcomer is closed instead.  (uvicorn
alone times out only the idle time between two requests of a connection.)  A body sent too
slowly is the route's to time out (`scheduler.web.telegram`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("tenggat")

TIMEOUT = 5.0  # seconds a connection may take to send its request headers
CONNECTIONS = 32  # open at once
MAX_HEADERS = 100  # header lines of one request, as http.server allows
MAX_TARGET = 8 * 1024  # bytes of a request's path and query
STARTUP = 10.0  # seconds to wait for the server to listen


class Guarded(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for the request headers and a bound on
    open connections.  Each server has a subclass of its own (`guarded`) whose ``open``
    lists its connections, oldest first."""

    open: dict[Guarded, None]
    limit: int

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._make_room():
            transport.abort()
            return
        type(self).open[self] = None
        self._deadline: asyncio.TimerHandle | None = self.loop.call_later(TIMEOUT, self._late)

    def _make_room(self) -> bool:
        """Below the limit, or after closing the oldest connection still without complete
        headers.  False when every open connection is answering a request."""
        if len(type(self).open) < type(self).limit:
            return True
        idle = next((each for each in type(self).open if each.cycle is None), None)
        if idle is None:
            return False
        idle._close()
        return True

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self._deadline is not None:  # headers complete
            self._deadline.cancel()
            self._deadline = None

    def _late(self) -> None:
        if self.cycle is None:
            self._close()

    def _close(self) -> None:
        type(self).open.pop(self, None)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        type(self).open.pop(self, None)
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
        super().connection_lost(exc)


def guarded(limit: int = CONNECTIONS) -> type[Guarded]:
    """A `Guarded` of its own for one server: its connections and their limit."""
    return type("GuardedConnections", (Guarded,), {"open": {}, "limit": limit})


@dataclass
class Serving:
    """A server running in its thread; `stop` ends it."""

    address: tuple[str, int]
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop taking connections, let the requests under way finish, close the socket."""
        self._server.should_exit = True
        self._thread.join(timeout=30)


def serve(app: Any, host: str, port: int, limit: int = CONNECTIONS) -> Serving:
    """Serve the ASGI ``app`` on ``host:port`` (0: any free port) in a daemon thread.
    Raises OSError when the address is taken, here and not in the thread."""
    listening = socket.create_server((host, port), reuse_port=False)
    config = uvicorn.Config(
        app,
        http=guarded(limit),
        lifespan="off",
        access_log=False,  # a sign-in link's path is a secret
        log_config=None,  # our handler, behind the redacting filter
        server_header=False,
        timeout_keep_alive=int(TIMEOUT),
        h11_max_incomplete_event_size=16 * 1024,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listening]}, name="tenggat-web", daemon=True
    )
    thread.start()
    waited = 0.0
    while not server.started and thread.is_alive() and waited < STARTUP:
        threading.Event().wait(0.02)
        waited += 0.02
    address = listening.getsockname()[:2]
    if not server.started:
        server.should_exit = True
        with contextlib.suppress(OSError):
            listening.close()
        raise OSError(f"the web server did not start on {host}:{port}")
    log.info("web listening on http://%s:%d/", *address)
    return Serving(address, server, thread)
