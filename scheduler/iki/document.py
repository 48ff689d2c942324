"""Turn the agency's IKI document, whatever its format, into an importable roster.

An IKI ("Indikator Kinerja Individu") document holds one block per employee, often as OCR
output in which any part of the layout may be damaged.  Each file format's reader
(scheduler.iki.files: text, Word, PDF) fills the same Layout; scheduler.iki.block reads
the parts of each block from it and scheduler.iki.words repairs their words; this module
decides what a block says (who signed it, their position and unit, which rule codes its
indicators carry), once for every format, and scheduler.iki.people merges the blocks into
people.

The parser is pure (text in, data out; no file I/O, no clock) and deliberately tolerant: it
never drops a block silently.  Each block becomes an employee or an ``error`` problem, and
every guess it had to make is reported as a ``review`` problem with its line number (or its
page, table and row in a Word or PDF file), so an administrator can confirm the roster
before it is used to send reminders.

Indicator rows are mapped to rule codes with the catalog's own ``patterns`` and
``exclude_patterns``: the catalog is the single place where recognition is configured.
Only the INDIKATOR cell and the cells after it (PENJELASAN and duplicated extras) are
matched, never the SASARAN cell, because the SASARAN column is misaligned throughout the
seed (trap A1 of the catalog notes: the LHKPN goal sits above SPT indicators).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rules.catalog import Catalog
from scheduler.iki.block import (
    BlockParts,
    Column,
    Evidence,
    IkiBlock,
    Layout,
    Problem,
    Row,
    Severity,
    Signature,
    find_segments,
    in_block,
    read_block,
)
from scheduler.iki.people import (
    UNNAMED,
    Facts,
    ImportedEmployee,
    merge_employees,
    roles_of,
    suggest_units,
)
from scheduler.iki.words import (
    ACTING,
    SECRETARIAT,
    known_position,
    normalise_position,
    normalise_unit,
    read_nip,
    repair_nip,
)
from scheduler.messages import say

# --------------------------------------------------------------------------- public types


@dataclass
class IkiImport:
    """The parsed document: its blocks, the merged roster and every problem found."""

    blocks: list[IkiBlock]
    employees: list[ImportedEmployee]
    problems: list[Problem]


class NotAnIki(ValueError):
    """The text cannot be an IKI document at all (empty, binary, or without any block)."""


# --------------------------------------------------------------------------- entry point


def parse_iki(text: str, catalog: Catalog, language: str = "id") -> IkiImport:
    """Read every IKI block of the OCR text ``text`` and merge them into a roster.

    Raises NotAnIki when the text is empty, binary-looking or holds no IKI block, so a
    caller that was handed the wrong file gets told what was expected.  Problems, review
    notes and NotAnIki are worded in ``language`` ("id" or "en", see scheduler.words);
    lines, severities and everything else do not depend on it.
    """
    return parse_layout(text_layout(text, language), catalog, language)


def text_layout(text: str, language: str) -> Layout:
    """The lines of OCR text as a layout, once the text is checked to be an IKI's at all."""
    _check_text(text, language)
    return Layout(_text_lines(text))


def _text_lines(text: str) -> list[str]:
    """A text file's lines, whichever line ends it was saved with."""
    return [line.rstrip("\r") for line in text.split("\n")]


def parse_layout(layout: Layout, catalog: Catalog, language: str = "id") -> IkiImport:
    """Read every IKI block of a document, as any reader laid it out, into a roster.

    The reading is the same whatever the file format: only the places that problems and
    review notes name come from the reader (a line number, or a page, table and row).
    """
    lines = layout.lines
    matchers = _matchers(catalog)
    blocks: list[IkiBlock] = []
    facts: list[Facts] = []
    problems: list[Problem] = []
    for start, end, titled in find_segments(lines):
        parts = read_block(lines, start, end, titled)
        if parts is None:
            if blocks:  # a bare title after real blocks: say so; the cover page is expected
                note = say("iki_title_only", language, line=layout.where(start))
                problems.append(Problem(start, note, "review"))
            continue
        block, fact = _read_parts(len(blocks) + 1, parts, matchers, language)
        blocks.append(block)
        facts.append(fact)
    if not blocks:
        raise NotAnIki(say("iki_no_block", language))
    suggest_units(blocks, facts, language)
    employees = merge_employees(blocks, facts, language, layout.where)
    for block in blocks:
        problems.extend(block.problems)
    problems.extend(problem for fact in facts for problem in fact.roster_problems)
    problems.sort(key=lambda problem: problem.line)
    if layout.places is not None:
        problems = [replace(problem, where=layout.where(problem.line)) for problem in problems]
        for block in blocks:
            block.where = layout.where(block.start_line)
    return IkiImport(blocks=blocks, employees=employees, problems=problems)


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes) -> str | None:
    """A text file's bytes as text, or None when they are binary.

    Word and Notepad on Windows save "Unicode" text as UTF-16, with a byte-order mark or,
    now and then, without one: in that case the text (Latin letters, digits) puts a NUL in
    every other byte, which is how it is told from binary data.  UTF-8 (with or without a
    BOM) is read as such, and anything else as Windows-1252, the older Windows default."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom) :], codec)
    if b"\0" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    sample = data[:8192]
    pairs = max(len(sample) // 2, 1)
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if len(data) % 2 == 0 and odd > pairs * 0.3 and even < pairs * 0.02:
        return _strict(data, "utf-16-le")
    if len(data) % 2 == 0 and even > pairs * 0.3 and odd < pairs * 0.02:
        return _strict(data, "utf-16-be")
    return None


def _strict(data: bytes, codec: str) -> str | None:
    """``data`` in ``codec``; None when it is not valid there, or holds NULs once decoded."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


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


