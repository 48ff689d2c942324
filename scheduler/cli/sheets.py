"""Spreadsheet commands: the roster out for review and back in, submissions in bulk.

Every import checks all rows first and writes in one transaction: nothing is written while a
row has a problem, unless ``--skip-bad`` asks for the good rows alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from scheduler.cli.shared import current, writing
from scheduler.messages import say

if TYPE_CHECKING:
    from scheduler.sheets.table import Problem, Table

SHEET = click.Path(dir_okay=False)


def _read(path: str, columns: Sequence[str]) -> Table:
    from scheduler.sheets import table as sheets

    try:
        return sheets.read_table(path, columns)
    except sheets.SheetError as exc:
        raise click.ClickException(exc.text(current().language)) from None


def _report(problems: Sequence[Problem], skipped: Sequence[int], skip_bad: bool) -> None:
    """Each problem as "row N: reason"; refuse the import when some remain and no --skip-bad."""
    language = current().language
    for problem in problems:
        reason = problem.text(language)
        click.echo(say("sheet_row", language, row=str(problem.row), reason=reason), err=True)
    if skipped and not skip_bad:
        raise click.ClickException(say("nothing_written", language, count=str(len(skipped))))


@click.command("export")
@click.argument("file", type=SHEET)
@click.option(
    "--delimiter",
    type=click.Choice([",", ";"]),
    default=";",
    show_default=True,
    help='CSV only: ";" opens directly in Excel set up for Indonesia; "," for other programs.',
)
def roster_export(file: str, delimiter: str) -> None:
    """Write the roster to FILE (.csv or .xlsx) for review, one row per employee.

    Columns: key, nip, name, position, unit, superior (the superior's key), roles, rules
    (rule codes), telegram_chat_id, email, active (yes/no), review; by unit, then name.
    Correct it and bring it back with `tenggat roster import FILE`.
    """
    from scheduler.sheets import roster as roster_sheet
    from scheduler.sheets import table as sheets

    ctx = current()
    try:
        sheets.suffix_of(file)
    except sheets.SheetError as exc:
        raise click.BadParameter(exc.text(ctx.language), param_hint="FILE") from None
    with ctx.db.read() as session:
        rows = roster_sheet.roster_rows(roster_sheet.load_roster(session))
    try:
        count = sheets.write_table(file, roster_sheet.ROSTER_COLUMNS, rows, delimiter)
    except OSError as exc:
        raise click.FileError(file, hint=exc.strerror or str(exc)) from None
    click.echo(say("roster_exported", ctx.language, count=str(count), file=file))


@click.command("import")
@click.argument("file", type=SHEET)
@click.option("--skip-bad", is_flag=True, help="Write the good rows; report and skip the others.")
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing.")
def roster_import(file: str, skip_bad: bool, dry_run: bool) -> None:
    """Bring a corrected roster sheet (.csv or .xlsx) back in, matched by key.

    Required columns: key, nip, name, unit, superior, roles, rules; optional: position,
    telegram_chat_id, email, active, review (an absent optional column keeps what is
    stored; clearing review marks the row as checked).  A TMP- row given a NIP is keyed
    by that NIP from then on; a new key adds an employee.  A changed superior is marked
    as set by hand, so that an IKI re-import keeps it; the rule codes of a row become the
    employee's rules (added ones are marked as set by hand; exemptions are kept).  Every
    row is checked first, and nothing is written while one has a problem (unless
    --skip-bad).
    """
    from scheduler.memory import paused_gc
    from scheduler.sheets import roster as roster_sheet
    from scheduler.sheets.roster_check import check_roster

    ctx = current()
    table = _read(file, roster_sheet.ROSTER_COLUMNS)
    outcome = roster_sheet.RosterOutcome()
    # Hundreds of thousands of small acyclic objects (cells, rows): collections would
    # rescan them all again and again, a third of the time at 100,000 rows.
    with paused_gc(), writing(ctx, dry_run) as session:
        check = check_roster(table, roster_sheet.load_roster(session), ctx.config.catalog)
        _report(check.problems, check.skipped, skip_bad)
        outcome = roster_sheet.apply_roster(session, check.rows, ctx.now())
    counts = {
        "created": str(len(outcome.created)),
        "updated": str(len(outcome.updated)),
        "unchanged": str(len(outcome.unchanged)),
        "skipped": str(len(check.skipped)),
    }
    done = "roster_would_import" if dry_run else "roster_imported"
    click.echo(say(done, ctx.language, file=file, **counts))
    for row in outcome.created:
        who = {"row": str(row.number), "key": row.after.key, "name": row.after.name}
        click.echo(say("sheet_created", ctx.language, **who))
    for row in outcome.updated:
        who = {"row": str(row.number), "key": row.after.key, "name": row.after.name}
        click.echo(say("sheet_updated", ctx.language, changes=row.describe(), **who))
    _skipped(check.skipped, ctx.language)


@click.command("import")
@click.argument("file", type=SHEET)
@click.option("--skip-bad", is_flag=True, help="Insert the good rows; report and skip the others.")
@click.option("--dry-run", is_flag=True, help="Check every row; insert nothing.")
def submissions_import(file: str, skip_bad: bool, dry_run: bool) -> None:
    """Record submissions from FILE (.csv or .xlsx), one new record per row.

    Columns: nip, rule, period, submitted_at; optional evidence and agency (yes/no, for
    information only: the record is the submitter's).  submitted_at is an ISO date or
    date and time ("2025-02-10", "2025-02-10 14:30"); a time without an offset is local
    time (the configured zone, WITA), and a date alone means 12:00 local time that day
    (or now, for today before noon), as does a workbook date cell (which reads back as
    00:00).  A time in the future is refused.  Earlier records
    are never changed: a correction is a new row, and the newest counts.  A measured
    indicator (SERAPAN) gives its number in the optional value column (87,5 or 87.5).
    """
    from scheduler.sheets import submissions as submission_sheet
    from scheduler.store import records

    ctx = current()
    table = _read(file, submission_sheet.SUBMISSION_COLUMNS)
    now = ctx.now()
    zone = now.tzinfo
    assert zone is not None
    count = 0
    with writing(ctx, dry_run) as session:
        people = records.identities(session)
        check = submission_sheet.check_submissions(table, people, ctx.config.schedule(), zone, now)
        _report(check.problems, check.skipped, skip_bad)
        count = submission_sheet.apply_submissions(session, check.rows, now, ctx.user)
    done = "submissions_would_record" if dry_run else "submissions_recorded"
    skipped = str(len(check.skipped))
    click.echo(say(done, ctx.language, count=str(count), file=file, skipped=skipped))
    _skipped(check.skipped, ctx.language)


def _skipped(rows: Sequence[int], language: str) -> None:
    if rows:
        click.echo(say("skipped_rows", language, rows=", ".join(str(n) for n in rows)))


def register(group: click.Group) -> None:
    """Add ``export`` and ``import`` to the roster group, ``import`` to submissions."""
    roster, submissions = group.commands.get("roster"), group.commands.get("submissions")
    if not (isinstance(roster, click.Group) and isinstance(submissions, click.Group)):
        raise RuntimeError("register scheduler.cli.records first: it defines both groups")
    roster.add_command(roster_export)
    roster.add_command(roster_import)
    submissions.add_command(submissions_import)
