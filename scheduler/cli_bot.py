"""Commands of the two-way Telegram bot: link codes for employees, unlinking, verification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from scheduler.cli_records import _ctx, writing

COLUMNS = ("key", "nip", "name", "unit", "code", "link", "expires_at")


def _bot_username(explicit: str | None) -> str:
    """The bot's @username for deep links: ``--bot``, else asked of Telegram (getMe) when a
    token is set; empty when neither (the code alone still works with /start)."""
    if explicit:
        return explicit.lstrip("@")
    from notifications.message import DeliveryError
    from scheduler.service import telegram_channel

    channel = telegram_channel(_ctx().config)
    if channel is None:
        return ""
    try:
        with channel:
            return channel.username or ""
    except DeliveryError as exc:
        click.echo(f"warning: cannot ask Telegram for the bot's name ({exc}); use --bot", err=True)
        return ""


@click.command("link")
@click.argument("nip", required=False)
@click.option("--all", "everyone", is_flag=True, help="A code for every active employee.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="With --all: CSV or XLSX.")
@click.option(
    "--valid-hours",
    type=click.IntRange(1, 24 * 90),
    help="How long the code works (default: [bot] link_hours, 72).",
)
@click.option("--bot", "bot_name", help="The bot's username (default: asked of Telegram).")
def link(
    nip: str | None, everyone: bool, out: str | None, valid_hours: int | None, bot_name: str | None
) -> None:
    """A one-time code and deep link that binds an employee's Telegram chat to NIP."""
    from scheduler import bot, records, sheets
    from scheduler.models import Employee

    if everyone == (nip is not None):
        raise click.UsageError("give a NIP, or --all --out FILE")
    if everyone and not out:
        raise click.UsageError("--all needs --out FILE (.csv or .xlsx)")
    if out and not everyone:
        raise click.UsageError("--out goes with --all")
    if out and sheets.suffix_of(out) not in (".csv", ".xlsx"):
        raise click.BadParameter("use a .csv or .xlsx file", param_hint="--out")
    ctx = _ctx()
    hours = valid_hours or bot.settings_of(ctx.config).link_hours
    username = _bot_username(bot_name)
    now = ctx.now()
    with writing(ctx) as session:
        if nip is not None:
            people = [records.find_employee(session, nip)]
        else:
            from sqlalchemy import select

            query = select(Employee).where(Employee.active.is_(True)).order_by(Employee.key)
            people = list(session.scalars(query))
        issued = [bot.issue_code(session, person, now, hours, ctx.user) for person in people]
    zone = now.tzinfo
    if out:
        rows = [
            [
                item.employee,
                item.employee if records.NIP_PATTERN.match(item.employee) else "",
                item.name,
                item.unit,
                item.code,
                bot.deep_link(username, item.code) if username else f"/start {item.code}",
                f"{item.expires_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            ]
            for item in issued
        ]
        count = sheets.write_table(out, COLUMNS, rows)
        click.echo(f"{count} link codes written to {out}; each works once, until it expires")
        return
    (item,) = issued
    click.echo(f"{item.name} ({item.employee})")
    click.echo(f"code:    {item.code}")
    if username:
        click.echo(f"link:    {bot.deep_link(username, item.code)}")
    click.echo(f"or send: /start {item.code}")
    click.echo(f"valid until {item.expires_at.astimezone(zone):%Y-%m-%d %H:%M %Z}, once")


@click.command("unlink")
@click.argument("nip")
def unlink(nip: str) -> None:
    """Forget NIP's Telegram chat and revoke their unused link codes."""
    from scheduler import bot, records

    ctx = _ctx()
    now = ctx.now()
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        chat = bot.unlink(session, employee, now)
        bot.audit(session, now, chat, employee.id, "unlink", f"by {ctx.user}")
        click.echo(f"{employee.name} ({employee.key}): chat {chat or '-'} unlinked")


@click.command("verify")
@click.argument("nip")
@click.argument("code")
@click.argument("period")
def verify(nip: str, code: str, period: str) -> None:
    """Verify the pending submission of NIP for CODE and PERIOD (keeps its time and evidence)."""
    from scheduler import bot, records

    ctx = _ctx()
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        code = records.check_rule_period(ctx.config.catalog, code, period)
        row = bot.newest_submission(session, employee.id, code, period)
        if row is None:
            raise click.ClickException(f"{employee.key} has no submission of {code} {period}")
        if row.verified_at is not None:
            raise click.ClickException(
                f"{code} {period} of {employee.key} is already verified ({row.verified_by})"
            )
        done = bot.verify(session, row, ctx.now(), ctx.user, "cli")
        stamp = f"{done.submitted_at.astimezone(ctx.now().tzinfo):%Y-%m-%d %H:%M %Z}"
        click.echo(f"{code} {period}: {employee.name} ({employee.key}) @ {stamp}, verified")


COMMANDS: list[Callable[..., Any]] = [link, unlink, verify]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        assert isinstance(command, click.Command)
        group.add_command(command)
