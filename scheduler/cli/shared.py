"""What every command module shares: the context of a command, the date types it parses,
its JSON output and its write transactions.

A module of its own so that the command modules import it at their top: ``scheduler.cli.main``
imports them in turn, which would make that import circular.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from scheduler import logs

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy.orm import Session

    from rules.schedule import EventIndex
    from scheduler.config import Config
    from scheduler.store.db import Database

DATE = click.DateTime(["%Y-%m-%d"])
MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])


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


def local(ctx: Context, moment: datetime | None) -> datetime:
    """A moment typed by the admin, read in the configured zone (WITA); now when omitted."""
    if moment is None:
        return ctx.now()
    return moment.replace(tzinfo=ctx.now().tzinfo) if moment.tzinfo is None else moment


def stamp(ctx: Context, moment: datetime | None) -> str:
    """A stored moment as the admin's tables show it: local time, to the minute, with the
    zone's name (an office in WIB reading a WITA deployment's table must not be misled)."""
    return f"{moment.astimezone(ctx.now().tzinfo):%Y-%m-%d %H:%M %Z}" if moment else ""


def end_of(ctx: Context, as_of: datetime | None) -> datetime:
    """``--as-of DAY`` means the end of that day, local time: everything recorded that day
    counts, and what is due that day shows as due today."""
    if as_of is None:
        return ctx.now()
    local = as_of.replace(tzinfo=ctx.now().tzinfo)
    has_time = (as_of.hour, as_of.minute, as_of.second) != (0, 0, 0)
    return local if has_time else local.replace(hour=23, minute=59, second=59)


def console_for(table: Table) -> Console:
    """A console to print ``table`` on.  Into a file or a pager it is as wide as the table:
    rich assumes 80 columns where there is no terminal, and a NIP or rule code cut to fit
    ("19840423…", "LH…") tells nothing."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console()
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
