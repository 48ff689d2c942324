"""Commands of the two-way Telegram bot: link codes for employees, unlinking, verification."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from notifications.message import Channel, DeliveryError, Message
from scheduler.cli.shared import Typed, current, moment, record_arguments, stamp, writing
from scheduler.messages import say

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from scheduler.bot.records import IssuedCode
    from scheduler.store.models import Employee

COLUMNS = ("key", "nip", "name", "unit", "code", "link", "expires_at")


def _bot_username(explicit: str | None) -> str:
    """The bot's @username for deep links: ``--bot``, else asked of Telegram (getMe) when a
    token is set; empty when neither (the code alone still works with /start)."""
    if explicit:
        return explicit.lstrip("@")
    from scheduler.service.tick import telegram_channel

    channel = telegram_channel(current().config)
    if channel is None:
        return ""
    try:
        with channel:
            return channel.username or ""
    except DeliveryError as exc:
        click.echo(say("bot_name_unknown", current().language, error=str(exc)), err=True)
        return ""


@click.command("link")
@click.argument("nip", required=False)
@click.option("--all", "everyone", is_flag=True, help="A code for every active employee.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="With --all: CSV or XLSX.")
@click.option(
    "--mail",
    is_flag=True,
    help="Also e-mail each code and link to the employee ([smtp] needed). With --all and "
    "no --out, only employees with an e-mail address get a code.",
)
@click.option(
    "--valid-hours",
    type=click.IntRange(1, 24 * 90),
    help="How long the code works (default: [bot] link_hours, 72).",
)
@click.option("--bot", "bot_name", help="The bot's username (default: asked of Telegram).")
def link(
    nip: str | None,
    everyone: bool,
    out: str | None,
    mail: bool,
    valid_hours: int | None,
    bot_name: str | None,
) -> None:
    """A one-time code and deep link that binds an employee's Telegram chat to NIP."""
    from scheduler.bot import records as bot_records
    from scheduler.service.tick import email_channel

    ctx = current()
    _check_link_options(nip, everyone, out, mail, ctx.language)
    mailer = email_channel(ctx.config) if mail else None
    if mail and mailer is None:
        raise click.UsageError(say("link_mail_needs_smtp", ctx.language))
    hours = valid_hours or ctx.config.settings.bot.link_hours
    username = _bot_username(bot_name)
    now = ctx.now()
    staged: Path | None = None
    try:
        with writing(ctx) as session:
            people = _whom(session, nip, bool(out), mail)
            addresses = {person.key: person.email or "" for person in people}
            issued = [
                bot_records.issue_code(session, person, now, hours, ctx.user) for person in people
            ]
            staged = _stage(out, _rows(issued, username, now.tzinfo)) if out else None
    except BaseException:  # not committed: the staged list's codes never counted
        if staged is not None:
            staged.unlink(missing_ok=True)
        raise
    if out and staged:
        _place(staged, out)
        click.echo(say("links_written", ctx.language, count=str(len(issued)), file=out))
    elif nip is not None:
        _show_code(issued[0], username, now.tzinfo, ctx.language)
    if mailer is not None:
        language = ctx.config.settings.service.language
        letters = [
            _letter(item, addresses[item.employee], username, language, now.tzinfo)
            for item in issued
            if addresses[item.employee]
        ]
        _mail(mailer, letters, {item.employee: item.code for item in issued}, ctx.language)


def _check_link_options(
    nip: str | None, everyone: bool, out: str | None, mail: bool, language: str
) -> None:
    """Refuse a combination of NIP, --all, --out and --mail that says nothing sensible."""
    from scheduler.sheets import table as sheets

    if everyone == (nip is not None):
        raise click.UsageError(say("link_whom", language))
    if everyone and not (out or mail):
        raise click.UsageError(say("link_all_needs", language))
    if out and not everyone:
        raise click.UsageError(say("link_out_needs_all", language))
    if out and Path(out).suffix.lower() not in sheets.SUFFIXES:
        raise click.BadParameter(say("link_out_kind", language), param_hint="--out")


