"""The console's pages: signing in and out, the home, and who may see a person (a person's
page and the admin's desk on it are `scheduler.web.desk`'s).

Each route finds its visitor first (`scheduler.web.visitor`) and asks what they may see
before it reads anything of a person; every form carries the session's CSRF token (the
sign-in form its own, in a cookie: there is no session yet), and a form without it is
refused with nothing written.  The routes are plain functions: Starlette runs them in its
worker threads, since they query the database.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scheduler.catalog import Words
from scheduler.reports.digest import UnknownUnit
from scheduler.store import changes, models, signin
from scheduler.store.db import failure
from scheduler.web import views
from scheduler.web.homes import Homes
from scheduler.web.visitor import (
    FORM_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    Attempts,
    Visitor,
    visitor,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from scheduler.config import Config
    from scheduler.store.db import Database

log = logging.getLogger("tenggat")
WORDS = Words("web")  # the console's words, in the catalogs
LANGUAGES = ("id", "en")
MAX_FORM = 64 * 1024  # bytes of a form without a file: a few fields

_TEMPLATES = Environment(
    loader=PackageLoader("scheduler.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Console:
    """The console's routes over one database and configuration."""

    db: Database
    config: Config
    attempts: Attempts
    homes: Homes[views.Home] = field(default_factory=Homes)
    as_of: datetime | None = None  # `tenggat web --as-of`: the moment every page shows

    # ------------------------------------------------------------------ plumbing

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.settings.service.timezone)

    def now(self) -> datetime:
        """The moment the pages show: the clock's, or the one ``tenggat web --as-of``
        fixed for a demonstration or a training on old records (the demo's IKI 2025 read
        in 2026 would show every unit at 0%)."""
        return self.as_of or self.clock()

    def clock(self) -> datetime:
        """The real time, whatever the pages show: sign-in links and sessions expire by
        it, and a write from a desk is recorded and audited at it."""
        return datetime.now(self.zone)

    def language(self, request: Request) -> str:
        chosen = request.cookies.get(LANGUAGE_COOKIE, "")
        return chosen if chosen in LANGUAGES else self.config.settings.service.language

    def secure(self, request: Request) -> bool:
        """Cookies are Secure behind HTTPS: the public address says so, or the request."""
        return self.config.settings.web.public_url.startswith("https:") or (
            request.url.scheme == "https"
        )

    def page(
        self,
        request: Request,
        template: str,
        status: int = 200,
        who: Visitor | None = None,
        **context: Any,
    ) -> HTMLResponse:
        language = self.language(request)
        frozen = views.moment(self.as_of, language) if self.as_of else ""
        html = _TEMPLATES.get_template(template).render(
            w=WORDS[language], language=language, visitor=who, frozen=frozen, **context
        )
        return HTMLResponse(html, status)

    def message(
        self, request: Request, key: str, status: int, who: Visitor | None = None
    ) -> HTMLResponse:
        """A page that says one thing: its title and text are ``key`` and ``key_title``."""
        return self.page(request, "message.html", status, who, key=key)

    def who(self, request: Request) -> Visitor | None:
        with self.db.read() as session:
            return visitor(session, request.cookies.get(SESSION_COOKIE, ""), self.clock())

    @staticmethod
    def address(request: Request) -> str:
        return request.client.host if request.client else ""

    @staticmethod
    async def form(request: Request) -> FormData | None:
        """The posted form's fields, or None when it does not say its length or says more
        than `MAX_FORM` (nothing is read then)."""
        try:
            size = int(request.headers.get("content-length", ""))
        except ValueError:
            return None
        if not 0 <= size <= MAX_FORM:
            return None
        return await request.form(max_files=0, max_fields=20)

    async def desk_form(
        self,
        request: Request,
        upload: int = 0,
        fields: int = 20,
        too_big: str = "form_too_big",
    ) -> tuple[Visitor, FormData] | Response:
        """The visitor and the form they posted to a desk (the person page's or the
        admin's), or the refusal: not signed in (401), not the Secretary or an admin (403,
        before the form is read), longer than ``upload`` bytes of a file and `MAX_FORM`
        of fields or not saying its length (413, ``too_big`` says so), unreadable or
        holding a NUL character, which no record can hold (400), without this session's
        CSRF token (403).  Nothing is written before all of these pass."""
        who = await run_in_threadpool(self.who, request)
        if who is None:
            return self.message(request, "need_signin", 401)
        if not who.agency:
            return self.message(request, "forbidden", 403, who)
        try:
            size = int(request.headers.get("content-length", ""))
        except ValueError:
            size = -1
        if not 0 <= size <= upload + MAX_FORM:
            return self.message(request, too_big, 413, who)
        try:
            form = await request.form(
                max_files=1 if upload else 0, max_fields=fields, max_part_size=MAX_FORM
            )
        except HTTPException:
            return self.message(request, "form_unreadable", 400, who)
        if any("\x00" in value for value in form.values() if isinstance(value, str)):
            return self.message(request, "form_unreadable", 400, who)
        if not who.form_ok(str(form.get("csrf", ""))):
            return self.message(request, "csrf", 403, who)
        return who, form

    def audit(
        self,
        session: Session,
        request: Request,
        who: Visitor,
        action: str,
        detail: str,
        now: datetime | None = None,
    ) -> None:
        """A desk's write in ``web_audit``: who, when (``now``, the write's moment), from where."""
        signin.audit(
            session, now or self.clock(), who.employee_id, action, detail, self.address(request)
        )

    # ------------------------------------------------------------------ signing in and out

    def sign_in_page(self, request: Request) -> Response:
        """The link's page: who it signs in and a button.  Opening it uses nothing."""
        token = request.path_params["token"]
        with self.db.read() as session:
            link = signin.usable_link(session, token, self.clock())
            person = session.get(models.Employee, link.employee_id) if link else None
            if link is None or person is None:
                return self.message(request, "signin_unusable", 404)
            until = views.moment(link.expires_at.astimezone(self.zone), self.language(request))
            name, key = person.name, person.key
        form = signin.new_token()
        response = self.page(
            request, "signin.html", token=token, name=name, key=key, until=until, form=form
        )
        response.set_cookie(
            FORM_COOKIE,
            form,
            max_age=self.config.settings.web.login_minutes * 60,
            path="/masuk/",
            secure=self.secure(request),
            httponly=True,
            samesite="strict",
        )
        return response

    async def sign_in(self, request: Request) -> Response:
        """The button pressed: the link is used, a session opens, the home follows."""
        address = self.address(request)
        if not self.attempts.allow(address):
            return self.message(request, "signin_unusable", 429)
        token = request.path_params["token"]
        hours = self.config.settings.web.session_hours

        def usable() -> bool:
            with self.db.read() as session:
                return signin.usable_link(session, token, self.clock()) is not None

        if not await run_in_threadpool(usable):  # used or expired: said as such, first
            return self.message(request, "signin_unusable", 404)
        form = await self.form(request)
        if form is None:
            return self.message(request, "form_too_big", 413)
        given, expected = str(form.get("csrf", "")), request.cookies.get(FORM_COOKIE, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return self.message(request, "csrf", 403)

        def use() -> signin.Opened | None:
            with self.db.write() as session:
                return signin.use_link(session, token, self.clock(), hours, address)

        opened = await run_in_threadpool(use)
        if opened is None:
            return self.message(request, "signin_unusable", 404)
        response = RedirectResponse("/", 303)
        response.set_cookie(
            SESSION_COOKIE,
            opened.token,
            max_age=hours * 3600,
            path="/",
            secure=self.secure(request),
            httponly=True,
            samesite="lax",
        )
        response.delete_cookie(FORM_COOKIE, path="/masuk/")
        return response

    async def sign_out(self, request: Request) -> Response:
        form = await self.form(request)
        if form is None:
            return self.message(request, "form_too_big", 413)

        def end() -> str:
            with self.db.write() as session:
                now = self.clock()
                token = request.cookies.get(SESSION_COOKIE, "")
                who = visitor(session, token, now)
                if who is None:
                    return "need_signin"
                if not who.form_ok(str(form.get("csrf", ""))):
                    return "csrf"
                row = session.get(models.WebSession, who.session_id)
                assert row is not None
                signin.end(session, row, now, self.address(request))
                return "signed_out"

        said = await run_in_threadpool(end)
        status = {"signed_out": 200, "need_signin": 401, "csrf": 403}[said]
        response = self.message(request, said, status)
        if said == "signed_out":
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def choose_language(self, request: Request) -> Response:
        language = request.path_params["language"]
        response = RedirectResponse("/", 303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=365 * 86400,
                secure=self.secure(request),
                httponly=True,
                samesite="lax",
            )
        return response

    # ------------------------------------------------------------------ pages

    def signed_in(
        self, page: Callable[[Request, Visitor], Response], agency: bool = False
    ) -> Callable[..., Response]:
        """``page`` for a signed-in visitor (with ``agency``, the Secretary and the admins
        only: anyone else is refused before anything is read); everyone else is asked to
        sign in."""

        def route(request: Request) -> Response:
            who = self.who(request)
            if who is None:
                return self.message(request, "need_signin", 401)
            if agency and not who.agency:
                return self.message(request, "forbidden", 403, who)
            return page(request, who)

        return route

    def home(self, request: Request, who: Visitor) -> Response:
        """The agency's picture for the Secretary and the admins, a unit's for its head;
        anyone else goes to their own page."""
        if not who.agency and who.heads is None:
            return RedirectResponse(f"/employees/{quote(who.key, safe='')}", 303)
        language = self.language(request)
        unit = None if who.agency else who.heads
        shown = self.kept_home(unit, language)
        return self.page(request, "home.html", who=who, home=shown, names=views.GROUP_NAMES)

    def unit(self, request: Request, who: Visitor) -> Response:
        """A unit's home, as its head sees it: for the agency's readers and that head."""
        name = request.path_params["name"]
        if not who.may_see_unit(name):
            return self.message(request, "forbidden", 403, who)
        language = self.language(request)
        try:
            shown = self.kept_home(name, language)
        except UnknownUnit:
            return self.message(request, "not_found", 404, who)
        return self.page(request, "home.html", who=who, home=shown, names=views.GROUP_NAMES)

    def warm(self) -> None:
        """Compute the agency's home in the service's language as the console starts, so
        that the first visit finds it (or waits only for the rest of it: 20–30 s at 100,000
        people); a failure is one log line, and that visit computes it again."""
        try:
            self.kept_home(None, self.config.settings.service.language)
        except Exception as exc:
            said = failure(self.db.url, exc)
            log.warning("home not computed at start: %s", said or f"{type(exc).__name__}: {exc}")

    def kept_home(self, unit: str | None, language: str) -> views.Home:
        """The home of ``unit`` (None: the agency) as it stands now: kept while the records
        and the moment leave it as it is (`scheduler.web.homes`), computed otherwise; a
        slow one as it stood a moment ago, saying so, while the next is computed."""
        now = self.now()
        with self.db.read() as session:
            revision = changes.revision(session)
        shown = self.homes.get(
            (unit, language),
            revision,
            now,
            lambda: views.home(self.config, self.db, now, unit, language),
        )
        return replace(shown.page, as_of=views.as_of(shown.at, language, shown.fresh))

    def refusal(self, request: Request, who: Visitor, key: str) -> Response | None:
        """403 with nothing of them for a visitor who may not see the person ``key``
        (whether or not they exist: a refusal must not tell that either), 404 for one not
        on the roster (or no longer active); None when they may be shown."""
        with self.db.read() as session:
            found = session.execute(
                select(models.Employee.id, models.Unit.name)
                .outerjoin(models.Unit, models.Unit.id == models.Employee.unit_id)
                .where(models.Employee.key == key, models.Employee.active.is_(True))
            ).first()
        unit = found[1] if found else None
        if not who.may_see(key, unit):
            return self.message(request, "forbidden", 403, who)
        if found is None:
            return self.message(request, "not_found", 404, who)
        return None
