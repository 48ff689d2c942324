"""Turn the agency's OCR'd IKI document into an importable roster.

An IKI ("Indikator Kinerja Individu") document holds one block per employee: a title line,
four header items (PERANGKAT DAERAH, JABATAN, TUGAS, FUNGSI), a tab-separated indicator
table and a signature (place and date, position, name, NIP).  The text we receive is OCR
output, so every part of that layout may be damaged: headers go missing or shift by one
label, columns are duplicated or shifted, cells carry running numbers, NIPs lose digits.

The parser is pure (text in, data out; no file I/O, no clock) and deliberately tolerant: it
never drops a block silently.  Each block becomes an employee or an ``error`` problem, and
every guess it had to make is reported as a ``review`` problem with its line number, so an
administrator can confirm the roster before it is used to send reminders.

Indicator rows are mapped to rule codes with the catalog's own ``patterns`` and
``exclude_patterns``: the catalog is the single place where recognition is configured.
Only the INDIKATOR cell and the cells after it (PENJELASAN and duplicated extras) are
matched, never the SASARAN cell, because the SASARAN column is misaligned throughout the
seed (trap A1 of the catalog notes: the LHKPN goal sits above SPT indicators).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

from rules.catalog import Catalog
from scheduler.words import say

Severity = Literal["error", "review"]
Column = Literal["indikator", "penjelasan"]

SECRETARIAT = "Sekretariat"
ROLE_SECRETARY = "secretary"
ROLE_UNIT_HEAD = "unit_head"
UNNAMED = "(name missing)"
"""Display name of an employee whose NIP was read but whose name line is missing."""


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Problem:
    """Something an administrator must know about the import, located by line (1-based).

    ``error``: the block could not be imported.  ``review``: it was imported on a guess.
    """

    line: int
    message: str
    severity: Severity


@dataclass(frozen=True)
class Evidence:
    """Why a code was attributed: the cell that matched the rule's pattern, and where."""

    code: str
    line: int
    column: Column
    text: str


@dataclass
class IkiBlock:
    """One employee's IKI as read from the text, before people are merged across blocks."""

    number: int
    start_line: int
    end_line: int
    name: str | None
    nip: str | None
    raw_nip: str | None
    position: str | None
    unit: str | None
    signed_on: date | None
    evidence: dict[str, Evidence] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


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
class IkiImport:
    """The parsed document: its blocks, the merged roster and every problem found."""

    blocks: list[IkiBlock]
    employees: list[ImportedEmployee]
    problems: list[Problem]


class NotAnIki(ValueError):
    """The text cannot be an IKI document at all (empty, binary, or without any block)."""


# --------------------------------------------------------------------------- vocabulary

_TITLE = re.compile(
    r"^[\s*#_|>]*INDIKATOR\s+KINERJA\s+INDIVIDU[\s*#_|.:]*(?:\(IKI\)[\s*#_|.:]*)?$", re.IGNORECASE
)

# Header labels are upper case in the template; "fungsi" in the TUGAS sentence is not.
_LABEL = re.compile(
    r"(?P<num>(?<![\w.])\d\s*\.\s*)?"
    r"\b(?P<label>PER+ANGKAT\s+DAERAH|JABATAN|TUGAS|FUNGSI)\b\s*:?\s*"
)

