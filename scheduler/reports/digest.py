"""The weekly digest, read from the records and put into words for its readers.

``build`` reads the records set-based (one snapshot) and returns the pure ``rules.digest``
value; ``recipients`` says who gets which digest (the Secretary the whole agency's, and each
unit head their unit's when ``unit_heads`` is on); ``compose`` and ``weekly`` render it as
text, HTML and a CSV attachment for one recipient.  Nothing here sends: the service queues
what ``weekly`` returns.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names
from babel.numbers import format_decimal
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notifications import charts
from notifications import digest as layout
from notifications.picture import png
from rules.catalog import Catalog
from rules.digest import (
    TARGET,
    Digest,
    Level,
    Line,
    Measured,
    Member,
    Overdue,
    Rate,
    build_digest,
)
from rules.evaluate import Status
from rules.periods import iso_week
from rules.schedule import Schedule
from scheduler.catalog import Words
from scheduler.config import Config
from scheduler.memory import paused_gc
from scheduler.sheets import table as sheets
from scheduler.store import models, outbox, records
from scheduler.store.db import Database
from scheduler.words import STATUS, clock, long_date, measure, period_name, rule_name

_WORDS = Words("digest")  # the words of this module, in the catalogs
PAGE = Words("digest_page")  # the words of the digest itself, laid out by its templates


LEVELS = list(Level)  # lowest first


class UnknownUnit(LookupError):
    """A unit name that matches no unit; says the closest, or lists them all."""

    def __init__(self, unit: str, known: Sequence[str]) -> None:
        self.unit = unit
        self.known = list(known)
        super().__init__(self.text("en"))

    def text(self, language: str) -> str:
        words = _WORDS[language]
        lowered = {name.lower(): name for name in self.known}
        close = difflib.get_close_matches(self.unit.lower(), list(lowered), n=3, cutoff=0.6)
        found = words["unknown_unit"].format(unit=self.unit)
        if close:
            return f"{found}; {words['hint'].format(hints=', '.join(lowered[c] for c in close))}"
        return f"{found}; {words['units'].format(units=', '.join(self.known) or '-')}"


def find_unit(session: Session, unit: str) -> str:
    """The unit as stored, matched case-insensitively; UnknownUnit when there is none."""
    names = sorted(session.scalars(select(models.Unit.name)))
    for name in names:
        if name.lower() == unit.strip().lower():
            return name
    raise UnknownUnit(unit, names)


def build(
    config: Config,
    db: Database,
    now: datetime,
    unit: str | None = None,
    schedule: Schedule | None = None,
    known_at: datetime | None = None,
) -> Digest:
    """The digest at ``now`` of the whole agency, or of ``unit`` (any case; UnknownUnit when
    no unit has that name), from one snapshot of the records.  Pass the service's
    ``schedule`` to reuse its holiday cache, and ``known_at`` to leave out what was written
    down after it (`rules.digest.build_digest`)."""
    with paused_gc():
        with db.read() as session:
            name, snap = scope(session, config, now, unit)
        return from_snapshot(config, snap, now, name, schedule, known_at)


def scope(
    session: Session, config: Config, now: datetime, unit: str | None
) -> tuple[str | None, records.Snapshot]:
    """The unit as stored (``unit`` in any case; None: the agency) and the records a digest
    of it reads: this year's and last."""
    name = find_unit(session, unit) if unit is not None else None
    return name, records.snapshot(session, config.catalog, since_year=now.year - 1, unit=name)


def from_snapshot(
    config: Config,
    snap: records.Snapshot,
    now: datetime,
    unit: str | None = None,
    schedule: Schedule | None = None,
    known_at: datetime | None = None,
    week_before: bool = True,
) -> Digest:
    """The digest of ``snap``, of ``unit`` as stored (see ``build``); without the
    comparison with a week ago when not ``week_before`` (`rules.digest.Digest.compared`)."""
    members = [Member(key, info.name, info.unit) for key, info in snap.employees.items()]
    return build_digest(
        schedule or config.schedule(),
        snap.roster,
        snap.submissions,
        snap.events,
        members,
        now,
        unit,
        known_at,
        week_before,
    )


