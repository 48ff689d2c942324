"""Writing an IKI import into the roster, idempotently.

The same document imported twice leaves the database as the first import left it: people are
matched by NIP (or provisional key), IKI-derived assignments follow the document, and
whatever an admin set by hand (a superior, an extra rule, a role) survives a re-import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.iki.document import IkiImport, ImportedEmployee
from scheduler.store import models
from scheduler.store.db import chunks
from scheduler.store.records import check_length, units_by_name


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _state(employee: models.Employee, codes: set[str]) -> tuple[object, ...]:
    return (
        employee.name,
        employee.position,
        employee.unit_id,
        employee.superior_id,
        employee.roles,
        employee.review,
        employee.active,
        frozenset(codes),
    )


def apply_import(session: Session, result: IkiImport, now: datetime) -> ImportOutcome:
    """Create or update every imported employee with their units, superiors and rules."""
    people = result.employees
    starts = {block.number: block for block in result.blocks}
    for person in people:  # OCR can run lines together: refuse what no column holds
        first = starts.get(person.blocks[0]) if person.blocks else None
        line, where = (first.start_line, first.where) if first else (None, None)
        check_length(models.Employee.name, person.name, line, where)
        check_length(models.Employee.position, person.position, line, where)
        check_length(models.Unit.name, person.unit, line, where)
    units = units_by_name(session, (person.unit for person in people))
    E, A = models.Employee, models.Assignment
    existing: dict[str, models.Employee] = {}
    for keys in chunks(person.key for person in people):  # a bounded IN list each
        for match in session.scalars(select(E).where(or_(E.key.in_(keys), E.former_key.in_(keys)))):
            existing[match.key] = match  # a provisional person given a NIP since: either key
            if match.former_key:
                existing[match.former_key] = match
    assigned: dict[int, dict[str, models.Assignment]] = {}
    for ids in chunks({e.id for e in existing.values()}):
        for row in session.scalars(select(A).where(A.employee_id.in_(ids))):
            assigned.setdefault(row.employee_id, {})[row.rule_code] = row
    before = {
        key: _state(employee, set(assigned.get(employee.id, {})))
        for key, employee in existing.items()
    }

    by_key: dict[str, models.Employee] = dict(existing)
    for person in people:
        known = by_key.get(person.key)
        if known is None:
            known = models.Employee(key=person.key, superior_origin="iki", roles="", updated_at=now)
            session.add(known)
            by_key[person.key] = known
        if known.former_key != person.key:  # else an admin has named this person since
            _fill(known, person, units[person.unit].id if person.unit else None)
    session.flush()

    starts_on = _plan_year_start(result)
    outcome = ImportOutcome()
    for person in people:
        employee = by_key[person.key]
        if employee.superior_origin == "iki":
            boss = by_key.get(person.superior_key or "")
            employee.superior_id = boss.id if boss else None
        rows = assigned.get(employee.id, {})
        for code, row in rows.items():
            if row.origin == "iki" and code not in person.codes:
                session.delete(row)
        for code in sorted(person.codes - set(rows)):
            session.add(
                models.Assignment(
                    employee_id=employee.id, rule_code=code, origin="iki", starts_on=starts_on
                )
            )
        manual = {code for code, row in rows.items() if row.origin != "iki"}
        after = _state(employee, person.codes | manual)
        if person.key not in before:
            outcome.created.append(person.key)
        elif before[person.key] != after:
            outcome.updated.append(person.key)
            employee.updated_at = now
        else:
            outcome.unchanged.append(person.key)
    session.flush()
    return outcome


def _plan_year_start(result: IkiImport) -> date | None:
    """The IKI is a plan for one year: its obligations start on 1 January of the year most
    of its blocks were signed in (IKI 2025 is signed in January and February 2025)."""
    years = Counter(block.signed_on.year for block in result.blocks if block.signed_on)
    return date(years.most_common(1)[0][0], 1, 1) if years else None


def _fill(employee: models.Employee, person: ImportedEmployee, unit_id: int | None) -> None:
    employee.nip = person.nip
    employee.name = person.name
    employee.position = person.position
    employee.unit_id = unit_id
    kept = set(employee.roles.split()) - {"secretary", "unit_head"}  # roles set by hand
    employee.roles = " ".join(sorted(kept | person.roles))
    employee.review = "; ".join(person.review)
    employee.active = True
