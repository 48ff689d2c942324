"""What changed in the records, and since when: read from ``record_changes``, which the
database's own triggers fill (migration 0012) whoever writes, so no writer can forget it.

The newest change's id is the records' revision: equal revisions, equal records.  A tick
plans from it what changed since the last one it planned; a page can be cached under it.

A later migration that rebuilds one of these tables on SQLite (Alembic's
``batch_alter_table`` copies the table) drops its triggers with it: such a migration must
create them again, as 0012 does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from scheduler.store import models
from scheduler.store.db import among

# The tables whose change concerns the whole roster: who is there, where, under whom, what
# they carry, and the events deadlines hang on.
ROSTER = ("employees", "units", "assignments", "events")
PERSONAL = ("submissions", "exemptions")


@dataclass(frozen=True)
class Changed:
    """What changed after a revision: ``roster`` when anything roster-wide did (then
    ``people`` is not read and stays empty), else the rule codes whose submissions or
    exemptions changed, by employee id."""

    roster: bool
    people: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def nothing(self) -> bool:
        return not self.roster and not self.people


def revision(session: Session) -> int:
    """The newest change's id, 0 before any: one lookup at the end of the primary key."""
    return session.scalar(select(func.max(models.RecordChange.id))) or 0


def since(session: Session, after: int) -> Changed:
    """What changed after revision ``after``.  Roster-wide: a change to employees (what
    planning reads of them: not a name or a contact), units, assignments or events, and a
    submission for the agency as a whole (no employee).  Otherwise the (employee, rule)
    pairs of the submissions and exemptions changed, read once each."""
    C = models.RecordChange
    later = C.id > after
    wide = or_(C.source.in_(ROSTER), and_(C.source == "submissions", C.employee_id.is_(None)))
    if session.scalar(select(C.id).where(later, wide).limit(1)) is not None:
        return Changed(roster=True)
    people: dict[int, set[str]] = {}
    pairs = select(C.employee_id, C.rule_code).where(later, C.source.in_(PERSONAL)).distinct()
    for employee_id, rule_code in session.execute(pairs):
        if employee_id is not None and rule_code is not None:  # else roster-wide, above
            people.setdefault(employee_id, set()).add(rule_code)
    return Changed(False, {who: frozenset(codes) for who, codes in people.items()})


def prune(session: Session, upto: int) -> int:
    """Forget the changes up to revision ``upto`` (what a tick planned from), keeping the
    newest row, whose id is the revision: ids are never reused, but the newest is read
    from the table.  Returns how many rows went."""
    C = models.RecordChange
    newest = revision(session)
    gone = session.execute(delete(C).where(C.id <= min(upto, newest - 1)))
    return int(getattr(gone, "rowcount", 0) or 0)


def concerned(
    session: Session, people: dict[int, frozenset[str]], unit_rules: frozenset[str]
) -> dict[str, frozenset[str]]:
    """The rules whose notices may have changed, by employee key: each person's own, and
    for a unit-scope rule (one record serves the unit) every colleague of their unit too.
    Active employees only; two statements whatever the number of people."""
    E = models.Employee
    backend = session.get_bind().dialect.name
    found: dict[str, set[str]] = {}
    unit_codes: dict[int, set[str]] = {}
    ids = list(people)
    for employee_id, key, unit_id in session.execute(
        select(E.id, E.key, E.unit_id).where(among(E.id, ids, backend), E.active.is_(True))
    ):
        codes = people[employee_id]
        found.setdefault(key, set()).update(codes)
        if unit_id is not None and codes & unit_rules:
            unit_codes.setdefault(unit_id, set()).update(codes & unit_rules)
    if unit_codes:
        colleagues = select(E.key, E.unit_id).where(
            among(E.unit_id, list(unit_codes), backend), E.active.is_(True)
        )
        for key, unit_id in session.execute(colleagues):
            if unit_id is not None:  # always: chosen by it
                found.setdefault(key, set()).update(unit_codes[unit_id])
    return {key: frozenset(codes) for key, codes in found.items()}