class Recipient(NamedTuple):
    """Who gets a digest, of which scope (``unit`` None: the whole agency), and how they are
    reached."""

    key: str
    name: str
    unit: str | None
    telegram_chat_id: str | None
    email: str | None


def recipients(db: Database, unit_heads: bool = False) -> list[Recipient]:
    """The Secretary (role 'secretary') for the whole agency and, with ``unit_heads``, each
    head of a unit (role 'unit_head') for their unit; a Secretary who also heads a unit
    already sees it in the agency's digest.  Active employees only, in one query."""
    table = models.Employee
    # Read only who may receive one (every tick asks, and the roster is 100,000 people);
    # a role's name inside another's is told apart below, by the words.
    wanted = ("secretary", "unit_head") if unit_heads else ("secretary",)
    query = (
        select(
            table.key,
            table.name,
            table.roles,
            models.Unit.name,
            table.telegram_chat_id,
            table.email,
        )
        .outerjoin(models.Unit, models.Unit.id == table.unit_id)
        .where(table.active.is_(True), or_(*(table.roles.contains(r) for r in wanted)))
        .order_by(models.Unit.name, table.name, table.key)
    )
    agency: list[Recipient] = []
    heads: list[Recipient] = []
    with db.read() as session:
        for key, name, roles, unit, chat, email in session.execute(query):
            held = set(roles.split())
            if "secretary" in held:
                agency.append(Recipient(key, name, None, chat, email))
            elif unit_heads and "unit_head" in held and unit:
                heads.append(Recipient(key, name, unit, chat, email))
    return agency + heads


# --------------------------------------------------------------------------- words


@lru_cache(maxsize=8192)
def _decimal(value: float, pattern: str, language: str) -> str:
    """A number as the reader writes it: babel takes 50 µs a number, and a digest of
    100,000 people writes a few hundred thousand numbers of a few thousand values."""
    return format_decimal(value, format=pattern, locale=language)


def percent(value: float | None, language: str) -> str:
    """``66,7%`` (one decimal, the reader's separator); ``–`` when nothing was due.  A
    percentage short of the target never shows as 100%."""
    if value is None:
        return "–"
    shown = round(value, 1)
    if shown >= TARGET > value:
        shown = math.floor(value * 10) / 10
    return f"{_decimal(shown, '#,##0.#', language)}%"


def points(change: float | None, language: str) -> str:
    """A change in percentage points with its sign: ``+16,7``, ``-5``, ``±0``."""
    if change is None:
        return ""
    shown = round(change, 1)
    if shown == 0:
        return "±0"
    sign = "+" if shown > 0 else "-"
    return sign + _decimal(abs(shown), "#,##0.#", language)


def _row(line: Line, name: str, code: str, language: str) -> layout.Row:
    return layout.Row(
        name=name,
        code=code,
        percent=percent(line.now.percent, language),
        on_time=line.now.on_time,
        due=line.now.due,
        before=percent(line.week_ago.percent, language),
        change=points(line.change, language),
        met=line.now.met,
        new_on_time=line.newly_due.on_time,
        new_due=line.newly_due.due,
    )