_MONTHS = {
    "januari": 1,
    "februari": 2,
    "pebruari": 2,
    "maret": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "nopember": 11,
    "desember": 12,
}
# "Tenggarong, 20 Januari 2025", "Tanggal 1 Februari 2025"; text after the date is kept
# because one block (L1057) has the signature position on the same line.
_SIGN_DATE = re.compile(
    r"^(?P<place>[A-Z][A-Za-z.' ]{1,40},\s*|Tanggal\s+)?(?P<d>\d{1,2})\s+(?P<m>[A-Za-z]{3,10})\s+"
    r"(?P<y>(?:19|20)\d{2})\b\s*(?P<rest>.*)$"
)
_NIP_LINE = re.compile(r"^N\s*I\s*P\b\.?\s*:?\s*(?P<value>.*)$", re.IGNORECASE)
_BARE_NIP = re.compile(r"^\d[\d ]{14,24}$")
_ROW_NUMBER = re.compile(r"\d{1,3}")
_RUNNING_NUMBER = re.compile(r"^\d{1,3}\s*\.?\s+(?=\S)")
_NUMERIC_CELL = re.compile(r"^[\d\s.,]*$")
_ACTING = re.compile(r"^(?:P[il1]h|Plt)(?:\s*\.\s*|\s+)(?=\S)", re.IGNORECASE)
_TUGAS_LIKE = re.compile(
    r"\b(Bupati|kewenangan|melaksanakan|fungsi\s+penunjang|Urusan\s+Pemerintahan)\b",
    re.IGNORECASE,
)
# The FUNGSI sentence names the unit: "... kebijakan teknis di bidang X" for a bidang,
# "... pelayanan umum di bidang kesatuan bangsa dan politik" for the Sekretariat.
_FUNGSI_UNIT = re.compile(
    r"(?:kebijakan\s+teknis|pelayanan\s+umum)\s+di\s+bidang\s+(?P<unit>.+)$", re.IGNORECASE
)
_ANY_UNIT = re.compile(r"\bdi\s+bidang\s+(?P<unit>.+)$", re.IGNORECASE)
_GENERIC_UNIT = "kesatuan bangsa dan politik"

_SMALL_WORDS = frozenset({"dan", "di", "ke", "dari", "yang", "untuk", "atau", "pada"})
# Spellings of the template's positions and units; OCR variants of these words are fixed
# (token by token, so "Ahli Madya" is never "corrected" into "Ahli Muda").
_KNOWN_POSITIONS = (
    "Sekretaris",
    "Kepala Sub Bagian Umum dan Kepegawaian",
    "Perencana Ahli Muda",
    "Analis Kebijakan Ahli Muda",
    "Pengolah Data dan Informasi",
    "Pengadministrasi Perkantoran",
    "Penelaah Teknis Kebijakan",
    "Operator Layanan Operasional",
)
_KNOWN_BIDANG = (
    "Ideologi dan Wawasan Kebangsaan",
    "Politik Dalam Negeri",
    "Ketahanan Ekonomi, Sosial dan Budaya",
)
_VOCABULARY = frozenset(
    word.lower().strip(",")
    for phrase in (*_KNOWN_POSITIONS, *_KNOWN_BIDANG, "Kepala Bidang Sub Bagian Pelaksana")
    for word in phrase.split()
)
_ABBREVIATIONS = (
    (re.compile(r"\bKa\s*\.?\s*bid\b\.?", re.IGNORECASE), "Kepala Bidang"),
    (re.compile(r"\bKa\s*\.?\s*sub\s*\.?\s*bag(?:ian)?\b\.?", re.IGNORECASE), "Kepala Sub Bagian"),
    (re.compile(r"\bKepala\s+Subbagian\b", re.IGNORECASE), "Kepala Sub Bagian"),
    (re.compile(r"\bWasbang\b", re.IGNORECASE), "Wawasan Kebangsaan"),
)
_HONORIFICS = re.compile(r"^(?:(?:Drs?|Dra|Ir|Hj?|Prof)\.\s*)+", re.IGNORECASE)
# Academic degrees after a name ("DIANA S.Sos", "MUHAMMAD ARDANI SE"); an initial such as
# "ARIANTO S." or "M. ANDRIE" is part of the name.
_DEGREE = re.compile(
    r"(?:[SMDA]\.\s?[A-Za-z][A-Za-z.]{0,5}|SE|SH|MM|ST|MH|MT|MSi|SSos|SIP|SKom|SPd|AMd)\.?"
)


# --------------------------------------------------------------------------- entry point


