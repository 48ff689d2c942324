"""The roster sheet: every employee as one row, out for the admin's review and back in.

:func:`load_roster` reads the stored roster as :class:`Stored` rows and :func:`roster_rows`
lays them out for ``tenggat roster export``; :mod:`scheduler.roster_sheet_check` turns the
corrected sheet into :class:`RosterRow` objects, and :func:`apply_roster` writes those.
Not to be confused with :mod:`scheduler.roster`, which writes an IKI import into the roster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from scheduler import models

ROSTER_COLUMNS = (
    "key",
    "nip",
    "name",
    "position",
    "unit",
    "superior",
    "roles",
    "rules",
    "telegram_chat_id",
    "email",
    "active",
    "review",
)
ROSTER_REQUIRED = frozenset({"key", "nip", "name", "unit", "superior", "roles", "rules"})


@dataclass(frozen=True)
class Stored:
    """An employee as the roster sheet shows it; ``superior`` is the superior's key."""

    key: str
    nip: str | None
    name: str
    position: str
    unit: str
    superior: str | None
    roles: frozenset[str]
    rules: frozenset[str]
    telegram_chat_id: str | None
    email: str | None
    active: bool
    review: str

    def cells(self) -> list[str]:
        return [
            self.key,
            self.nip or "",
            self.name,
            self.position,
            self.unit,
            self.superior or "",
            " ".join(sorted(self.roles)),
            " ".join(sorted(self.rules)),
            self.telegram_chat_id or "",
            self.email or "",
            "yes" if self.active else "no",
            self.review,
        ]


def load_roster(session: Session) -> dict[str, Stored]:
    """Every employee (active or not) with unit, superior and rule codes: two queries."""
    employee, boss = models.Employee, aliased(models.Employee)
    codes: dict[int, set[str]] = defaultdict(set)
    for employee_id, code in session.execute(
        select(models.Assignment.employee_id, models.Assignment.rule_code)
    ):
        codes[employee_id].add(code)
    query = (
        select(
            employee.id,
            employee.key,
            employee.nip,
            employee.name,
            employee.position,
            models.Unit.name,
            boss.key,
            employee.roles,
            employee.telegram_chat_id,
            employee.email,
            employee.active,
            employee.review,
        )
        .outerjoin(models.Unit, models.Unit.id == employee.unit_id)
        .outerjoin(boss, boss.id == employee.superior_id)
    )
    stored: dict[str, Stored] = {}
    for row in session.execute(query):
        stored[row[1]] = Stored(
            key=row[1],
            nip=row[2],
            name=row[3],
            position=row[4] or "",
            unit=row[5] or "",
            superior=row[6],
            roles=frozenset(row[7].split()),
            rules=frozenset(codes.get(row[0], ())),
            telegram_chat_id=row[8] or None,
            email=row[9] or None,
            active=bool(row[10]),
            review=row[11] or "",
        )
    return stored


def roster_rows(stored: Mapping[str, Stored]) -> list[list[str]]:
    """The roster sheet: by unit (employees without one last), then name."""
    ordered = sorted(
        stored.values(),
        key=lambda s: (s.unit == "", s.unit.casefold(), s.name.casefold(), s.key),
    )
    return [person.cells() for person in ordered]


@dataclass
class RosterRow:
    """A good row: the employee ``ident`` (their key today, or the new key) as it will be."""

    number: int
    ident: str
    before: Stored | None
    after: Stored
    superior_ref: str = ""

    @property
    def changed(self) -> list[str]:
        """The columns that differ from the stored employee; empty for a new one."""
        if self.before is None:
            return []
        return [
            name
            for name in Stored.__dataclass_fields__
            if getattr(self.before, name) != getattr(self.after, name)
        ]


@dataclass
class RosterOutcome:
    created: list[RosterRow] = field(default_factory=list)
    updated: list[RosterRow] = field(default_factory=list)
    unchanged: list[RosterRow] = field(default_factory=list)


def apply_roster(session: Session, rows: Sequence[RosterRow], now: datetime) -> RosterOutcome:
    """Write checked rows: a handful of queries, whatever the number of employees."""
    from scheduler.records import units_by_name

    outcome = RosterOutcome()
    for row in rows:
        if row.before is None:
            outcome.created.append(row)
        elif row.changed:
            outcome.updated.append(row)
        else:
            outcome.unchanged.append(row)
    writing = outcome.created + outcome.updated
    if not writing:
        return outcome
    wanted = {row.ident for row in writing} | {
        row.after.superior for row in writing if row.after.superior
    }
    employees = {
        e.key: e
        for e in session.scalars(select(models.Employee).where(models.Employee.key.in_(wanted)))
    }
    units = units_by_name(session, (row.after.unit for row in writing))
    for row in outcome.updated:  # a chat moving between two rows is freed first: the
        if row.before and row.before.telegram_chat_id != row.after.telegram_chat_id:
            employees[row.ident].telegram_chat_id = None  # index is unique at every UPDATE
    session.flush()
    for row in outcome.created:
        employee = models.Employee(key=row.after.key, superior_origin="iki", updated_at=now)
        session.add(employee)
        employees[row.ident] = employee
    for row in writing:
        employee, after = employees[row.ident], row.after
        if employee.key and employee.key != after.key and employee.key.startswith("TMP-"):
            employee.former_key = employee.key
        employee.key, employee.nip, employee.name = after.key, after.nip, after.name
        employee.position, employee.review = after.position, after.review
        employee.unit_id = units[after.unit].id if after.unit else None
        employee.roles = " ".join(sorted(after.roles))
        employee.telegram_chat_id, employee.email = after.telegram_chat_id, after.email
        employee.active = after.active
        employee.updated_at = now
    session.flush()
    for row in writing:
        before_boss = row.before.superior if row.before else None
        if row.after.superior != before_boss:
            employee = employees[row.ident]
            employee.superior_id = employees[row.after.superior].id if row.after.superior else None
            employee.superior_origin = "manual"
    ids = [employees[row.ident].id for row in writing]
    assigned: dict[int, dict[str, models.Assignment]] = defaultdict(dict)
    for assignment in session.scalars(
        select(models.Assignment).where(models.Assignment.employee_id.in_(ids))
    ):
        assigned[assignment.employee_id][assignment.rule_code] = assignment
    for row in writing:
        employee_id = employees[row.ident].id
        current = assigned.get(employee_id, {})
        for code, assignment in current.items():
            if code not in row.after.rules:
                session.delete(assignment)  # exemptions are kept: they name the period
        for code in sorted(row.after.rules - set(current)):
            session.add(models.Assignment(employee_id=employee_id, rule_code=code, origin="manual"))
    session.flush()
    return outcome
