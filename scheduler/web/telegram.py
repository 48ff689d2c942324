"""``POST /telegram``: the bot's webhook on the web surface.

The secret is checked before anything is read; the body must say its length, at most
`MAX_BODY`, and arrive within `TIMEOUT` seconds.  The update itself is the bot's
(`scheduler.bot.webhook.Receiver`): handled in its thread, answered 200 once committed (503
while the database is away), its replies sent after the answer went out.  While this process
does not receive the updates (another holds the scheduler lock, or the bot is off) the post
is answered 503, and Telegram posts it again later.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from scheduler.bot.webhook import MAX_BODY, SECRET_HEADER, Inbox
from scheduler.web.server import TIMEOUT


def endpoint(inbox: Inbox) -> Any:
    """The route's function, taking updates through ``inbox``."""

    async def telegram(request: Request) -> Response:
        receiver = inbox.receiver
        if receiver is None:
            return Response(status_code=503)
        if not receiver.authentic(request.headers.get(SECRET_HEADER, "")):
            return Response(status_code=403)
        try:
            size = int(request.headers.get("content-length") or 0)
        except ValueError:
            size = 0
        if not 0 < size <= MAX_BODY:
            return Response(status_code=413 if size > MAX_BODY else 400)
        try:
            async with asyncio.timeout(TIMEOUT):
                body = await request.body()
        except (TimeoutError, ClientDisconnect):
            return Response(status_code=408, headers={"Connection": "close"})
        answered = threading.Event()
        status = await asyncio.wrap_future(receiver.take(body, answered))
        return Response(status_code=status, background=BackgroundTask(answered.set))

    return telegram