# --------------------------------------------------------------------------- one block

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


def _read_parts(
    number: int, parts: BlockParts, matchers: Sequence[_Matcher], language: str
) -> tuple[IkiBlock, Facts]:
    """What a block's parts say: who signed it, their position and unit, their codes, and
    every guess made on the way as a review note."""
    start, headers, signature = parts.start, parts.headers, parts.signature
    nip = read_nip(signature.raw_nip) if signature.raw_nip is not None else None
    repaired = repair_nip(signature.raw_nip) if signature.raw_nip and nip is None else None
    position, position_notes = _choose_position(start, headers, parts.orphans, signature, language)
    evidence = _match_indicators(parts.rows, matchers)
    notes: list[tuple[int, str, Severity]] = []
    if not parts.titled:
        notes.append((start, say("iki_no_title", language), "review"))
    notes.extend(_identity_notes(start, signature, nip or repaired, language))
    if repaired is not None:
        words = {"raw": repr(signature.raw_nip), "nip": repaired}
        notes.append(
            (signature.nip_line or start, say("iki_nip_repaired", language, **words), "review")
        )
        nip = repaired
    notes.extend((line, note, "review") for line, note in position_notes)
    notes.extend(_indicator_notes(start, evidence, language))
    block = IkiBlock(
        number=number,
        start_line=start,
        end_line=parts.end,
        name=signature.name,
        nip=nip,
        raw_nip=signature.raw_nip,
        position=position,
        unit=_choose_unit(position, headers),
        signed_on=signature.signed_on,
        evidence=evidence,
        problems=[
            Problem(line, in_block(number, note, language), severity)
            for line, note, severity in notes
        ],
    )
    facts = Facts(
        roles=roles_of(position),
        functional=bool(position and re.search(r"\bAhli\b", position)),
        notes=[(line, note) for line, note, _ in notes],
    )
    return block, facts


def _identity_notes(
    start: int, signature: Signature, nip: str | None, language: str
) -> list[tuple[int, str, Severity]]:
    """What is wrong with who signed the block: a block that names nobody is an error, a
    missing or unreadable NIP beside a name, a missing name or date only need a review."""
    notes: list[tuple[int, str, Severity]] = []
    where = signature.nip_line or signature.name_line or signature.date_line or start
    if signature.raw_nip is None:
        if signature.name is None:
            notes.append((where, say("iki_no_name_no_nip", language), "error"))
        else:
            notes.append((where, say("iki_nip_missing", language), "review"))
    elif nip is None:
        raw = repr(signature.raw_nip)
        if signature.name is None:
            notes.append((where, say("iki_bad_nip_no_name", language, nip=raw), "error"))
        else:
            notes.append((where, say("iki_bad_nip", language, nip=raw), "review"))
    if signature.name is None and nip is not None:
        notes.append((where, say("iki_name_missing", language, unnamed=repr(UNNAMED)), "review"))
    if signature.signed_on is None:
        notes.append((signature.date_line or start, say("iki_no_signing_date", language), "review"))
    return notes


def _match_indicators(rows: Sequence[Row], matchers: Sequence[_Matcher]) -> dict[str, Evidence]:
    """The rule codes the indicator rows carry, each with its first evidence; a match in the
    INDIKATOR cell outranks one in the cells after it (PENJELASAN and extras)."""
    evidence: dict[str, Evidence] = {}
    for row in rows:
        for index, cell in enumerate(row.cells):
            column: Column = "indikator" if index == 0 else "penjelasan"
            for matcher in matchers:
                if not matcher.matches(cell):
                    continue
                known = evidence.get(matcher.code)
                if known is None or (known.column == "penjelasan" and column == "indikator"):
                    evidence[matcher.code] = Evidence(matcher.code, row.line, column, cell)
    return evidence


def _indicator_notes(
    start: int, evidence: dict[str, Evidence], language: str
) -> list[tuple[int, str, Severity]]:
    """A code matched only outside the INDIKATOR cell is uncertain; no code at all is worth
    a look too."""
    notes: list[tuple[int, str, Severity]] = [
        (found.line, say("iki_uncertain_match", language, code=code), "review")
        for code, found in evidence.items()
        if found.column == "penjelasan"
    ]
    if not evidence:
        notes.append((start, say("iki_no_indicator", language), "review"))
    return notes


def _choose_position(
    start: int,
    headers: dict[str, tuple[int, str]],
    orphans: Sequence[tuple[int, str]],
    signature: Signature,
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
            if not known_position(position) and known_position(signed):
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
        base = ACTING.sub("", position).lstrip(" .")
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
