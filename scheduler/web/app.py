"""The web application: one ASGI app for the health endpoint, the bot's webhook and the
console, served by `scheduler.web.server`."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler.bot.webhook import Inbox
from scheduler.web import desk, events, health, telegram
from scheduler.web.admin import Admin
from scheduler.web.pages import Console
from scheduler.web.server import MAX_HEADERS, MAX_TARGET
from scheduler.web.visitor import Attempts

# Nothing runs but our own stylesheet and images: no script at all, no other origin, no
# frame, forms only to us.  A name read by OCR that holds markup is escaped; were it not,
# this would still keep it from running.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

if TYPE_CHECKING:
    from datetime import datetime

    from scheduler.config import Config
    from scheduler.store.db import Database


class Limits:
    """A request with more than `MAX_HEADERS` header lines (431), a target longer than
    `MAX_TARGET` (414) or one holding a NUL character (400: no record holds one, and
    PostgreSQL refuses it as a query's parameter) is refused before any route reads it:
    h11 bounds the size of what arrives in pieces, not the number of headers or a line
    that arrives at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope["raw_path"]) + len(scope["query_string"])
            nul = b"%00" in scope["raw_path"] or b"%00" in scope["query_string"]
            status = 0
            if len(scope["headers"]) > MAX_HEADERS:
                status = 431
            elif target > MAX_TARGET:
                status = 414
            elif nul:
                status = 400
            if status:
                refusal = Response(status_code=status, headers={"Connection": "close"})
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Every answer carries `HEADERS`; a page (HTML) is also never stored by a cache, since
    it shows people's records."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def build(
    db: Database,
    config: Config,
    inbox: Inbox | None = None,
    as_of: datetime | None = None,
    warm: bool = False,
) -> ASGIApp:
    """The application over ``db``; ``inbox`` takes the bot's updates while this process
    receives them (`scheduler.bot.webhook`); ``as_of`` fixes the moment the pages show
    (`tenggat web --as-of`); ``warm`` computes the agency's home at once, in the background
    (`Console.warm`), as the commands that serve it ask."""
    console = Console(db, config, Attempts(), as_of=as_of)
    if warm:
        threading.Thread(target=console.warm, name="tenggat-warm", daemon=True).start()
    routes = [
        Route("/health", health.endpoint(db, config), methods=["GET"]),
        Route("/telegram", telegram.endpoint(inbox or Inbox()), methods=["POST"]),
        Route("/masuk/{token}", console.sign_in_page, methods=["GET"]),
        Route("/masuk/{token}", console.sign_in, methods=["POST"]),
        Route("/keluar", console.sign_out, methods=["POST"]),
        Route("/bahasa/{language}", console.choose_language, methods=["GET"]),
        Route("/", console.signed_in(console.home), methods=["GET"]),
        Route("/units/{name}", console.signed_in(console.unit), methods=["GET"]),
        *desk.routes(console),  # a person's page with the admin's desk on it
        *events.routes(console),
        *Admin(console).routes(),  # the admin's desk
        Mount("/static", StaticFiles(packages=[("scheduler.web", "static")]), name="static"),
    ]

    def missing(request: Request, exc: Exception) -> Response:
        return console.message(request, "not_found", 404)

    app = Starlette(routes=routes, exception_handlers={404: missing})
    return Limits(SecurityHeaders(app))
