"""The admin's lists: the outbox and its dead letters (`tenggat outbox`), who the service
cannot reach (as `tenggat doctor` finds them), and the people of a unit for link-code
slips (`tenggat link`).  Each list is read a page at a time, so 100,000 rows cost what a
hundred do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from scheduler.messages import HEADINGS, say
from scheduler.service.tick import email_channel
from scheduler.store import models, outbox

if TYPE_CHECKING:
    from scheduler.config import Config

PAGE = 100  # rows of a list on one page
NO_UNIT = "-"  # the slips' choice of the people without a unit (no unit is named "-")
STATES = ("pending", "claimed", "sent", "dead")


def stamp(moment: datetime | None, zone: tzinfo) -> str:
    """A stored moment in the deployment's zone, with its name: 2025-03-03 09:00 WITA."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}" if moment else ""


@dataclass(frozen=True)
class Letter:
    state: str
    attempts: int
    recipient: str
    about: str
    planned: str
    sent: str
    channel: str
    detail: str


@dataclass(frozen=True)
class OutboxPage:
    counts: tuple[tuple[str, int], ...]  # (state, rows)
    letters: tuple[Letter, ...]
    older: int | None  # the ``before`` of the next page, None on the last


def outbox_page(
    session: Session, state: str | None, before: int | None, zone: tzinfo, language: str
) -> OutboxPage:
    counted = outbox.counts(session)
    found = outbox.newest(session, state, PAGE + 1, before)
    words = HEADINGS[language]
    letters = tuple(
        Letter(
            row.state,
            row.attempts,
            name or row.recipient,
            " ".join(
                p
                for p in (
                    words.get(f"kind_{row.kind}", row.kind),
                    row.rule_code,
                    row.period,
                    row.step,
                )
                if p
            ),
            stamp(row.planned_at, zone),
            stamp(row.sent_at, zone),
            row.channel or "",
            row.receipt or "",
        )
        for row, name in found[:PAGE]
    )
    older = found[PAGE - 1][0].id if len(found) > PAGE else None
    return OutboxPage(tuple((s, counted.get(s, 0)) for s in STATES), letters, older)


@dataclass(frozen=True)
class Unreached:
    key: str
    name: str
    unit: str
    why: str


def _unreached(config: Config) -> tuple[ColumnElement[bool], dict[str, ColumnElement[bool]]]:
    """Who only the console reaches, and why, as `tenggat doctor` says it: a chat Telegram
    gave up on, a contact on a channel that is not set up, or no contact at all."""
    E = models.Employee
    has_email = and_(E.email.is_not(None), E.email != "")
    has_chat = and_(E.telegram_chat_id.is_not(None), E.telegram_chat_id != "")
    telegram = config.settings.telegram.token is not None
    email = email_channel(config) is not None
    by_chat = and_(has_chat, E.telegram_unreachable.is_(None)) if telegram else false()
    reached = or_(by_chat, has_email if email else false())
    reasons = {
        "unreached_blocked": and_(has_chat, E.telegram_unreachable.is_not(None)),
        "unreached_channel_off": or_(has_chat, has_email),
        "unreached_no_contact": E.active.is_(True),
    }
    return and_(E.active.is_(True), ~reached), reasons


def unreached_page(
    session: Session, config: Config, page: int, language: str
) -> tuple[int, list[Unreached]]:
    """How many active people only the console reaches, and one page of them."""
    E = models.Employee
    where, reasons = _unreached(config)
    total = session.scalar(select(func.count()).select_from(E).where(where)) or 0
    query = (
        select(
            E.key,
            E.name,
            func.coalesce(models.Unit.name, ""),
            E.telegram_unreachable,
            *reasons.values(),
        )
        .outerjoin(models.Unit, models.Unit.id == E.unit_id)
        .where(where)
        .order_by(models.Unit.name, E.name, E.key)
        .offset(page * PAGE)
        .limit(PAGE)
    )
    found = []
    for key, name, unit, blocked, *flags in session.execute(query):
        why = next(reason for reason, flag in zip(reasons, flags, strict=True) if flag)
        text = say(why, language)
        found.append(Unreached(key, name, unit, f"{text}: {blocked}" if blocked else text))
    return total, found


def unit_people(session: Session, unit: str) -> list[tuple[str, str, str]]:
    """(key, name, position) of the active people of ``unit`` (`NO_UNIT`: of none, whom
    the import could not place and who need their slips all the same), by name: whom
    slips go to."""
    E = models.Employee
    query = select(E.key, E.name, E.position).where(E.active.is_(True)).order_by(E.name, E.key)
    if unit == NO_UNIT:
        query = query.where(E.unit_id.is_(None))
    else:
        query = query.join(models.Unit, models.Unit.id == E.unit_id).where(models.Unit.name == unit)
    return [(key, name, position or "") for key, name, position in session.execute(query)]