@dataclass(frozen=True)
class _Names:
    """How the digest names people, units, rules and next steps in the reader's language:
    the one place the sections of :func:`view` take their words from."""

    people: dict[str, Member]
    catalog: Catalog
    language: str
    tz: tzinfo | None
    named: int | None = None  # at most this many people named under an item; None: all

    def entries(self, keys: Sequence[str]) -> tuple[layout.Entry, ...]:
        return tuple(self.entry(key) for key in keys[: self.named])

    def unit(self, unit: str) -> str:
        return unit or _WORDS[self.language]["no_unit"]

    def person(self, key: str) -> str:
        member = self.people.get(key)
        return member.name if member else key

    def entry(self, key: str, note: str = "", new: bool = False, level: str = "") -> layout.Entry:
        member = self.people.get(key)
        unit = self.unit(member.unit) if member else ""
        return layout.Entry(self.person(key), unit, note, new, level)

    def rule(self, code: str) -> str:
        return rule_name(self.catalog.rules[code], self.language)

    def period(self, code: str, key: str) -> str:
        return period_name(self.catalog.rules[code], key, self.language)

    def next_step(self, item: Overdue) -> str:
        if item.next_step is None or item.next_at is None:
            return ""
        when = long_date(item.next_at.astimezone(self.tz).date(), self.language)
        return f"{item.next_step}, {when}"


def view(
    digest: Digest,
    catalog: Catalog,
    language: str,
    named: int | None = None,
    per_person: bool = True,
) -> layout.DigestView:
    """The digest in the reader's language, ready for ``notifications.digest``.

    A page that shows the figures and a few names (the console's home) asks for no more:
    ``named`` people at most under each overdue or upcoming item (its ``count`` says how
    many there are), and not ``per_person``: no one's own score, no attachment's rows.  At
    100,000 people those are most of the words, and a page kept in memory holds them.
    """
    tz = digest.now.tzinfo
    names = _Names({m.key: m for m in digest.members}, catalog, language, tz, named)
    persons = _persons(digest, names) if per_person else ()
    local = digest.now.astimezone(tz)
    return layout.DigestView(
        language=language,
        words=PAGE[language],
        scope=digest.unit or "",
        date=long_date(local.date(), language),
        day=local.date().isoformat(),
        time=clock(local, language),
        week_ago=long_date(digest.week_ago.astimezone(tz).date(), language),
        total=_row(digest.total, "", "", language),
        units=tuple(_row(line, names.unit(line.name), "", language) for line in digest.units),
        rules=tuple(
            _row(line, names.rule(line.name), line.name, language) for line in digest.by_rule
        ),
        overdue=_overdue_groups(digest, names),
        overdue_count=digest.owed,
        new_overdue_count=digest.newly_owed,
        upcoming=_upcoming_groups(digest, names),
        done=_done_groups(digest, names),
        done_count=len(digest.newly_done),
        people=persons,
        behind=_behind(digest, persons) if per_person else (),
        rows=_csv_rows(digest, catalog, language) if per_person else (),
        measures=tuple(_measure_line(item, names) for item in digest.measures),
        trend=_trend(digest, language),
    )


def _trend(digest: Digest, language: str) -> layout.Trend:
    """The weekly trend in the reader's words: each week numbered from the one holding
    1 January (ISO numbers would call it week 53 of last year in some years), and where
    each month begins along the year's weeks."""
    first = date(digest.year, 1, 1)
    start = first - timedelta(days=first.weekday())
    slots = (date(digest.year, 12, 31) - start).days // 7 + 1
    months = get_month_names("abbreviated", locale=language)
    ticks = tuple(((date(digest.year, m, 1) - start).days / 7, months[m]) for m in range(1, 13))
    week = PAGE[language]["chart_week"]
    points = tuple(
        layout.Point(
            week.format(week=number), rate.percent, percent(rate.percent, language), rate.met
        )
        for number, (_, rate) in enumerate(digest.trend, start=1)
    )
    return layout.Trend(points, slots, ticks)


def _measure_line(item: Measured, names: _Names) -> str:
    """ "Serapan Anggaran terhadap SPD Februari 2025: 87,5%, di bawah target (target 90%)",
    or that the value is not recorded yet."""
    language = names.language
    rule = names.catalog.rules[item.rule]
    said = {"rule": names.rule(item.rule), "period": names.period(item.rule, item.period)}
    said["target"] = measure(rule.target or 0.0, rule, language)
    page = PAGE[language]
    if item.value is None:
        return page["measure_missing"].format(**said)
    status = STATUS[language][item.status].lower()
    return page["measure_value"].format(
        value=measure(item.value, rule, language), status=status, **said
    )


