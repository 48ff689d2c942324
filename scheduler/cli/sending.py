"""Commands about sending: what would go out and why (plan), what went and what became of
it (outbox), and whether a channel works before going live (send-test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from scheduler import messages
from scheduler.cli.shared import Typed, as_of_option, current, dump_json, moment, print_table, stamp
from scheduler.messages import say


@click.command("plan")
@as_of_option(
    "The moment to plan at, local time, e.g. 03/03/2025 09.00; a date alone means the "
    "end of that day (default: now)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of messages.")
def plan_command(as_of: Typed | None, as_json: bool) -> None:
    """Dry run: the reminders and escalations due at a moment, to whom and why."""
    from collections import Counter

    from scheduler.service.dispatch import contacts_of
    from scheduler.service.tick import Service
    from scheduler.store import outbox

    ctx = current()
    now = moment(ctx, as_of)
    service = Service(ctx.config, ctx.now, ctx.db)
    _, _, notices = service.planned(now)
    with ctx.db.read() as session:
        contacts = contacts_of(session, notices)
        states = outbox.states_of(session, [n.key for n in notices])
    messages = service.dispatcher.compose(notices, contacts, now.date())
    if as_json:
        dump_json(
            {
                "as_of": now.isoformat(),
                "notices": [
                    {
                        **n._asdict(),
                        "kind": n.kind.value,
                        "status": n.status.value,
                        "due": n.due.isoformat(),
                        "scheduled_for": n.scheduled_for.isoformat(),
                        "outbox": states.get(n.key, "new"),
                    }
                    for n in notices
                ],
                "messages": [
                    {
                        "recipient": o.message.recipient,
                        "channel": o.channel,
                        "text": o.message.text,
                        "keys": list(o.message.keys),
                        "buttons": [
                            {"label": label, "data": data} for label, data in o.message.buttons
                        ],
                    }
                    for o in messages
                ],
            }
        )
        return
    for o in messages:
        fate = sorted({states.get(n.key, "new") for n in o.entries})
        # Each reason once, counted: an escalation to the Secretary carries dozens alike.
        reasons = Counter(f"{n.rule} {n.period} {n.step}" for n in o.entries)
        why = ", ".join(f"{r} ×{k}" if k > 1 else r for r, k in reasons.items())
        click.echo(f"→ {o.message.recipient} via {o.channel} [{'/'.join(fate)}] ({why})")
        click.echo(o.message.text + "\n")
    summary = {"notices": str(len(notices)), "messages": str(len(messages))}
    click.echo(say("plan_summary", ctx.language, moment=f"{now:%Y-%m-%d %H:%M %Z}", **summary))


@click.command("outbox")
@click.option(
    "--status",
    "state",
    type=click.Choice(["pending", "claimed", "sent", "dead"]),
    help="Only rows in this state.",
)
@click.option("--limit", default=50, show_default=True, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def outbox_command(state: str | None, limit: int, as_json: bool) -> None:
    """What was planned for sending, and what became of it."""
    from rich.markup import escape
    from rich.table import Table

    from scheduler.store import outbox

    ctx = current()
    with ctx.db.read() as session:
        counts = outbox.counts(session)
        found = outbox.newest(session, state, limit)
    if as_json:
        rows = [
            {
                "key": row.key,
                "state": row.state,
                "attempts": row.attempts,
                "planned_at": row.planned_at.isoformat(),
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "channel": row.channel,
                "receipt": row.receipt,
            }
            for row, _ in found
        ]
        dump_json({"counts": counts, "rows": rows})
        return
    head = messages.HEADINGS[ctx.language]
    states = ("pending", "claimed", "sent", "dead")
    summary = ", ".join(f"{head['state_' + s]} {counts.get(s, 0)}" for s in states)
    table = Table(title=f"{head['outbox']}: {summary}")
    for column in ("state", "recipient", "about", "planned", "sent_at", "channel", "detail"):
        table.add_column(head[column], no_wrap=column not in {"recipient", "detail"})
    for row, name in found:
        about = " ".join(part for part in (row.rule_code, row.period, row.step) if part)
        table.add_row(
            f"{head['state_' + row.state]} ({row.attempts}×)",
            escape(name or row.recipient),
            f"{head.get('kind_' + row.kind, row.kind)} {about}".strip(),
            stamp(ctx, row.planned_at),
            stamp(ctx, row.sent_at),
            row.channel or "",
            escape(row.receipt or ""),
        )
    print_table(table, who=(1, 2))


@click.command("send-test")
@click.option(
    "--channel", "channel_name", type=click.Choice(["telegram", "email", "console"]), required=True
)
@click.option("--to", "address", default="", help="The chat id or e-mail address to try.")
def send_test(channel_name: str, address: str) -> None:
    """Send a test message through a channel, to check its settings before going live."""
    from notifications.console import ConsoleChannel
    from notifications.message import Channel, DeliveryError, Message
    from scheduler.service.tick import email_channel, telegram_channel
    from scheduler.store import records

    ctx = current()
    language = ctx.language
    channel: Channel | None = {
        "telegram": telegram_channel,
        "email": email_channel,
        "console": lambda _config: ConsoleChannel(),
    }[channel_name](ctx.config)
    if channel is None:
        raise click.UsageError(say(f"{channel_name}_not_configured", language))
    if channel_name != "console" and not address:
        raise click.UsageError(say("to_needed", language, channel=channel_name))
    if channel_name == "telegram" and not records.is_chat_id(address):
        raise click.BadParameter(say("chat_id_number", language), param_hint="--to")
    text, subject = say("test_text", language), say("test_subject", language)
    message = Message("test", text, ("send-test",), subject, "", address)
    try:
        with channel:
            result = channel.deliver([message])[0]
    except DeliveryError as exc:  # the channel could not be opened
        result = exc
    if isinstance(result, DeliveryError):
        kind = "not_sent_permanent" if result.permanent else "not_sent_transient"
        raise click.ClickException(say(kind, language, error=str(result)))
    click.echo(say("sent_via", language, channel=channel_name, receipt=result))


COMMANDS: list[Callable[..., Any]] = [send_test, plan_command, outbox_command]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        assert isinstance(command, click.Command)
        group.add_command(command)
