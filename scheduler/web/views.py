"""What the console's pages show, from the computations the digest and `tenggat status`
already make: the digest (`scheduler.reports.digest`) for a home's on-time rates, trend,
overdue items, next deadlines and its people × rules grid (the digest's headline cells),
and the status matrix (`scheduler.reports.status`) for a person's obligations.  Nothing is
evaluated a second way.  A home is kept between requests by `scheduler.web.homes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy import select

from notifications import charts
from rules.evaluate import Status, default_window
from scheduler.catalog import Words
from scheduler.memory import paused_gc
from scheduler.reports import digest, status
from scheduler.service import planning
from scheduler.store import evidence, models, records, submissions
from scheduler.words import STATUS, clock, long_date, period_name, rule_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from notifications.digest import DigestView
    from rules.digest import Digest
    from rules.evaluate import OccurrenceStatus as Evaluated
    from scheduler.config import Config
    from scheduler.store.db import Database
    from scheduler.store.evidence import Listed

WORDS = Words("web")
_BOT = Words("bot")  # the bot's words for a photo or a document handed in
GRID_PEOPLE = 300  # rows of the grid on one page: a bigger scope is read unit by unit
GROUP_NAMES = 25  # people named under one overdue item on a home; the rest are counted


def moment(value: datetime, language: str) -> str:
    """``Senin, 3 Maret 2025 09.00 WITA``: a moment with its zone."""
    return f"{long_date(value.date(), language)} {clock(value, language)}"


def recorders(session: Session, marks: Iterable[str]) -> dict[str, str]:
    """Who recorded, as people read it: a write from the console is kept as ``web:<NIP>``,
    and the Secretary reading a page wants the name of who signed in, not an 18-digit NIP.
    Other marks (``cli:<user>``, ``telegram:<chat>``) and a key no longer on the roster
    stay as they are."""
    keys = {mark[len("web:") :] for mark in marks if mark.startswith("web:")}
    if not keys:
        return {}
    found = session.execute(
        select(models.Employee.key, models.Employee.name).where(models.Employee.key.in_(keys))
    )
    return {f"web:{key}": name for key, name in found}


def evidence_shown(said: str, language: str) -> str:
    """Evidence as a page shows it: a file handed in through the console or the bot by its
    name (its download link stands beside it), never the ``file:`` mark or a Telegram file
    reference, which mean nothing to a reader."""
    bot = _BOT[language]
    if said.startswith("file:"):
        return said[len("file:") :]
    if said.startswith("telegram-document:"):
        return bot["evidence_document"].format(name=said.partition(" ")[2]).strip()
    if said.startswith("telegram-photo:"):
        caption = said.partition(" ")[2]
        return f"{bot['evidence_photo']} — {caption}" if caption else bot["evidence_photo"]
    return said


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def anchor(code: str, period: str) -> str:
    """The id of an item's row on a person's page, ``SKP-2025``, that a cell of the home's
    grid links to (``/employees/KEY#SKP-2025``): a tap shows that item, highlighted, with
    no script.  Letters, digits, ``_`` and ``-`` only, whatever a catalog's codes hold."""
    return _UNSAFE.sub("-", f"{code}-{period}")


@dataclass(frozen=True)
class Cell:
    status: str  # the Status value: the colour class
    detail: str  # what the cell says to a screen reader and on hover
    anchor: str  # its row on the person's page


@dataclass(frozen=True)
class GridRow:
    key: str
    name: str
    unit: str
    cells: tuple[Cell | None, ...]  # one per code; None: not carried


@dataclass(frozen=True)
class Home:
    scope: str
    as_of: str
    chart: Markup  # on time per unit
    trend: Markup  # the year's weeks
    digest: DigestView
    rules: tuple[tuple[str, str], ...]  # the grid's columns: (code, its rule's name)
    grid: tuple[GridRow, ...]
    more: int  # people in scope beyond the grid's rows
    legend: tuple[tuple[str, str], ...]  # (status, its word)


def home(
    config: Config, db: Database, now: datetime, unit: str | None, language: str
) -> tuple[Home, datetime]:
    """The home of the agency (``unit`` None) or of one unit, and the instant until which it
    holds unless the records change (`scheduler.service.planning.holds_until`).

    One evaluation serves it all: the digest's at ``now``, without the week before (the
    page compares nothing), whose headline cells are the grid's; only what the page shows
    is put into words (a few names under each item, no one's own score).
    """
    words = WORDS[language]
    schedule = config.schedule()
    with paused_gc():
        with db.read() as session:
            unit, snap = digest.scope(session, config, now, unit)
        found = digest.from_snapshot(config, snap, now, unit, schedule, week_before=False)
        shown = digest.view(found, config.catalog, language, GROUP_NAMES, per_person=False)
        until = planning.holds_until(schedule, now, snap.submissions)
    # on the agency's home, a unit's name leads to its page
    links = [
        f"/units/{quote(line.name, safe='')}" if line.name and not unit else ""
        for line in found.units
    ]
    chart = Markup(charts.svg(charts.units(shown, links)))
    trend = Markup(charts.svg(charts.trend(shown)))
    legend = tuple((s.value, STATUS[language][s]) for s in Status)
    scope = words["unit_scope"].format(unit=unit) if unit else words["agency"]
    page = Home(
        scope,
        as_of(now, language),
        chart,
        trend,
        shown,
        tuple((code, rule_name(config.catalog.rules[code], language)) for code in found.rules),
        _grid(config, found, language),
        max(0, len(found.members) - GRID_PEOPLE),
        legend,
    )
    return page, until


def as_of(now: datetime, language: str, fresh: bool = True) -> str:
    """``Keadaan Senin, 3 Maret 2025 pukul 09.00 WITA``: the moment a home's figures stand
    at, and for figures of a moment ago (``fresh`` False) that newer ones are coming."""
    words = WORDS[language]
    said = words["as_of"].format(date=long_date(now.date(), language), time=clock(now, language))
    return said if fresh else f"{said} {words['as_of_refreshing']}"


def _grid(config: Config, found: Digest, language: str) -> tuple[GridRow, ...]:
    """The first ``GRID_PEOPLE`` people of the digest (by unit and name) × its rules, from
    its headline cells, which come in the same order."""
    words, said = WORDS[language], STATUS[language]
    shown = found.members[:GRID_PEOPLE]
    wanted = {member.key for member in shown}
    rows: dict[str, dict[str, Evaluated]] = {}
    for headline in found.cells:
        if headline.employee not in wanted:
            break  # the cells follow the members: the rest are beyond the grid
        rows.setdefault(headline.employee, {})[headline.rule] = headline
    grid = []
    for person in shown:
        row = rows.get(person.key, {})
        cells: list[Cell | None] = []
        for code in found.rules:
            item = row.get(code)
            if item is None:
                cells.append(None)
                continue
            rule = config.catalog.rules[code]
            detail = (
                f"{rule_name(rule, language)} {period_name(rule, item.occurrence.period, language)}"
                f": {said[item.status]}"
            )
            if item.occurrence.due:
                detail += f" ({words['due']} {long_date(item.occurrence.due, language)})"
            if item.days_late:
                detail += f", {words['days_late'].format(days=item.days_late)}"
            cells.append(Cell(item.status.value, detail, anchor(code, item.occurrence.period)))
        grid.append(GridRow(person.key, person.name, person.unit, tuple(cells)))
    return tuple(grid)


@dataclass(frozen=True)
class Line:
    rule: str
    period: str
    due: str
    status: str  # the Status value
    status_word: str
    days_late: str
    submitted: str
    evidence: str
    recorded_by: str
    code: str = ""  # the rule's code and the period's key, as a form names the item
    period_key: str = ""
    files: tuple[Listed, ...] = ()  # evidence files handed in through the console

    @property
    def anchor(self) -> str:
        return anchor(self.code, self.period_key)


@dataclass(frozen=True)
class Achievement:
    rule: str
    percent: str


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    unit: str
    position: str
    superior: str
    # by the year each is due in, this year first, then last year; then, under None, what
    # has no deadline yet (waiting for its event: a PK waits for its year's APBD)
    years: tuple[tuple[int | None, tuple[Line, ...]], ...]
    achievement: tuple[Achievement, ...]
    overall: str


def obligations(
    config: Config, session: Session, now: datetime, key: str
) -> tuple[records.Snapshot, status.Matrix, list[Evaluated]]:
    """One person's records, their matrix and their obligations of this year and last (by
    the year each is due in), soonest due first: what their page lists and what the
    admin's desk may record for them."""
    snap = records.snapshot(session, config.catalog, since_year=now.year - 1, key=key)
    schedule = config.schedule()
    today = now.astimezone(schedule.calendar.tz).date()
    window = (date(now.year - 1, 1, 1), default_window(today)[1])  # last year's in full
    matrix = status.build(schedule, snap, now, detail=True, window=window)
    years = (now.year, now.year - 1)
    items = sorted(
        (
            s
            for s in matrix.evaluation.statuses
            if s.employee == key and (s.occurrence.due or now.date()).year in years
        ),
        key=lambda s: (s.occurrence.due or now.date(), s.occurrence.rule),
    )
    return snap, matrix, items


def late(item: Evaluated, language: str) -> str:
    """The days late of a person's line: an item still open past its deadline is late by
    more every day, and says so; a late submission's count is settled."""
    words = WORDS[language]
    if not item.days_late:
        return words["none"]
    if item.status is Status.OVERDUE:
        return words["days_so_far"].format(days=item.days_late)
    return str(item.days_late)


def person(config: Config, db: Database, now: datetime, key: str, language: str) -> Person:
    """One person's obligations this year and last, and their IKI achievement."""
    catalog = config.catalog
    said = STATUS[language]
    none = WORDS[language]["none"]
    with db.read() as session:
        snap, matrix, items = obligations(config, session, now, key)
        info = snap.employees[key]
        employee = session.scalars(select(models.Employee).where(models.Employee.key == key)).one()
        # The snapshot holds this person alone: their superior's name is read apart.
        boss = (
            session.scalar(select(models.Employee.name).where(models.Employee.key == info.superior))
            if info.superior
            else None
        )
        files = evidence.listed(session, employee.id)
        by_year: dict[int | None, list[Line]] = {now.year: [], now.year - 1: [], None: []}
        # their own record, else the one that serves them (their unit's, the agency's)
        records_of = submissions.serving(
            session,
            employee,
            [(catalog.rules[s.rule], s.period) for s in items if s.submitted_at is not None],
        )
        names = recorders(session, [row.recorded_by for row in records_of.values()])
        for item in items:
            occ = item.occurrence
            year = occ.due.year if occ.due else None
            rule = catalog.rules[occ.rule]
            row = records_of.get((occ.rule, occ.period)) if item.submitted_at else None
            by_year[year].append(
                Line(
                    rule=f"{occ.rule}: {rule_name(rule, language)}",
                    period=period_name(rule, occ.period, language),
                    due=long_date(occ.due, language) if occ.due else none,
                    status=item.status.value,
                    status_word=said[item.status],
                    days_late=late(item, language),
                    submitted=moment(item.submitted_at.astimezone(now.tzinfo), language)
                    if item.submitted_at
                    else none,
                    evidence=evidence_shown(row.evidence, language)
                    if row and row.evidence
                    else none,
                    recorded_by=f"{names.get(row.recorded_by, row.recorded_by)} ({row.source})"
                    if row
                    else none,
                    code=occ.rule,
                    period_key=occ.period,
                    files=tuple(files.get((occ.rule, occ.period), ())),
                )
            )
    achievement = tuple(
        Achievement(
            f"{code}: {rule_name(catalog.rules[code], language)}", digest.percent(value, language)
        )
        for code, value in sorted(matrix.achievement.get(key, {}).items())
    )
    return Person(
        key=key,
        name=info.name,
        unit=info.unit or WORDS[language]["no_unit"],
        position=info.position or none,
        superior=boss or none,
        years=tuple(
            (year, tuple(lines)) for year, lines in by_year.items() if lines or year is not None
        ),
        achievement=achievement,
        overall=digest.percent(matrix.overall.get(key), language),
    )
