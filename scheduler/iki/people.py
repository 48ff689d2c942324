"""From blocks to people: the roster an IKI import proposes.

Blocks that carry the same NIP (else the same name) are one person; a person without a
readable NIP gets a provisional key that is stable across imports; every person gets a
superior inferred from the roles and units read.  This is the only step that looks across
blocks, so it is kept apart from reading one block (scheduler.iki.block): it sees an
IkiBlock and the Facts read with it, never the text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from scheduler.iki.block import IkiBlock, Problem, in_block
from scheduler.iki.words import ACTING, SECRETARIAT
from scheduler.messages import say

ROLE_SECRETARY = "secretary"
ROLE_UNIT_HEAD = "unit_head"
UNNAMED = "(nama tidak terbaca)"
"""Display name of an employee whose NIP was read but whose name line is missing."""

_HONORIFICS = re.compile(r"^(?:(?:Drs?|Dra|Ir|Hj?|Prof)\.\s*)+", re.IGNORECASE)
# Academic degrees after a name ("DIANA S.Sos", "MUHAMMAD ARDANI SE"); an initial such as
# "ARIANTO S." or "M. ANDRIE" is part of the name.
_DEGREE = re.compile(
    r"(?:[SMDA]\.\s?[A-Za-z][A-Za-z.]{0,5}|SE|SH|MM|ST|MH|MT|MSi|SSos|SIP|SKom|SPd|AMd)\.?"
)


@dataclass
class ImportedEmployee:
    """A person of the roster: the union of the blocks that carry the same NIP (or name).

    ``key`` is the NIP, or ``TMP-`` plus a short hash of the normalised name when the NIP is
    missing or malformed, so that re-importing the same document yields the same key.
    ``unit`` is ``""`` when no header said which unit the person belongs to.
    """

    key: str
    nip: str | None
    name: str
    position: str
    unit: str
    codes: set[str]
    blocks: list[int]
    review: list[str]
    roles: set[str]
    superior_key: str | None


@dataclass
class Facts:
    """What the roster step needs beyond the public IkiBlock fields."""

    roles: set[str]
    functional: bool
    notes: list[tuple[int, str]] = field(default_factory=list)  # block-level review notes
    roster_problems: list[Problem] = field(default_factory=list)


def roles_of(position: str | None) -> set[str]:
    """The roster roles a position gives: the Sekretaris, and the heads staff report to
    (acting ones included)."""
    if not position:
        return set()
    base = ACTING.sub("", position).lstrip(" .")
    if base == "Sekretaris":
        return {ROLE_SECRETARY}
    if is_head_of_agency(position):
        return set()
    if base.startswith(("Kepala Bidang", "Kepala Sub Bagian")) or ACTING.match(position):
        return {ROLE_UNIT_HEAD}
    return set()


def is_head_of_agency(position: str | None) -> bool:
    """The Kepala Badan (acting or not), whom the Sekretaris reports to."""
    if not position:
        return False
    base = ACTING.sub("", position).lstrip(" .")
    return base == "Kepala Badan" or base.startswith("Kepala Badan ")


def suggest_units(blocks: Sequence[IkiBlock], facts: Sequence[Facts], language: str) -> None:
    """Report a block without unit; name the neighbours' unit when both agree.

    Blocks are filed unit by unit in the seed, so agreeing neighbours are a strong hint,
    but only a hint: the unit is left empty and the superior falls back to the Sekretaris
    until an administrator confirms it.
    """
    for index, block in enumerate(blocks):
        if block.unit is not None:
            continue
        before = next((b.unit for b in reversed(blocks[:index]) if b.unit), None)
        after = next((b.unit for b in blocks[index + 1 :] if b.unit), None)
        if before and before == after:
            note = say("iki_unit_unknown_near", language, unit=before)
        else:
            note = say("iki_unit_unknown", language)
        message = in_block(block.number, note, language)
        block.problems.append(Problem(block.start_line, message, "review"))
        facts[index].notes.append((block.start_line, note))


# --------------------------------------------------------------------------- roster


def provisional_key(name: str) -> str:
    """``TMP-`` and a short hash of the name without titles, stable across imports."""
    return "TMP-" + hashlib.sha1(_name_key(name).encode()).hexdigest()[:10]


def _name_key(name: str) -> str:
    """The name without honorifics, degrees and punctuation, upper case."""
    words = _HONORIFICS.sub("", name.split(",")[0].strip()).split()
    while len(words) > 1 and _DEGREE.fullmatch(words[-1]):
        words.pop()
    return " ".join(re.sub(r"[^A-Za-z' ]", " ", " ".join(words)).upper().split())


def merge_employees(
    blocks: Sequence[IkiBlock],
    facts: Sequence[Facts],
    language: str,
    where: Callable[[int], str],
) -> list[ImportedEmployee]:
    """Merge blocks into people (same NIP; else same name), then infer superiors.

    The first block of a person is the primary one: it gives the position and the unit
    (the Sekretaris stays Sekretaris although he also signs as Plh. of a bidang).  Review
    notes end with ``where`` their line stands in the file ("L12", or a page and table).
    """
    by_key: dict[str, ImportedEmployee] = {}
    by_name: dict[str, str] = {}
    primary: dict[str, int] = {}  # key -> index of the primary block
    for index, block in enumerate(blocks):
        fact = facts[index]
        if any(problem.severity == "error" for problem in block.problems):
            continue
        name_key = _name_key(block.name) if block.name else ""
        review = [f"{note} ({where(line)})" for line, note in fact.notes]
        merge_notes: list[str] = []
        key = block.nip
        if key is None:
            matched = by_name.get(name_key)
            key = matched or provisional_key(block.name or "")
            if matched is not None:
                merge_notes.append(say("iki_merged_by_name", language, key=matched))
        employee = by_key.get(key)
        if employee is None:
            employee = ImportedEmployee(
                key=key,
                nip=block.nip,
                name=block.name or UNNAMED,
                position=block.position or "",
                unit=block.unit or "",
                codes=set(block.evidence),
                blocks=[block.number],
                review=review,
                roles=set(fact.roles),
                superior_key=None,
            )
            by_key[key] = employee
            primary[key] = index
        else:
            employee.codes |= set(block.evidence)
            employee.blocks.append(block.number)
            employee.roles |= fact.roles
            employee.review.extend(r for r in review if r not in employee.review)
            if employee.name == UNNAMED and block.name:
                employee.name = block.name
            elif block.name and name_key != _name_key(employee.name):
                names = {"name": repr(block.name), "other": repr(employee.name)}
                merge_notes.append(say("iki_name_differs", language, **names))
        for note in merge_notes:
            employee.review.append(f"{note} ({where(block.start_line)})")
            message = in_block(block.number, note, language)
            fact.roster_problems.append(Problem(block.start_line, message, "review"))
        if name_key and name_key not in by_name:
            by_name[name_key] = key
    employees = list(by_key.values())
    _infer_superiors(employees, blocks, facts, primary, language, where)
    return employees


@dataclass(frozen=True)
class _Head:
    """The head of a unit as one block read them: their key and the position they signed
    it in (SUTRISNO heads Ketahanan Ekonomi, Sosial dan Budaya as its Plh., not as
    Sekretaris)."""

    key: str
    position: str


def _infer_superiors(
    employees: Sequence[ImportedEmployee],
    blocks: Sequence[IkiBlock],
    facts: Sequence[Facts],
    primary: dict[str, int],
    language: str,
    where: Callable[[int], str],
) -> None:
    """Everyone's direct superior, from position and unit, as the seed's structure has it.

    No IKI block names a superior (the signature is the holder's own), so every superior
    is inferred; the ones the structure does not settle (an unknown unit, a unit without
    its head on the roster, a functional official of the Sekretariat) are guesses, noted
    for review with who was chosen and why:

    * staff and functional officials of a bidang report to its Kepala Bidang (or his
      Plh.); staff (pelaksana) of the Sekretariat to the Kepala Sub Bagian Umum dan
      Kepegawaian; functional officials of the Sekretariat (a Perencana Ahli Muda) to the
      Sekretaris, who heads the Sekretariat;
    * unit heads to the Sekretaris; the Sekretaris to the Kepala Badan when he is on the
      roster, which is otherwise said once, for the whole import;
    * staff whose unit is unknown, or whose unit has no head on the roster, to the
      Sekretaris.
    """
    by_key = {employee.key: employee for employee in employees}
    key_of_block: dict[int, str] = {}
    for employee in employees:
        for number in employee.blocks:
            key_of_block[number] = employee.key
    secretary = next((e.key for e in employees if ROLE_SECRETARY in e.roles), None)
    chief = next((e.key for e in employees if is_head_of_agency(e.position)), None)
    heads: dict[str, _Head] = {}
    umum: set[str] = set()  # units whose head is a Kasubbag Umum (leads Sekretariat staff)
    for index, block in enumerate(blocks):
        key = key_of_block.get(block.number)
        if key is None or ROLE_UNIT_HEAD not in facts[index].roles or not block.unit:
            continue
        head = _Head(key, block.position or by_key[key].position)
        if block.unit == SECRETARIAT and "Umum" in (block.position or ""):
            if block.unit not in umum:
                heads[block.unit] = head
                umum.add(block.unit)
        else:
            heads.setdefault(block.unit, head)

    def chosen(key: str | None, reason: str) -> tuple[_Head | None, str]:
        return (_Head(key, by_key[key].position) if key else None), reason

    for employee in employees:
        index = primary[employee.key]
        fact = facts[index]
        line = blocks[index].start_line
        unit = employee.unit
        guess = True  # what the structure does not settle is flagged for review
        if is_head_of_agency(employee.position):
            superior, reason = None, ""
        elif ROLE_SECRETARY in fact.roles:
            superior, reason = chosen(chief, say("iki_why_secretary", language))
            guess = False
        elif ROLE_UNIT_HEAD in fact.roles:
            superior, reason = chosen(secretary, say("iki_why_unit_head", language))
            guess = False
        elif not unit:
            superior, reason = chosen(secretary, say("iki_why_unit_unknown", language))
        elif fact.functional and unit == SECRETARIAT:
            superior, reason = chosen(secretary, say("iki_why_functional", language, unit=unit))
        elif unit in heads:
            kind = "iki_why_functional" if fact.functional else "iki_why_staff"
            superior, reason = heads[unit], say(kind, language, unit=unit)
            guess = False
        else:
            superior, reason = chosen(secretary, say("iki_why_no_unit_head", language, unit=unit))
        if superior is not None and superior.key == employee.key:
            superior = None
        employee.superior_key = superior.key if superior else None
        note: str | None = None
        if superior is not None and guess:
            boss = by_key[superior.key]
            note = say(
                "iki_superior_inferred",
                language,
                superior=boss.name,
                position=superior.position,
                reason=reason,
            )
        elif superior is None and not (
            ROLE_SECRETARY in fact.roles or is_head_of_agency(employee.position)
        ):
            note = say("iki_superior_unknown", language)
        if note:
            employee.review.append(f"{note} ({where(line)})")
            if superior is not None:  # a missing Sekretaris is reported once, below
                message = in_block(blocks[index].number, note, language)
                fact.roster_problems.append(Problem(line, message, "review"))
    if secretary is None and facts:
        facts[0].roster_problems.append(
            Problem(blocks[0].start_line, say("iki_no_secretary", language), "review")
        )
    elif secretary is not None and chief is None:
        index = primary[secretary]
        name = by_key[secretary].name
        facts[index].roster_problems.append(
            Problem(
                blocks[index].start_line,
                say("iki_no_head_of_agency", language, name=name),
                "review",
            )
        )


def codes_in(employees: Iterable[ImportedEmployee]) -> dict[str, int]:
    """How many employees carry each code: the summary an importer prints."""
    counts: dict[str, int] = {}
    for employee in employees:
        for code in employee.codes:
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))
