"""What every command module shares: the context of a command, the date types it parses,
its JSON output and its write transactions.

A module of its own so that the command modules import it at their top: ``scheduler.cli.main``
imports them in turn, which would make that import circular.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

import click

from scheduler import catalog, logs

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy.orm import Session

    from rules.schedule import EventIndex
    from scheduler.config import Config
    from scheduler.store.db import Database

# Where `scheduler.cli.language.Speaking` leaves the language it settled on, in click's
# ``meta`` (shared by every context of a run): a value's refusal is worded in it.
SPOKEN = "tenggat.language"

# How people write a day: ISO (2025-02-20) or day first (20/02/2025, 20-02-2025); a time of
# day after it with ":" or, as PUEBI writes it, "." (09:00, 09.00, 09:00:00), and a zone
# after that (+08:00, +0800, +08, Z, WITA).  A month first (02/20/2025) is never guessed.
_ISO_DAY = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
_DAY_FIRST = r"(?P<day>\d{1,2})(?P<mark>[/-])(?P<month>\d{1,2})(?P=mark)(?P<year>\d{4})"
_CLOCK = (
    r"(?P<hour>\d{1,2})(?P<colon>[:.])(?P<minute>\d{2})(?:(?P=colon)(?P<second>\d{2}))?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|WIB|WITA|WIT)?"
)
_DAY_SHAPES = tuple(re.compile(shape, re.I) for shape in (_ISO_DAY, _DAY_FIRST))
_MOMENT_SHAPES = (
    re.compile(rf"{_ISO_DAY}(?:(?:T|\s+){_CLOCK})?", re.I),
    re.compile(rf"{_DAY_FIRST}(?:\s+{_CLOCK})?", re.I),
)
_ZONES = {
    name: timezone(timedelta(hours=h), name) for name, h in (("WIB", 7), ("WITA", 8), ("WIT", 9))
}


class Typed(NamedTuple):
    """A moment as typed on the command line: a day, and its time of day unless only the
    day was given (``clock`` is None).  The time is naive, or aware when typed with a zone;
    `moment` and `submitted` give it its meaning in the configured zone."""

    day: date
    clock: time | None = None


class When(click.ParamType):
    """A day, or with ``with_time`` a moment, as people type them (see ``_MOMENT_SHAPES``);
    anything else is refused with one sentence, in the user's language, naming the forms
    this option accepts.  A day alone converts to a naive midnight `datetime` (as
    ``click.DateTime`` gave), a moment to `Typed`."""

    def __init__(self, with_time: bool) -> None:
        self.with_time = with_time
        self.name = "datetime" if with_time else "date"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DATETIME" if self.with_time else "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Typed | datetime):
            return value  # a default, or a value converted already
        text = str(value).strip()
        shapes = _MOMENT_SHAPES if self.with_time else _DAY_SHAPES
        found = next((m for m in (s.fullmatch(text) for s in shapes) if m is not None), None)
        if found is None:
            self._refuse("when_unreadable", param, ctx, value=text)
        parts = found.groupdict()
        year, month, day = (int(parts[k]) for k in ("year", "month", "day"))
        if not 1 <= month <= 12:
            if parts.get("mark") and 1 <= day <= 12 and month <= 31:
                swapped = f"{month:02d}{parts['mark']}{day:02d}{parts['mark']}{year}"
                self._refuse(
                    "when_day_first", param, ctx, value=text, month=str(month), swapped=swapped
                )
            self._refuse("when_no_month", param, ctx, value=text, month=str(month))
        try:
            typed = Typed(date(year, month, day))
        except ValueError:
            self._refuse(
                "when_no_day",
                param,
                ctx,
                value=text,
                day=str(day),
                month=f"{month:02d}",
                year=str(year),
            )
        if not self.with_time:
            return datetime.combine(typed.day, time())
        if parts["hour"] is None:
            return typed
        hour, minute, second = (int(parts[k] or 0) for k in ("hour", "minute", "second"))
        try:
            clock = time(hour, minute, second, tzinfo=_zone(parts["zone"]))
        except ValueError:
            self._refuse("when_no_time", param, ctx, value=text)
        return typed._replace(clock=clock)

    def _refuse(
        self, message: str, param: click.Parameter | None, ctx: click.Context | None, **params: str
    ) -> NoReturn:
        from scheduler.messages import say

        spoken = ctx.meta.get(SPOKEN) if ctx is not None else None
        language = spoken if spoken in catalog.LANGUAGES else catalog.LANGUAGES[0]
        forms = say("when_forms_moment" if self.with_time else "when_forms_day", language)
        self.fail(say(message, language, forms=forms, **params), param, ctx)


def _zone(written: str | None) -> tzinfo | None:
    """The zone a time was typed with: None for none, else a fixed offset; an offset that
    no clock on Earth keeps (+15:00, +08:75) is refused by `time`, as a ValueError."""
    if written is None:
        return None
    if written.upper() in _ZONES:
        return _ZONES[written.upper()]
    if written.upper() == "Z":
        return UTC
    digits = written[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError(written)
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if written[0] == "-" else offset)


DATE = When(with_time=False)
MOMENT = When(with_time=True)


F = TypeVar("F", bound=Callable[..., Any])


def as_of_option(help_text: str) -> Callable[[F], F]:
    """The ``--as-of`` option of the commands that work at a moment (status, digest, plan,
    run): one type, so every command reads a typed time the same way."""
    return click.option("--as-of", type=MOMENT, help=help_text)


def record_arguments(help_at: str) -> Callable[[F], F]:
    """NIP CODE PERIOD and ``--at``: what the commands that record about one obligation of
    one person take (submit, verify)."""

    def decorate(command: F) -> F:
        for argument in ("period", "code", "nip"):  # applied bottom-up: NIP comes first
            command = click.argument(argument)(command)
        return click.option("--at", "at", type=MOMENT, help=help_at)(command)

    return decorate


class Refused(click.ClickException):
    """The command cannot work on things as they are (e.g. an uninitialised database)."""

    exit_code = 2


class Context:
    """What every command may need, loaded on first use."""

    def __init__(self, config_path: str | None, language: str | None) -> None:
        self.config_path = config_path
        self._language = language
        self._config: Config | None = None
        self._db: Database | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from scheduler.config import load_config

            self._config = load_config(self.config_path)
            logs.REDACT.hide(*logs.secrets_of(self._config))  # a password in config.toml
        return self._config

    @property
    def language(self) -> str:
        return self._language or self.config.settings.service.language

    def now(self) -> datetime:
        """The wall clock in the configured zone: the one place the command line reads it."""
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(self.config.settings.service.timezone))

    def today(self) -> date:
        return self.now().date()

    @property
    def db(self) -> Database:
        """The configured database, refused with a hint when it is missing, unreachable or
        not initialised."""
        return self.open_db()

    def open_db(self, oldest: str | None = None) -> Database:
        """The configured database, at revision ``oldest`` or newer (default: the newest)."""
        if self._db is None:
            from scheduler.store.db import SCHEMA_REVISION, Database, DatabaseError

            database = Database(self.config.settings.database.url)
            try:
                database.ensure_current(oldest or SCHEMA_REVISION)
            except DatabaseError as exc:
                database.engine.dispose()
                raise Refused(exc.text(self.language)) from None
            self._db = database
        return self._db

    def recorded_events(self) -> tuple[EventIndex, str | None]:
        """The events recorded in the database, for the commands that show due dates and
        work without one (``rules list``, ``rules due``): where it cannot be read, they show
        the catalog's dates alone, and the second value says why."""
        from scheduler.store import records

        try:
            with self.db.read() as session:
                return records.event_index(session), None
        except Refused as exc:
            return {}, exc.message

    @property
    def user(self) -> str:
        """Who is recording, for the audit columns."""
        import getpass

        try:
            return f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            return "cli"