def _overdue_groups(digest: Digest, names: _Names) -> tuple[layout.Group, ...]:
    """The overdue items, one group per rule and period, with how far they were escalated."""
    overdue: dict[tuple[str, str], list[Overdue]] = {}
    for item in digest.overdue:
        overdue.setdefault((item.rule, item.period), []).append(item)
    groups = []
    for (rule, period), items in overdue.items():
        # The level most of them reached speaks for the group; the others say their own.
        levels = Counter(item.level for item in items)
        level = max(levels, key=lambda lv: (levels[lv], LEVELS.index(lv)))
        groups.append(
            layout.Group(
                code=rule,
                rule=names.rule(rule),
                period=names.period(rule, period),
                due=long_date(items[0].due, names.language),
                days=items[0].days_late,
                entries=tuple(
                    names.entry(
                        i.employee,
                        new=i.new,
                        level="" if i.level is level else i.level.value,
                    )
                    for i in items[: names.named]
                ),
                count=len(items),
                level=level.value,
                next_step=names.next_step(items[0]),
                new=sum(i.new for i in items),
            )
        )
    return tuple(groups)


def _upcoming_groups(digest: Digest, names: _Names) -> tuple[layout.Group, ...]:
    """The deadlines ahead, each with who has not submitted and who waits for verification."""
    return tuple(
        layout.Group(
            code=item.rule,
            rule=names.rule(item.rule),
            period=names.period(item.rule, item.period),
            due=long_date(item.due, names.language),
            days=item.days_left,
            entries=names.entries(item.outstanding),
            waiting=names.entries(item.unverified),
            count=len(item.outstanding),
            done=len(item.submitted),
            total=len(item.outstanding) + len(item.unverified) + len(item.submitted),
        )
        for item in digest.upcoming
    )


def _done_groups(digest: Digest, names: _Names) -> tuple[layout.Group, ...]:
    """What was settled this week, one group per rule and period, each entry with its status."""
    language = names.language
    done: dict[tuple[str, str], list[layout.Entry]] = {}
    for settled in digest.newly_done:
        note = STATUS[language][settled.status]
        if settled.status is Status.LATE:
            note = _WORDS[language]["late"].format(days=settled.days_late or 0)
        done.setdefault((settled.rule, settled.period), []).append(
            names.entry(settled.employee, note)
        )
    return tuple(
        layout.Group(
            code=rule,
            rule=names.rule(rule),
            period=names.period(rule, period),
            due="",
            days=0,
            entries=tuple(entries),
        )
        for (rule, period), entries in done.items()
    )


def _persons(digest: Digest, names: _Names) -> tuple[layout.Person, ...]:
    """Each person's achievement this year and a week ago."""
    language = names.language
    return tuple(
        layout.Person(
            name=names.person(score.employee),
            unit=names.unit(names.people[score.employee].unit),
            percent=percent(score.now.percent, language),
            on_time=score.now.on_time,
            due=score.now.due,
            before=percent(score.week_ago.percent, language),
            met=score.now.met,
        )
        for score in digest.people
    )


def _behind(digest: Digest, persons: Sequence[layout.Person]) -> tuple[layout.Person, ...]:
    """The people short of the target, the furthest behind first (``persons`` is in the
    order of ``digest.people``)."""
    ranked = sorted(
        (
            (score.now.on_time / score.now.due, index)
            for index, score in enumerate(digest.people)
            if score.now.due and not score.now.met
        ),
    )
    return tuple(persons[index] for _, index in ranked)


