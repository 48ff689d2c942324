"""Messages from templates: what a person is owed, in one letter, in their language.

The caller passes plain, already-worded items (dates written as people write them, rule
names in the person's language) and the words of the letter from the catalog (the
application's ``letter`` table), so this module only puts sentences together and the
templates only lay them out: one template per format, the same for every language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Item:
    """One line of a message: whose obligation, what, when, and how it stands."""

    kind: str  # reminder | due_today | overdue | escalation | verify | contact
    rule: str  # the rule's name
    period: str
    due: str  # e.g. "Jumat, 28 Februari 2025"
    days_late: int | None
    subject: str  # whose obligation (or contact) it is
    subject_key: str = ""  # their NIP or provisional key
    detail: str = ""  # for a contact: why it failed
    days_left: int | None = None  # a reminder: calendar days from its step to the due day
    measured: bool = False  # a value to record (SERAPAN), not a document to hand in


@dataclass(frozen=True)
class Letter:
    """Everything one person is told at once, with the words to tell it.

    ``title`` is how the language addresses them ("Bapak", "Ibu", "Bapak/Ibu"; "Mr", "Ms");
    ``words`` is the catalog's ``letter`` table in their language; ``sender`` signs it (the
    agency's secretariat, from the configuration); ``zone`` names the local time ("WITA")."""

    recipient: str
    title: str
    items: Sequence[Item]
    words: Mapping[str, str]
    sender: str
    zone: str


@dataclass(frozen=True)
class Section:
    """A part of a letter: a heading, then numbered lines, or numbered people each with
    their lines (a superior's staff), where the rest is found when there were too many to
    list (``more``), and what the reader is asked to do about them."""

    heading: str
    lines: tuple[str, ...] = ()
    people: tuple[tuple[str, tuple[str, ...]], ...] = ()
    request: str = ""
    more: str = ""


@cache
def templates() -> Environment:
    """The one Jinja2 environment of every message and digest, built once per process."""
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        undefined=StrictUndefined,  # a misspelt field fails loudly, not as an empty line
        # "message.html.j2" ends in .j2, so the HTML suffix must be listed with it: a plain
        # ["html"] never matched and left HTML unescaped.
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


TEXT, HTML, TELEGRAM = "message.txt.j2", "message.html.j2", "message.telegram.html.j2"
OWN = ("reminder", "due_today", "overdue")
# The most names a letter lists under one obligation (a phone screen): past that many staff,
# a superior's letter names obligations rather than people (`_by_rule`).
SCREEN = 8
# The most numbered lines one section of a letter lists too (obligations, staff's obligations,
# items awaiting verification, contacts); past them one line says how many more there are
# and where they are listed.  So a letter's size is bounded whatever a person is owed: the
# Secretary of 100,000 people reads one message, not thousands of lines in dozens of parts.
LINES = SCREEN
_T = TypeVar("_T")


def _say(words: Mapping[str, str], entry: str, /, **params: object) -> str:
    """A sentence of the letter, its blanks filled in."""
    return words[entry].format(**params)


def _line(item: Item, words: Mapping[str, str], zone: str) -> str:
    days = item.days_left if item.kind == "reminder" else item.days_late
    return _say(
        words,
        f"{item.kind}_value" if item.measured else item.kind,  # a value is filled in
        rule=item.rule,
        period=item.period,
        due=item.due,
        days=days if days is not None else "?",
        zone=zone,
        subject=item.subject,
        key=item.subject_key,
        detail=item.detail,
    )