def current() -> Context:
    """The context of the command being run."""
    context = click.get_current_context().find_object(Context)
    assert context is not None
    return context


def dump_json(data: Any) -> None:
    """``--json`` output of every command: readable, UTF-8 names kept as they are."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class _DryRun(Exception):
    """Raised inside a write transaction to roll it back after showing what it would do."""


@contextmanager
def writing(ctx: Context, dry_run: bool = False) -> Iterator[Session]:
    """A write transaction: committed when the body succeeds, rolled back when it fails or
    when this is a dry run; record errors become one clear message in the admin's language."""
    from scheduler.store.records import RecordError

    try:
        with ctx.db.write() as session:
            yield session
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except RecordError as exc:
        raise click.ClickException(exc.text(ctx.language)) from None


def stamp(ctx: Context, moment: datetime | None) -> str:
    """A stored moment as the admin's tables show it: local time, to the minute, with the
    zone's name (an office in WIB reading a WITA deployment's table must not be misled)."""
    return f"{moment.astimezone(ctx.now().tzinfo):%Y-%m-%d %H:%M %Z}" if moment else ""


def moment(ctx: Context, typed: Typed | None) -> datetime:
    """The moment a command reads the records at (status, digest, plan, run --once):
    now when omitted.  A time is in the configured zone, and one typed with a zone is
    converted to it.  A date alone means that whole day: its end, 23:59:59 local time, so
    that everything recorded that day counts and what is due that day shows as due that
    day; now, when that day is today (the rest of it has not happened)."""
    now = ctx.now()
    if typed is None:
        return now
    zone = now.tzinfo
    if typed.clock is None:
        end = datetime.combine(typed.day, time(23, 59, 59), tzinfo=zone)
        return min(end, now) if typed.day == now.date() else end
    at = datetime.combine(typed.day, typed.clock)
    return at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)


