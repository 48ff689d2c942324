"""The IKI template's words as OCR damages them, and their repair.

Positions and units are written in the template's spelling ("Pengolahan" becomes
"Pengolah", "Kabid" becomes "Kepala Bidang", any spelling of the Sekretariat becomes
``Sekretariat``) and NIPs are read strictly, so that the block reader, the roster and a
re-import all compare the same clean values.  Pure functions over strings; nothing here
knows about blocks, which is why the vocabulary sits apart from the layout.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from functools import lru_cache

SECRETARIAT = "Sekretariat"


# --------------------------------------------------------------------------- vocabulary

ACTING = re.compile(r"^(?:P[il1]h|Plt)(?:\s*\.\s*|\s+)(?=\S)", re.IGNORECASE)
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


def clean(text: str) -> str:
    """Collapse OCR's runs of spaces and tabs, so that patterns meet one spelling."""
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- NIP

# "NIP", and OCR's "NlP", "N1P", "N I P"; the value may follow a dot or a colon.
_NIP_LABEL = r"\bN\s*[I1l|]\s*P\b\.?\s*:?\s*"
_NIP_LINE = re.compile(rf"^{_NIP_LABEL}(?P<value>.*)$", re.IGNORECASE)
_BARE_NIP = re.compile(r"^\d[\d ]{14,24}$")
# Name, pangkat/golongan and NIP on one line: "BUDI, S.Sos Penata (III/c) NIP. 1980...".
_NIP_AFTER = re.compile(
    rf"^(?P<before>.*?[A-Za-z].*?)[\s,;/|-]*{_NIP_LABEL}(?P<value>[\dOoIl|\s.-]{{15,}})$",
    re.IGNORECASE,
)
# Pangkat and golongan after a name: "Penata Tk. I (III/d)", "Pembina, IV/a", "/ III/b".
_RANK = re.compile(
    r"[\s,;/|-]*(?:\b(?:Pembina|Penata|Pengatur|Juru)\b(?:\s*(?:Utama|Madya|Muda|Tingkat|Tk)"
    r"\b\.?(?:\s*I\b)?)*[\s,;/|-]*)?\(?\b(?:IV|III|II|I)\s*/\s*[a-e]\b\)?[\s,;/|-]*$",
    re.IGNORECASE,
)
# What OCR reads for a digit in a NIP: l, I, | and ! for 1; O and o for 0.
_DIGIT_LOOKALIKES = str.maketrans("lI|!Oo", "111100")


def is_nip(text: str) -> bool:
    """A NIP line of the signature, labelled ("NIP. 1971...") or bare digits."""
    return bool(_NIP_LINE.match(text) or _BARE_NIP.match(text))


def nip_value(text: str) -> str:
    """The NIP part of such a line, as OCR left it (read_nip decides whether it is one)."""
    m = _NIP_LINE.match(text)
    return (m.group("value") if m else text).strip(" .:")


def split_nip(text: str) -> tuple[str, str] | None:
    """(name, NIP as OCR left it) of a line that holds both, the pangkat and golongan
    between them dropped; None for any other line."""
    m = _NIP_AFTER.match(text)
    if m is None:
        return None
    return drop_rank(m.group("before")), m.group("value").strip(" .:")


def drop_rank(name: str) -> str:
    """A signature's name without the pangkat/golongan written after it."""
    return _RANK.sub("", name).strip(" ,;/|-") or name


def repair_nip(raw: str) -> str | None:
    """The NIP when ``raw`` is one once OCR's letters for digits (l, I for 1; O for 0)
    and dashes between its groups are read as what they stand for; None otherwise.

    Only the letters OCR mistakes for those digits are read, and the result must still
    pass read_nip (length, birth date, sex digit); the caller flags it for review."""
    return read_nip(raw.translate(_DIGIT_LOOKALIKES).replace("-", " "))


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
    text = clean(text).strip(" ,:")
    acting = ""
    m = ACTING.match(text)
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
    text = clean(text).strip(" .,;:")
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


def known_position(position: str) -> bool:
    """A position the template knows (acting prefix aside): it wins over an unknown
    spelling when JABATAN and the signature disagree."""
    base = ACTING.sub("", position).lstrip(" .")
    return base in _KNOWN_POSITIONS or base.startswith("Kepala Bidang ")