def parse_iki(text: str, catalog: Catalog, language: str = "id") -> IkiImport:
    """Read every IKI block of ``text`` and merge them into a roster.

    Raises NotAnIki when the text is empty, binary-looking or holds no IKI block, so a
    caller that was handed the wrong file gets told what was expected.  Problems, review
    notes and NotAnIki are worded in ``language`` ("id" or "en", see scheduler.words);
    lines, severities and everything else do not depend on it.
    """
    _check_text(text, language)
    lines = [line.rstrip("\r") for line in text.split("\n")]
    matchers = _matchers(catalog)
    segments = _segments(lines)
    blocks: list[IkiBlock] = []
    facts: list[_Facts] = []
    problems: list[Problem] = []
    for start, end, titled in segments:
        parsed = _parse_segment(len(blocks) + 1, lines, start, end, titled, matchers, language)
        if parsed is None:
            if blocks:  # a bare title after real blocks: say so; the cover page is expected
                note = say("iki_title_only", language, line=str(start))
                problems.append(Problem(start, note, "review"))
            continue
        blocks.append(parsed[0])
        facts.append(parsed[1])
    if not blocks:
        raise NotAnIki(say("iki_no_block", language))
    _suggest_units(blocks, facts, language)
    employees = _employees(blocks, facts, language)
    for block in blocks:
        problems.extend(block.problems)
    problems.extend(problem for fact in facts for problem in fact.roster_problems)
    problems.sort(key=lambda problem: problem.line)
    return IkiImport(blocks=blocks, employees=employees, problems=problems)


def _check_text(text: str, language: str) -> None:
    """Refuse what cannot be an IKI before trying to parse it."""
    if not text.strip():
        raise NotAnIki(say("iki_empty_text", language))
    if "\x00" in text:
        raise NotAnIki(say("iki_binary_text", language))
    sample = text[:20000]
    odd = sum(1 for ch in sample if not ch.isprintable() and not ch.isspace())
    if odd > len(sample) * 0.1:
        raise NotAnIki(say("iki_unprintable", language))


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class _Matcher:
    code: str
    patterns: tuple[re.Pattern[str], ...]
    excludes: tuple[re.Pattern[str], ...]

    def matches(self, cell: str) -> bool:
        return any(p.search(cell) for p in self.patterns) and not any(
            x.search(cell) for x in self.excludes
        )


def _matchers(catalog: Catalog) -> list[_Matcher]:
    """Compile the active rules' patterns once per import; a broken regex names its rule."""
    out: list[_Matcher] = []
    for rule in catalog.active:
        if not rule.patterns:
            continue
        try:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in rule.patterns)
            excludes = tuple(re.compile(p, re.IGNORECASE) for p in rule.exclude_patterns)
        except re.error as exc:
            raise ValueError(f"rule {rule.code}: invalid pattern: {exc}") from exc
        out.append(_Matcher(rule.code, patterns, excludes))
    return out


# --------------------------------------------------------------------------- segmentation


def _segments(lines: Sequence[str]) -> list[tuple[int, int, bool]]:
    """(first, last, titled) 1-based line ranges, one per block.

    A block starts at a title line.  Should OCR have lost a title, a block also starts
    where a header item or a table row follows a signature date, or where table content
    precedes the first title: otherwise two people would be read as one and the first
    silently lost.  Without any title line at all the text is not taken for an IKI.
    """
    starts: list[tuple[int, bool]] = []
    after_signature = False
    for number, line in enumerate(lines, 1):
        if _TITLE.match(line):
            starts.append((number, True))
            after_signature = False
            continue
        if not line.strip():
            continue
        is_row = "\t" in line
        content = is_row or bool(_label_items(_clean(line.replace("|", " "))))
        if content and (after_signature or not starts):
            starts.append((number, False))
            after_signature = False
        if any(_is_signing_date(cell, in_row=is_row) for cell in line.split("\t")):
            after_signature = True
    if not any(titled for _, titled in starts):
        return []
    out: list[tuple[int, int, bool]] = []
    for k, (start, titled) in enumerate(starts):
        end = starts[k + 1][0] - 1 if k + 1 < len(starts) else len(lines)
        while end > start and not lines[end - 1].strip():
            end -= 1
        out.append((start, end, titled))
    return out


def _is_signing_date(text: str, *, in_row: bool) -> bool:
    """A signature date; inside a table row only with its place ("Tenggarong, ..."), as a
    cell may well start with a deadline such as "31 Maret 2025"."""
    m = _SIGN_DATE.match(text.strip())
    return bool(m and _month(m.group("m")) is not None and (m.group("place") or not in_row))


