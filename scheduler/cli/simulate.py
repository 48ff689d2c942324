"""``tenggat simulate``: replay a period of ticks on a virtual clock and print the messages
that would go out — who, what, when, why — without sending or writing anything."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from scheduler.catalog import Words
from scheduler.cli.shared import DATE, Refused, current, dump_json

if TYPE_CHECKING:
    from rules.timeline import Queued
    from scheduler.service.simulate import Message, Simulation

WEEKDAYS = {
    "id": ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

_WORDS = Words("simulate")  # the words of this module, in the catalogs


@click.command("simulate")
@click.option("--from", "first", required=True, type=DATE, help="First day, e.g. 2025-01-01.")
@click.option("--to", "last", required=True, type=DATE, help="Last day (included).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the timeline.")
@click.option("--lang", type=click.Choice(["id", "en"]), help="Language of the timeline.")
def simulate(first: datetime, last: datetime, as_json: bool, lang: str | None) -> None:
    """Replay every tick from the start of --from to the end of --to on a virtual clock and
    print the messages that would go out: when (WITA, inside the sending window), to whom,
    by which channel, and the reminders, escalations and weekly digests each carries.

    It works on the records as they are now (roster, submissions, events, exemptions) and
    an empty outbox, as if the service started at --from: a recorded submission counts from
    the start, whatever its date, as with `run --once --as-of`.  It sends nothing and
    writes nothing to the database.  The same data always gives the same timeline.
    """
    from rules.timeline import NoOpening
    from scheduler.service import simulate as simulation

    ctx = current()
    language = lang or ctx.language
    words = _WORDS[language]
    if last < first:
        message = words["to_after_from"].format(to=f"{last:%Y-%m-%d}", first=f"{first:%Y-%m-%d}")
        raise click.BadParameter(message, param_hint="--to")
    try:
        found = simulation.simulate(ctx.config, ctx.db, first.date(), last.date())
    except NoOpening as exc:
        raise Refused(str(exc)) from None
    if as_json:
        dump_json(as_data(found))
        return
    click.echo("\n".join(timeline(found, language)))


def register(group: click.Group) -> None:
    group.add_command(simulate)


# --------------------------------------------------------------------------- text


def _when(moment: datetime, language: str) -> str:
    """E.g. "2025-02-19 Rab 08:00": sortable, and the weekday at a glance."""
    return f"{moment:%Y-%m-%d} {WEEKDAYS[language][moment.weekday()]} {moment:%H:%M}"


def timeline(found: Simulation, language: str) -> list[str]:
    """The timeline as lines: a heading, each message with one line per item, a summary."""
    words = _WORDS[language]
    window = found.window
    lines = [
        words["head"].format(
            first=f"{found.first:%Y-%m-%d}",
            last=f"{found.last:%Y-%m-%d}",
            zone=found.start.tzname(),
            tick=found.tick_minutes,
            start=f"{window.start:%H:%M}",
            end=f"{window.end:%H:%M}",
            days=words["working_days"] if window.working_days_only else "",
            channels=", ".join(found.channels),
        ),
        words["basis"],
        "",
    ]
    for message in found.messages:
        person = message.person
        lines.append(
            f"{_when(message.at, language)}  {person.name} ({person.nip or message.recipient})"
            f" · {message.channel}"
        )
        lines += [f"    {_item(found, entry, message, language)}" for entry in message.notices]
        if message.digest is not None:
            scope = (
                words["unit"].format(unit=message.digest.unit)
                if message.digest.unit
                else words["agency"]
            )
            text = words["digest"].format(week=message.digest.week, scope=scope)
            if message.digest.queued != message.at:
                text += f" — {words['waited'].format(at=_when(message.digest.queued, language))}"
            lines.append(f"    {text}")
    if not found.messages:
        lines.append(words["none"])
    else:
        lines.append("")
    summary = words["summary"].format(
        messages=len(found.messages),
        notices=found.notices,
        digests=found.digests,
        recipients=found.recipients,
    )
    if found.after_period:
        summary += words["after"].format(n=found.after_period, last=f"{found.last:%Y-%m-%d}")
    lines.append(summary)
    return lines


def _item(found: Simulation, entry: Queued, message: Message, language: str) -> str:
    """E.g. "SKP 2025 H-3 reminder, due 2025-02-28", or for a superior "SKP 2025 H+1
    escalation: NAME (NIP), due 2025-02-28, 1 day late"."""
    words = _WORDS[language]
    notice = entry.notice
    text = f"{notice.rule} {notice.period} {notice.step} {words[notice.kind.value]}"
    if notice.employee != message.recipient:
        about = found.people.get(notice.employee)
        name = f"{about.name} ({about.nip or notice.employee})" if about else notice.employee
        text += f": {name}"
    text += ", " + words["due"].format(due=f"{notice.due:%Y-%m-%d}")
    if notice.days_late:
        late = words["late_one"] if notice.days_late == 1 else words["late"]
        text += ", " + late.format(n=notice.days_late)
    if entry.queued != message.at:
        text += f" — {words['waited'].format(at=_when(entry.queued, language))}"
    return text


# --------------------------------------------------------------------------- JSON


def as_data(found: Simulation) -> dict[str, Any]:
    """The timeline for scripts: every message with its notices (or digest), and the totals."""

    def name_of(key: str) -> str | None:
        person = found.people.get(key)
        return person.name if person else None

    def message(m: Message) -> dict[str, Any]:
        return {
            "at": m.at.isoformat(),
            "recipient": m.recipient,
            "name": m.person.name,
            "nip": m.person.nip,
            "channel": m.channel,
            "notices": [
                {
                    "key": e.notice.key,
                    "employee": e.notice.employee,
                    "employee_name": name_of(e.notice.employee),
                    "role": e.notice.role,
                    "kind": e.notice.kind.value,
                    "rule": e.notice.rule,
                    "period": e.notice.period,
                    "step": e.notice.step,
                    "due": e.notice.due.isoformat(),
                    "status": e.notice.status.value,
                    "days_late": e.notice.days_late,
                    "scheduled_for": e.notice.scheduled_for.isoformat(),
                    "queued": e.queued.isoformat(),
                }
                for e in m.notices
            ],
            "digest": None
            if m.digest is None
            else {
                "key": m.digest.key,
                "week": m.digest.week,
                "unit": m.digest.unit,
                "queued": m.digest.queued.isoformat(),
            },
        }

    window = found.window
    return {
        "from": found.first.isoformat(),
        "to": found.last.isoformat(),
        "timezone": str(found.start.tzinfo),
        "tick_minutes": found.tick_minutes,
        "window": {
            "start": f"{window.start:%H:%M}",
            "end": f"{window.end:%H:%M}",
            "working_days_only": window.working_days_only,
        },
        "channels": found.channels,
        "messages": [message(m) for m in found.messages],
        "summary": {
            "messages": len(found.messages),
            "notices": found.notices,
            "digests": found.digests,
            "recipients": found.recipients,
            "after_period": found.after_period,
        },
    }
