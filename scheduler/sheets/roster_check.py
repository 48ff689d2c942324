"""Checking a roster sheet the admin brings back, row by row and as a whole.

Each row is checked on its own (key, NIP, name, roles, rules, contacts), then against the
others and the stored roster (one employee or NIP twice, a NIP someone else holds), then
for superiors (unknown, skipped with a bad row, or a loop).  Nothing is written here: the
good rows go to :func:`scheduler.sheets.roster.apply_roster`.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rules.catalog import Catalog
from scheduler.sheets.roster import (
    ROSTER_COLUMNS,
    ROSTER_FIELDS,
    ROSTER_REQUIRED,
    RosterRow,
    Stored,
)
from scheduler.sheets.table import (
    EXCEL_NUMBER,
    Keys,
    Problem,
    Row,
    Table,
    check_columns,
    flag_cell,
    nip_cell,
    rows_to_read,
)
from scheduler.store.records import (
    NIP_PATTERN,
    ROLES,
    is_chat_id,
    is_email,
    length_of,
    normal_chat_id,
    normalise_nip,
)

TMP_KEY = re.compile(r"^TMP-[A-Za-z0-9_-]{1,28}$", re.IGNORECASE)


@dataclass
class RosterCheck:
    rows: list[RosterRow]
    problems: list[Problem]
    skipped: list[int]  # row numbers with problems


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def _hint(word: str, known: Iterable[str]) -> str:
    return ", ".join(difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.5))


def check_roster(table: Table, stored: Mapping[str, Stored], catalog: Catalog) -> RosterCheck:
    """Check every row of a roster sheet against each other and the stored roster."""
    check_columns(table, ROSTER_COLUMNS, ROSTER_REQUIRED)
    keys = Keys(stored)
    lengths = {column: length_of(field) for column, field in ROSTER_FIELDS.items()}
    problems: list[Problem] = []
    candidates: list[RosterRow] = []
    for row, found in rows_to_read(table, lengths, problems):
        checked = _roster_row(table, row, stored, keys, catalog, found)
        problems += found
        if checked is not None and not found:
            candidates.append(checked)
    problems += _clashes(candidates, stored)
    problems += _chat_clashes(candidates, stored)
    typed: dict[str, int] = {}
    for row in table.rows:
        for column in ("key", "nip"):
            if row.text(column):
                typed.setdefault(Keys.fold(row.text(column)).casefold(), row.number)
    problems += _superiors(candidates, problems, stored, keys, typed)
    bad = {problem.row for problem in problems}
    problems.sort(key=lambda p: p.row)
    good = [row for row in candidates if row.number not in bad]
    return RosterCheck(good, problems, sorted(bad))


def _roster_row(
    table: Table,
    row: Row,
    stored: Mapping[str, Stored],
    keys: Keys,
    catalog: Catalog,
    problems: list[Problem],
) -> RosterRow | None:
    number = row.number
    nip = nip_cell(row, "nip", problems)
    nip_given = bool(row.text("nip"))
    raw_key = row.raw("key")
    typed = row.text("key")
    ident: str | None = None
    if not typed:
        if not nip_given:
            problems.append(Problem(number, "no_key"))
        ident = nip
    elif isinstance(raw_key, float | int) and not isinstance(raw_key, bool):
        problems.append(Problem(number, "nip_number", {"nip": typed}, ("excel_number",)))
    elif typed.upper().startswith("TMP-"):
        ident = keys.get(typed) or (typed if TMP_KEY.match(typed) else None)
        if ident is None:
            problems.append(Problem(number, "bad_key", {"key": typed}))
    elif NIP_PATTERN.match(normalise_nip(typed)):
        ident = normalise_nip(typed)
        if nip is not None and nip != ident:
            problems.append(Problem(number, "nip_differs", {"nip": row.text("nip"), "key": ident}))
        if not nip_given:
            nip = ident
    else:
        notes = ("excel_number",) if EXCEL_NUMBER.match(typed) else ()
        problems.append(Problem(number, "bad_key", {"key": typed}, notes))

    before = stored.get(ident) if ident else None
    kept_roles, kept_rules = (before.roles, before.rules) if before else (frozenset(), frozenset())
    name = row.text("name")
    if not name:
        problems.append(Problem(number, "name_missing"))
    # A role or code already stored stays acceptable (a rule since dropped from the
    # catalog must not block re-importing an unchanged sheet); only new ones are checked.
    roles = frozenset(role.lower() for role in _split(row.text("roles")))
    for role in sorted(roles - ROLES - kept_roles):
        hints = _hint(role, ROLES)
        params = {"role": role, "roles": ", ".join(sorted(ROLES)), "hints": hints}
        problems.append(Problem(number, "unknown_role", params))
    rules = frozenset(code.upper() for code in _split(row.text("rules")))
    for code in sorted(rules - set(catalog.rules) - kept_rules):
        hints = _hint(code, catalog.rules)
        problems.append(Problem(number, "unknown_rule", {"code": code, "hints": hints}))

    values: dict[str, Any] = {"name": name, "unit": row.text("unit"), "roles": roles}
    values["rules"] = rules
    if "position" in table.columns:
        values["position"] = row.text("position")
    if "review" in table.columns:
        values["review"] = row.text("review")
    if "telegram_chat_id" in table.columns:
        chat_id = re.sub(r"\s", "", row.text("telegram_chat_id"))
        if chat_id and not is_chat_id(chat_id):
            problems.append(Problem(number, "bad_chat_id", {"chat_id": chat_id}))
        values["telegram_chat_id"] = normal_chat_id(chat_id) if is_chat_id(chat_id) else None
    if "email" in table.columns:
        email = row.text("email")
        if email and not is_email(email):
            problems.append(Problem(number, "bad_email", {"email": email}))
        values["email"] = email or None
    if "active" in table.columns:
        active = flag_cell(row, "active", problems)
        if active is not None:
            values["active"] = active
    if ident is None or problems:
        return None
    key = nip or ident
    base = before or Stored(
        key, None, "", "", "", None, frozenset(), frozenset(), None, None, True, ""
    )
    after = replace(base, key=key, nip=nip, superior=None, **values)
    if not after.active:  # an inactive employee holds no chat (`records.chat_holder`)
        after = replace(after, telegram_chat_id=None)
    return RosterRow(number, ident, before, after, Keys.fold(row.text("superior")))


def _clashes(rows: list[RosterRow], stored: Mapping[str, Stored]) -> list[Problem]:
    """Two rows for one employee or one NIP; a NIP that belongs to someone else."""
    by_nip = {s.nip: s for s in stored.values() if s.nip}
    problems: list[Problem] = []
    for group_of in (lambda r: r.ident, lambda r: r.after.key):
        groups: dict[str, list[RosterRow]] = defaultdict(list)
        for row in rows:
            groups[group_of(row)].append(row)
        for group in groups.values():
            for row in group:
                for other in group:
                    if other is not row:
                        problems.append(_clash(row, other))
    seen: set[tuple[int, str]] = set()
    unique = []
    for problem in problems:
        if (problem.row, problem.message) not in seen:
            seen.add((problem.row, problem.message))
            unique.append(problem)
    clashing = {problem.row for problem in unique}
    for row in rows:
        holder = by_nip.get(row.after.nip or "") or stored.get(row.after.key)
        if row.number in clashing or holder is None or holder.key == row.ident:
            continue
        params = {"nip": row.after.nip or row.after.key, "key": holder.key, "name": holder.name}
        unique.append(Problem(row.number, "nip_taken", params))
    return unique


def _chat_clashes(rows: list[RosterRow], stored: Mapping[str, Stored]) -> list[Problem]:
    """A Telegram chat given to two employees, on two rows or on a row and in the database
    (as it will be after the import): the bot would act for either of them."""
    held = {s.telegram_chat_id: s for s in stored.values() if s.telegram_chat_id and s.active}
    given = {row.ident for row in rows}
    by_chat: dict[str, list[RosterRow]] = defaultdict(list)
    for row in rows:
        if row.after.telegram_chat_id is not None:
            by_chat[row.after.telegram_chat_id].append(row)
    problems: list[Problem] = []
    for chat, group in by_chat.items():
        holder = held.get(chat)
        for row in group:
            other = next((o for o in group if o is not row), None)
            if other is not None:
                params = {"chat": chat, "name": other.after.name, "key": other.after.key}
                params["other"] = str(other.number)
                problems.append(Problem(row.number, "chat_twice", params))
            elif holder is not None and holder.key != row.ident and holder.key not in given:
                params = {"chat": chat, "name": holder.name, "key": holder.key}
                problems.append(Problem(row.number, "chat_taken", params))
    return problems


def _clash(row: RosterRow, other: RosterRow) -> Problem:
    nip = row.after.nip
    if nip is None or nip != other.after.nip:
        return Problem(row.number, "same_employee", {"other": str(other.number)})
    if row.after.name.casefold() != other.after.name.casefold():
        params = {
            "nip": nip,
            "name": row.after.name,
            "other_name": other.after.name,
            "other": str(other.number),
        }
        return Problem(row.number, "nip_twice_names", params)
    return Problem(row.number, "nip_twice", {"nip": nip, "other": str(other.number)})


def _superiors(
    candidates: list[RosterRow],
    earlier: list[Problem],
    stored: Mapping[str, Stored],
    keys: Keys,
    typed: Mapping[str, int],
) -> list[Problem]:
    """Resolve superiors and refuse loops, over the good rows and the stored roster.

    A row whose superior is only on a bad row is bad too, and bad rows keep their stored
    superior, so this repeats until no further row drops out.
    """
    problems: list[Problem] = []
    bad = {problem.row for problem in earlier}
    rows = [row for row in candidates if row.number not in bad]
    names = {key: s.name for key, s in stored.items()}
    while True:
        refs: dict[str, str] = {s.nip: s.key for s in stored.values() if s.nip}
        refs.update(keys.by_fold)
        for row in rows:
            refs[row.ident.casefold()] = row.ident
            refs[row.after.key.casefold()] = row.ident
            names[row.ident] = row.after.name
        found: list[Problem] = []
        for row in rows:
            ref = row.superior_ref
            if not ref:
                row.after = replace(row.after, superior=None)
                continue
            boss = refs.get(ref.casefold())
            if boss is None and ref.casefold() in typed:
                params = {"superior": ref, "other": str(typed[ref.casefold()])}
                found.append(Problem(row.number, "superior_skipped", params))
            elif boss is None:
                hints = _hint(ref, stored) if not ref.upper().startswith("TMP-") else ""
                found.append(
                    Problem(row.number, "superior_unknown", {"superior": ref, "hints": hints})
                )
            elif boss == row.ident:
                found.append(Problem(row.number, "superior_self"))
            else:
                row.after = replace(row.after, superior=boss)
        failed = {problem.row for problem in found}
        line = {key: s.superior for key, s in stored.items()}
        line.update({row.ident: row.after.superior for row in rows if row.number not in failed})
        for row in rows:
            chain = _loop(row.ident, line) if row.number not in failed else None
            if chain is not None:
                text = " → ".join(names.get(key, key) for key in [*chain, row.ident])
                found.append(Problem(row.number, "superior_loop_rows", {"chain": text}))
        if not found:
            return problems
        problems += found
        failed = {problem.row for problem in found}
        rows = [row for row in rows if row.number not in failed]


def _loop(start: str, line: Mapping[str, str | None]) -> list[str] | None:
    """The reporting chain from ``start`` back to itself, or None when it ends."""
    chain, seen = [start], {start}
    boss = line.get(start)
    while boss is not None:
        if boss == start:
            return chain
        if boss in seen:
            return None  # a loop above, not through ``start``
        seen.add(boss)
        chain.append(boss)
        boss = line.get(boss)
    return None