def sections(letter: Letter) -> list[Section]:
    """The letter's parts in the order a recipient reads them: their own obligations, what
    their staff handed in and awaits their verification, their staff's overdue obligations
    (grouped by person, with a request to remind them), contacts to fix.  Each lists at
    most ``LINES`` and says how many more there are, and where to find them."""
    w, title = letter.words, letter.title
    own = [i for i in letter.items if i.kind in OWN]
    verify = [i for i in letter.items if i.kind == "verify"]
    team = [i for i in letter.items if i.kind == "escalation"]
    contacts = [i for i in letter.items if i.kind == "contact"]
    parts = []
    if own:
        lines, more = _first(own, w, letter.zone, "own_more")
        parts.append(Section(_say(w, "own", title=title), lines, more=more))
    if verify:
        lines, more = _first(verify, w, letter.zone, "verify_more")
        request = _say(w, "verify_request", title=title)
        heading = _say(w, "verify_heading", title=title)
        parts.append(Section(heading, lines, request=request, more=more))
    if team:
        people: dict[str, list[Item]] = {}
        for item in team:  # by key: two people may share a name, "(nama tidak terbaca)"
            people.setdefault(item.subject_key or item.subject, []).append(item)
        request, more = _say(w, "team_request", title=title), ""
        if len(people) > SCREEN:
            heading = _say(w, "team_by_rule", title=title)
            grouped, more = _cap(_by_rule(team, w), w, "team_more")
        else:
            heading = _say(w, "team", title=title)
            grouped = tuple(
                (items[0].subject, tuple(_line(i, w, letter.zone) for i in items))
                for items in people.values()
            )
        parts.append(Section(heading, people=grouped, request=request, more=more))
    if contacts:
        lines, more = _first(contacts, w, letter.zone, "contact_more")
        parts.append(Section(_say(w, "contact_heading"), lines, more=more))
    return parts


def _first(
    items: Sequence[Item], words: Mapping[str, str], zone: str, more: str
) -> tuple[tuple[str, ...], str]:
    """The lines of the first ``LINES`` items, and the sentence ``more`` saying how many
    are left out and where they are listed ("" when none is)."""
    shown, said = _cap(items, words, more)
    return tuple(_line(i, words, zone) for i in shown), said


def _cap(items: Sequence[_T], words: Mapping[str, str], more: str) -> tuple[tuple[_T, ...], str]:
    """The first ``LINES`` of ``items``, and the sentence ``more`` with how many are left."""
    rest = len(items) - LINES
    return tuple(items[:LINES]), _say(words, more, count=rest) if rest > 0 else ""


def _by_rule(
    team: Sequence[Item], words: Mapping[str, str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The staff's overdue items one line per obligation and period, with how many people
    owe it and at most ``SCREEN`` of their names: the Secretary reads what stands, and finds
    everyone in the weekly digest rather than in a message of three Telegram parts."""
    owing: dict[tuple[str, str], dict[str, Item]] = {}
    for item in team:
        owing.setdefault((item.rule, item.period), {})[item.subject_key or item.subject] = item
    grouped = []
    for (rule, period), people in owing.items():
        items = list(people.values())
        names = "; ".join(i.subject for i in items[:SCREEN])  # names hold commas
        rest = len(items) - SCREEN
        days = max((i.days_late for i in items if i.days_late is not None), default="?")
        line = _say(words, "escalation_group", rule=rule, period=period, due=items[0].due,
                    days=days, count=len(items))  # fmt: skip
        if rest > 0:
            names = _say(words, "names_more", names=names, count=rest)
        grouped.append((line, (names,)))
    return tuple(grouped)


def render(template: str, letter: Letter) -> str:
    """``message.txt.j2`` (plain text), ``message.html.j2`` (e-mail) or
    ``message.telegram.html.j2`` for one letter."""
    w, title = letter.words, letter.title
    own = [i for i in letter.items if i.kind in OWN]
    late = any(i.kind != "reminder" for i in own)
    closing = [_say(w, "request_late" if late else "request")] if own else []
    closing.append(_say(w, "thanks", title=title))
    page = templates().get_template(template)
    return page.render(
        salutation=_say(w, "salutation", title=title, name=letter.recipient),
        opening=w["opening"],
        sections=sections(letter),
        closing=closing,
        sender=letter.sender,
        automatic=w["automatic"],
    ).strip()


def subject(letter: Letter) -> str:
    return _say(letter.words, "subject", count=len(letter.items))
