"""The admin's desk on a person's page: record a submission for them (with an evidence file,
a measure's value, the verification) and excuse them from a period of a rule (the date of
an event such as the APBD's adoption is recorded on `scheduler.web.events`' page).

The writes take the command line's own path (`records.check_submission_period`,
`records.check_value`, `submissions.add`, `records.exempt`, `records.set_event`), so they are
checked, refused and recorded exactly as `tenggat submit`, `exempt` and `event set` are,
with source ``web`` and ``recorded_by`` ``web:<NIP>`` of the signed-in person.  Each write
and its audit row (who, when, from where) are one transaction, followed by a redirect to a
page that says what was done (POST/redirect/GET); a refusal shows the form again with its
sentence and what was typed.  Only the Secretary and the admins record, as only they verify
in the bot; anyone else is refused before the form is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rules.evaluate import OPEN
from scheduler.catalog import Words
from scheduler.store import evidence, models, records, submissions
from scheduler.web import views
from scheduler.words import measure, period_name, record_meaning, value_meaning

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from scheduler.web.pages import Console
    from scheduler.web.visitor import Visitor

WORDS = Words("desk")
SOURCE = "web"
FIELDS = ("item", "submitted_at", "note", "value", "verified", "reason")


class Gone(Exception):
    """The person is no longer on the roster (or no longer active)."""


@dataclass(frozen=True)
class Option:
    value: str  # "CODE PERIOD"
    label: str
    selected: bool


@dataclass(frozen=True)
class Form:
    """What the desk's forms show: the items to choose from, what was typed, and the
    sentence of a refusal under the form it concerns (``which``)."""

    csrf: str
    items: tuple[tuple[int | None, tuple[Option, ...]], ...]  # by year due; None: no deadline yet
    typed: Mapping[str, str] = field(default_factory=dict)
    which: str = ""
    error: str = ""
    now: str = ""  # the default moment, as a datetime-local field holds it
    accept: str = ",".join(evidence.SUFFIXES)
    limit: int = evidence.MAX_BYTES >> 20


def _key(request: Request) -> str:
    return str(request.path_params["key"])


def _typed(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name, ""))[: 2 * models.NOTE_CHARS] for name in FIELDS}


@dataclass(frozen=True)
class Desk:
    """The desk's routes, beside the console's (`scheduler.web.pages.Console`)."""

    console: Console

    # ------------------------------------------------------------------ showing

    def person(
        self,
        request: Request,
        who: Visitor,
        status: int = 200,
        typed: Mapping[str, str] | None = None,
        which: str = "",
        error: str = "",
    ) -> Response:
        """A person's page; with the desk's forms for those who record (with what was
        typed and the refusal's sentence under the form ``which``, when shown again), and
        the sentence of what was just done where a redirect after a write names it."""
        console, key = self.console, _key(request)
        refused = console.refusal(request, who, key)
        if refused is not None:
            return refused
        language = console.language(request)
        now = console.now()
        shown = views.person(console.config, console.db, now, key, language)
        form = None
        if who.agency:
            items = self._options(shown, (typed or {}).get("item", ""), language)
            moment = now.strftime("%Y-%m-%dT%H:%M")
            form = Form(who.csrf, items, typed or {}, which, error, moment)
        notice = self._notice(request, key, language)
        return console.page(
            request,
            "person.html",
            status,
            who=who,
            person=shown,
            desk=form,
            notice=notice,
            d=WORDS[language],
        )

    def _options(
        self, shown: views.Person, chosen: str, language: str
    ) -> tuple[tuple[int | None, tuple[Option, ...]], ...]:
        """The person's obligations as the choices of the desk's forms, by year; the one
        typed stays chosen, else the first still open."""
        rules = self.console.config.catalog.rules
        words = WORDS[language]
        lines = [line for _, year_lines in shown.years for line in year_lines]
        if not chosen:
            chosen = next((f"{ln.code} {ln.period_key}" for ln in lines if ln.status in OPEN), "")
        grouped = []
        for year, year_lines in shown.years:
            options = []
            for line in year_lines:
                value = f"{line.code} {line.period_key}"
                label = f"{line.rule} · {line.period} · {line.status_word}"
                rule = rules.get(line.code)
                if rule is not None and rule.verification:
                    label += f" · {words['needs_verification']}"
                if rule is not None and rule.measured:
                    label += f" · {words['needs_value']}"
                options.append(Option(value, label, value == chosen))
            grouped.append((year, tuple(options)))
        return tuple(grouped)

    def _notice(self, request: Request, key: str, language: str) -> str:
        """The sentence a redirect after a write asks for (``?recorded=ID``,
        ``?exempted=ID``), when that row is this person's; nothing otherwise."""
        query = request.query_params
        for name, say in (("recorded", self._recorded), ("exempted", self._exempted)):
            given = query.get(name, "")
            if given.isdigit() and len(given) < 12:
                with self.console.db.read() as session:
                    return say(session, key, int(given), language)
        return ""

    def _recorded(self, session: Session, key: str, row_id: int, language: str) -> str:
        config, words = self.console.config, WORDS[language]
        found = session.execute(
            select(models.Submission, models.Employee.name)
            .join(models.Employee, models.Employee.id == models.Submission.employee_id)
            .where(models.Submission.id == row_id, models.Employee.key == key)
        ).first()
        if found is None or found[0].rule_code not in config.catalog.rules:
            return ""
        row, name = found
        rule = config.catalog.rules[row.rule_code]
        if row.value is not None and rule.target is not None:
            meaning = value_meaning(row.value, rule.target, language)
            meaning = f"{measure(row.value, rule, language)}: {meaning}"
        else:
            meaning = record_meaning(
                config.schedule(),
                rule,
                row.period,
                row.submitted_at,
                row.verified_at,
                records.event_index(session),
                language,
            )
        return words["recorded"].format(
            code=row.rule_code,
            period=period_name(rule, row.period, language),
            name=name,
            at=views.moment(row.submitted_at.astimezone(self.console.zone), language),
            meaning=meaning,
        )

    def _exempted(self, session: Session, key: str, row_id: int, language: str) -> str:
        found = session.execute(
            select(models.Exemption, models.Employee.name)
            .join(models.Employee, models.Employee.id == models.Exemption.employee_id)
            .where(models.Exemption.id == row_id, models.Employee.key == key)
        ).first()
        rules = self.console.config.catalog.rules
        if found is None or found[0].rule_code not in rules:
            return ""
        row, name = found
        period = period_name(rules[row.rule_code], row.period, language)
        return WORDS[language]["exempted"].format(
            code=row.rule_code, period=period, name=name, reason=row.reason
        )

    # ------------------------------------------------------------------ writing

    async def _write(
        self,
        request: Request,
        who: Visitor,
        form: FormData,
        which: str,
        write: Callable[[Session, models.Employee, datetime], tuple[str, str]],
    ) -> Response:
        """Run ``write`` for the page's person in one transaction with its audit row (the
        detail it gives), then redirect to the page with the query it gives; a refusal
        shows the page again with its sentence (400), and nothing of it is kept."""
        console, key = self.console, _key(request)

        def run() -> str:
            with console.db.write() as session:
                employee = session.scalar(
                    select(models.Employee).where(
                        models.Employee.key == key, models.Employee.active.is_(True)
                    )
                )
                if employee is None:
                    raise Gone
                now = console.clock()  # a write keeps its real time, whatever the page shows
                where, detail = write(session, employee, now)
                console.audit(session, request, who, which, detail, now)
                return where

        try:
            where = await run_in_threadpool(run)
        except Gone:
            return console.message(request, "not_found", 404, who)
        except records.RecordError as exc:
            text = exc.text(console.language(request))
            typed = _typed(form)
            return await run_in_threadpool(self.person, request, who, 400, typed, which, text)
        # To the sentence of what was done, at the top (the form's address led to the form).
        return RedirectResponse(f"/employees/{quote(key, safe='')}?{where}#notice", 303)

    def _item(self, session: Session, employee: models.Employee, item: str) -> tuple[str, str]:
        """The (rule, period) chosen among the person's obligations of this year and last,
        as the page offered them (at the moment it shows); anything else is refused,
        whatever the form was made to say."""
        code, _, period = item.partition(" ")
        shown = self.console.now()
        _, _, items = views.obligations(self.console.config, session, shown, employee.key)
        if not any((s.occurrence.rule, s.occurrence.period) == (code, period) for s in items):
            raise records.RecordError("web_not_owed", item=item[:40], name=employee.name)
        return code, period

    async def record(self, request: Request) -> Response:
        """Record a submission for the page's person, as `tenggat submit` does."""
        begun = await self.console.desk_form(request, evidence.MAX_BYTES, too_big="upload_too_big")
        if isinstance(begun, Response):
            return begun
        who, form = begun
        upload = form.get("file")
        name, data = "", b""
        if isinstance(upload, UploadFile) and upload.filename:
            name, data = upload.filename, await upload.read(evidence.MAX_BYTES + 1)
        typed = _typed(form)
        config = self.console.config

        def write(session: Session, employee: models.Employee, now: datetime) -> tuple[str, str]:
            code, period = self._item(session, employee, typed["item"])
            when = self._moment(typed["submitted_at"], now)
            kind = ""

            def said() -> str:
                nonlocal kind
                kind = evidence.check(name, data) if name else ""
                # The file is named in the evidence, as the bot names a Telegram document.
                named = f"file:{evidence.clean_name(name)}" if kind else ""
                text = " — ".join(part for part in (named, typed["note"].strip()) if part)
                records.check_length(models.Submission.evidence, text)
                return text

            added = submissions.record(
                session,
                config.schedule(),
                employee,
                code,
                period,
                when,
                now,
                who.by,
                said,
                typed["value"],
                source=SOURCE,
                verified=typed["verified"] == "1",
            )
            session.flush()
            row = added.row
            detail = f"submission {row.id}: {employee.key} {row.rule_code} {period}"
            if kind:
                kept = evidence.add(session, row, name, data, kind, who.by, now)
                detail += f", file {kept.id} ({kept.size} bytes)"
            return f"recorded={row.id}", detail

        return await self._write(request, who, form, "record_submission", write)

    def _moment(self, text: str, now: datetime) -> datetime:
        """A datetime-local field's value (``2025-03-03T09:00``) in the service's zone;
        empty: now."""
        text = text.strip()
        if not text:
            return now
        try:
            typed = datetime.fromisoformat(text)
        except ValueError:
            raise records.RecordError("web_bad_moment", text=text[:40]) from None
        if typed.tzinfo is not None:
            return typed.astimezone(now.tzinfo)
        return typed.replace(tzinfo=now.tzinfo)

    async def exempt(self, request: Request) -> Response:
        """Excuse the page's person from a period of a rule, as `tenggat exempt` does."""
        begun = await self.console.desk_form(request)
        if isinstance(begun, Response):
            return begun
        who, form = begun
        typed = _typed(form)

        def write(session: Session, employee: models.Employee, now: datetime) -> tuple[str, str]:
            code, period = self._item(session, employee, typed["item"])
            code = records.check_rule_period(self.console.config.catalog, code, period)
            reason = typed["reason"].strip()
            if not reason:
                raise records.RecordError("web_reason_missing")
            records.check_length(models.Exemption.reason, reason)
            row = records.exempt(session, employee, code, period, reason, now, who.by)
            session.flush()
            return f"exempted={row.id}", f"exemption {row.id}: {employee.key} {code} {period}"

        return await self._write(request, who, form, "exempt", write)

    # ------------------------------------------------------------------ evidence files

    def download(self, request: Request, who: Visitor) -> Response:
        """An evidence file, for whoever may see its person: as an attachment, with the
        type its content was checked to be."""
        console, key = self.console, _key(request)
        refused = console.refusal(request, who, key)
        if refused is not None:
            return refused
        given = str(request.path_params["file"])
        if not given.isdigit() or len(given) > 12:
            return console.message(request, "not_found", 404, who)
        table = models.EvidenceFile
        with console.db.read() as session:
            found = session.execute(
                select(table.name, table.content_type, table.data)
                .join(models.Employee, models.Employee.id == table.employee_id)
                .where(table.id == int(given), models.Employee.key == key)
            ).first()
        if found is None:
            return console.message(request, "not_found", 404, who)
        name, kind, data = found
        return Response(
            bytes(data),
            media_type=kind,
            headers={
                "content-disposition": attachment(name),
                "cache-control": "private, no-store",
            },
        )


def attachment(name: str) -> str:
    """A Content-Disposition that saves ``name`` and cannot be read as anything else: an
    ASCII fallback of safe characters and the name itself percent-encoded (RFC 6266)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"


def routes(console: Console) -> list[Any]:
    """The desk's routes, for `scheduler.web.app.build`."""
    from starlette.routing import Route

    desk = Desk(console)
    signed_in = console.signed_in
    return [
        Route("/employees/{key}", signed_in(desk.person), methods=["GET"]),
        Route("/employees/{key}/submissions", desk.record, methods=["POST"]),
        Route("/employees/{key}/exemptions", desk.exempt, methods=["POST"]),
        Route("/employees/{key}/files/{file}", signed_in(desk.download), methods=["GET"]),
    ]
