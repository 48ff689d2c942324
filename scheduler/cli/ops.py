"""Operations commands: ``tenggat health`` (is the service doing its job?) and ``tenggat
doctor`` (can it: configuration, time zone, database, roster, channels).

A doctor check is a small function from a `Doctor` to a `Check`; `CHECKS` runs them in
order, and a check that needs what an earlier one could not provide is skipped.  Secrets
never reach the output: everything printed goes through `logs.scrub`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

import click

from scheduler.catalog import Words
from scheduler.cli.shared import Context, Refused, current, dump_json
from scheduler.messages import say

if TYPE_CHECKING:
    from scheduler.config import Config
    from scheduler.service.health import Health
    from scheduler.store.db import Database

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"

_WORDS = Words("ops")  # the words of this module, in the catalogs


def _language_option() -> str | None:
    """``--lang`` as given, without loading the configuration (which may be broken)."""
    current = click.get_current_context(silent=True)
    lang = current.find_root().params.get("lang") if current else None
    return str(lang) if lang else None


# --------------------------------------------------------------------------- doctor


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ``status`` is ok, warn, fail or skip."""

    name: str  # stable identifier: config, timezone, database, roster, smtp, telegram
    status: str
    message: str


@dataclass
class Doctor:
    """What the checks share: each may read what an earlier one found."""

    context: Context
    language: str = "id"
    config: Config | None = None
    database: Database | None = None  # set once the database is reachable and current

    def say(self, key: str, **params: Any) -> str:
        return _WORDS[self.language][key].format(**params)

    def check(self, name: str, status: str, key: str, **params: Any) -> Check:
        return Check(name, status, self.say(key, **params))


CheckFunction = Callable[[Doctor], Check]


def needs_config(function: CheckFunction) -> CheckFunction:
    """Skip the check when the configuration did not load."""

    def checked(doctor: Doctor) -> Check:
        if doctor.config is None:
            return doctor.check(function.__name__.removeprefix("check_"), SKIP, "skip_config")
        return function(doctor)

    checked.__name__ = function.__name__
    checked.__doc__ = function.__doc__
    return checked


def needs_database(function: CheckFunction) -> CheckFunction:
    """Skip the check when the database is unreachable or not current."""

    def checked(doctor: Doctor) -> Check:
        if doctor.database is None:
            return doctor.check(function.__name__.removeprefix("check_"), SKIP, "skip_database")
        return function(doctor)

    checked.__name__ = function.__name__
    checked.__doc__ = function.__doc__
    return checked


def check_config(doctor: Doctor) -> Check:
    """The configuration file and TENGGAT_* variables load and validate."""
    from rules.errors import DefinitionError

    try:
        doctor.config = doctor.context.config
    except DefinitionError as exc:
        doctor.language = _language_option() or "id"
        return doctor.check("config", FAIL, "config_fail", error=str(exc))
    doctor.language = doctor.context.language  # --lang, else the configured language
    path = doctor.config.path
    source = str(path) if path else doctor.say("embedded")
    return doctor.check("config", OK, "config_ok", source=source)


@needs_config
def check_timezone(doctor: Doctor) -> Check:
    """The configured zone is known (the configuration checks that) and is WITA."""
    from zoneinfo import ZoneInfo

    assert doctor.config is not None
    zone = doctor.config.settings.service.timezone
    now = datetime.now(ZoneInfo(zone))
    raw = now.strftime("%z")
    offset = f"{raw[:3]}:{raw[3:]}"
    if offset != "+08:00":
        return doctor.check("timezone", WARN, "timezone_not_wita", zone=zone, offset=offset)
    clock = now.strftime("%Y-%m-%d %H:%M")
    abbr = now.tzname() or zone
    return doctor.check(
        "timezone", OK, "timezone_ok", zone=zone, offset=offset, abbr=abbr, clock=clock
    )


@needs_config
def check_database(doctor: Doctor) -> Check:
    """The database answers and its schema is at the code's newest migration."""
    import os
    from pathlib import Path

    from scheduler.service.lock import lock_path
    from scheduler.store.db import SCHEMA_REVISION, Database

    assert doctor.config is not None
    database = Database(doctor.config.settings.database.url)
    url = database.safe_url
    sqlite_file = lock_path(database.url) if database.url.get_backend_name() == "sqlite" else None
    if sqlite_file is not None:
        path = Path(str(sqlite_file).removesuffix(".lock"))
        if not path.exists():  # connecting would create an empty file
            return doctor.check("database", FAIL, "db_missing", path=path)
    try:
        revision = database.revision()
    except Exception as exc:
        database.engine.dispose()
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return doctor.check("database", FAIL, "db_unreachable", url=url, error=error)
    head = database.head() or SCHEMA_REVISION
    if revision != head:
        database.engine.dispose()  # not usable: the later checks are skipped
    if revision is None:
        return doctor.check("database", FAIL, "db_empty", url=url)
    if revision != head:
        known = revision < head  # revisions are numbered 0001, 0002, …
        key = "db_behind" if known else "db_ahead"
        return doctor.check("database", FAIL, key, url=url, revision=revision, head=head)
    doctor.database = database
    if sqlite_file is not None and not os.access(sqlite_file.parent, os.W_OK):
        directory = sqlite_file.parent
        return doctor.check(
            "database", WARN, "db_readonly", url=url, revision=revision, directory=directory
        )
    return doctor.check("database", OK, "db_ok", url=url, revision=revision)


