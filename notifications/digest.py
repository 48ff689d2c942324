"""The weekly digest laid out: compact text (Telegram, the e-mail's plain part), HTML tables
(the e-mail) and the CSV attachment's name and header (its cells are written by
``scheduler.sheets``, the one CSV writer).

Like ``render.py``, this module only lays out what the caller has already put into words:
dates as people write them, rule names and statuses in the reader's language, percentages
formatted, and the fixed wording itself (``DigestView.words``, from the catalog), so
``templates/digest.*.j2`` serve every language.  The text keeps
lines short and separates sections and groups by blank lines, so a channel that splits long
messages at line boundaries (Telegram: 4096 characters) splits it where it reads well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from notifications.render import templates


@dataclass(frozen=True)
class Row:
    """One line of a compliance table (a unit, a rule, or the whole scope)."""

    name: str  # the unit or rule as the reader knows it
    code: str  # a rule's code; "" for units and the total
    percent: str  # e.g. "66,7%", or "–" when nothing was due yet
    on_time: int
    due: int  # occurrences due so far this year
    before: str  # the percentage a week ago, or "–"
    change: str  # percentage points since, e.g. "+16,7", "−5", "±0"; "" when unknown
    met: bool  # the 100% target is met
    new_on_time: int = 0  # of ``new_due``, how many were on time
    new_due: int = 0  # items that reached their deadline since a week ago: why it changed


@dataclass(frozen=True)
class Entry:
    """A person in a group: their name and unit, an optional note (e.g. "Terlambat 3 hari"),
    whether they are new in the group since last week, and (overdue) how far their item went
    up the ladder when that differs from the group's ``level``."""

    name: str
    unit: str = ""
    note: str = ""
    new: bool = False
    level: str = ""


@dataclass(frozen=True)
class Group:
    """People under one occurrence: overdue, due soon, or handed in this week."""

    code: str
    rule: str  # the rule's name
    period: str
    due: str  # e.g. "Senin, 20 Januari 2025"
    days: int  # days late (overdue) or days left (upcoming); 0 otherwise
    entries: tuple[Entry, ...]
    level: str = ""  # overdue: none | employee | superior | secretary (how far most went up)
    new: int = 0  # overdue: entries new since last week
    next_step: str = ""  # overdue: e.g. "H+5, Senin, 10 Maret 2025"; "" when none is left
    waiting: tuple[Entry, ...] = ()  # upcoming: handed in, awaiting verification
    done: int = 0  # upcoming: carriers who handed it in
    total: int = 0  # upcoming: carriers (not exempt)
    count: int = 0  # overdue, upcoming: the people under it (``entries`` may name fewer)


@dataclass(frozen=True)
class Person:
    """One person's IKI achievement this year."""

    name: str
    unit: str
    percent: str
    on_time: int
    due: int  # occurrences due so far: 0 means nothing to score yet
    before: str
    met: bool


@dataclass(frozen=True)
class Point:
    """The year's on-time share as one week ended (None: nothing due yet)."""

    label: str  # the week, e.g. "minggu ke-10"
    percent: float | None
    shown: str  # e.g. "33,3%"
    met: bool


@dataclass(frozen=True)
class Trend:
    """The weeks so far of the year, out of ``slots`` weeks in all, and where each month
    begins (in weeks from the first week's Monday, its short name) for the chart's axis."""

    points: tuple[Point, ...] = ()
    slots: int = 53
    ticks: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class DigestView:
    """The digest in words, ready to lay out.  ``scope`` is "" for the whole agency, else
    the unit's name.  ``rows`` are the attachment's rows, one per person × rule."""

    language: str
    words: Mapping[str, str]  # the catalog's "digest_page" table in ``language``
    scope: str
    date: str  # e.g. "Senin, 3 Maret 2025"
    day: str  # the same in ISO form, e.g. "2025-03-03"
    time: str  # e.g. "07.30 WITA"
    week_ago: str  # the date a week before
    total: Row
    units: tuple[Row, ...]
    rules: tuple[Row, ...]
    overdue: tuple[Group, ...]
    overdue_count: int
    new_overdue_count: int
    upcoming: tuple[Group, ...]
    done: tuple[Group, ...]
    done_count: int
    people: tuple[Person, ...]  # everyone in scope, by unit and name
    behind: tuple[Person, ...]  # below the target, worst first
    rows: tuple[tuple[str, ...], ...] = field(default=())
    measures: tuple[str, ...] = field(default=())  # a measured indicator's value, in words
    trend: Trend = field(default=Trend())


class Picture(NamedTuple):
    """A chart painted for the e-mail: shown where the HTML says ``cid:<cid>``."""

    cid: str
    png: bytes
    alt: str
    width: int  # the size to show it at, in CSS pixels (the PNG has twice as many)
    height: int


# The attachment's columns, in the reader's language.
CSV_COLUMNS = {
    "id": (
        "unit", "nip", "nama", "kode", "kewajiban", "periode", "nama_periode", "batas_waktu",
        "kode_status",
        "status", "hari_terlambat", "disampaikan", "tepat_waktu", "sudah_sampai_batas_waktu",
        "ketepatan_waktu_persen",
    ),
    "en": (
        "unit", "nip", "name", "code", "rule", "period", "period_name", "due", "status_code",
        "status",
        "days_late", "submitted_at", "on_time", "due_so_far", "achievement_percent",
    ),
}  # fmt: skip

# How many names a text group lists before "and N more": the e-mail has them all.
TEXT_NAMES = 12
TEXT_PEOPLE = 40


def render_text(view: DigestView, names: int = TEXT_NAMES, people: int = TEXT_PEOPLE) -> str:
    """The compact text: at most ``names`` names per group and ``people`` people below the
    target, each cut list saying how many more there are."""
    template = templates().get_template("digest.txt.j2")
    return template.render(d=view, names=names, people=people).strip() + "\n"


def render_html(view: DigestView, pictures: Sequence[Picture] = ()) -> str:
    """The full digest as HTML tables, every value escaped; ``pictures`` (the charts per
    unit and of the weeks, in that order) shown above the tables by their Content-ID."""
    template = templates().get_template("digest.html.j2")
    return template.render(d=view, pictures=pictures).strip() + "\n"


def csv_filename(view: DigestView) -> str:
    """E.g. ``tenggat-digest-2025-03-03.csv``, or ``tenggat-digest-2025-03-03-sekretariat.csv``
    for one unit."""
    slug = re.sub(r"[^a-z0-9]+", "-", view.scope.lower()).strip("-")
    return f"tenggat-digest-{view.day}{'-' + slug if slug else ''}.csv"


def subject(view: DigestView) -> str:
    scope = f" ({view.scope})" if view.scope else ""
    return view.words["subject"].format(scope=scope, date=view.date)
