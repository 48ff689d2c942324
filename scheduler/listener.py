"""The HTTP listeners' common ground (``GET /health``, the bot's webhook): a client that
connects and then sends nothing, or sends slowly, must not hold them.

Each connection gets a thread that waits at most `TIMEOUT` seconds for what the client
sends, and at most `CONNECTIONS` are open at once.  One more closes the oldest connection
that has not yet sent complete request headers; a request being answered is never cut
off, and when every open connection carries one, the new connection is closed instead.
So a flood of idle connections neither runs the process out of file descriptors nor
keeps a real request out, nor knocks one out midway.  What a handler does with the
request, e.g. the webhook's one update at a time, is its own to serialize.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("tenggat")

TIMEOUT = 5.0  # seconds a connection may stay silent before it is dropped
CONNECTIONS = 32  # open at once


class Handler(BaseHTTPRequestHandler):
    """A request handler whose socket gives up on a silent client after `TIMEOUT`."""

    timeout = TIMEOUT
    server: Listener

    def parse_request(self) -> bool:
        """Complete headers make the connection a real request, which the listener will
        not close to make room for another."""
        parsed = super().parse_request()
        if parsed:
            self.server.busy(self.request)
        return parsed

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)


class Listener(ThreadingHTTPServer):
    """A thread per connection, at most ``limit`` connections open: the newest one
    closes the oldest idle one, or itself when none is idle.  Start it with
    ``serve_forever`` in a thread of its own."""

    daemon_threads = True
    request_queue_size = 64  # connections the kernel holds while one is being accepted

    def __init__(
        self, address: tuple[str, int], handler: type[Handler], limit: int = CONNECTIONS
    ) -> None:
        self.limit = limit
        self._open: dict[socket.socket, bool] = {}  # oldest first: is it a real request?
        self._guard = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            admitted = self._make_room()
            if admitted:
                self._open[request] = False
        if not admitted:  # every connection is answering a real request: the newcomer goes
            super().shutdown_request(request)
            return
        super().process_request(request, client_address)

    def _make_room(self) -> bool:
        """Below the limit, or after closing the oldest connection still without complete
        headers (a real request is never cut off).  False when there is no room.  Called
        under ``_guard``."""
        if len(self._open) < self.limit:
            return True
        idle = next((each for each, busy in self._open.items() if not busy), None)
        if idle is None:
            return False
        del self._open[idle]
        with contextlib.suppress(OSError):  # gone already
            idle.shutdown(socket.SHUT_RDWR)  # its thread wakes up and ends
        return True

    def busy(self, request: socket.socket) -> None:
        """``request`` has sent its headers and is being answered: keep it open."""
        with self._guard:
            if request in self._open:
                self._open[request] = True

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went silent or away is no error; anything else is logged (and
        so passes the log's secret filter), not printed."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            log.debug("http connection dropped: %s", error)
        else:
            log.exception("http request failed")
