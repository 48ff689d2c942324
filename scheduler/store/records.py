"""The records behind evaluation: reading the roster set-based, and writing what admins record.

Reading is a handful of queries for the whole agency, never one per employee, so that a
status of 100,000 people costs the same number of round trips as one of ten.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, NamedTuple

from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    Select,
    String,
    aggregate_order_by,
    and_,
    event,
    func,
    inspect,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased

from rules.catalog import Catalog, Scope
from rules.evaluate import Assignment, Person, Roster, Submission
from rules.periods import EXAMPLES, parse_period
from rules.schedule import Event, EventIndex, Schedule, index_events
from scheduler.messages import Said, say
from scheduler.store import models
from scheduler.store.db import among, chunks

NIP_PATTERN = re.compile(r"^\d{18}$")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CHAT_ID = re.compile(r"-?\d{1,20}")


def is_email(text: str) -> bool:
    """A plausible address that fits the column (RFC 5321 caps a path at 254 characters)."""
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None


def is_chat_id(text: str) -> bool:
    """Telegram chat ids are integers, negative for groups."""
    return _CHAT_ID.fullmatch(text) is not None


def normal_chat_id(text: str) -> str:
    """A chat id written as Telegram writes it ("0012345" and "12345" are one chat): the bot
    finds the sender by comparing this text, and the column is unique on it."""
    return str(int(text))


def chat_holder(session: Session, chat: str, employee: models.Employee) -> models.Employee | None:
    """Which active employee other than ``employee`` holds the Telegram chat ``chat``: one
    chat speaks for one employee, or the bot would act for whichever the database returns
    first.  An inactive employee holds no chat (the bot does not answer for them), so theirs
    is free for whoever claims it (`release_inactive_chats`)."""
    table = models.Employee
    return session.scalar(
        select(table)
        .where(table.telegram_chat_id == chat, table.id != employee.id, table.active.is_(True))
        .limit(1)
    )


def release_inactive_chats(session: Session) -> None:
    """Clear the chat of every inactive employee, in one statement: deactivated, they can no
    longer use it, and kept it would block it for good under the unique index.  Every path
    that gives a chat calls it first, so a database from before this rule is mended too.
    Not only old data needs it: `tenggat contact` gives an inactive employee a chat as
    readily as an active one, so it cannot move into a migration as it stands."""
    table = models.Employee
    session.execute(
        update(table)
        .where(table.active.is_(False), table.telegram_chat_id.is_not(None))
        .values(telegram_chat_id=None)
        .execution_options(synchronize_session="fetch")
    )


def claim_chat(session: Session, employee: models.Employee, chat: str | None) -> None:
    """Give ``employee`` the chat ``chat`` (None clears it), refusing one another active
    employee holds."""
    if chat is not None:
        other = chat_holder(session, chat, employee)
        if other is not None:
            raise RecordError("chat_taken", chat=chat, name=other.name, key=other.key)
        release_inactive_chats(session)
    employee.telegram_chat_id = chat
    employee.telegram_unreachable = None  # a chat set again gets a new chance


def set_contact(
    session: Session, employee: models.Employee, chat: str | None, email: str | None
) -> None:
    """Set how ``employee`` is reached, as an admin typed it (checked already): a value
    None is left as it is and an empty one clears it; the chat is written as Telegram
    writes it, and refused when someone else holds it."""
    if chat is not None:
        claim_chat(session, employee, normal_chat_id(chat) if chat else None)
    if email is not None:
        employee.email = email or None


ROLES = frozenset({"secretary", "unit_head", "admin"})


class RecordError(Said, ValueError):
    """Input that names something that does not exist or cannot be; says what would work,
    in the admin's language (`Said`)."""


def length_of(attribute: Any) -> int | None:
    """How many characters the column behind a model attribute holds: ``String(n)``, or the
    ``length`` a ``Text`` column declares in its ``info`` (a limit of the input, not of the
    schema); None for text without one.  The model is the one place a limit is written down."""
    column = attribute.property.columns[0]
    length = column.type.length or column.info.get("length")
    return int(length) if length is not None else None


