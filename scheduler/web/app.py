"""The web application: one ASGI app for the health endpoint, the bot's webhook and the
console, served by `scheduler.web.server`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scheduler.bot.webhook import Inbox
from scheduler.web import health, telegram
from scheduler.web.server import MAX_HEADERS, MAX_TARGET

if TYPE_CHECKING:
    from scheduler.config import Config
    from scheduler.store.db import Database


class Limits:
    """A request with more than `MAX_HEADERS` header lines (431) or a target longer than
    `MAX_TARGET` (414) is refused before any route reads it: h11 bounds the size of what
    arrives in pieces, not the number of headers or a line that arrives at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope["raw_path"]) + len(scope["query_string"])
            status = (
                431 if len(scope["headers"]) > MAX_HEADERS else 414 if target > MAX_TARGET else 0
            )
            if status:
                refusal = Response(status_code=status, headers={"Connection": "close"})
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build(db: Database, config: Config, inbox: Inbox | None = None) -> ASGIApp:
    """The application over ``db``; ``inbox`` takes the bot's updates while this process
    receives them (`scheduler.bot.webhook`)."""
    routes = [
        Route("/health", health.endpoint(db, config), methods=["GET"]),
        Route("/telegram", telegram.endpoint(inbox or Inbox()), methods=["POST"]),
    ]
    return Limits(Starlette(routes=routes))
