"""Commands that read and write the records: roster, submissions, events, exemptions, status."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from scheduler import messages
from scheduler.cli.shared import (
    DATE,
    Context,
    Typed,
    as_of_option,
    current,
    dump_json,
    moment,
    print_table,
    record_arguments,
    stamp,
    submitted,
    writing,
)
from scheduler.messages import say

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from rules.catalog import Catalog
    from scheduler.iki.block import Layout
    from scheduler.store.records import Recorded
    from scheduler.store.submissions import Added


@click.command()
def init() -> None:
    """Create the database, or migrate it to the newest schema."""
    from scheduler.store.db import Database

    ctx = current()
    database = Database(ctx.config.settings.database.url)
    database.migrate()
    click.echo(say("db_ready", ctx.language, url=database.safe_url))


@click.command()
@record_arguments(
    "When it was submitted, local time, e.g. 20/02/2025 09.00 (default: now); a date "
    "alone means 12:00 that day, as in the submissions sheet."
)
@click.option("--evidence", default="", help="Receipt number, link or note.")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the earlier evidence, even with none (default: a record without evidence "
    "keeps the earlier one's).",
)
@click.option("--verified", is_flag=True, help="You checked it (rules that need verification).")
@click.option(
    "--value",
    "value",
    metavar="NUMBER",
    help="The value of a measured indicator, e.g. 87,5 for SERAPAN (a percentage).",
)
def submit(
    nip: str,
    code: str,
    period: str,
    at: Typed | None,
    evidence: str,
    replace: bool,
    verified: bool,
    value: str | None,
) -> None:
    """Record that NIP submitted CODE for PERIOD (e.g. 2025, 2025-02, 2025-S1, 2025-Q1)."""
    from scheduler import words
    from scheduler.store import records, submissions

    ctx = current()
    now = ctx.now()
    when = submitted(ctx, at)  # a date alone: midday, as the submissions sheet reads it
    catalog = ctx.config.catalog
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        added = submissions.record(
            session,
            ctx.config.schedule(),
            employee,
            code,
            period,
            when,
            now,
            ctx.user,
            evidence,
            value,
            verified=verified,
            replace=replace,
        )
        code, measured = added.row.rule_code, added.row.value
        said = f"{code} {period}: {employee.name} ({employee.key}) @ {when:%Y-%m-%d %H:%M %Z}"
        if measured is not None:
            said += f" = {words.measure(measured, catalog.rules[code], ctx.language)}"
        said += "\n" + _meaning(ctx, session, added)
    click.echo(said)  # once committed: a refused write prints its refusal alone


def _meaning(ctx: Context, session: Session, added: Added) -> str:
    """What the record just made means (on time, late by N days, awaiting verification; a
    measure: its target met or not), and whether it kept the earlier evidence or only
    repeated the record that counts."""
    from scheduler import words
    from scheduler.store import records

    row, language = added.row, ctx.language
    rule = ctx.config.catalog.rules[row.rule_code]
    if row.value is not None and rule.target is not None:
        meaning = words.value_meaning(row.value, rule.target, language)
        meaning += f" ({words.measure(rule.target, rule, language)})"  # "Di bawah target (100%)"
    else:
        meaning = words.record_meaning(
            ctx.config.schedule(),
            rule,
            row.period,
            row.submitted_at,
            row.verified_at,
            records.event_index(session),
            language,
        )
    lines = [meaning]
    if added.kept_evidence:
        lines.append(say("evidence_kept", language, evidence=row.evidence))
    if added.repeated:
        lines.append(say("already_recorded", language))
    return "\n".join(lines)


@click.group()
def event() -> None:
    """Events that anchor deadlines (APBD_ADOPTED)."""


@event.command("set")
@click.argument("code")
@click.argument("key")
@click.argument("day", type=DATE, metavar="DAY")
def event_set(code: str, key: str, day: datetime) -> None:
    """Record that event CODE for KEY (a budget year) happened on DAY."""
    from scheduler.store import records

    ctx = current()
    with writing(ctx) as session:
        row = records.set_event(
            session, ctx.config.catalog, code, key, day.date(), ctx.now(), ctx.user
        )
        said = f"{row.code} {row.key}: {row.day.isoformat()}"
    click.echo(said)


@event.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def event_list(as_json: bool) -> None:
    """The events recorded, and who recorded them when."""
    from rich.table import Table

    from scheduler import words
    from scheduler.store import records

    ctx = current()
    with ctx.db.read() as session:
        found = records.events(session)
    if as_json:
        dump_json([row._asdict() for row in found])
        return
    head = messages.HEADINGS[ctx.language]
    table = Table(title=f"{head['events']} ({len(found)})")
    for column in ("event", "key", "day", "recorded_by", "recorded_at"):
        table.add_column(head[column], no_wrap=True)
    for code, key, day, by, at in found:
        table.add_row(
            code,
            key,
            words.long_date(day, ctx.language),
            by,
            stamp(ctx, at),
        )
    print_table(table, who=(0, 1))


@click.command()
@click.argument("nip")
@click.argument("code")
@click.argument("period")
@click.option("--reason", required=True, help="Why (leave, transfer, decree number).")
def exempt(nip: str, code: str, period: str, reason: str) -> None:
    """Excuse NIP from CODE for PERIOD, with the reason."""
    from scheduler.store import records

    ctx = current()
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        code = records.check_rule_period(ctx.config.catalog, code, period)
        records.exempt(session, employee, code, period, reason, ctx.now(), ctx.user)
        said = f"{code} {period}: {employee.name} ({employee.key}) — {reason}"
    click.echo(said)


@click.command()
@click.argument("nip")
@click.option("--telegram", "chat_id", help='Telegram chat id ("" clears it).')
@click.option("--email", help='E-mail address ("" clears it).')
def contact(nip: str, chat_id: str | None, email: str | None) -> None:
    """Set how NIP is reached (Telegram chat id, e-mail)."""
    from scheduler.store import records

    # An empty value clears the contact.
    ctx = current()
    if chat_id and not records.is_chat_id(chat_id):
        raise click.BadParameter(say("chat_id_number", ctx.language), param_hint="--telegram")
    if email and not records.is_email(email):
        raise click.BadParameter(say("bad_email", ctx.language, email=email), param_hint="--email")
    from scheduler.store.db import BEFORE_UNIQUE_CHATS

    ctx.open_db(BEFORE_UNIQUE_CHATS)  # so that it can mend the clashes that stop 0006
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        records.set_contact(session, employee, chat_id, email)
        said = (
            f"{employee.name} ({employee.key}): telegram={employee.telegram_chat_id or '-'} "
            f"email={employee.email or '-'}"
        )
    click.echo(said)


@click.command()
@click.argument("nip")
@click.argument("superior_nip")
def superior(nip: str, superior_nip: str) -> None:
    """Make SUPERIOR_NIP the direct superior of NIP ("-" for none)."""
    from scheduler.store import records

    ctx = current()
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        boss = None if superior_nip == "-" else records.find_employee(session, superior_nip)
        records.set_superior(employee, boss)
        said = f"{employee.name} ({employee.key}) → {boss.name if boss else '-'}"
    click.echo(said)


def _unit(ctx: Context, session: Session, unit: str | None) -> str | None:
    """The unit as stored, matched case-insensitively; a miss names the closest."""
    if unit is None:
        return None
    import difflib

    from scheduler.store import records

    names = records.unit_names(session)
    for name in names:
        if name.lower() == unit.lower():
            return name
    close = difflib.get_close_matches(unit, names, n=3, cutoff=0.4)
    text = say("unknown_unit", ctx.language, unit=unit, hints=", ".join(close))
    if not close:
        text += "; " + say("units_are", ctx.language, units=", ".join(names))
    raise click.BadParameter(text, param_hint="--unit")


@click.command()
@as_of_option(
    "Evaluate at this moment, local time, e.g. 03/03/2025 09.00; a date alone means "
    "the end of that day (default: now)."
)
@click.option("--unit", help="Only this unit.")
@click.option("--nip", help="Only this employee.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--occurrences", is_flag=True, help="With --json: list every occurrence too.")
def status(
    as_of: Typed | None, unit: str | None, nip: str | None, as_json: bool, occurrences: bool
) -> None:
    """The compliance matrix: people × rules, status colours and IKI achievement."""
    from scheduler.memory import paused_gc

    ctx = current()
    now = moment(ctx, as_of)
    with paused_gc():  # a million short-lived rows: collections would rescan them all
        _status(ctx, now, unit, nip, as_json, occurrences)


def _status(
    ctx: Context, now: datetime, unit: str | None, nip: str | None, as_json: bool, detail: bool
) -> None:
    """Read, evaluate and print the matrix.

    Run as the command line, with the process's own stdout, the process ends as soon as the
    output is flushed and the database connections are closed: freeing the snapshot and the
    matrix object by object, then tearing the interpreter down, would take half a second at
    100,000 people and change nothing.  Under click's test runner, or any caller that
    captures stdout and so goes on after the command, it returns as usual.
    """
    import os

    from scheduler.reports import status as matrix_module
    from scheduler.store import records

    with ctx.db.read() as session:
        unit_name = _unit(ctx, session, unit)
        key = None
        if nip is not None:
            try:
                key = records.find_employee(session, nip).key
            except records.RecordError as exc:
                raise click.ClickException(exc.text(ctx.language)) from None
        # The matrix as JSON is written straight from lean records, without building it.
        read = records.carriers if as_json and not detail else records.snapshot
        found = read(session, ctx.config.catalog, since_year=now.year - 1, unit=unit_name, key=key)
    schedule = ctx.config.schedule()
    if isinstance(found, records.Carriers):
        _write(matrix_module.matrix_json(schedule, found, now))
    else:
        matrix = matrix_module.build(schedule, found, now, detail=detail)
        if as_json:
            _write(matrix_module.json_chunks(matrix))
        else:
            _print_matrix(ctx, matrix, unit_name)
    if sys.__stdout__ is not None and sys.stdout is sys.__stdout__:
        sys.stdout.flush()
        sys.stderr.flush()
        ctx.db.engine.dispose()
        os._exit(0)


def _write(chunks: Iterable[bytes]) -> None:
    sys.stdout.flush()  # the JSON is bytes: nothing may wait in the text layer before it
    write = sys.stdout.buffer.write  # click.echo costs more than the JSON for 100,000
    for chunk in chunks:
        write(chunk)


def _print_matrix(ctx: Context, matrix: Any, unit: str | None) -> None:
    """The matrix as a table: a row per person, a column per rule anyone shown carries.

    Codes are never wrapped nor cut (a "LH…" tells nothing): where the screen is narrow the
    names and units wrap instead.  The unit is named in the title rather than repeated on
    every row when one unit was asked for.
    """
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from scheduler import words

    language = ctx.language
    codes = [c for c in ctx.config.catalog.rules if any(c in row for row in matrix.cells.values())]
    head = messages.HEADINGS[language]
    title = f"{head['status']} — {words.long_date(matrix.now.date(), language)}"
    table = Table(
        title=title if unit is None else f"{title} — {escape(unit)}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 0),
    )
    table.add_column(head["name"], min_width=12)
    if unit is None:
        table.add_column(head["unit"], min_width=10, max_width=30)
    for code in codes:
        table.add_column(code, justify="center", no_wrap=True, min_width=len(code))
    table.add_column(head["achievement"], justify="right", no_wrap=True)
    for key, info in matrix.snapshot.employees.items():
        row = matrix.cells.get(key, {})
        cells = [words.cell(row[code], language) if code in row else "" for code in codes]
        overall = matrix.overall.get(key)
        table.add_row(
            escape(info.name),
            *([escape(info.unit)] if unit is None else []),
            *cells,
            "-" if overall is None else f"{overall:.0f}%",
        )
    console = print_table(table, who=(0, 1) if unit is None else (0,))
    console.print(words.legend(language))


@click.group()
def roster() -> None:
    """The employees: list, export for review, import corrections."""


@roster.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def roster_list(as_json: bool) -> None:
    """Employees with their unit, superior and rule codes."""
    from rich.markup import escape
    from rich.table import Table

    from scheduler.store import records

    ctx = current()
    with ctx.db.read() as session:
        snap = records.snapshot(session, ctx.config.catalog, since_year=ctx.today().year)
    people = snap.employees
    if as_json:
        dump_json(
            [
                {
                    "key": info.key,
                    "nip": info.nip,
                    "name": info.name,
                    "position": info.position,
                    "unit": info.unit,
                    "superior": info.superior,
                    "roles": sorted(info.roles),
                    "rules": snap.codes.get(key, []),
                    "telegram_chat_id": info.telegram_chat_id,
                    "email": info.email,
                    "review": info.review,
                }
                for key, info in people.items()
            ]
        )
        return
    head = messages.HEADINGS[ctx.language]
    table = Table(title=f"{head['roster']} ({len(people)})")
    table.add_column(head["nip"], no_wrap=True)
    for column in ("name", "unit", "superior", "codes"):
        table.add_column(head[column])
    for key, info in people.items():
        boss = people.get(info.superior or "")
        flag = " [yellow]⚑[/yellow]" if info.review else ""
        table.add_row(
            key + flag,
            escape(info.name),
            escape(info.unit),
            escape(boss.name) if boss else (info.superior or "-"),
            " ".join(snap.codes.get(key, [])),
        )
    print_table(table, who=(0, 1))


def _read_layout(path: str, language: str) -> Layout:
    """A document's Layout, whatever its format (text, Word, PDF, told by content); what
    cannot be read is refused (in ``language``), not guessed at."""
    from scheduler.iki.files import MAX_FILE_BYTES, read_layout

    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # one byte more tells a file too large
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror or str(exc)) from None
    return read_layout(data, path, language)


def _import_iki(ctx: Context, layout: Layout, dry_run: bool, as_json: bool) -> None:
    from scheduler.iki import apply as roster_module
    from scheduler.iki.document import parse_layout

    result = parse_layout(layout, ctx.config.catalog, ctx.language)
    with writing(ctx, dry_run) as session:
        outcome = roster_module.apply_import(session, result, ctx.now())
    if as_json:
        dump_json(
            {
                "dry_run": dry_run,
                "blocks": len(result.blocks),
                "employees": [
                    {
                        "key": p.key,
                        "nip": p.nip,
                        "name": p.name,
                        "position": p.position,
                        "unit": p.unit,
                        "superior": p.superior_key,
                        "roles": sorted(p.roles),
                        "rules": sorted(p.codes),
                        "blocks": p.blocks,
                        "review": p.review,
                    }
                    for p in result.employees
                ],
                "created": outcome.created,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "problems": [
                    {
                        "line": p.line,
                        "where": p.where or f"L{p.line}",
                        "severity": p.severity,
                        "message": p.message,
                    }
                    for p in result.problems
                ],
            }
        )
        return
    language = ctx.language
    click.echo(
        say(
            "iki_would_import" if dry_run else "iki_imported",
            language,
            blocks=str(len(result.blocks)),
            employees=str(len(result.employees)),
            created=str(len(outcome.created)),
            updated=str(len(outcome.updated)),
            unchanged=str(len(outcome.unchanged)),
        )
    )
    for p in result.problems:
        words = {"severity": p.severity, "text": p.message}
        if p.where is None:
            click.echo(say("iki_problem", language, line=str(p.line), **words))
        else:
            click.echo(say("iki_problem_at", language, where=p.where, **words))


@click.command("import-iki")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def import_iki(file: str, dry_run: bool, as_json: bool) -> None:
    """Import employees and their rules from an IKI document (text, .docx or .pdf)."""
    from scheduler.iki.document import NotAnIki

    ctx = current()
    try:
        _import_iki(ctx, _read_layout(file, ctx.language), dry_run, as_json)
    except NotAnIki as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
def demo() -> None:
    """Import the bundled IKI 2025 of Badan Kesbangpol Kukar into a fresh database."""
    from importlib import resources

    from scheduler.store import records
    from scheduler.store.db import Database

    ctx = current()
    Database(ctx.config.settings.database.url).migrate()
    with ctx.db.read() as session:
        count = records.employee_count(session)
    if count:
        raise click.ClickException(say("demo_not_fresh", ctx.language, count=str(count)))
    from scheduler.iki.files import read_layout

    seed = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
    layout = read_layout(seed.read_bytes(), seed.name, ctx.language)
    _import_iki(ctx, layout, dry_run=False, as_json=False)
    click.echo(say("demo_next", ctx.language))


@click.group()
def submissions() -> None:
    """Submission records: their history, and imports in bulk."""


@submissions.command("list")
@click.option("--nip", help="Only this employee's (NIP or TMP- key).")
@click.option("--rule", "code", help="Only this rule's (code).")
@click.option("--period", help="Only this period's (e.g. 2025, 2025-02).")
@click.option("--limit", default=50, show_default=True, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def submissions_list(
    nip: str | None, code: str | None, period: str | None, limit: int, as_json: bool
) -> None:
    """The records as kept, newest first: who recorded what, when, from where, with which
    evidence; a correction is a new row, and the row it replaced stays, marked replaced."""
    from rich.markup import escape
    from rich.table import Table

    from scheduler.store import records

    ctx = current()
    with ctx.db.read() as session:
        try:
            key = records.find_employee(session, nip).key if nip is not None else None
            if code is not None and period is not None:
                code = records.check_rule_period(ctx.config.catalog, code, period)
            elif code is not None:
                code = records.check_rule(ctx.config.catalog, code)
        except records.RecordError as exc:
            raise click.ClickException(exc.text(ctx.language)) from None
        found = records.history(session, key, code, period, limit)
    if as_json:
        dump_json([row._asdict() for row in found])
        return
    head = messages.HEADINGS[ctx.language]
    table = Table(title=f"{head['history']} ({len(found)})")
    for column in ("recorded_at", "nip", "name", "code", "period", "submitted_at"):
        table.add_column(head[column], no_wrap=column != "name")
    for column in ("source", "evidence", "verified", "current"):
        table.add_column(head[column])
    values = _values(found, ctx.config.catalog, ctx.language)
    if values:  # only where a measured indicator is listed
        table.add_column(head["value"], justify="right")
    for row in found:
        verified = f"{stamp(ctx, row.verified_at)} {row.verified_by or ''}".strip()
        table.add_row(
            stamp(ctx, row.recorded_at) + f"\n[dim]{escape(row.recorded_by)}[/dim]",
            row.key or "",
            escape(row.name or head["agency"]),
            row.rule,
            row.period,
            stamp(ctx, row.submitted_at),
            row.source,
            escape(row.evidence),
            escape(verified),
            head["yes"] if row.current else head["replaced"],
            *((values.get(row.id, ""),) if values else ()),
        )
    print_table(table, who=(1, 2))


def _values(found: Iterable[Recorded], catalog: Catalog, language: str) -> dict[int, str]:
    """The measured values among the listed rows, as the reader writes numbers, by row id."""
    from scheduler import words

    return {
        row.id: words.measure(row.value, catalog.rules[row.rule], language)
        for row in found
        if row.value is not None and row.rule in catalog.rules
    }


COMMANDS: list[Callable[..., Any]] = [
    import_iki,
    demo,
    init,
    submit,
    event,
    exempt,
    contact,
    superior,
    status,
    roster,
    submissions,
]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        assert isinstance(command, click.Command)
        group.add_command(command)