QUOTED = 30  # how much of an over-long value a refusal quotes


def check_length(
    attribute: Any, value: str | None, line: int | None = None, where: str | None = None
) -> None:
    """Refuse a value longer than the column behind ``attribute`` holds, naming the field,
    its limit and, where the input has them, the line (or the place in a Word or PDF
    file: "table 3 row 2")."""
    limit = length_of(attribute)
    if value is None or limit is None or len(value) <= limit:
        return
    words = {"field": attribute.key, "length": str(len(value)), "limit": str(limit)}
    if where is not None:
        raise RecordError("too_long_in", where=where, start=value[:QUOTED], **words)
    if line is None:
        raise RecordError("too_long", start=value[:QUOTED], **words)
    raise RecordError("too_long_at", line=str(line), start=value[:QUOTED], **words)


@event.listens_for(Session, "before_flush")
def _lengths(session: Session, _context: Any, _instances: Any) -> None:
    """Before anything is written, every text set on a row fits its column: SQLite would
    store a longer one as it is and PostgreSQL refuse it with a traceback, so a database
    that moves from one to the other would fail.  The input paths check lengths first, with
    the row or line; this is the one place that holds for every path, such as the bot."""
    new = session.new  # a fresh set on each access: taken once, or a bulk import is O(n²)
    for row in (*new, *session.dirty):
        state = inspect(row)
        changed = state.dict if row in new else state.committed_state
        for column in state.mapper.column_attrs:
            value = state.dict.get(column.key)
            if column.key in changed and isinstance(value, str):
                check_length(getattr(type(row), column.key), value)


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
    keys: list[str] | None = None,
) -> Snapshot:
    """Read roster, assignments, exemptions, current submissions and events.

    ``unit``, ``key`` or ``keys`` narrow the people evaluated; agency submissions are read
    for all, since anyone's submission serves every carrier.  With ``keys`` their direct
    superiors are read too, without their records, as planning routes through them (a
    verifier is the head of the unit when nobody above them is in it).
    """
    E = models.Employee
    extra = (E.position, E.roles, E.telegram_chat_id, E.email, E.review)
    chosen = _chosen(unit, key)
    if keys is None:
        people_query = _people(unit, key, *extra)
    else:
        backend = session.get_bind().dialect.name
        chosen = select(E.id).where(among(E.key, keys, backend))
        bosses = select(E.superior_id).where(E.id.in_(chosen), E.superior_id.is_not(None))
        wanted = or_(E.id.in_(chosen), E.id.in_(bosses))
        people_query = _people(None, None, *extra).where(wanted)
    employees: dict[str, EmployeeInfo] = {}
    people: dict[str, Person] = {}
    key_of: dict[int, str] = {}
    secretary: str | None = None
    rows = _fetcher(session)
    roles_of: dict[str, frozenset[str]] = {}  # a handful of distinct role texts
    for employee_id, key_, nip, name, unit_name, boss, position, text, chat, email, review in rows(
        people_query
    ):
        roles = roles_of.get(text)
        if roles is None:
            roles = roles_of[text] = frozenset(text.split())
        employees[key_] = EmployeeInfo(
            key_, nip, name, position, unit_name, boss, roles, chat, email, review
        )
        people[key_] = Person(key_, boss, unit_name)
        key_of[employee_id] = key_
        if secretary is None and "secretary" in roles:
            secretary = key_
    if secretary is None:
        secretary = session.scalar(
            select(E.key).where(E.active.is_(True), E.roles.contains("secretary"))
        )

    # Narrowed to some people, the per-person tables are read for them alone.
    exempt = _exemptions(rows, chosen)
    codes: dict[str, list[str]] = {}
    assignments: list[Assignment] = []
    # Rows come grouped by employee: who they are is looked up once per employee, not per row.
    current: int | None = None
    carrier: str | None = None
    mine: list[str] = []
    excused: dict[str, set[str]] = {}
    for employee_id, rule_code, starts_on in rows(_assignments(chosen)):
        if employee_id != current:
            current, carrier = employee_id, key_of.get(employee_id)
            if carrier is not None:
                mine = codes[carrier] = []
            excused = exempt.get(employee_id, {})
        if carrier is None:
            continue
        mine.append(rule_code)
        periods = frozenset(excused[rule_code]) if rule_code in excused else _NO_PERIODS
        assignments.append(Assignment(carrier, rule_code, periods, _day(starts_on)))

    submissions = [
        Submission(
            rule_code, period, _utc(at), submitter, *_verified(verified, recorded), value, unit_
        )
        for submitter, rule_code, period, at, verified, recorded, value, unit_ in rows(
            _current_submissions(catalog, since_year, chosen)
        )
    ]
    roster = Roster(people, assignments, secretary)
    return Snapshot(roster, submissions, _events(rows), employees, codes)