def _csv_rows(digest: Digest, catalog: Catalog, language: str) -> tuple[tuple[str, ...], ...]:
    """One row per person × rule: the headline status and the year's achievement."""
    people = {m.key: m for m in digest.members}
    rates: dict[tuple[str, str], Rate] = {
        (score.employee, code): rate for score in digest.people for code, rate in score.rules
    }
    tz = digest.now.tzinfo
    rows = []
    for cell in digest.cells:
        member = people[cell.employee]
        occ = cell.occurrence
        rate = rates.get((cell.employee, cell.rule), Rate())
        share = rate.percent
        rows.append(
            (
                member.unit,
                member.key,
                member.name,
                cell.rule,
                rule_name(catalog.rules[cell.rule], language),
                cell.period,
                period_name(catalog.rules[cell.rule], cell.period, language),
                occ.due.isoformat() if occ.due else "",
                cell.status.value,
                STATUS[language][cell.status],
                "" if cell.days_late is None else str(cell.days_late),
                f"{cell.submitted_at.astimezone(tz):%Y-%m-%d %H:%M}" if cell.submitted_at else "",
                str(rate.on_time),
                str(rate.due),
                # the reader's decimal mark: Excel set for Indonesia reads 66.7 as text
                "" if share is None else _decimal(share, "0.0", language),
            )
        )
    return tuple(rows)


def csv_text(shown: layout.DigestView) -> str:
    """The CSV attachment (also ``digest --format csv``): a header in the reader's language
    and :func:`_csv_rows`, through the one CSV writer, so a name never runs as a formula."""
    return sheets.csv_text(layout.CSV_COLUMNS[shown.language], shown.rows)


# --------------------------------------------------------------------------- output


def _rate(rate: Rate) -> dict[str, Any]:
    share = rate.percent
    return {
        "on_time": rate.on_time,
        "due": rate.due,
        "percent": None if share is None else round(share, 1),
    }


def _line(line: Line) -> dict[str, Any]:
    change = line.change
    return {
        **_rate(line.now),
        "met": line.now.met,
        "week_ago": _rate(line.week_ago),
        "change": None if change is None else round(change, 1),
        "newly_due": _rate(line.newly_due),
    }


def as_json(digest: Digest, catalog: Catalog, language: str = "id") -> dict[str, Any]:
    """The digest for scripts: keys, codes and ISO dates, names alongside keys."""
    people = {m.key: m for m in digest.members}

    def who(key: str) -> dict[str, str]:
        member = people.get(key)
        return {"key": key, "name": member.name if member else key}

    return {
        "as_of": digest.now.isoformat(),
        "week_ago": digest.week_ago.isoformat(),
        "year": digest.year,
        "unit": digest.unit,
        "target": TARGET,
        "total": _line(digest.total),
        "units": [{"unit": line.name, **_line(line)} for line in digest.units],
        "rules": [
            {"rule": line.name, "name": rule_name(catalog.rules[line.name], language)} | _line(line)
            for line in digest.by_rule
        ],
        "overdue": [
            {
                **who(item.employee),
                "unit": people[item.employee].unit,
                "rule": item.rule,
                "period": item.period,
                "due": item.due.isoformat(),
                "days_late": item.days_late,
                "steps": list(item.steps),
                "told": list(item.told),
                "level": item.level.value,
                "next_step": item.next_step,
                "next_at": item.next_at.isoformat() if item.next_at else None,
                "new": item.new,
            }
            for item in digest.overdue
        ],
        "upcoming": [
            {
                "rule": item.rule,
                "period": item.period,
                "due": item.due.isoformat(),
                "days_left": item.days_left,
                "outstanding": [who(key) for key in item.outstanding],
                "unverified": [who(key) for key in item.unverified],
                "submitted": [who(key) for key in item.submitted],
            }
            for item in digest.upcoming
        ],
        "newly_done": [
            {
                **who(item.employee),
                "rule": item.rule,
                "period": item.period,
                "due": item.due.isoformat() if item.due else None,
                "status": item.status.value,
                "days_late": item.days_late,
                "submitted_at": item.submitted_at.isoformat() if item.submitted_at else None,
            }
            for item in digest.newly_done
        ],
        "people": [
            {
                **who(score.employee),
                "unit": people[score.employee].unit,
                **_rate(score.now),
                "met": score.now.met,
                "week_ago": _rate(score.week_ago),
                "rules": {code: _rate(rate) for code, rate in score.rules},
            }
            for score in digest.people
        ],
        "measures": [
            {
                "rule": item.rule,
                "period": item.period,
                "due": item.due.isoformat(),
                "status": item.status.value,
                "value": item.value,
                "target": catalog.rules[item.rule].target,
            }
            for item in digest.measures
        ],
    }


