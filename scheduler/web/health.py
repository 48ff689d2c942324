"""``GET /health``: the report of `tenggat health`, as JSON, for a monitor to poll.

200 when healthy, 503 when not or when the database cannot be read (in the same sentence as
the command says it), 500 for a fault of ours, whose traceback goes to the log and not to
the monitor.  Secrets are taken out of every answer.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

from scheduler.logs import scrub, secrets_of
from scheduler.service.health import WORDS, report, unavailable
from scheduler.store.db import DatabaseError, failure

if TYPE_CHECKING:
    from scheduler.config import Config
    from scheduler.store.db import Database

log = logging.getLogger("tenggat")


def endpoint(db: Database, config: Config) -> Any:
    """The route's function for ``db`` and ``config`` (run in a worker thread: it queries)."""
    zone = ZoneInfo(config.settings.service.timezone)
    tick_minutes = config.settings.service.tick_minutes
    language = config.settings.service.language
    secrets = secrets_of(config)

    def answer(status: int, body: dict[str, Any]) -> Response:
        data = json.dumps(scrub(body, secrets), ensure_ascii=False, indent=2)
        headers = {"Cache-Control": "no-store"}
        return Response(data, status, headers, media_type="application/json; charset=utf-8")

    def fault() -> Response:
        """Log the error being handled with its traceback (the log's handler takes the
        secrets out) and answer 500: a monitor learns that the check failed, not why."""
        log.exception("health check failed")
        problem = {"code": "error", "message": WORDS[language]["error"]}
        return answer(500, {"healthy": False, "problems": [problem]})

    def health(request: Request) -> Response:
        try:
            with db.read() as session:
                found = report(session, datetime.now(zone), tick_minutes)
        except (DBAPIError, DatabaseError) as exc:  # the database is down: the answer
            said = failure(db.url, exc)
            if said is None:  # a statement of ours the database refused: a fault
                return fault()
            return answer(503, unavailable(said.text(language)))
        except Exception:  # a fault of ours: its traceback, through the redacting log
            return fault()
        return answer(200 if found.healthy else 503, found.as_json(language))

    return health