Carried = tuple[str, frozenset[str], date | None]  # a rule code, its exempt periods, its start


@dataclass
class Carriers:
    """What the compliance matrix needs and no more: the people in display order as rows of
    (id, key, NIP, name, unit, superior's key), the rules each carries by employee id, the
    current submissions and the events."""

    people: Sequence[Any]
    carried: dict[int, tuple[Carried, ...]]
    submissions: list[Submission]
    events: list[Event]


def carriers(
    session: Session,
    catalog: Catalog,
    since_year: int | None = None,
    unit: str | None = None,
    key: str | None = None,
) -> Carriers:
    """The records of ``snapshot`` that ``status --json`` shows, read lean: six columns of
    the people and no objects made for them; the rules each person carries as one row of
    text, of which the few distinct ones are read once.  Narrowed as ``snapshot`` is."""
    rows = _fetcher(session)
    people = list(rows(_people(unit, key)))
    chosen = _chosen(unit, key)
    exempt = _exemptions(rows, chosen)
    postgres = session.get_bind().dialect.name == "postgresql"
    carried: dict[int, tuple[Carried, ...]] = {}
    read: dict[str, tuple[Carried, ...]] = {}
    for employee_id, text in rows(_carried(chosen, postgres)):
        entries = read.get(text)
        if entries is None:
            entries = read[text] = _entries(text, ordered=postgres)
        excused = exempt.get(employee_id)
        if excused:
            entries = tuple(
                (code, frozenset(excused.get(code, ())), since) for code, _, since in entries
            )
        carried[employee_id] = entries
    # By id: only the people read have cells, and for agency and unit rules (all that is
    # read of anyone else) the submitter's unit is all that matters of them.
    key_of = {row[0]: row[1] for row in people}
    submissions = [
        Submission(
            rule_code, period, _utc(at), key_of.get(submitter), *_verified(ver, rec), value, unit_
        )
        for submitter, rule_code, period, at, ver, rec, value, unit_ in rows(
            _current_submissions(catalog, since_year, chosen, by_id=True)
        )
    ]
    return Carriers(people, carried, submissions, _events(rows))


_NO_PERIODS: frozenset[str] = frozenset()  # shared by the assignments without exemptions
_Query = Select[*tuple[Any, ...]]
_BATCH = 10_000  # rows fetched at a time


def _fetcher(session: Session) -> Callable[[Any], Iterator[Any]]:
    connection = session.connection()

    def rows(statement: Any) -> Iterator[Any]:
        """Core, read from the driver's cursor as its plain tuples: no ORM, no Row object
        nor type processing per row (the columns that would need it are read as text and
        converted here, each distinct value once where they repeat), and no list of them
        all unless the caller keeps one: 100,000 rows are 40 MB."""
        result = connection.execute(statement)
        try:
            while batch := result.cursor.fetchmany(_BATCH):
                yield from batch
        finally:
            result.close()

    return rows


