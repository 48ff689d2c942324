"""The ``tenggat`` command line: a thin click layer over the library.

Heavy imports happen inside commands so that ``tenggat --help`` starts fast.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from scheduler import messages
from scheduler.cli.language import Speaking
from scheduler.cli.shared import DATE, Context, Typed, as_of_option, dump_json, moment, print_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from rules.schedule import EventIndex


pass_context = click.make_pass_decorator(Context)


@click.group(cls=Speaking)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Configuration file (default: $TENGGAT_CONFIG, else ./config.toml, else built-in).",
)
@click.option("--lang", type=click.Choice(["id", "en"]), help="Language of the output.")
@click.version_option(package_name="tenggat")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, lang: str | None) -> None:
    """Tenggat: IKI compliance deadlines, reminders and escalations."""
    if isinstance(ctx.obj, Context):  # made by main(), which reads it when a command fails
        ctx.obj.config_path, ctx.obj._language = config_path, lang
    else:
        ctx.obj = Context(config_path, lang)


@cli.group()
def rules() -> None:
    """The rule catalog: what is due when."""


def _events(ctx: Context) -> EventIndex:
    """The recorded events the due dates depend on; when they cannot be read and a rule
    waits for one, a line on stderr says so (the dates shown are then the catalog's)."""
    events, unread = ctx.recorded_events()
    if unread and any(rule.anchor for rule in ctx.config.catalog.rules.values()):
        click.echo(messages.say("events_unread", ctx.language, reason=unread), err=True)
    return events


def _rule(ctx: Context, code: str) -> Any:
    try:
        return ctx.config.catalog.get(code)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="CODE") from None


