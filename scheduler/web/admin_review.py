"""The review queue: the roster rows the IKI import flagged, and their fix in place.

A fix is the roster sheet's row of that person, as `tenggat roster import` would read it
with the unit, superior and rules the admin chose and the review column cleared: the same
checks (a rule the catalog does not know, a superior who loops back) and the same writer
(`scheduler.sheets.roster.apply_roster`, which marks a superior chosen by hand so that an
IKI re-import keeps it).  Nothing of the fix is typed as a NIP: the superior is picked by
name from a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from rules.catalog import Catalog
from scheduler.messages import say
from scheduler.sheets import roster as roster_sheet
from scheduler.sheets.roster_check import check_roster
from scheduler.sheets.table import Row, Table
from scheduler.store import models, records

PAGE = 25  # flagged people on one page of the queue
CHOICES = 300  # superiors offered in one list; a search finds the others
FOUND = 50  # people a search for a superior lists
_NOTE_END = re.compile(r"(?<=\d\)); ")  # a note ends with its place, "(L12)", "(hal. 2 baris 5)"
_LINE = re.compile(r"\(L(\d+)\)$")  # a text file's line, said as a line


@dataclass(frozen=True)
class Flagged:
    key: str
    name: str
    position: str
    unit: str
    superior: str  # the superior's key, "" for none
    superior_name: str
    rules: tuple[str, ...]
    reasons: tuple[str, ...]


def _flagged() -> ColumnElement[bool]:
    """Active, and flagged themselves or on one of their rules."""
    E, A = models.Employee, models.Assignment
    rule_flag = select(A.employee_id).where(A.review != "")
    return and_(E.active.is_(True), or_(E.review != "", E.id.in_(rule_flag)))


def count(session: Session) -> int:
    E = models.Employee
    return session.scalar(select(func.count()).select_from(E).where(_flagged())) or 0


def reasons(review: str, line: str) -> tuple[str, ...]:
    """The import's notes one by one, a text file's "(L12)" said as ``line`` ("baris 12")."""
    notes = _NOTE_END.split(review) if review else []
    return tuple(_LINE.sub(lambda m: f"({line.format(line=m.group(1))})", n) for n in notes)


def queue(session: Session, page: int, line: str) -> list[Flagged]:
    """One page of the flagged people, by unit (none first: the most to fix) and name;
    ``line`` says where a note stands in a text file ("baris {line}")."""
    E, A, boss = models.Employee, models.Assignment, aliased(models.Employee)
    query = (
        select(E.id, E.key, E.name, E.position, models.Unit.name, boss.key, boss.name, E.review)
        .outerjoin(models.Unit, models.Unit.id == E.unit_id)
        .outerjoin(boss, boss.id == E.superior_id)
        .where(_flagged())
        .order_by(models.Unit.name.is_not(None), models.Unit.name, E.name, E.id)
        .offset(page * PAGE)
        .limit(PAGE)
    )
    people = session.execute(query).all()
    ids = [row[0] for row in people]
    rules: dict[int, list[str]] = {i: [] for i in ids}
    notes: dict[int, list[str]] = {i: [] for i in ids}
    for employee_id, code, review in session.execute(
        select(A.employee_id, A.rule_code, A.review)
        .where(A.employee_id.in_(ids))
        .order_by(A.rule_code)
    ):
        rules[employee_id].append(code)
        if review:
            notes[employee_id].append(f"{code}: {review}")
    return [
        Flagged(
            key,
            name,
            position or "",
            unit or "",
            boss_key or "",
            boss_name or "",
            tuple(rules[i]),
            reasons(review, line) + tuple(notes[i]),
        )
        for i, key, name, position, unit, boss_key, boss_name, review in people
    ]


def units(session: Session) -> list[str]:
    return sorted(session.scalars(select(models.Unit.name)), key=str.casefold)


def superiors(session: Session, search: str = "") -> list[tuple[str, str, str]]:
    """(key, name, unit) of the people offered as a superior: those who lead (a unit
    head, the Secretary, or someone's superior already), or the people whose name holds
    ``search``."""
    E, below = models.Employee, aliased(models.Employee)
    query = (
        select(E.key, E.name, func.coalesce(models.Unit.name, ""))
        .outerjoin(models.Unit, models.Unit.id == E.unit_id)
        .where(E.active.is_(True))
        .order_by(E.name, E.key)
    )
    if search.strip():  # typed % and _ are letters here, not wildcards
        named = func.lower(E.name).contains(search.strip().lower(), autoescape=True)
        query = query.where(named).limit(FOUND)
    else:
        leads = or_(
            E.roles.contains("unit_head"),
            E.roles.contains("secretary"),
            E.id.in_(select(below.superior_id).where(below.superior_id.is_not(None))),
        )
        query = query.where(leads).limit(CHOICES)
    return [(key, name, unit) for key, name, unit in session.execute(query)]


class FixRefused(ValueError):
    """The fix cannot be written; ``sentences`` say why, in the admin's language."""

    def __init__(self, sentences: list[str]) -> None:
        super().__init__("; ".join(sentences))
        self.sentences = sentences


def fix(
    session: Session,
    catalog: Catalog,
    key: str,
    unit: str,
    superior: str,
    rules: list[str],
    now: datetime,
    language: str,
) -> str:
    """Write the admin's fix of ``key`` and clear their flags; what changed, in a few
    words (for the audit).  Refused as the roster sheet's row would be."""
    stored = roster_sheet.load_roster(session)
    person = stored.get(key)
    if person is None or not person.active:
        raise FixRefused([])
    if unit and unit not in units(session):  # the list offers only the units there are
        raise FixRefused([say("unknown_unit", language, unit=unit, hints="")])
    cells = {
        "key": person.key,
        "nip": person.nip or "",
        "name": person.name,
        "unit": unit,
        "superior": superior,
        "roles": " ".join(sorted(person.roles)),
        "rules": " ".join(rules),
        "review": "",
    }
    table = Table("-", tuple(cells), (Row(2, cells),))
    check = check_roster(table, stored, catalog)
    if check.problems:
        raise FixRefused([problem.text(language) for problem in check.problems])
    done = roster_sheet.apply_roster(session, check.rows, now)
    E, A = models.Employee, models.Assignment
    row = session.scalars(select(E).where(E.key == key)).one()
    # Confirmed by hand even where the import guessed the same one: a re-import keeps it.
    boss = check.rows[0].after.superior
    records.set_superior(
        row, session.scalars(select(E).where(E.key == boss)).one() if boss else None
    )
    session.execute(update(A).where(A.employee_id == row.id).values(review=""))
    changed = done.updated[0].describe() if done.updated else "review"
    return f"{changed}; superior={boss or '-'}"