def _people(unit: str | None, key: str | None, *extra: Any) -> _Query:
    """Active employees in display order, by unit then name (then id, so that namesakes
    keep one order): id, key, NIP, name, unit ("" without one), superior's key, ``extra``."""
    E = models.Employee
    superior = aliased(E)
    query = (
        select(
            E.id, E.key, E.nip, E.name, func.coalesce(models.Unit.name, ""), superior.key, *extra
        )
        .outerjoin(models.Unit, models.Unit.id == E.unit_id)
        .outerjoin(superior, superior.id == E.superior_id)
        .where(E.active.is_(True))
        .order_by(models.Unit.name, E.name, E.id)
    )
    if unit is not None:
        query = query.where(models.Unit.name == unit)
    if key is not None:
        query = query.where(E.key == key)
    return query


def _chosen(unit: str | None, key: str | None) -> _Query | None:
    """The ids of the people ``unit`` or ``key`` narrow to, as a subquery (None: everyone):
    a unit's list of ids would grow with it, past what one statement may bind."""
    if unit is None and key is None:
        return None
    return _people(unit, key).with_only_columns(models.Employee.id).order_by(None)


def _exemptions(
    rows: Callable[[Any], Iterator[Any]], chosen: _Query | None
) -> dict[int, dict[str, set[str]]]:
    """Exempt periods by employee id, then rule: a few hundred at most."""
    X = models.Exemption
    query = select(X.employee_id, X.rule_code, X.period)
    if chosen is not None:
        query = query.where(X.employee_id.in_(chosen))
    exempt: dict[int, dict[str, set[str]]] = {}
    for employee_id, rule_code, period in rows(query):
        exempt.setdefault(employee_id, {}).setdefault(rule_code, set()).add(period)
    return exempt


def _assignments(chosen: _Query | None) -> _Query:
    """(employee id, rule code, start) grouped by employee, in rule order.  The start comes as
    the driver gives it (text on SQLite): ``_day`` reads each distinct one once."""
    A = models.Assignment
    query = select(A.employee_id, A.rule_code, type_coerce(A.starts_on, String)).order_by(
        A.employee_id, A.rule_code
    )
    return query if chosen is None else query.where(A.employee_id.in_(chosen))


def _carried(chosen: _Query | None, postgres: bool) -> _Query:
    """(employee id, "CODE START,CODE START,…"): the rules of each employee as one text, a
    row per employee rather than per assignment.  The codes must come in the order
    ``ORDER BY rule_code`` gives, as in ``snapshot``: PostgreSQL orders the aggregate by its
    collation (and writes the day ISO whatever its DateStyle); SQLite's group_concat takes no
    order before 3.44, but its BINARY collation is code-point order, so ``_entries`` sorts."""
    A = models.Assignment
    day = func.to_char(A.starts_on, "YYYY-MM-DD") if postgres else type_coerce(A.starts_on, String)
    entry = type_coerce(A.rule_code, String) + " " + func.coalesce(day, "")
    joined = func.aggregate_strings(entry, ",")
    texts = aggregate_order_by(joined, A.rule_code) if postgres else joined
    query = select(A.employee_id, texts).group_by(A.employee_id)
    return query if chosen is None else query.where(A.employee_id.in_(chosen))


def _entries(text: str, ordered: bool) -> tuple[Carried, ...]:
    """``_carried``'s text as (code, no exempt periods, start) in rule order.  Codes are
    identifiers (``[A-Z][A-Z0-9_]*``), so neither separator occurs in them."""
    pairs = [entry.partition(" ") for entry in text.split(",")]
    if not ordered:
        pairs.sort()  # codes are unique per employee: the order of the codes
    return tuple((code, _NO_PERIODS, _day(day or None)) for code, _, day in pairs)


@cache
def _day(value: date | str | None) -> date | None:
    """A stored day or none, read once per distinct value: they repeat."""
    return None if value is None else _date(value)


