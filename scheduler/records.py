"""The records behind evaluation: reading the roster set-based, and writing what admins record.

Reading is a handful of queries for the whole agency, never one per employee, so that a
status of 100,000 people costs the same number of round trips as one of ten.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from rules.catalog import Catalog, Scope
from rules.evaluate import Assignment, Person, Roster, Submission
from rules.periods import EXAMPLES, parse_period
from rules.schedule import Event
from scheduler import models

NIP_PATTERN = re.compile(r"^\d{18}$")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CHAT_ID = re.compile(r"-?\d{1,20}")


def is_email(text: str) -> bool:
    """A plausible address that fits the column (RFC 5321 caps a path at 254 characters)."""
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None


def is_chat_id(text: str) -> bool:
    """Telegram chat ids are integers, negative for groups."""
    return _CHAT_ID.fullmatch(text) is not None


ROLES = frozenset({"secretary", "unit_head", "admin"})


class RecordError(ValueError):
    """Input that names something that does not exist or cannot be; says what would work.

    ``message`` names a text in ``scheduler.words.MESSAGES`` so the command line can say it
    in the admin's language; ``str()`` gives the English.
    """

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(self.text("en"))

    def text(self, language: str) -> str:
        from scheduler.words import say

        return say(self.message, language, **self.params)


def normalise_nip(text: str) -> str:
    """NIPs are written with spaces ("19710515 200012 1 003"); they are stored without."""
    return re.sub(r"[\s.]", "", text)


class EmployeeInfo(NamedTuple):
    key: str
    nip: str | None
    name: str
    position: str
    unit: str
    superior: str | None
    roles: frozenset[str]
    telegram_chat_id: str | None
    email: str | None
    review: str


@dataclass
class Snapshot:
    """Everything evaluation needs, read in one go."""

    roster: Roster
    submissions: list[Submission]
    events: list[Event]
    employees: dict[str, EmployeeInfo] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)  # rule codes per employee key


def snapshot(
    session: Session,
    catalog: Catalog,
    since_year: int | None = None,
    unit: str | None = None,
    key: str | None = None,
) -> Snapshot:
    """Read roster, assignments, exemptions, current submissions and events.

    ``unit`` or ``key`` narrow the people evaluated; agency submissions are read for all,
    since anyone's submission serves every carrier.
    """
    superior = aliased(models.Employee)
    people_query = (
        select(
            models.Employee.id,
            models.Employee.key,
            models.Employee.nip,
            models.Employee.name,
            models.Employee.position,
            models.Unit.name,
            superior.key,
            models.Employee.roles,
            models.Employee.telegram_chat_id,
            models.Employee.email,
            models.Employee.review,
        )
        .outerjoin(models.Unit, models.Unit.id == models.Employee.unit_id)
        .outerjoin(superior, superior.id == models.Employee.superior_id)
        .where(models.Employee.active.is_(True))
        .order_by(models.Unit.name, models.Employee.name)
    )
    if unit is not None:
        people_query = people_query.where(models.Unit.name == unit)
    if key is not None:
        people_query = people_query.where(models.Employee.key == key)
    employees: dict[str, EmployeeInfo] = {}
    people: dict[str, Person] = {}
    key_of: dict[int, str] = {}
    secretary: str | None = None
    connection = session.connection()

    def rows(statement: Any) -> Sequence[Any]:
        """Core, fetched whole: no ORM row processing and no row-by-row fetching."""
        return connection.execute(statement).all()

    roles_of: dict[str, frozenset[str]] = {}  # a handful of distinct role texts
    for employee_id, key_, nip, name, position, unit_name, boss, text, chat, email, review in rows(
        people_query
    ):
        roles = roles_of.get(text)
        if roles is None:
            roles = roles_of[text] = frozenset(text.split())
        employees[key_] = EmployeeInfo(
            key_, nip, name, position, unit_name or "", boss, roles, chat, email, review
        )
        people[key_] = Person(key_, boss)
        key_of[employee_id] = key_
        if secretary is None and "secretary" in roles:
            secretary = key_
    if secretary is None:
        secretary = session.scalar(
            select(models.Employee.key).where(
                models.Employee.active.is_(True), models.Employee.roles.contains("secretary")
            )
        )

    # Narrowed to some people, the per-person tables are read for them alone.
    narrowed = unit is not None or key is not None
    chosen = list(key_of)
    exemptions = select(
        models.Exemption.employee_id, models.Exemption.rule_code, models.Exemption.period
    )
    exempt: dict[int, dict[str, set[str]]] = {}  # by employee id, then rule: a few hundred
    for employee_id, rule_code, period in rows(
        exemptions.where(models.Exemption.employee_id.in_(chosen)) if narrowed else exemptions
    ):
        exempt.setdefault(employee_id, {}).setdefault(rule_code, set()).add(period)

    codes: dict[str, list[str]] = {}
    assignments: list[Assignment] = []
    carried = select(
        models.Assignment.employee_id, models.Assignment.rule_code, models.Assignment.starts_on
    ).order_by(models.Assignment.employee_id, models.Assignment.rule_code)
    # Rows come grouped by employee: who they are is looked up once per employee, not per row.
    current: int | None = None
    carrier: str | None = None
    mine: list[str] = []
    excused: dict[str, set[str]] = {}
    for employee_id, rule_code, starts_on in rows(
        carried.where(models.Assignment.employee_id.in_(chosen)) if narrowed else carried
    ):
        if employee_id != current:
            current, carrier = employee_id, key_of.get(employee_id)
            if carrier is not None:
                mine = codes[carrier] = []
            excused = exempt.get(employee_id, {})
        if carrier is None:
            continue
        mine.append(rule_code)
        periods = frozenset(excused[rule_code]) if rule_code in excused else _NO_PERIODS
        assignments.append(Assignment(carrier, rule_code, periods, starts_on))

    theirs = None
    if narrowed:  # theirs, and every agency submission: one serves all carriers
        agency = [r.code for r in catalog.rules.values() if r.scope is Scope.AGENCY]
        theirs = or_(
            models.Submission.employee_id.in_(chosen), models.Submission.rule_code.in_(agency)
        )
    submissions = [
        Submission(rule_code, period, submitted_at, submitter, verified)
        for submitter, rule_code, period, submitted_at, verified in rows(
            _current_submissions(since_year, theirs)
        )
    ]
    events = [
        Event(code, event_key, day)
        for code, event_key, day in rows(
            select(models.Event.code, models.Event.key, models.Event.day)
        )
    ]
    roster = Roster(people, assignments, secretary)
    return Snapshot(roster, submissions, events, employees, codes)


_NO_PERIODS: frozenset[str] = frozenset()  # shared by the assignments without exemptions


def _current_submissions(
    since_year: int | None, only: ColumnElement[bool] | None = None
) -> Select[str | None, str, str, datetime, bool]:
    """The newest row per (employee or agency, rule, period): corrections are new rows.

    ``only`` narrows the rows by employee or rule, which are part of the key: applied before
    grouping, so that one person's status does not group the whole table (0.2 s at 100,000).
    """
    newest = select(func.max(models.Submission.id)).group_by(
        models.Submission.employee_id, models.Submission.rule_code, models.Submission.period
    )
    if since_year is not None:
        newest = newest.where(models.Submission.period >= f"{since_year:04d}")
    if only is not None:
        newest = newest.where(only)
    return (
        select(
            models.Employee.key,
            models.Submission.rule_code,
            models.Submission.period,
            models.Submission.submitted_at,
            models.Submission.verified_at.is_not(None),  # verified: no datetime to parse
        )
        .outerjoin(models.Employee, models.Employee.id == models.Submission.employee_id)
        .where(models.Submission.id.in_(newest))
    )


def find_employee(session: Session, ident: str) -> models.Employee:
    """An employee by NIP (spaces allowed) or provisional key; the error names the closest."""
    # Provisional keys are "TMP-" and lower-case hex; accept them typed in any case.
    provisional = ident.strip().upper().startswith("TMP-")
    wanted = "TMP-" + ident.strip()[4:].lower() if provisional else normalise_nip(ident)
    found = session.scalar(select(models.Employee).where(models.Employee.key == wanted))
    if found is not None:
        return found
    rows = session.execute(select(models.Employee.key, models.Employee.name)).all()
    close = difflib.get_close_matches(wanted, [k for k, _ in rows], n=3, cutoff=0.7)
    by_name = [k for k, name in rows if ident.lower() in name.lower()][:3]
    names = dict(rows)
    hints = ", ".join(f"{k} ({names[k]})" for k in dict.fromkeys(close + by_name))
    raise RecordError("no_employee", ident=ident, hints=hints)


def check_rule_period(catalog: Catalog, code: str, period: str) -> str:
    """Validate a rule code and a period key for it; return the canonical code."""
    rule = catalog.rules.get(code.upper())
    if rule is None:
        close = difflib.get_close_matches(code.upper(), list(catalog.rules), n=1)
        raise RecordError("unknown_rule", code=code, hints=", ".join(close))
    try:
        parse_period(period, rule.period)
    except ValueError:
        raise RecordError(
            "bad_period", code=rule.code, period=period, example=EXAMPLES[rule.period]
        ) from None
    return rule.code


def record_submission(
    session: Session,
    catalog: Catalog,
    employee: models.Employee,
    code: str,
    period: str,
    submitted_at: datetime,
    now: datetime,
    recorded_by: str,
    evidence: str = "",
    source: str = "cli",
    verified: bool = False,
) -> models.Submission:
    """Add a submission row; ``verified`` records that the recorder checked it (e-Pantau
    counts only once verified)."""
    code = check_rule_period(catalog, code, period)
    row = models.Submission(
        employee_id=employee.id,
        rule_code=code,
        period=period,
        submitted_at=submitted_at,
        evidence=evidence,
        source=source,
        recorded_by=recorded_by,
        recorded_at=now,
        verified_at=now if verified else None,
        verified_by=recorded_by if verified else None,
    )
    session.add(row)
    return row


def anchor_events(catalog: Catalog) -> set[str]:
    return {rule.anchor.event for rule in catalog.rules.values() if rule.anchor is not None}


def set_event(
    session: Session, catalog: Catalog, code: str, key: str, day: date, now: datetime, by: str
) -> models.Event:
    """Record (or correct) the date of an event such as APBD_ADOPTED for budget year ``key``."""
    known = anchor_events(catalog)
    if code.upper() not in known:
        close = difflib.get_close_matches(code.upper(), sorted(known), n=1)
        raise RecordError("unknown_event", code=code, hints=", ".join(close or sorted(known)))
    if not re.fullmatch(r"\d{4}", key):
        raise RecordError("bad_event_key", key=key)
    row = session.scalar(
        select(models.Event).where(models.Event.code == code.upper(), models.Event.key == key)
    )
    if row is None:
        row = models.Event(code=code.upper(), key=key)
        session.add(row)
    row.day, row.recorded_by, row.recorded_at = day, by, now
    return row


def set_superior(employee: models.Employee, superior: models.Employee | None) -> None:
    """Set a direct superior by hand; refuse a reporting line that loops back."""
    seen: set[int] = {employee.id}
    boss = superior
    while boss is not None:
        if boss.id in seen:
            assert superior is not None
            raise RecordError("superior_loop", superior=superior.key, employee=employee.key)
        seen.add(boss.id)
        boss = boss.superior
    employee.superior_id = superior.id if superior else None
    employee.superior_origin = "manual"


def units_by_name(session: Session, names: Iterable[str]) -> dict[str, models.Unit]:
    """Units by name, creating the missing ones."""
    wanted = {name for name in names if name}
    found = {
        unit.name: unit
        for unit in session.scalars(select(models.Unit).where(models.Unit.name.in_(wanted)))
    }
    for name in sorted(wanted - set(found)):
        found[name] = models.Unit(name=name)
        session.add(found[name])
    session.flush()
    return found


def admins(session: Session) -> list[str]:
    """Who is told about problems with the roster's contacts: the active employees with the
    admin role, else the Secretary."""
    table = models.Employee
    active = table.active.is_(True)
    for role in ("admin", "secretary"):
        keys = list(session.scalars(select(table.key).where(active, table.roles.contains(role))))
        if keys:
            return sorted(keys)
    return []