# --------------------------------------------------------------------------- one block


@dataclass(frozen=True)
class _Row:
    """An indicator row without its NO and SASARAN cells (SASARAN never decides a code)."""

    line: int
    cells: tuple[str, ...]  # INDIKATOR first, then PENJELASAN and duplicated extras


@dataclass
class _Signature:
    date_line: int | None = None
    signed_on: date | None = None
    position: str | None = None
    position_line: int | None = None
    name: str | None = None
    name_line: int | None = None
    raw_nip: str | None = None
    nip_line: int | None = None


@dataclass
class _Facts:
    """What the roster step needs beyond the public IkiBlock fields."""

    roles: set[str]
    functional: bool
    notes: list[tuple[int, str]] = field(default_factory=list)  # block-level review notes
    roster_problems: list[Problem] = field(default_factory=list)


def _parse_segment(
    number: int,
    lines: Sequence[str],
    start: int,
    end: int,
    titled: bool,
    matchers: Sequence[_Matcher],
    language: str,
) -> tuple[IkiBlock, _Facts] | None:
    """Parse lines start..end (1-based, inclusive); None when there is nothing to read."""
    numbered = list(enumerate(lines[start - 1 : end], start))
    headers, orphans = _headers(numbered)
    rows = _rows(numbered)
    signature = _signature(numbered, rows)
    if not (rows or headers or signature.raw_nip or signature.signed_on):
        return None  # the cover page repeats the title; it is not a block

    block = IkiBlock(
        number=number,
        start_line=start,
        end_line=end,
        name=signature.name,
        nip=None,
        raw_nip=signature.raw_nip,
        position=None,
        unit=None,
        signed_on=signature.signed_on,
    )
    notes: list[tuple[int, str, Severity]] = []
    if not titled:
        notes.append((start, say("iki_no_title", language), "review"))

    # Identity.
    if signature.raw_nip is not None:
        block.nip = read_nip(signature.raw_nip)
    where = signature.nip_line or signature.name_line or signature.date_line or start
    if signature.raw_nip is None:
        if signature.name is None:
            notes.append((where, say("iki_no_name_no_nip", language), "error"))
        else:
            notes.append((where, say("iki_nip_missing", language), "review"))
    elif block.nip is None:
        nip = repr(signature.raw_nip)
        if signature.name is None:
            notes.append((where, say("iki_bad_nip_no_name", language, nip=nip), "error"))
        else:
            notes.append((where, say("iki_bad_nip", language, nip=nip), "review"))
    if signature.name is None and block.nip is not None:
        notes.append((where, say("iki_name_missing", language, unnamed=repr(UNNAMED)), "review"))
    if signature.signed_on is None:
        notes.append((signature.date_line or start, say("iki_no_signing_date", language), "review"))

    # Position and unit.
    position, position_notes = _choose_position(start, headers, orphans, signature, language)
    block.position = position
    notes.extend((line, note, "review") for line, note in position_notes)
    block.unit = _choose_unit(position, headers)

    # Indicators.
    for row in rows:
        for index, cell in enumerate(row.cells):
            column: Column = "indikator" if index == 0 else "penjelasan"
            for matcher in matchers:
                if not matcher.matches(cell):
                    continue
                known = block.evidence.get(matcher.code)
                if known is None or (known.column == "penjelasan" and column == "indikator"):
                    block.evidence[matcher.code] = Evidence(matcher.code, row.line, column, cell)
    for code, evidence in block.evidence.items():
        if evidence.column == "penjelasan":
            note = say("iki_uncertain_match", language, code=code)
            notes.append((evidence.line, note, "review"))
    if not block.evidence:
        notes.append((start, say("iki_no_indicator", language), "review"))

    block.problems = [
        Problem(line, _in_block(number, note, language), severity) for line, note, severity in notes
    ]
    facts = _Facts(
        roles=_roles(position),
        functional=bool(position and re.search(r"\bAhli\b", position)),
        notes=[(line, note) for line, note, _ in notes],
    )
    return block, facts