def _date(value: date | str) -> date:
    """A stored day: a date from PostgreSQL, ISO text from SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _verified(
    verified: datetime | str | None, recorded: datetime | str
) -> tuple[bool, datetime, datetime | None]:
    """The last fields of a ``Submission`` from the stored verification and recording
    moments: whether it is verified, when it was recorded, when it was verified."""
    if verified is None:
        return False, _utc(recorded), None
    return True, _utc(recorded), _utc(verified)


def _utc(value: datetime | str) -> datetime:
    """A stored instant, read as ``models.Instant`` reads it but without its per-row hooks:
    SQLite's UTC text is parsed by ``fromisoformat``, told its zone in the text (a fifth of
    the time of ``replace(tzinfo=UTC)``); PostgreSQL's value is moved to UTC."""
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _events(rows: Callable[[Any], Iterator[Any]]) -> list[Event]:
    E = models.Event
    query = select(E.code, E.key, type_coerce(E.day, String))
    return [Event(code, key, _date(day)) for code, key, day in rows(query)]


def _current_submissions(
    catalog: Catalog, since_year: int | None, chosen: _Query | None, by_id: bool = False
) -> _Query:
    """The newest row per (employee or agency, rule, period): corrections are new rows.  As
    (employee key, or id ``by_id``; rule; period; submitted at, verified at (None: not
    verified) and recorded at, as text on SQLite; a measure's value; the submitter's unit).

    Narrowed to ``chosen`` employees, their rows and every agency and unit row are read
    (anyone's agency submission serves all its carriers, a colleague's unit submission the
    unit's), before grouping, so that one person's status does not group the whole table
    (0.2 s at 100,000).
    """
    S = models.Submission
    newest = select(func.max(S.id)).group_by(S.employee_id, S.rule_code, S.period)
    if since_year is not None:
        newest = newest.where(S.period >= f"{since_year:04d}")
    if chosen is not None:
        shared = [r.code for r in catalog.rules.values() if r.scope is not Scope.PERSONAL]
        newest = newest.where(or_(S.employee_id.in_(chosen), S.rule_code.in_(shared)))
    E = models.Employee
    return (
        select(
            S.employee_id if by_id else E.key,
            S.rule_code,
            S.period,
            type_coerce(S.submitted_at, String),
            type_coerce(S.verified_at, String),
            type_coerce(S.recorded_at, String),
            S.value,
            models.Unit.name,
        )
        .where(S.id.in_(newest))
        .outerjoin(E, E.id == S.employee_id)
        .outerjoin(models.Unit, models.Unit.id == E.unit_id)
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


def check_rule(catalog: Catalog, code: str) -> str:
    """Validate a rule code typed in any case; return the canonical code."""
    if code.upper() not in catalog.rules:
        close = difflib.get_close_matches(code.upper(), list(catalog.rules), n=3)
        raise RecordError("unknown_rule", code=code, hints=", ".join(close))
    return code.upper()


def check_rule_period(catalog: Catalog, code: str, period: str) -> str:
    """Validate a rule code and a period key for it; return the canonical code."""
    rule = catalog.rules[check_rule(catalog, code)]
    try:
        parse_period(period, rule.period)
    except ValueError:
        raise RecordError(
            "bad_period", code=rule.code, period=period, example=EXAMPLES[rule.period]
        ) from None
    return rule.code


MAX_VALUE = 1000.0  # above this a measure's value is a typing slip (a ratio of 1000 %)


def check_value(catalog: Catalog, code: str, text: str | None) -> float | None:
    """The value given for a rule: a number for a measure (a decimal comma as in "87,5",
    and a trailing "%", are accepted), none for a document.  Refusals say which and why."""
    rule = catalog.rules[code]
    if not rule.measured:
        if text is not None and text.strip():
            raise RecordError("value_not_measured", code=code)
        return None
    if text is None or not text.strip():
        raise RecordError("value_missing", code=code, unit=rule.unit)
    try:
        value = float(text.strip().removesuffix("%").strip().replace(",", ".", 1))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise RecordError("value_not_number", value=text.strip()[:QUOTED])
    if value < 0:
        raise RecordError("value_negative", value=text.strip())
    if value > MAX_VALUE:
        raise RecordError("value_too_large", value=text.strip(), limit=f"{MAX_VALUE:g}")
    return value


YEARS = range(1900, 3000)  # the years a submission can be made in: beyond, a typo


class FarPeriod(RecordError):
    """A submission for a period due more than a year after it was made: almost always the
    year the deadline falls in typed for the year it reports on ("SPT 2025" in March 2025
    for the SPT 2024 due that month).  ``due`` is ISO in the params (a sheet's problem
    list shows it so) and a date in words where the refusal is said."""

    def __init__(self, due: date, **params: str) -> None:
        self.due = due
        super().__init__("far_period", due=due.isoformat(), **params)

    def text(self, language: str) -> str:
        words = format_date(self.due, format="d MMMM y", locale=language)
        return say(self.message, language, **(self.params | {"due": words}))


def check_submission_period(schedule: Schedule, code: str, period: str, when: datetime) -> str:
    """`check_rule_period`, and refuse a period due more than a year after the submission,
    naming the period due next as the likely meaning; return the canonical code."""
    rule = schedule.catalog.rules[check_rule_period(schedule.catalog, code, period)]
    day = when.date()
    if day.year not in YEARS:  # a typo such as 0202 or 9999: the periods around it are not dates
        first, last = str(YEARS[0]), str(YEARS[-1])
        raise RecordError("far_moment", when=day.isoformat(), first=first, last=last)
    horizon = day + relativedelta(years=1)
    try:
        due = schedule.occurrence(rule, period).due
    except ValueError:  # a rule with no date yet (RKBM): nothing to be far from
        return rule.code
    if due is not None and due > horizon:
        upcoming = schedule.occurrences(rule, day, horizon)
        likely = upcoming[0].period if upcoming else "?"
        raise FarPeriod(due, code=rule.code, period=period, likely=likely)
    return rule.code


class Recorded(NamedTuple):
    """One submission row as the history shows it; ``current`` is False once a newer row
    for the same employee (or the agency), rule and period has replaced it."""

    id: int
    key: str | None  # None: the agency's
    name: str | None
    rule: str
    period: str
    submitted_at: datetime
    evidence: str
    source: str
    recorded_by: str
    recorded_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    current: bool
    value: float | None = None  # a measured rule's value


def history(
    session: Session,
    key: str | None = None,
    rule: str | None = None,
    period: str | None = None,
    limit: int = 50,
) -> list[Recorded]:
    """Submission rows newest first, narrowed to an employee, a rule and a period: the audit
    trail, corrections included (a correction is a new row, and nothing is deleted).  One
    query; whether a row is still current is worked out in SQL by a window over its
    employee, rule and period, which the filters never split."""
    S, E = models.Submission, models.Employee
    newest_first = func.row_number().over(
        partition_by=(S.employee_id, S.rule_code, S.period), order_by=S.id.desc()
    )
    rows = (
        select(S, E.key, E.name, (newest_first == 1).label("current"))
        .outerjoin(E, E.id == S.employee_id)
        .order_by(S.recorded_at.desc(), S.id.desc())
    )
    if key is not None:
        rows = rows.where(E.key == key)
    if rule is not None:
        rows = rows.where(S.rule_code == rule)
    if period is not None:
        rows = rows.where(S.period == period)
    return [
        Recorded(
            row.id,
            employee_key,
            name,
            row.rule_code,
            row.period,
            row.submitted_at,
            row.evidence,
            row.source,
            row.recorded_by,
            row.recorded_at,
            row.verified_at,
            row.verified_by,
            bool(current),
            row.value,
        )
        for row, employee_key, name, current in session.execute(rows.limit(limit))
    ]


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
    if abs(day.year - int(key)) > 1:  # 9999-12-31 for 2025 would be every rule's anchor
        raise RecordError("far_event_day", code=code.upper(), key=key, day=day.isoformat())
    row = session.scalar(
        select(models.Event).where(models.Event.code == code.upper(), models.Event.key == key)
    )
    if row is None:
        row = models.Event(code=code.upper(), key=key)
        session.add(row)
    row.day, row.recorded_by, row.recorded_at = day, by, now
    return row


def event_index(session: Session) -> EventIndex:
    """The recorded events as the schedule reads them, by (code, key)."""
    return index_events(Event(row.code, row.key, row.day) for row in events(session))


class RecordedEvent(NamedTuple):
    """An event's date as recorded, and by whom when: what ``tenggat event list`` shows."""

    code: str
    key: str
    day: date
    recorded_by: str
    recorded_at: datetime


def events(session: Session) -> list[RecordedEvent]:
    """Every recorded event, by code then key: a handful a year, read whole."""
    E = models.Event
    query = select(E.code, E.key, E.day, E.recorded_by, E.recorded_at).order_by(E.code, E.key)
    return [RecordedEvent(*row) for row in session.execute(query)]


def exempt(
    session: Session,
    employee: models.Employee,
    code: str,
    period: str,
    reason: str,
    now: datetime,
    by: str,
) -> models.Exemption:
    """Excuse ``employee`` from rule ``code`` (already checked) for ``period``; excusing
    them again replaces the reason, since one exemption per rule and period is kept."""
    row = session.scalar(
        select(models.Exemption).filter_by(employee_id=employee.id, rule_code=code, period=period)
    )
    if row is None:
        row = models.Exemption(employee_id=employee.id, rule_code=code, period=period)
        session.add(row)
    row.reason, row.recorded_by, row.recorded_at = reason, by, now
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
        for names in chunks(wanted)
        for unit in session.scalars(select(models.Unit).where(models.Unit.name.in_(names)))
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


def unit_names(session: Session) -> list[str]:
    """The names of the units, for matching what an admin typed against them."""
    return list(session.scalars(select(models.Unit.name)))


def employee_count(session: Session) -> int:
    """How many employees there are, active or not: zero only in a fresh database."""
    return session.scalar(select(func.count()).select_from(models.Employee)) or 0


def identities(session: Session) -> list[tuple[int, str, str]]:
    """(id, key, name) of every employee, active or not: a sheet names its people by NIP
    and may record for someone who has since left."""
    E = models.Employee
    return [(i, key, name) for i, key, name in session.execute(select(E.id, E.key, E.name))]


def active_employees(session: Session, with_email: bool = False) -> list[models.Employee]:
    """The active employees by key; ``with_email``: only those with an e-mail address."""
    E = models.Employee
    query = select(E).where(E.active.is_(True)).order_by(E.key)
    if with_email:
        query = query.where(E.email.is_not(None), E.email != "")
    return list(session.scalars(query))


class Reach(NamedTuple):
    """How many active employees there are, and how many each channel beyond the console
    reaches: ``reached`` counts those with either an e-mail address or a chat."""

    active: int
    email: int
    telegram: int
    reached: int


def reach(session: Session) -> Reach:
    """Counted in one query, for the doctor: a roster nobody is reached on except the
    console is one the service cannot remind."""
    table = models.Employee
    has_email = and_(table.email.is_not(None), table.email != "")
    has_chat = and_(table.telegram_chat_id.is_not(None), table.telegram_chat_id != "")
    active, email, telegram, reached = session.execute(
        select(
            func.count(),
            func.count().filter(has_email),
            func.count().filter(has_chat),
            func.count().filter(has_email | has_chat),
        ).where(table.active.is_(True))
    ).one()
    return Reach(active, email, telegram, reached)
