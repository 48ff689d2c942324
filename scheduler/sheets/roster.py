"""The roster sheet: every employee as one row, out for the admin's review and back in.

:func:`load_roster` reads the stored roster as :class:`Stored` rows and :func:`roster_rows`
lays them out for ``tenggat roster export``; :mod:`scheduler.sheets.roster_check` turns the
corrected sheet into :class:`RosterRow` objects, and :func:`apply_roster` writes those.
Not to be confused with :mod:`scheduler.iki.apply`, which writes an IKI import into the roster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session, aliased

from scheduler.store import models

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
# The stored column behind each cell, whose own length bounds it (see sheets.long_cells);
# the NIP is checked by its pattern, as it may be typed with spaces.
ROSTER_FIELDS = {
    "key": models.Employee.key,
    "name": models.Employee.name,
    "position": models.Employee.position,
    "unit": models.Unit.name,
    "superior": models.Employee.key,
    "roles": models.Employee.roles,
    "telegram_chat_id": models.Employee.telegram_chat_id,
    "email": models.Employee.email,
    "review": models.Employee.review,
}


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

    def describe(self) -> str:
        """The changed columns in a few words: "unit, superior, rules +SKP -LHKPN"."""
        assert self.before is not None
        parts = []
        for name in self.changed:
            if name == "rules":
                added = sorted(self.after.rules - self.before.rules)
                removed = sorted(self.before.rules - self.after.rules)
                codes = [f"+{c}" for c in added] + [f"-{c}" for c in removed]
                parts.append("rules " + " ".join(codes))
            else:
                parts.append(name)
        return ", ".join(parts)


@dataclass
class RosterOutcome:
    created: list[RosterRow] = field(default_factory=list)
    updated: list[RosterRow] = field(default_factory=list)
    unchanged: list[RosterRow] = field(default_factory=list)


def apply_roster(session: Session, rows: Sequence[RosterRow], now: datetime) -> RosterOutcome:
    """Write checked rows set-based: a fixed number of statements whatever the number of
    rows (new employees inserted in one go, changed ones updated in one go by id, then the
    superiors, then the rules added and removed), and no ORM object per employee, which at
    100,000 rows cost 95 s and 1.2 GB."""
    from scheduler.store.records import release_inactive_chats, units_by_name

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
    table = models.Employee
    units = units_by_name(session, (row.after.unit for row in writing))

    def values(row: RosterRow) -> dict[str, object]:
        after = row.after
        return {
            "key": after.key,
            "nip": after.nip,
            "name": after.name,
            "position": after.position,
            "review": after.review,
            "unit_id": units[after.unit].id if after.unit else None,
            "roles": " ".join(sorted(after.roles)),
            "telegram_chat_id": after.telegram_chat_id,
            "email": after.email,
            "active": after.active,
            "updated_at": now,
        }

    release_inactive_chats(session)  # an inactive holder's chat is free to be given
    ids = _ids(session)  # by the key each row is known by (``ident``) before this import
    moving = [  # a chat moving between two rows is freed first: the index is unique at
        {"id": ids[row.ident], "telegram_chat_id": None}  # every row's UPDATE
        for row in outcome.updated
        if row.before and row.before.telegram_chat_id != row.after.telegram_chat_id
    ]
    if moving:
        session.execute(update(table), moving)
    if outcome.updated:
        session.execute(update(table), [{"id": ids[r.ident], **values(r)} for r in outcome.updated])
        provisional = [r for r in outcome.updated if _named(r)]
        if provisional:  # keep the provisional key, so that an IKI re-import finds them
            keys = [{"id": ids[r.ident], "former_key": r.ident} for r in provisional]
            session.execute(update(table), keys)
    if outcome.created:
        fresh = [{**values(row), "superior_origin": "iki"} for row in outcome.created]
        session.execute(insert(table), fresh)
        now_known = _ids(session)
        ids.update({row.ident: now_known[row.after.key] for row in outcome.created})
    bosses = [
        {
            "id": ids[row.ident],
            "superior_id": ids[row.after.superior] if row.after.superior else None,
            "superior_origin": "manual",
        }
        for row in writing
        if row.after.superior != (row.before.superior if row.before else None)
    ]
    if bosses:
        session.execute(update(table), bosses)
    _assign(session, [(ids[row.ident], row.after.rules) for row in writing])
    return outcome


def _ids(session: Session) -> dict[str, int]:
    """Every employee's id by key: one query, where an IN of 100,000 keys would exceed what
    PostgreSQL takes in one statement."""
    query = select(models.Employee.key, models.Employee.id)
    return {key: employee_id for key, employee_id in session.execute(query)}


def _named(row: RosterRow) -> bool:
    """A provisional (TMP-) employee given their NIP as key by this row."""
    return row.ident != row.after.key and row.ident.startswith("TMP-")


def _assign(session: Session, wanted: Sequence[tuple[int, frozenset[str]]]) -> None:
    """Make each employee's rules the given codes: codes no longer listed are removed
    (exemptions are kept: they name the period), new ones added as set by hand."""
    table = models.Assignment
    chosen = {employee_id for employee_id, _ in wanted}
    current: dict[int, dict[str, int]] = defaultdict(dict)
    for assignment_id, employee_id, code in session.execute(
        select(table.id, table.employee_id, table.rule_code)
    ):
        if employee_id in chosen:
            current[employee_id][code] = assignment_id
    gone = [
        {"gone": assignment_id}
        for employee_id, codes in wanted
        for code, assignment_id in current[employee_id].items()
        if code not in codes
    ]
    added = [
        {"employee_id": employee_id, "rule_code": code, "origin": "manual", "review": ""}
        for employee_id, codes in wanted
        for code in sorted(codes - set(current[employee_id]))
    ]
    if gone:  # by id, many at once: a Core statement (the ORM has no bulk DELETE)
        session.connection().execute(delete(table).where(table.id == bindparam("gone")), gone)
    if added:
        session.execute(insert(table), added)
