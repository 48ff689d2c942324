"""The admin's desk: the review queue, uploads with a preview, link-code slips, the outbox
and who cannot be reached; for the Secretary and the ``admin`` role only.

Every route asks who is visiting before it reads anything: anyone else gets 403 (401
without a session), on GET and POST alike, and a POST is refused before its body is read.
A form without the session's CSRF token writes nothing.  Every write goes through the
writer the matching command uses, is audited in ``web_audit`` (who, when, from where) and
ends in a redirect to a page that says what was done (POST, redirect, GET); a refused form
comes back with what was typed and why.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler.bot import records as bot_records
from scheduler.catalog import Words
from scheduler.messages import HEADINGS
from scheduler.store import models, outbox, uploads
from scheduler.web import admin_lists, admin_review, admin_uploads, views
from scheduler.web.visitor import Visitor

if TYPE_CHECKING:
    from scheduler.web.pages import Console

WORDS = Words("admin")
DONE_COOKIE = "tenggat_done"  # the sentence that confirms a write, for the page after it
MAX_FIELDS = 3000  # a unit's people as slip checkboxes, within the form's 64 KB
Page = Callable[[Request, Visitor], Response]


class _Rollback(Exception):
    """Ends a transaction whose writes were only a preview."""

    def __init__(self, name: str, outcome: admin_uploads.Outcome) -> None:
        self.name, self.outcome = name, outcome


@dataclass(frozen=True)
class Slip:
    """One printed slip: whom it is for, their code and until when it works."""

    name: str
    nip: str  # "" while the import could not read it (a provisional TMP- key)
    unit: str
    code: str
    link: str  # the bot's deep link, "" without a bot
    until: str


def _number(text: str | None) -> int:
    """A page number from the query; 0 for anything else."""
    return int(text) if text and text.isdigit() and len(text) < 7 else 0


@dataclass(frozen=True)
class Admin:
    """The admin's desk's routes over the console's plumbing (pages, sessions, words,
    `Console.desk_form` for what is posted)."""

    console: Console
    bot: dict[str, str] = field(default_factory=dict)  # the bot's username, once asked

    def routes(self) -> list[Route]:
        get, post = ["GET"], ["POST"]

        def agency(page: Page) -> Callable[..., Response]:
            return self.console.signed_in(page, agency=True)

        return [
            Route("/admin", agency(self.index), methods=get),
            Route("/admin/review", agency(self.review), methods=get),
            Route("/admin/review/{key}", self.fix, methods=post),
            Route("/admin/upload", agency(self.uploads), methods=get),
            Route("/admin/upload/{kind}", self.upload, methods=post),
            Route("/admin/upload/{kind}/{token}", agency(self.preview), methods=get),
            Route("/admin/upload/{kind}/{token}", self.confirm, methods=post),
            Route("/admin/slips", agency(self.slips), methods=get),
            Route("/admin/slips", self.print_slips, methods=post),
            Route("/admin/outbox", agency(self.letters), methods=get),
            Route("/admin/unreachable", agency(self.unreachable), methods=get),
        ]

    # ------------------------------------------------------------------ plumbing

    def page(
        self, request: Request, template: str, who: Visitor, status: int = 200, **context: Any
    ) -> Response:
        """A desk page, with the sentence of the write just done, once."""
        language = self.console.language(request)
        done = ""
        try:
            key, params = json.loads(unquote(request.cookies.get(DONE_COOKIE, "")))
            done = WORDS[language][key].format(**{k: str(v) for k, v in params.items()})
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            pass
        response = self.console.page(
            request,
            template,
            status,
            who,
            a=WORDS[language],
            h=HEADINGS[language],
            done=done,
            **context,
        )
        if DONE_COOKIE in request.cookies:
            response.delete_cookie(DONE_COOKIE, path="/admin")
        return response

    def done(self, request: Request, to: str, key: str, **params: object) -> Response:
        """After a write: to ``to``, which says ``key`` (a sentence of the desk's words)."""
        response = RedirectResponse(to, 303)
        response.set_cookie(
            DONE_COOKIE,
            quote(json.dumps([key, params])),
            max_age=120,
            path="/admin",
            secure=self.console.secure(request),
            httponly=True,
            samesite="strict",
        )
        return response

    # ------------------------------------------------------------------ the desk

    def index(self, request: Request, who: Visitor) -> Response:
        config = self.console.config
        with self.console.db.read() as session:
            flagged = admin_review.count(session)
            dead = outbox.counts(session).get("dead", 0)
            unreached, _ = admin_lists.unreached_page(
                session, config, 0, self.console.language(request)
            )
        return self.page(
            request, "admin_desk.html", who, flagged=flagged, dead=dead, unreached=unreached
        )

    # ------------------------------------------------------------------ review queue

    def review(
        self, request: Request, who: Visitor, status: int = 200, typed: dict[str, Any] | None = None
    ) -> Response:
        page = _number(request.query_params.get("halaman"))
        search = request.query_params.get("cari", "")[:100]
        searched_for = request.query_params.get("untuk", "")
        language = self.console.language(request)
        with self.console.db.read() as session:
            total = admin_review.count(session)
            people = admin_review.queue(session, page, WORDS[language]["line_n"])
            units = admin_review.units(session)
            leaders = admin_review.superiors(session)
            found = admin_review.superiors(session, search) if search.strip() else []
        catalog = self.console.config.catalog
        rules = [(code, rule.name) for code, rule in catalog.rules.items()]
        return self.page(
            request,
            "admin_review.html",
            who,
            status,
            total=total,
            people=people,
            units=units,
            leaders=leaders,
            found=found,
            search=search,
            searched_for=searched_for,
            rules=rules,
            page_number=page,
            pages=max(1, -(-total // admin_review.PAGE)),
            typed=typed or {},
        )

    async def fix(self, request: Request) -> Response:
        got = await self.console.desk_form(request, fields=MAX_FIELDS)
        if isinstance(got, Response):
            return got
        who, form = got
        key = request.path_params["key"]
        unit, boss = str(form.get("unit", "")), str(form.get("superior", ""))
        rules = [str(code) for code in form.getlist("rules")]
        page = _number(str(form.get("halaman", "")))
        language = self.console.language(request)

        def write() -> str | list[str]:
            try:
                with self.console.db.write() as session:
                    changed = admin_review.fix(
                        session,
                        self.console.config.catalog,
                        key,
                        unit,
                        boss,
                        rules,
                        self.console.clock(),
                        language,
                    )
                    self.console.audit(session, request, who, "review_fix", f"{key}: {changed}")
                    return changed
            except admin_review.FixRefused as refused:
                return refused.sentences

        result = await run_in_threadpool(write)
        if isinstance(result, list):
            if not result:
                return self.console.message(request, "not_found", 404, who)
            typed = {"key": key, "unit": unit, "superior": boss, "rules": rules, "errors": result}
            return await run_in_threadpool(self.review, request, who, 400, typed)
        with self.console.db.read() as session:
            name = session.scalar(select(models.Employee.name).where(models.Employee.key == key))
        return self.done(request, f"/admin/review?halaman={page}", "review_done", name=name or key)

    # ------------------------------------------------------------------ uploads

    def uploads(self, request: Request, who: Visitor) -> Response:
        return self.page(
            request,
            "admin_upload.html",
            who,
            kinds=admin_uploads.KINDS,
            limit=admin_uploads.MAX_UPLOAD // 2**20,
        )

    async def upload(self, request: Request) -> Response:
        """Keep the file for its preview; nothing of the records is written here."""
        kind = request.path_params["kind"]
        got = await self.console.desk_form(request, admin_uploads.MAX_UPLOAD, fields=5)
        if isinstance(got, Response):
            return got
        who, form = got
        if kind not in admin_uploads.KINDS:
            return self.console.message(request, "not_found", 404, who)
        sent = form.get("file")
        if not isinstance(sent, UploadFile) or not sent.filename:
            return self.upload_refused(request, who, "upload_missing")
        name = sent.filename.replace("\\", "/").rsplit("/", 1)[-1][: uploads.NAME_CHARS]
        if not admin_uploads.suffix_ok(kind, name):
            return self.upload_refused(
                request, who, "upload_type", kinds=", ".join(admin_uploads.KINDS[kind])
            )
        data = await sent.read(admin_uploads.MAX_UPLOAD + 1)
        if len(data) > admin_uploads.MAX_UPLOAD:
            return self.upload_refused(
                request, who, "upload_too_big", limit=admin_uploads.MAX_UPLOAD // 2**20, status=413
            )
        if not data:
            return self.upload_refused(request, who, "upload_empty")

        def keep() -> str:
            with self.console.db.write() as session:
                return uploads.keep(session, who.session_id, kind, name, data, self.console.clock())

        token = await run_in_threadpool(keep)
        return RedirectResponse(f"/admin/upload/{kind}/{token}", 303)

    def upload_refused(
        self, request: Request, who: Visitor, key: str, status: int = 400, **params: object
    ) -> Response:
        error = WORDS[self.console.language(request)][key].format(**params)
        return self.page(
            request,
            "admin_upload.html",
            who,
            status,
            kinds=admin_uploads.KINDS,
            limit=admin_uploads.MAX_UPLOAD // 2**20,
            error=error,
        )

    def _through(
        self, request: Request, who: Visitor, kind: str, token: str, commit: bool
    ) -> tuple[str, admin_uploads.Outcome] | None:
        """Run the upload ``token`` through its checks and writer: kept when ``commit`` and
        every check passed, else rolled back.  None when this session has no such upload."""
        language = self.console.language(request)
        try:
            with self.console.db.write() as session:
                row = uploads.find(session, token, who.session_id, kind, self.console.clock())
                if row is None:
                    return None
                name = row.name
                outcome = admin_uploads.run(
                    kind,
                    session,
                    self.console.config,
                    name,
                    row.data,
                    self.console.clock(),
                    who.by,
                    language,
                )
                if not (commit and outcome.writable):
                    raise _Rollback(name, outcome)
                uploads.drop(session, row)
                counts = ", ".join(f"{k}={n}" for k, n in outcome.counts)
                self.console.audit(session, request, who, f"upload_{kind}", f"{name}: {counts}")
                return name, outcome
        except _Rollback as rolled:
            return rolled.name, rolled.outcome

    def preview(self, request: Request, who: Visitor) -> Response:
        kind, token = request.path_params["kind"], request.path_params["token"]
        if kind not in admin_uploads.KINDS:
            return self.console.message(request, "not_found", 404, who)
        found = self._through(request, who, kind, token, commit=False)
        if found is None:
            return self.upload_refused(request, who, "upload_gone", status=404)
        name, outcome = found
        return self.page(
            request, "admin_preview.html", who, kind=kind, token=token, name=name, outcome=outcome
        )

    async def confirm(self, request: Request) -> Response:
        got = await self.console.desk_form(request, fields=MAX_FIELDS)
        if isinstance(got, Response):
            return got
        who, _ = got
        kind, token = request.path_params["kind"], request.path_params["token"]
        if kind not in admin_uploads.KINDS:
            return self.console.message(request, "not_found", 404, who)
        found = await run_in_threadpool(self._through, request, who, kind, token, True)
        if found is None:
            return self.upload_refused(request, who, "upload_gone", status=404)
        name, outcome = found
        if not outcome.writable:  # the records changed since the preview: said, not written
            return self.page(
                request,
                "admin_preview.html",
                who,
                409,
                kind=kind,
                token=token,
                name=name,
                outcome=outcome,
            )
        counts = {key: n for key, n in outcome.counts}
        return self.done(request, "/admin/upload", f"upload_done_{kind}", name=name, **counts)

    # ------------------------------------------------------------------ link-code slips

    def slips(
        self,
        request: Request,
        who: Visitor,
        status: int = 200,
        unit: str | None = None,
        error: str = "",
    ) -> Response:
        """The choice of a unit (or of the people without one) and of its people; again
        with ``status`` and the sentence ``error`` when a posted choice was refused."""
        unit = request.query_params.get("unit", "") if unit is None else unit
        with self.console.db.read() as session:
            units = admin_review.units(session)
            known = unit in units or unit == admin_lists.NO_UNIT
            people = admin_lists.unit_people(session, unit) if known else []
        return self.page(
            request,
            "admin_slips.html",
            who,
            status,
            units=units,
            unit=unit,
            no_unit=admin_lists.NO_UNIT,
            people=people,
            batch=secrets.token_urlsafe(12),
            error=error,
        )

    def bot_name(self) -> str:
        """The bot's @username for the slips' deep links, asked of Telegram once (as
        `tenggat link` does); empty without a bot: the slip then says /start CODE."""
        if "name" not in self.bot:
            from notifications.message import DeliveryError
            from scheduler.service.tick import telegram_channel

            channel = telegram_channel(self.console.config)
            name = ""
            if channel is not None:
                try:
                    with channel:
                        name = channel.username or ""
                except DeliveryError:
                    return ""
            self.bot["name"] = name
        return self.bot["name"]

    async def print_slips(self, request: Request) -> Response:
        """Issue the codes and show their slips, to print.  The codes are kept only as
        hashes, so this page is their one showing, not a redirect; a form sent twice (the
        browser's reload) issues nothing more, since each code would revoke the one just
        printed."""
        got = await self.console.desk_form(request, fields=MAX_FIELDS)
        if isinstance(got, Response):
            return got
        who, form = got
        keys = [str(key) for key in form.getlist("who")][:MAX_FIELDS]
        unit, batch = str(form.get("unit", "")), str(form.get("batch", ""))[:40]
        hours = self.console.config.settings.bot.link_hours
        zone = self.console.zone
        username = await run_in_threadpool(self.bot_name)

        def issue() -> list[bot_records.IssuedCode] | str:
            with self.console.db.write() as session:
                mark = f"batch {batch}:"
                seen = session.scalar(
                    select(models.WebAudit.id).where(
                        models.WebAudit.action == "link_slips",
                        models.WebAudit.detail.startswith(mark),
                    )
                )
                if not batch or seen is not None:
                    return "slips_again"
                E = models.Employee
                people = session.scalars(
                    select(E).where(E.key.in_(keys), E.active.is_(True)).order_by(E.name)
                ).all()
                if not people:
                    return "slips_none"
                now = self.console.clock()
                issued = [bot_records.issue_code(session, p, now, hours, who.by) for p in people]
                detail = f"{mark} {len(issued)} codes, {unit}"
                self.console.audit(session, request, who, "link_slips", detail, now)
                return issued

        issued = await run_in_threadpool(issue)
        language = self.console.language(request)
        if isinstance(issued, str):
            error = WORDS[language][issued]
            return await run_in_threadpool(self.slips, request, who, 400, unit, error)
        slips = [
            Slip(
                item.name,
                "" if item.employee.upper().startswith("TMP-") else item.employee,
                item.unit,
                item.code,
                bot_records.deep_link(username, item.code) if username else "",
                views.moment(item.expires_at.astimezone(zone), language),
            )
            for item in issued
        ]
        return self.page(
            request,
            "admin_slips_print.html",
            who,
            slips=slips,
            unit=unit,
            no_unit=admin_lists.NO_UNIT,
            bot=username,
        )

    # ------------------------------------------------------------------ outbox and reach

    def letters(self, request: Request, who: Visitor) -> Response:
        state = request.query_params.get("status")
        state = state if state in admin_lists.STATES else None
        before = _number(request.query_params.get("sebelum")) or None
        with self.console.db.read() as session:
            shown = admin_lists.outbox_page(
                session, state, before, self.console.zone, self.console.language(request)
            )
        return self.page(request, "admin_outbox.html", who, shown=shown, state=state)

    def unreachable(self, request: Request, who: Visitor) -> Response:
        page = _number(request.query_params.get("halaman"))
        with self.console.db.read() as session:
            total, people = admin_lists.unreached_page(
                session, self.console.config, page, self.console.language(request)
            )
        pages = max(1, -(-total // admin_lists.PAGE))
        return self.page(
            request,
            "admin_unreachable.html",
            who,
            total=total,
            people=people,
            page_number=page,
            pages=pages,
        )
