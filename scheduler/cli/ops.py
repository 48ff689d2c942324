"""Operations commands: ``tenggat health`` (is the service doing its job?) and ``tenggat
doctor`` (can it: configuration, time zone, database, roster, channels).

The doctor's checks are `scheduler.service.doctor`'s; this module parses the options,
runs them and prints the results.  Secrets never reach the output: everything printed goes
through `logs.scrub`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

import click

from scheduler.catalog import Words
from scheduler.cli.shared import Refused, current, dump_json
from scheduler.messages import say

if TYPE_CHECKING:
    from scheduler.service.health import Health

_WORDS = Words("ops")  # the words of this module, in the catalogs


def _language_option() -> str | None:
    """``--lang`` as given, without loading the configuration (which may be broken)."""
    current = click.get_current_context(silent=True)
    lang = current.find_root().params.get("lang") if current else None
    return str(lang) if lang else None


# --------------------------------------------------------------------------- doctor


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def doctor(as_json: bool) -> None:
    """Check that the service can work: configuration, time zone, database and migrations,
    roster, SMTP. Exits 1 when a check fails."""
    from scheduler.logs import scrub, secrets_of
    from scheduler.service.doctor import FAIL, OK, SKIP, WARN, run_checks

    ctx = current()
    results = run_checks(lambda: ctx.config, _language_option())
    config = None
    if results and results[0].status != FAIL:
        config = ctx.config
    language = _language_option() or (config.settings.service.language if config else "id")
    secrets = secrets_of(config)
    failed = sum(result.status == FAIL for result in results)
    warned = sum(result.status == WARN for result in results)
    if as_json:
        checks = [{"check": r.name, "status": r.status, "message": r.message} for r in results]
        dump_json(scrub({"ok": not failed, "checks": checks}, secrets))
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        words = _WORDS[language]
        colour = {OK: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}
        table = Table(title=words["doctor_title"])
        table.add_column(words["heading_check"])
        table.add_column(words["heading_result"])
        table.add_column(words["heading_detail"])
        for result in results:
            status = f"[{colour[result.status]}]{words[result.status]}[/]"
            name = words.get(result.name, result.name)
            table.add_row(name, status, escape(scrub(result.message, secrets)))
        console = Console()
        console.print(table)
        if failed:
            console.print(f"[bold red]{words['some_failed'].format(count=failed)}[/]")
        elif warned:
            console.print(f"[yellow]{words['passed_with_warnings'].format(count=warned)}[/]")
        else:
            console.print(f"[green]{words['all_passed']}[/]")
    if failed:
        raise SystemExit(1)


# --------------------------------------------------------------------------- health


def _ago(age: timedelta, language: str) -> str:
    words = _WORDS[language]
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return words["just_now"]
    if minutes < 120:
        amount = words["minutes"].format(n=minutes)
    elif minutes < 48 * 60:
        amount = words["hours"].format(n=minutes // 60)
    else:
        amount = words["days"].format(n=minutes // (24 * 60))
    return words["ago"].format(amount=amount)


def health_rows(health: Health, language: str) -> list[tuple[str, str]]:
    """The health report as (label, value) lines for people."""
    words = _WORDS[language]

    def when(moment: datetime | None) -> str:
        if moment is None:
            return words["never"]
        local = moment.astimezone(health.now.tzinfo)
        return f"{local:%Y-%m-%d %H:%M %Z} ({_ago(health.now - moment, language)})"

    tick = when(health.last_tick)
    if health.replay_of is not None:
        replayed = health.replay_of.astimezone(health.now.tzinfo)
        tick += " " + say("health_replay", language, moment=f"{replayed:%Y-%m-%d %H:%M %Z}")
    if health.last_tick_summary:
        tick += f": {health.last_tick_summary}"
    pending = str(health.pending)
    if health.pending:
        age = when(health.oldest_pending)
        pending = words["pending_detail"].format(
            pending=health.pending, due=health.pending_due, age=age
        )
    claimed = str(health.claimed)
    if health.stale_claims:
        claimed = words["claimed_detail"].format(claimed=health.claimed, stale=health.stale_claims)
    dead = str(health.dead)
    if health.latest_dead:
        reason = health.latest_dead.reason
        dead = words["dead_detail"].format(
            dead=health.dead, recent=health.dead_recent, reason=reason
        )
    error = words["none"]
    if health.last_error is not None:
        error = f"{when(health.last_error_at)}: {health.last_error}"
    return [
        (words["status"], words["healthy"] if health.healthy else words["unhealthy"]),
        (words["last_tick"], tick),
        (words["pending"], pending),
        (words["claimed"], claimed),
        (words["dead"], dead),
        (words["last_error"], error),
    ]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def health(as_json: bool) -> None:
    """How the service is doing: last tick, outbox backlog, dead letters, last error.
    Exits 0 when healthy, 1 when not."""
    from sqlalchemy.exc import DBAPIError

    from scheduler.logs import scrub, secrets_of
    from scheduler.service.health import describe, report, unavailable, unwritable
    from scheduler.store.db import DatabaseError, failure

    ctx = current()
    language = ctx.language
    secrets = secrets_of(ctx.config)

    def unhealthy(reason: str) -> NoReturn:
        """Unhealthy, in the report's own form, because the database cannot be used."""
        if as_json:
            dump_json(scrub(unavailable(reason), secrets))
        else:
            click.echo(f"{_WORDS[language]['unhealthy']}: {scrub(reason, secrets)}", err=True)
        raise SystemExit(1) from None

    try:
        refused = unwritable(ctx.db)
        with ctx.db.read() as session:
            found = report(session, ctx.now(), ctx.config.settings.service.tick_minutes, refused)
    except Refused as exc:  # missing, unreachable or not initialised, said by `ctx.db`
        unhealthy(exc.message)
    except (DatabaseError, DBAPIError) as exc:
        said = failure(ctx.config.settings.database.url, exc)
        if said is None:  # not an outage: a fault of ours, reported as one
            raise
        unhealthy(said.text(language))
    if as_json:
        dump_json(scrub(found.as_json(language), secrets))
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        words = _WORDS[language]
        table = Table(title=words["health_title"], show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for label, value in health_rows(found, language):
            value = escape(scrub(value, secrets))
            if label == words["status"]:
                value = f"[{'green' if found.healthy else 'bold red'}]{value}[/]"
            table.add_row(label, value)
        console = Console()
        console.print(table)
        for problem in found.problems:
            console.print(f"[red]! {escape(scrub(describe(problem, language), secrets))}[/red]")
    if not found.healthy:
        raise SystemExit(1)


def register(group: click.Group) -> None:
    group.add_command(health)
    group.add_command(doctor)