def _in_block(number: int, note: str, language: str) -> str:
    """A block-level note as a problem's message: "block 5: ..." ("blok 5: ...")."""
    return say("iki_block", language, number=str(number), note=note)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _headers(
    numbered: Sequence[tuple[int, str]],
) -> tuple[dict[str, tuple[int, str]], list[tuple[int, str]]]:
    """Header items by label (first occurrence wins), and ': value' lines without a label.

    Handles "2. JABATAN : X", "JABATAN : X", "| 2. JABATAN | : X |", tab-separated items,
    several items on one physical line (L1308), and a FUNGSI whose value sits on the
    next line (L657-658).
    """
    found: dict[str, tuple[int, str]] = {}
    orphans: list[tuple[int, str]] = []
    pending_fungsi: int | None = None
    for line_no, raw in numbered:
        text = _clean(raw.replace("|", " ").replace("\t", " "))
        if not text:
            continue
        items = _label_items(text)
        if pending_fungsi is not None and not items:
            if "\t" not in raw and not text.upper().startswith("NO "):
                found["FUNGSI"] = (line_no, re.sub(r"^[-–•\s]*(?:[ivx]+\.|\d+\.)?\s*", "", text))
            pending_fungsi = None
            continue
        pending_fungsi = None
        if not items and text.startswith(":") and "\t" not in raw:
            orphans.append((line_no, text.lstrip(": ").strip()))
            continue
        for label, value in items:
            key = "PERANGKAT" if label.startswith("PER") else label
            if key in found:
                continue
            found[key] = (line_no, value)
            if key == "FUNGSI" and not value:
                pending_fungsi = line_no
    if "FUNGSI" in found and not found["FUNGSI"][1]:
        del found["FUNGSI"]
    return found, orphans


def _label_items(text: str) -> list[tuple[str, str]]:
    """Split a normalised line into (LABEL, value) items; labels must start the line or
    follow their item number, so ordinary words in a sentence never count."""
    matches = [
        m
        for m in _LABEL.finditer(text)
        if m.start() == 0 or m.group("num") or _is_row_prefix(text[: m.start()])
    ]
    items: list[tuple[str, str]] = []
    for k, m in enumerate(matches):
        stop = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        value = text[m.end() : stop].strip(" :|")
        label = re.sub(r"\s+", " ", m.group("label"))
        items.append((label, value))
    return items


def _is_row_prefix(prefix: str) -> bool:
    return bool(re.fullmatch(r"\s*\d{1,3}\s*", prefix))


def _rows(numbered: Sequence[tuple[int, str]]) -> list[_Row]:
    """Indicator rows: numbered rows, and un-numbered continuation rows inside a table.

    Column-number rows ("1 2 3"), header rows embedded in the table and a signature that
    strayed into a row are skipped.  Cells lose their running-number prefix ("16 Tingkat
    ...") and purely numeric cells are dropped, so the first remaining cell after SASARAN
    is the INDIKATOR even when OCR inserted empty or duplicated columns.
    """
    rows: list[_Row] = []
    in_table = False
    for line_no, raw in numbered:
        if "\t" not in raw:
            continue
        cells = raw.split("\t")
        first = cells[0].strip()
        if first.upper() == "NO":
            in_table = True
            continue
        is_numbered = bool(_ROW_NUMBER.fullmatch(first))
        if not is_numbered and not (first == "" and in_table):
            continue
        joined = _clean(" ".join(cells))
        if _label_items(joined) or any(_is_signing_date(c, in_row=True) for c in cells):
            continue
        in_table = True
        rest = tuple(
            cell
            for cell in (_RUNNING_NUMBER.sub("", _clean(c)) for c in cells[2:])
            if cell and not _NUMERIC_CELL.match(cell)
        )
        if rest:
            rows.append(_Row(line_no, rest))
    return rows