def submitted(ctx: Context, typed: Typed | None) -> datetime:
    """When a submission was made (`submit --at`): now when omitted; a time as `moment`
    reads it.  A date alone means within that whole day too, read as the submissions sheet
    reads it: 12:00 local time, or now when that day is today and it is not yet noon."""
    from scheduler.sheets.submissions import parse_moment

    now = ctx.now()
    if typed is None:
        return now
    if typed.clock is not None:
        return moment(ctx, typed)
    zone = now.tzinfo
    assert zone is not None
    when = parse_moment(typed.day, zone, now)
    assert when is not None  # a day always reads as a moment
    return when


def console_for(table: Table) -> Console:
    """A console to print ``table`` on.  Into a file or a pager it is as wide as the table:
    rich assumes 80 columns where there is no terminal, and a NIP or rule code cut to fit
    ("19840423…", "LH…") tells nothing.  Without rich's highlighter: it would colour every
    number and bracket of the sentences printed after a table ("PMK 243/2014 Pasal 12")."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(highlight=False)
    if not console.is_terminal:
        unbounded = console.options.update_width(10_000)
        console.width = max(console.width, Measurement.get(console, unbounded, table).maximum)
    return console


def print_table(table: Table, who: Sequence[int] = (0,)) -> Console:
    """Print ``table`` and return its console, for what follows it.

    Where the terminal is narrower than the table at its narrowest (every column down to its
    longest word), rich would squeeze whole columns to nothing, and a row would no longer say
    whom it is about.  Each row is stacked instead: the cells of the columns ``who`` names (a
    name, a NIP) on a line of their own, the others under them as "heading: value"."""
    console = console_for(table)
    if _narrowest(console, table) <= console.width:
        console.print(table)
    else:
        _print_stacked(console, table, who)
    return console


def _narrowest(console: Console, table: Table) -> int:
    """How narrow ``table`` can be without cutting a cell.  rich's own measure counts every
    column down to its longest word, even a column that may not wrap (a code, a NIP, a
    time), which it would then cut with an ellipsis: such a column counts at its widest."""
    from rich.measure import Measurement

    options = console.options.update_width(10_000)
    width = Measurement.get(console, options, table).minimum
    for column in table.columns:
        if column.no_wrap:
            sizes = [Measurement.get(console, options, c) for c in (column.header, *column.cells)]
            width += max(size.maximum for size in sizes) - max(size.minimum for size in sizes)
    return width


def _print_stacked(console: Console, table: Table, who: Sequence[int]) -> None:
    """``table`` a row at a time, as :func:`print_table` describes; empty cells are left out
    and the pairs fill each line, so a row takes two or three lines."""
    from rich.cells import cell_len
    from rich.padding import Padding
    from rich.text import Text

    def flat(cell: Any) -> Text:
        text = cell.copy() if isinstance(cell, Text) else Text.from_markup(str(cell))
        return Text(" ").join(text.split("\n"))

    if table.title:
        console.print(flat(table.title), style="table.title", justify="center")
    heads = [str(column.header) for column in table.columns]
    room = console.width - 2
    for cells in zip(*(list(column.cells) for column in table.columns), strict=True):
        texts = [flat(cell) for cell in cells]
        heading = Text(" · ").join(texts[index] for index in who if texts[index].plain)
        heading.stylize("bold")
        console.print(heading)
        line = Text()
        for index, text in enumerate(texts):
            if index in who or not text.plain.strip():
                continue
            pair = Text.assemble((f"{heads[index]}: ", "dim"), text)
            if line.plain and cell_len(line.plain) + 2 + cell_len(pair.plain) > room:
                console.print(Padding(line, (0, 0, 0, 2), expand=False))
                line = Text()
            line.append_text(Text("  ") + pair if line.plain else pair)
        if line.plain:
            console.print(Padding(line, (0, 0, 0, 2), expand=False))