def _whom(session: Session, nip: str | None, listed: bool, mail: bool) -> list[Employee]:
    """NIP's employee, else every active one; with --mail and no list (``listed``) only those
    with an e-mail address, since a code nobody receives would only revoke the last one."""
    from scheduler.store import records

    if nip is not None:
        person = records.find_employee(session, nip)
        if mail and not person.email:
            raise click.ClickException(
                f"{person.key} has no e-mail address: tenggat contact {person.key} --email ADDRESS"
            )
        return [person]
    return records.active_employees(session, with_email=not listed)


def _show_code(item: IssuedCode, username: str, zone: tzinfo | None, language: str) -> None:
    """One employee's code on the terminal: who, the code, the deep link, how to use it and
    until when."""
    from scheduler.bot import records as bot_records

    click.echo(f"{item.name} ({item.employee})")
    click.echo(say("link_code", language, code=item.code))
    if username:
        click.echo(say("link_url", language, url=bot_records.deep_link(username, item.code)))
    click.echo(say("link_send", language, code=item.code))
    until = f"{item.expires_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    click.echo(say("link_valid", language, until=until))


def _rows(issued: list[IssuedCode], username: str, zone: tzinfo | None) -> list[list[str]]:
    """The admin's list of codes: one row per employee, as ``COLUMNS`` names them."""
    from scheduler.bot import records as bot_records
    from scheduler.store import records

    return [
        [
            item.employee,
            item.employee if records.NIP_PATTERN.match(item.employee) else "",
            item.name,
            item.unit,
            item.code,
            bot_records.deep_link(username, item.code) if username else f"/start {item.code}",
            f"{item.expires_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        ]
        for item in issued
    ]


def _stage(out: str, rows: list[list[str]]) -> Path:
    """Write the list to a new file in FILE's folder and return its path; a failure is one
    sentence, and raised inside the transaction that issues the codes, it rolls them back.

    The codes are kept only as hashes and each new one revokes the employee's older one, so
    the list must exist before its codes count, and the old FILE must stay until the new one
    is in place.  Hence three steps, so that a failure at any of them loses nothing:

    1. here, inside the transaction: the whole list goes to a new file beside FILE (readable
       by its owner only: the codes are secrets).  If that fails (folder unwritable, disk
       full), the transaction rolls back and the old codes and the old FILE still agree;
    2. the transaction commits; if that fails, ``link`` removes the staged file (same state);
    3. :func:`_place` renames the staged file over FILE, atomically (same folder).  Should
       even that fail (FILE locked by Excel), the new codes are in force and the staged file
       is kept and named, so no code is lost.
    """
    import tempfile

    from scheduler.sheets import table as sheets

    target = Path(out)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent or "."
        )
        os.close(handle)
    except OSError as exc:
        raise _unwritten(out, exc) from None
    try:
        sheets.write_table(name, COLUMNS, rows, title=target.stem)
    except BaseException as exc:  # whatever stopped the writer, no half file stays behind
        Path(name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _unwritten(out, exc) from None
        raise
    return Path(name)


def _unwritten(out: str, exc: OSError) -> click.ClickException:
    reason = exc.strerror or str(exc)
    return click.ClickException(say("link_out_failed", current().language, file=out, reason=reason))


def _place(staged: Path, out: str) -> None:
    """Rename the committed list over FILE; on failure keep it and say where it is."""
    try:
        os.replace(staged, out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        words = {"file": out, "reason": reason, "kept": str(staged)}
        raise click.ClickException(say("link_out_kept", current().language, **words)) from None


def _letter(
    item: IssuedCode, address: str, username: str, language: str, zone: tzinfo | None
) -> Message:
    """The e-mail that hands one employee their link code (text and HTML from one context),
    signed like every letter of the service."""
    from notifications.render import templates
    from scheduler.bot import records as bot_records
    from scheduler.words import LETTER, LINK, clock, long_date, title

    local = item.expires_at.astimezone(zone)
    words, letter = LINK[language], LETTER[language]
    addressed = title(item.employee, language)
    until = words["until"].format(
        date=long_date(local.date(), language), time=clock(local, language)
    )
    context = {
        "w": {
            "salutation": letter["salutation"].format(title=addressed, name=item.name),
            "intro": words["intro"].format(title=addressed),
            "or_send": words["or_send"].format(bot=f" @{username}" if username else ""),
            "validity": words["validity"].format(until=until, title=addressed),
            "sender": current().config.settings.service.signature,
        },
        "code": item.code,
        "link": bot_records.deep_link(username, item.code) if username else "",
    }
    return Message(
        f"{item.name} ({item.employee})",
        templates().get_template("link.txt.j2").render(context),
        (item.employee,),
        words["subject"],
        templates().get_template("link.html.j2").render(context),
        address,
    )


def _mail(mailer: Channel, letters: list[Message], codes: dict[str, str], language: str) -> None:
    """Send the letters on one connection; list each that did not go, with its code (which
    still works: hand it over another way), and fail when any did not."""
    try:
        with mailer:
            results: list[str | DeliveryError] = list(mailer.deliver(letters))
    except DeliveryError as exc:  # the server is away: none went
        results = [exc] * len(letters)
    failed = [(m, r) for m, r in zip(letters, results, strict=True) if not isinstance(r, str)]
    sent, total = str(len(letters) - len(failed)), str(len(letters))
    click.echo(say("links_mailed", language, sent=sent, total=total))
    for letter, error in failed:
        (key,) = letter.keys
        where = {"recipient": letter.recipient, "address": letter.address}
        line = say("link_not_mailed", language, error=str(error), code=codes[key], **where)
        click.echo(line, err=True)
    if failed:
        raise click.ClickException(say("links_not_mailed", language, count=str(len(failed))))


@click.command("unlink")
@click.argument("nip")
def unlink(nip: str) -> None:
    """Forget NIP's Telegram chat and revoke their unused link codes."""
    from scheduler.bot import records as bot_records
    from scheduler.store import records

    ctx = current()
    now = ctx.now()
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        chat = bot_records.unlink(session, employee, now)
        bot_records.audit(session, now, chat, employee.id, "unlink", f"by {ctx.user}")
        who = {"name": employee.name, "key": employee.key}
        said = say("unlinked", ctx.language, chat=chat or "-", **who)
    click.echo(said)  # once committed: a refused write prints its refusal alone


@click.command("verify")
@record_arguments(
    "When it was verified, local time, e.g. 10/02/2025 15.00 (default: now); a date "
    "alone means by the end of that day."
)
def verify(nip: str, code: str, period: str, at: Typed | None) -> None:
    """Verify the pending submission of NIP for CODE and PERIOD (keeps its time and evidence).

    For a deliverable one record serves (e-Pantau, one per unit), NIP may be the verifier's
    own: the record of a colleague of their unit is verified."""
    from scheduler import words
    from scheduler.store import models, records, submissions

    ctx = current()
    when = moment(ctx, at)
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        code = records.check_rule_period(ctx.config.catalog, code, period)
        row = submissions.to_verify(session, employee, ctx.config.catalog.rules[code], period)
        item = {"key": employee.key, "code": code, "period": period}
        if row is None:
            raise click.ClickException(say("no_submission", ctx.language, **item))
        if row.verified_at is not None:
            by = row.verified_by or "-"
            raise click.ClickException(say("already_verified", ctx.language, by=by, **item))
        if when < row.submitted_at:
            times = {"submitted": stamp(ctx, row.submitted_at), "at": stamp(ctx, when)}
            raise click.ClickException(say("verified_too_early", ctx.language, **times, **item))
        done = submissions.verify(session, row, ctx.now(), ctx.user, "cli", when)
        # A colleague's record (a unit's e-Pantau) is named by who handed it in.
        submitter = employee
        if done.employee_id not in (None, employee.id):
            submitter = session.get(models.Employee, done.employee_id) or employee
        who = {"name": submitter.name, "key": submitter.key}
        handed = stamp(ctx, done.submitted_at)
        said = say("verified", ctx.language, code=code, period=period, stamp=handed, **who)
        meaning = words.record_meaning(
            ctx.config.schedule(),
            ctx.config.catalog.rules[code],
            period,
            done.submitted_at,
            done.verified_at,
            records.event_index(session),
            ctx.language,
        )
    click.echo(f"{said}\n{meaning}")  # once committed: a refused write prints its refusal


COMMANDS: list[Callable[..., Any]] = [link, unlink, verify]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        assert isinstance(command, click.Command)
        group.add_command(command)