@needs_database
def check_roster(doctor: Doctor) -> Check:
    """Someone is on the roster, and a channel other than the console reaches each of them:
    a warning names who it does not reach, and why, since their reminders go nowhere."""
    from sqlalchemy import select

    from scheduler.service.tick import email_channel
    from scheduler.store import models

    assert doctor.database is not None and doctor.config is not None
    table = models.Employee
    query = select(
        table.name, table.email, table.telegram_chat_id, table.telegram_unreachable
    ).where(table.active.is_(True))
    with doctor.database.read() as session:
        people = session.execute(query.order_by(table.name, table.key)).all()
    if not people:
        return doctor.check("roster", WARN, "roster_empty")
    email = sum(bool(person.email) for person in people)
    telegram = sum(bool(person.telegram_chat_id) for person in people)
    neither = sum(not (person.email or person.telegram_chat_id) for person in people)
    counts = {"active": len(people), "email": email, "telegram": telegram, "neither": neither}
    channels = {
        "telegram": doctor.config.settings.telegram.token is not None,
        "email": email_channel(doctor.config) is not None,
    }
    unreached: dict[str, list[str]] = {}
    for name, address, chat, blocked in people:
        if not ((chat and not blocked and channels["telegram"]) or (address and channels["email"])):
            unreached.setdefault(_why_unreached(address, chat, blocked), []).append(name)
    found = doctor.check("roster", OK, "roster_ok", **counts)
    if not unreached:
        return found
    language = doctor.language
    groups = "; ".join(
        f"{say(why, language)}: {' · '.join(names)}" for why, names in unreached.items()
    )
    count = str(sum(len(names) for names in unreached.values()))
    detail = say("doctor_unreached", language, count=count, groups=groups)
    return Check("roster", WARN, f"{found.message}; {detail}")


def _why_unreached(address: str | None, chat: str | None, blocked: str | None) -> str:
    """The message that says why the console is all that reaches one employee."""
    if chat and blocked:
        return "unreached_blocked"
    if chat or address:
        return "unreached_channel_off"
    return "unreached_no_contact"


@needs_config
def check_smtp(doctor: Doctor) -> Check:
    """Connect to the SMTP server, secure the connection and log in, as sending would."""
    from notifications.message import DeliveryError
    from scheduler.service.tick import email_channel

    assert doctor.config is not None
    smtp = doctor.config.settings.smtp
    channel = email_channel(doctor.config)
    if channel is None:
        return doctor.check("smtp", SKIP, "smtp_off")
    where = {"host": smtp.host, "port": smtp.port, "security": smtp.security}
    if smtp.username and smtp.password is None:
        return doctor.check("smtp", FAIL, "smtp_no_password", user=smtp.username)
    channel.timeout = 15.0
    try:
        with channel:
            pass
    except DeliveryError as exc:
        return doctor.check("smtp", FAIL, "smtp_fail", error=str(exc), **where)
    if smtp.username and smtp.security == "none":
        return doctor.check("smtp", WARN, "smtp_plain_login", user=smtp.username, **where)
    if smtp.username:
        return doctor.check("smtp", OK, "smtp_ok_login", user=smtp.username, **where)
    return doctor.check("smtp", OK, "smtp_ok", **where)


@needs_config
def check_telegram(doctor: Doctor) -> Check:
    """Ask the Bot API who the bot is (getMe), as every dispatch run does first."""
    from notifications.message import DeliveryError
    from scheduler.service.tick import telegram_channel

    assert doctor.config is not None
    channel = telegram_channel(doctor.config)
    if channel is None:
        return doctor.check("telegram", SKIP, "telegram_off")
    url = channel.base_url
    try:
        with channel:
            username = channel.username
    except DeliveryError as exc:
        return doctor.check("telegram", FAIL, "telegram_fail", url=url, error=str(exc))
    return doctor.check("telegram", OK, "telegram_ok", url=url, username=username)


# In order: a check may use what an earlier one set on the Doctor (config, database).  A
# new check is a function `(Doctor) -> Check`, decorated with needs_config/needs_database
# as it requires, and added here.
CHECKS: list[CheckFunction] = [
    check_config,
    check_timezone,
    check_database,
    check_roster,
    check_smtp,
    check_telegram,
]


def run_checks(context: Context, checks: list[CheckFunction] | None = None) -> list[Check]:
    """Run every check; one that raises is a failure with its error, never a crash."""
    doctor = Doctor(context, _language_option() or "id")
    results = []
    for function in CHECKS if checks is None else checks:
        try:
            results.append(function(doctor))
        except Exception as exc:
            name = function.__name__.removeprefix("check_")
            error = f"{type(exc).__name__}: {exc}"
            results.append(doctor.check(name, FAIL, "crashed", error=error))
    if doctor.database is not None:
        doctor.database.engine.dispose()
    return results


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def doctor(as_json: bool) -> None:
    """Check that the service can work: configuration, time zone, database and migrations,
    roster, SMTP. Exits 1 when a check fails."""
    from scheduler.logs import scrub, secrets_of

    ctx = current()
    results = run_checks(ctx)
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
