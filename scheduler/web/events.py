"""The agency's events page: the dates recorded of the events some deadlines count from
(the APBD's adoption for a budget year), and a form to record one, as `tenggat event set`
does: checked and written by `records.set_event`, audited in the same transaction, then a
redirect to the page that says what was recorded.  For the Secretary and the admins only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.catalog import Words
from scheduler.store import records
from scheduler.web import views
from scheduler.words import event_name, long_date

if TYPE_CHECKING:
    from scheduler.web.pages import Console
    from scheduler.web.visitor import Visitor

WORDS = Words("desk")  # its words stand with the person desk's in the catalogs


@dataclass(frozen=True)
class Events:
    """The agency's events page: the dates recorded, and a form to record one."""

    console: Console

    def page(
        self,
        request: Request,
        who: Visitor,
        status: int = 200,
        typed: Mapping[str, str] | None = None,
        error: str = "",
    ) -> Response:
        """The events recorded and the form, for those who record; shown again with what
        was typed and the refusal's sentence after a refused write."""
        console = self.console
        language = console.language(request)
        with console.db.read() as session:
            found = records.events(session)
            names = views.recorders(session, [e.recorded_by for e in found])
        shown = [
            (
                event_name(e.code, language),
                e.key,
                long_date(e.day, language),
                names.get(e.recorded_by, e.recorded_by),
                views.moment(e.recorded_at.astimezone(console.zone), language),
            )
            for e in found
        ]
        notice = ""
        given = request.query_params.get("recorded", "")
        done = next((e for e in found if f"{e.code} {e.key}" == given), None)
        if done is not None:
            notice = WORDS[language]["event_recorded"].format(
                code=event_name(done.code, language),
                key=done.key,
                day=long_date(done.day, language),
            )
        # the code is what the form sends; its meaning is what the list shows
        codes = [
            (code, event_name(code, language))
            for code in sorted(records.anchor_events(console.config.catalog))
        ]
        return console.page(
            request,
            "events.html",
            status,
            who=who,
            events=shown,
            codes=codes,
            typed=typed or {"key": str(console.now().year)},
            error=error,
            notice=notice,
            csrf=who.csrf,
            d=WORDS[language],
        )

    async def record(self, request: Request) -> Response:
        """Record an event's date, as `tenggat event set` does."""
        console = self.console
        begun = await console.desk_form(request)
        if isinstance(begun, Response):
            return begun
        who, form = begun
        typed = {name: str(form.get(name, ""))[:100] for name in ("code", "key", "day")}

        def write() -> str:
            with console.db.write() as session:
                try:
                    day = date.fromisoformat(typed["day"].strip())
                except ValueError:
                    raise records.RecordError("web_bad_day", text=typed["day"][:40]) from None
                now = console.clock()  # a write keeps its real time, whatever the page shows
                row = records.set_event(
                    session,
                    console.config.catalog,
                    typed["code"],
                    typed["key"].strip(),
                    day,
                    now,
                    who.by,
                )
                where = f"{row.code} {row.key}"
                console.audit(session, request, who, "set_event", f"{where}: {day}", now)
                return where

        try:
            where = await run_in_threadpool(write)
        except records.RecordError as exc:
            text = exc.text(console.language(request))
            return await run_in_threadpool(self.page, request, who, 400, typed, text)
        return RedirectResponse(f"/events?recorded={quote(where)}#notice", 303)


def routes(console: Console) -> list[Any]:
    """The events page's routes, for `scheduler.web.app.build`."""
    from starlette.routing import Route

    events = Events(console)
    return [
        Route("/events", console.signed_in(events.page, agency=True), methods=["GET"]),
        Route("/events", events.record, methods=["POST"]),
    ]