class Composed(NamedTuple):
    """One recipient's digest, rendered: what the service puts in the outbox.  ``key`` is
    unique per recipient, scope and ISO week, so a digest is queued once a week."""

    key: str
    recipient: Recipient
    subject: str
    text: str
    html: str
    csv: bytes
    filename: str
    pictures: tuple[layout.Picture, ...] = ()  # the charts, shown in ``html`` by cid


def pictures(shown: layout.DigestView) -> tuple[layout.Picture, ...]:
    """The charts the console draws as SVG, painted as PNG for the e-mail: per unit, and
    the weeks of the year."""
    found = []
    for name, chart in (("units", charts.units(shown)), ("trend", charts.trend(shown))):
        cid = f"{name}-{shown.day}@tenggat"
        found.append(layout.Picture(cid, png(chart), chart.alt, chart.width, chart.height))
    return tuple(found)


def compose(digest: Digest, recipient: Recipient, catalog: Catalog, language: str) -> Composed:
    """``digest`` rendered for ``recipient``: compact text (Telegram and the e-mail's plain
    part), HTML tables with the charts as pictures, and the CSV attachment."""
    shown = view(digest, catalog, language)
    painted = pictures(shown)
    return Composed(
        key=outbox.digest_key(iso_week(digest.now), digest.unit, recipient.key),
        recipient=recipient,
        subject=layout.subject(shown),
        text=layout.render_text(shown),
        html=layout.render_html(shown, painted),
        csv=csv_text(shown).encode("utf-8"),  # BOM included: Excel reads the names right
        filename=layout.csv_filename(shown),
        pictures=painted,
    )


def weekly(
    config: Config,
    db: Database,
    now: datetime,
    unit_heads: bool | None = None,
    schedule: Schedule | None = None,
) -> list[Composed]:
    """Every digest due at ``now``, one per recipient, in the configured language: the
    agency's for the Secretary, and with ``unit_heads`` (default: the configuration's) each
    unit's for its heads.  Each scope is evaluated once, however many read it."""
    heads = config.settings.digest.unit_heads if unit_heads is None else unit_heads
    language = config.settings.service.language
    schedule = schedule or config.schedule()
    built: dict[str | None, Digest] = {}
    composed = []
    for recipient in recipients(db, heads):
        if recipient.unit not in built:
            built[recipient.unit] = build(config, db, now, recipient.unit, schedule)
        composed.append(compose(built[recipient.unit], recipient, config.catalog, language))
    return composed


def delivery_note(config: Config, db: Database, unit: str | None, language: str) -> str:
    """One line on who the running service sends this digest to, and when."""
    words = _WORDS[language]
    chosen = config.settings.digest
    if unit is not None and not chosen.unit_heads:
        return words["no_heads"]
    names = [r.name for r in recipients(db, chosen.unit_heads) if r.unit == unit]
    if not names:
        return words["nobody"] if unit is None else words["no_head"]
    weekday = get_day_names("wide", locale=language)[chosen.day_number]
    zone = ZoneInfo(config.settings.service.timezone)
    when = clock(datetime.combine(date(2025, 1, 6), chosen.time, tzinfo=zone), language)
    return words["delivery"].format(weekday=weekday, time=when, names="; ".join(names))