def _signature(numbered: Sequence[tuple[int, str]], rows: Sequence[_Row]) -> _Signature:
    """Date, position, name and NIP from the lines after the table.

    The position is the first line after the date; the name is the first other line that
    is not the NIP, whichever order OCR put name and NIP in.
    """
    sig = _Signature()
    last_row = rows[-1].line if rows else 0
    date_index: int | None = None
    rest = ""
    for index in range(len(numbered) - 1, -1, -1):
        line_no, raw = numbered[index]
        if line_no <= last_row:
            break
        for cell in raw.split("\t"):
            m = _SIGN_DATE.match(cell.strip())
            if m and _is_signing_date(cell, in_row="\t" in raw):
                date_index, rest = index, _clean(m.group("rest"))
                sig.date_line = line_no
                sig.signed_on = _date(m)
                break
        if date_index is not None:
            break
    if date_index is not None:
        tail = [(n, _clean(raw)) for n, raw in numbered[date_index + 1 :] if raw.strip()]
        if rest:
            sig.position, sig.position_line = rest.rstrip(","), sig.date_line
        elif tail and not _is_nip(tail[0][1]):
            sig.position, sig.position_line = tail[0][1].rstrip(" ,"), tail[0][0]
            tail = tail[1:]
    else:
        tail = [
            (n, _clean(raw))
            for n, raw in numbered[1:]
            if raw.strip() and "\t" not in raw and n > last_row
        ]
        tail = [(n, t) for n, t in tail if not _label_items(_clean(t.replace("|", " ")))]
        if tail and not _is_nip(tail[0][1]) and tail[0][1].endswith(","):
            sig.position, sig.position_line = tail[0][1].rstrip(" ,"), tail[0][0]
            tail = tail[1:]
    for line_no, text in tail:
        if _is_nip(text):
            if sig.raw_nip is None and _nip_value(text):  # a bare "NIP." is no NIP
                sig.raw_nip, sig.nip_line = _nip_value(text), line_no
        elif sig.name is None and re.search(r"[A-Za-z]{2}", text):
            sig.name, sig.name_line = re.sub(r"\s*,\s*", ", ", text).strip(" ,"), line_no
    return sig


def _month(word: str) -> int | None:
    key = word.lower()
    if key in _MONTHS:
        return _MONTHS[key]
    close = difflib.get_close_matches(key, list(_MONTHS), n=1, cutoff=0.8)
    return _MONTHS[close[0]] if close else None


def _date(m: re.Match[str]) -> date | None:
    month = _month(m.group("m"))
    if month is None:
        return None
    try:
        return date(int(m.group("y")), month, int(m.group("d")))
    except ValueError:
        return None


def _is_nip(text: str) -> bool:
    return bool(_NIP_LINE.match(text) or _BARE_NIP.match(text))


def _nip_value(text: str) -> str:
    m = _NIP_LINE.match(text)
    return (m.group("value") if m else text).strip(" .:")


def read_nip(raw: str) -> str | None:
    """The 18-digit NIP, or None when ``raw`` cannot be one.

    Spaces are layout ("19710515 200012 1 003"); anything else, a wrong length, an
    impossible birth date (digits 1-8) or a sex digit (15) other than 1/2 means OCR lost
    or changed a digit, and a guessed NIP would be a wrong person's key.
    """
    digits = re.sub(r"[\s.]", "", raw)
    if not re.fullmatch(r"\d{18}", digits):
        return None
    try:
        date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    if digits[14] not in "12":
        return None
    return digits


# --------------------------------------------------------------------------- position, unit


def _title(text: str) -> str:
    words = []
    for k, word in enumerate(text.split()):
        lower = word.lower()
        if k and lower.strip(",") in _SMALL_WORDS:
            words.append(lower)
        else:
            words.append(word[:1].upper() + word[1:].lower())
    return " ".join(words)


@lru_cache(maxsize=1024)
def _fix_word(word: str) -> str:
    """Replace an OCR-damaged word by the template word it is closest to, if any."""
    bare = word.strip(",.").lower()
    if len(bare) < 5 or bare in _VOCABULARY:
        return word
    close = difflib.get_close_matches(bare, sorted(_VOCABULARY), n=1, cutoff=0.8)
    if not close:
        return word
    return close[0] + ("," if word.endswith(",") else "")