@rules.command("list")
@click.option("--as-of", type=DATE, help="Count from this day, not today.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def rules_list(ctx: Context, as_of: datetime | None, as_json: bool) -> None:
    """Every rule: code, name, recurrence in words and next due date."""
    from datetime import timedelta

    from rich.markup import escape

    from scheduler import words

    language = ctx.language
    schedule = ctx.config.schedule()
    today = as_of.date() if as_of else ctx.today()
    events = _events(ctx)
    listed = []
    for rule in ctx.config.catalog.rules.values():
        upcoming = schedule.occurrences(rule, today, today + timedelta(days=400), events)
        listed.append((rule, upcoming[0] if upcoming else None))
    if as_json:
        dump_json(
            [
                {
                    "code": rule.code,
                    "name": words.rule_name(rule, language),
                    "recurrence": words.recurrence(rule, language),
                    "period": rule.period.value,
                    "scope": rule.scope.value,
                    "kind": rule.kind.value,
                    "holiday_policy": rule.holiday_policy.value,
                    "enabled": rule.enabled,
                    "next_period": nxt.period if nxt else None,
                    "next_due": nxt.due.isoformat() if nxt and nxt.due else None,
                    "next_note": words.adjustment(nxt, language) if nxt else "",
                    "waiting_for": nxt.waiting_for if nxt else None,
                    "confidence": rule.confidence.value,
                    "source": rule.source,
                    "target": rule.target,  # a measure's, e.g. SERAPAN's percentage
                }
                for rule, nxt in listed
            ]
        )
        return
    from rich.table import Table

    head = messages.HEADINGS[language]
    table = Table(title=head["rules"])
    for column in ("code", "name", "recurrence", "next_due", "confidence"):
        table.add_column(head[column])
    for rule, nxt in listed:
        note = escape(words.adjustment(nxt, language)) if nxt else ""
        due = words.long_date(nxt.due, language) if nxt and nxt.due else note or "-"
        if nxt and nxt.due and note:
            due += f"\n[dim]{note}[/dim]"
        code = rule.code if rule.enabled else f"[strike]{rule.code}[/strike]"
        table.add_row(
            code,
            escape(words.rule_name(rule, language)),
            escape(words.recurrence(rule, language)),
            due,
            words.confidence(rule, language),
        )
    print_table(table, who=(0, 1))


@rules.command("due")
@click.argument("code")
@click.option("--from", "start", required=True, type=DATE)
@click.option("--to", "end", required=True, type=DATE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def rules_due(ctx: Context, code: str, start: datetime, end: datetime, as_json: bool) -> None:
    """Due dates of rule CODE between two dates, their first reminder, and why any was moved."""
    from rich.markup import escape

    from scheduler import words

    if end < start:
        raise click.BadParameter(messages.say("to_before_from", ctx.language), param_hint="--to")
    rule = _rule(ctx, code)
    schedule = ctx.config.schedule()
    found = schedule.occurrences(rule, start.date(), end.date(), _events(ctx))
    rows = []
    timings = [schedule.first_reminder(rule, occ.due) if occ.due else None for occ in found]
    reasons = [
        "; ".join(
            said
            for said in (
                words.adjustment(occ, ctx.language),
                words.days_off(timing[1] if timing else [], ctx.language),
            )
            if said
        )
        for occ, timing in zip(found, timings, strict=True)
    ]
    rows = [
        {
            "rule": occ.rule,
            "period": occ.period,
            "due": occ.due.isoformat() if occ.due else None,
            "nominal": occ.nominal.isoformat() if occ.nominal else None,
            "adjustment": occ.adjustment.value if occ.adjustment else None,
            "first_reminder": timing[0].isoformat() if timing else None,
            "days_off": [{"day": d.isoformat(), "name": n} for d, n in timing[1]] if timing else [],
            "reason": reason,
        }
        for occ, timing, reason in zip(found, timings, reasons, strict=True)
    ]
    warnings = sorted(
        {
            messages.say(note.value, ctx.language, year=str(year))
            for year in range(start.year, end.year + 1)
            for note in schedule.calendar.warnings(year)
        }
    )
    if as_json:
        policy = {"holiday_policy": rule.holiday_policy.value, "holiday_basis": rule.holiday_basis}
        dump_json({"rule": rule.code, **policy, "occurrences": rows, "warnings": warnings})
        return
    from rich.table import Table

    head = messages.HEADINGS[ctx.language]
    table = Table(title=escape(f"{rule.code}: {words.recurrence(rule, ctx.language)}"))
    for column in ("period", "due", "first_reminder", "reason"):
        table.add_column(head[column])
    for occ, timing, reason in zip(found, timings, reasons, strict=True):
        table.add_row(
            words.period_name(rule, occ.period, ctx.language),
            words.long_date(occ.due, ctx.language) if occ.due else "-",
            words.long_date(timing[0], ctx.language) if timing else "-",
            escape(reason),
        )
    console = print_table(table)
    if not rule.scheduled:
        console.print(escape(words.recurrence(rule, ctx.language)))
    console.print(escape(words.holiday_policy(rule, ctx.language)))
    for note in warnings:
        console.print(f"[yellow]! {escape(note)}[/yellow]")


@cli.command()
@click.option("--once", is_flag=True, help="Do one tick and exit (for cron and tests).")
@as_of_option(
    "With --once: the moment to tick at, local time, e.g. 03/03/2025 09.00; a date "
    "alone means the end of that day (default: now)."
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning"]),
    default="info",
    show_default=True,
    help="How much to log (debug: the libraries' own lines too; secrets never).",
)
@pass_context
def run(ctx: Context, once: bool, as_of: Typed | None, log_level: str) -> None:
    """Run the service: evaluate the records and send reminders and escalations."""
    from scheduler import logs
    from scheduler.service.tick import Busy, Service, run_forever

    if as_of is not None and not once:
        raise click.BadParameter(
            messages.say("as_of_needs_once", ctx.language), param_hint="--as-of"
        )
    logs.configure(log_level, ctx.config)
    service = Service(ctx.config, ctx.now)
    service.start()
    if once:
        service.tick(moment(ctx, as_of) if as_of else None)
        return
    from scheduler.bot import poller as bot_poller
    from scheduler.bot.webhook import Inbox

    inbox = Inbox()

    def poll() -> Callable[[], None]:  # only while this process holds the scheduler lock
        return bot_poller.start(ctx.config, service.db, ctx.now, inbox)

    def surface() -> Callable[[], None]:  # GET /health, POST /telegram and the console
        from scheduler.web.app import build
        from scheduler.web.server import serve

        web = ctx.config.settings.web
        app = build(service.db, ctx.config, inbox, warm=True)
        return serve(app, web.listen, web.port).stop

    with_bot = ctx.config.settings.telegram.token is not None
    with_web = bool(ctx.config.settings.web.port)
    every = ctx.config.settings.service.tick_minutes
    try:
        run_forever(service, every, poll if with_bot else None, surface if with_web else None)
    except Busy as exc:
        click.echo(f"tenggat: {exc}", err=True)
        sys.exit(2)


def main() -> None:
    """Entry point: turn configuration and database errors into one clear line, status 2."""
    from rules.errors import DefinitionError
    from scheduler import logs

    logs.configure()  # before anything can log: no secret reaches stderr from any library
    context = Context(None, None)
    try:
        cli.main(standalone_mode=False, obj=context)
    except DefinitionError as exc:
        click.echo(f"tenggat: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo(click.core._("Aborted!"), err=True)  # in the language click speaks
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        sentence = _database_sentence(context, exc)
        if sentence is None:  # a fault of ours: its traceback, through the redacting log
            logging.getLogger("tenggat").critical("unexpected error", exc_info=True)
            sys.exit(1)
        click.echo(f"tenggat: {sentence}", err=True)
        sys.exit(2)


def _database_sentence(context: Context, error: Exception) -> str | None:
    """What a database that failed a command says to the admin (it is away, read-only, has
    no schema, was deleted, or another command took a unique key meanwhile): one sentence
    with the URL, no traceback.  None for any other error, our fault (`db.failure`).
    SQLAlchemy is looked up, not imported: `tenggat --help` does not load it, and an error
    raised before anything loaded it is no database's."""
    found = sys.modules.get("sqlalchemy.exc")
    if found is None:
        return None
    from scheduler.store.db import DatabaseError, failure

    if not isinstance(error, found.DBAPIError | DatabaseError):
        return None  # not a database's: the configuration need not be asked for its URL
    said = failure(context.config.settings.database.url, error)
    return said.text(context.language) if said is not None else None


# Each command module registers its own commands.
from scheduler.cli import (  # noqa: E402
    bot,
    digest,
    ops,
    records,
    sending,
    sheets,
    simulate,
    web,
)

for module in (records, sheets, sending, ops, digest, simulate, bot, web):
    module.register(cli)