def normalise_position(text: str) -> str:
    """Title-cased position with acting prefix "Plh."/"Plt.", abbreviations expanded and
    OCR-damaged template words repaired ("Pengolahan" -> "Pengolah", "Pih." -> "Plh.")."""
    text = _clean(text).strip(" ,:")
    acting = ""
    m = _ACTING.match(text)
    if m:
        acting = "Plt. " if m.group(0).lower().startswith("plt") else "Plh. "
        text = text[m.end() :].lstrip(" .")
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    text = " ".join(_fix_word(word) for word in text.split())
    text = re.sub(r"\s*,\s*", ", ", text).strip(" ,")
    return acting + _title(text)


def normalise_unit(text: str) -> str:
    """``Sekretariat`` or ``Bidang X`` with X in the template's spelling when recognised."""
    text = _clean(text).strip(" .,;:")
    text = re.sub(r"^(?:bidang\s+)+", "", text, flags=re.IGNORECASE)
    if _is_generic_unit(text) or text.lower().startswith("sekretariat"):
        return SECRETARIAT
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    text = " ".join(_fix_word(word) for word in text.split())
    text = re.sub(r"\s*,\s*", ", ", text)
    for known in _KNOWN_BIDANG:
        if _letters(known) == _letters(text):
            return f"Bidang {known}"
    return f"Bidang {_title(text)}"


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _is_generic_unit(text: str) -> bool:
    ratio = difflib.SequenceMatcher(None, _letters(text), _letters(_GENERIC_UNIT)).ratio()
    return ratio >= 0.85


def _known_position(position: str) -> bool:
    base = _ACTING.sub("", position).lstrip(" .")
    return base in _KNOWN_POSITIONS or base.startswith("Kepala Bidang ")


def _choose_position(
    start: int,
    headers: dict[str, tuple[int, str]],
    orphans: Sequence[tuple[int, str]],
    signature: _Signature,
    language: str,
) -> tuple[str | None, list[tuple[int, str]]]:
    """JABATAN when it holds a position; else the signature line (then a label-less
    ': value' line).  Disagreements between header and signature are reported."""
    notes: list[tuple[int, str]] = []
    signed = normalise_position(signature.position) if signature.position else None
    sig_line = signature.position_line or signature.date_line or start
    header = headers.get("JABATAN")
    if header is not None and header[1] and not _TUGAS_LIKE.search(header[1]):
        position = normalise_position(header[1])
        if signed and signed != position:
            both = {"position": repr(position), "signed": repr(signed)}
            if not _known_position(position) and _known_position(signed):
                notes.append((header[0], say("iki_jabatan_differs_took", language, **both)))
                return signed, notes
            notes.append((header[0], say("iki_jabatan_differs", language, **both)))
        return position, notes
    reason = say(
        "iki_jabatan_is_tugas" if header is not None and header[1] else "iki_jabatan_missing",
        language,
    )
    if signed:
        note = say("iki_position_from_signature", language, reason=reason, position=repr(signed))
        notes.append((sig_line, note))
        return signed, notes
    if orphans:
        line, value = orphans[0]
        position = normalise_position(value)
        note = say("iki_position_from_unlabelled", language, reason=reason, position=repr(position))
        notes.append((line, note))
        return position, notes
    notes.append(
        (header[0] if header else start, say("iki_position_unknown", language, reason=reason))
    )
    return None, notes


def _choose_unit(position: str | None, headers: dict[str, tuple[int, str]]) -> str | None:
    """The unit from the position (heads, Sekretaris), else from FUNGSI, else from a
    FUNGSI sentence that slid under another label (L1256, L1421); None when unknown."""
    if position:
        base = _ACTING.sub("", position).lstrip(" .")
        if base.startswith("Kepala Bidang "):
            return normalise_unit(base[len("Kepala Bidang ") :])
        if base == "Sekretaris" or base.startswith("Kepala Sub Bagian"):
            return SECRETARIAT
    fungsi = headers.get("FUNGSI")
    if fungsi is not None:
        m = _FUNGSI_UNIT.search(fungsi[1]) or _ANY_UNIT.search(fungsi[1])
        if m:
            return normalise_unit(m.group("unit"))
    for key in ("TUGAS", "JABATAN"):
        item = headers.get(key)
        m = _FUNGSI_UNIT.search(item[1]) if item else None
        if m:
            return normalise_unit(m.group("unit"))
    return None


def _roles(position: str | None) -> set[str]:
    if not position:
        return set()
    base = _ACTING.sub("", position).lstrip(" .")
    if base == "Sekretaris":
        return {ROLE_SECRETARY}
    if base.startswith(("Kepala Bidang", "Kepala Sub Bagian")) or _ACTING.match(position):
        return {ROLE_UNIT_HEAD}
    return set()


def _suggest_units(blocks: Sequence[IkiBlock], facts: Sequence[_Facts], language: str) -> None:
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
        message = _in_block(block.number, note, language)
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


def _employees(
    blocks: Sequence[IkiBlock], facts: Sequence[_Facts], language: str
) -> list[ImportedEmployee]:
    """Merge blocks into people (same NIP; else same name), then infer superiors.

    The first block of a person is the primary one: it gives the position and the unit
    (the Sekretaris stays Sekretaris although he also signs as Plh. of a bidang).
    """
    by_key: dict[str, ImportedEmployee] = {}
    by_name: dict[str, str] = {}
    primary: dict[str, int] = {}  # key -> index of the primary block
    for index, block in enumerate(blocks):
        fact = facts[index]
        if any(problem.severity == "error" for problem in block.problems):
            continue
        name_key = _name_key(block.name) if block.name else ""
        review = [f"{note} (L{line})" for line, note in fact.notes]
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
            employee.review.append(f"{note} (L{block.start_line})")
            message = _in_block(block.number, note, language)
            fact.roster_problems.append(Problem(block.start_line, message, "review"))
        if name_key and name_key not in by_name:
            by_name[name_key] = key
    employees = list(by_key.values())
    _infer_superiors(employees, blocks, facts, primary, language)
    return employees


def _infer_superiors(
    employees: Sequence[ImportedEmployee],
    blocks: Sequence[IkiBlock],
    facts: Sequence[_Facts],
    primary: dict[str, int],
    language: str,
) -> None:
    """Staff report to the head of their unit, heads and functional officials to the
    Sekretaris, and the Sekretaris to nobody in the roster (the Kepala Badan)."""
    key_of_block: dict[int, str] = {}
    for employee in employees:
        for number in employee.blocks:
            key_of_block[number] = employee.key
    secretary = next((e.key for e in employees if ROLE_SECRETARY in e.roles), None)
    heads: dict[str, str] = {}
    umum: set[str] = set()  # units whose head is a Kasubbag Umum (leads Sekretariat staff)
    for index, block in enumerate(blocks):
        key = key_of_block.get(block.number)
        if key is None or ROLE_UNIT_HEAD not in facts[index].roles or not block.unit:
            continue
        if block.unit == SECRETARIAT and "Umum" in (block.position or ""):
            if block.unit not in umum:
                heads[block.unit] = key
                umum.add(block.unit)
        else:
            heads.setdefault(block.unit, key)

    for employee in employees:
        index = primary[employee.key]
        fact = facts[index]
        line = blocks[index].start_line
        note: str | None = None
        if ROLE_SECRETARY in fact.roles:
            superior = None
        elif ROLE_UNIT_HEAD in fact.roles or fact.functional:
            superior = secretary
        elif employee.unit and employee.unit in heads:
            superior = heads[employee.unit]
        elif employee.unit:
            superior = secretary
            note = say("iki_no_unit_head", language, unit=employee.unit)
        else:
            superior = secretary  # already reported as "unit unknown"
        if superior == employee.key:
            superior = None
        if superior is None and ROLE_SECRETARY not in fact.roles:
            note = say("iki_superior_unknown", language)
        employee.superior_key = superior
        if note:
            employee.review.append(f"{note} (L{line})")
            if secretary is not None:  # a missing Sekretaris is reported once, below
                message = _in_block(blocks[index].number, note, language)
                fact.roster_problems.append(Problem(line, message, "review"))
    if secretary is None and facts:
        facts[0].roster_problems.append(
            Problem(blocks[0].start_line, say("iki_no_secretary", language), "review")
        )


def codes_in(employees: Iterable[ImportedEmployee]) -> dict[str, int]:
    """How many employees carry each code: the summary an importer prints."""
    counts: dict[str, int] = {}
    for employee in employees:
        for code in employee.codes:
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))
