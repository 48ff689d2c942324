"""The IKI importer: the seed document as the agency sent it, and hand-made noisy variants."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from importlib import resources

import pytest

from rules.catalog import Catalog, Source
from scheduler.iki.document import IkiImport, NotAnIki, parse_iki
from scheduler.iki.people import UNNAMED, codes_in, provisional_key
from scheduler.iki.words import read_nip

SEED = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
SECRETARY = "197105152000121003"  # SUTRISNO: Sekretaris (B1) and Plh. Kabid KESB (B2)
KABID_IWK = "196905221997031004"  # ZUKIPLI
KABID_PDN = "197405161994022001"  # RINI SULISTYOWATI
KASUBBAG = "197308132007011009"  # MUHAMMAD ARDANI
ALL_CODES = {
    "SKP", "LHKPN", "SPT", "SIRUP", "EPANTAU", "P3DN", "SKM_RTL", "LKJP",
    "LKSKPD", "RKBM", "SHS", "SPP", "PK", "MR", "SERAPAN",
}  # fmt: skip
# catalog-notes.md, section 1, column "Persons": distinct people carrying each code.
PERSONS = {
    "SKP": 58, "LHKPN": 8, "SPT": 56, "SIRUP": 1, "EPANTAU": 8, "P3DN": 1, "SKM_RTL": 2,
    "LKJP": 2, "LKSKPD": 1, "RKBM": 2, "SHS": 2, "SPP": 2, "PK": 58, "MR": 8, "SERAPAN": 14,
}  # fmt: skip
# The same column in parentheses: INDIKATOR evidence only.
STRICT = PERSONS | {"SKP": 57, "LHKPN": 7, "SPT": 55, "EPANTAU": 7}


def parse(text: str, catalog: Catalog) -> IkiImport:
    """parse_iki in English: the assertions of this module quote the English notes (the
    Indonesian ones, the default, are checked against them in test_seed_in_indonesian)."""
    return parse_iki(text, catalog, language="en")


@pytest.fixture(scope="module")
def seed_text() -> str:
    """The seed as the package ships it for `tenggat demo` (a copy of shared/seed/)."""
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed(seed_text: str, catalog: Catalog) -> IkiImport:
    return parse(seed_text, catalog)


# --------------------------------------------------------------------------- seed


def test_seed_blocks_and_people(seed: IkiImport) -> None:
    assert len(seed.blocks) == 59
    assert [b.number for b in seed.blocks] == list(range(1, 60))
    assert seed.blocks[0].start_line == 14  # the cover title at L3 is not a block
    assert (seed.blocks[-1].start_line, seed.blocks[-1].end_line) == (1823, 1846)
    assert len(seed.employees) == 58
    assert len({e.key for e in seed.employees}) == 58
    # Every block is someone's, or reported as an error: none is dropped silently.
    carried = sorted(n for e in seed.employees for n in e.blocks)
    assert carried == list(range(1, 60))
    assert not [p for p in seed.problems if p.severity == "error"]


def test_seed_secretary_signs_two_blocks(seed: IkiImport) -> None:
    sutrisno = next(e for e in seed.employees if e.key == SECRETARY)
    assert sutrisno.nip == SECRETARY
    assert sutrisno.name == "SUTRISNO, S.Sos, M.Si"
    assert sutrisno.blocks == [1, 2]
    assert sutrisno.codes == ALL_CODES
    assert sutrisno.roles == {"secretary", "unit_head"}
    assert (sutrisno.position, sutrisno.unit) == ("Sekretaris", "Sekretariat")
    assert sutrisno.superior_key is None
    b2 = seed.blocks[1]
    assert b2.position == "Plh. Kepala Bidang Ketahanan Ekonomi, Sosial dan Budaya"
    assert b2.unit == "Bidang Ketahanan Ekonomi, Sosial dan Budaya"
    assert set(b2.evidence) == {"SKP", "LHKPN", "EPANTAU", "PK", "SERAPAN", "MR"}


def test_seed_counts_per_code_match_the_notes(seed: IkiImport) -> None:
    assert codes_in(seed.employees) == PERSONS
    strict: dict[str, set[str]] = {}
    for employee in seed.employees:
        for number in employee.blocks:
            for code, evidence in seed.blocks[number - 1].evidence.items():
                if evidence.column == "indikator":
                    strict.setdefault(code, set()).add(employee.key)
    assert {code: len(keys) for code, keys in strict.items()} == STRICT


def test_seed_penjelasan_only_matches_are_flagged(seed: IkiImport) -> None:
    uncertain = {
        (b.number, code, ev.line)
        for b in seed.blocks
        for code, ev in b.evidence.items()
        if ev.column == "penjelasan"
    }
    assert uncertain == {(5, "LHKPN", 220), (6, "SPT", 272), (9, "EPANTAU", 392), (38, "SKP", 1240)}
    flagged = {p.line for p in seed.problems if "PENJELASAN only" in p.message}
    assert flagged == {220, 272, 392, 1240}
    ardani = next(e for e in seed.employees if e.key == KASUBBAG)
    assert any("LHKPN" in note and "L220" in note for note in ardani.review)


def test_seed_sasaran_never_decides_a_code(seed: IkiImport) -> None:
    """A1: the LHKPN goal sits in the SASARAN of 50 staff blocks over SPT indicators."""
    for block in seed.blocks[9:]:
        assert {"SKP", "SPT", "PK"} <= set(block.evidence), block.number
        assert "LHKPN" not in block.evidence, block.number
    assert {n for n in (2, 4, 8) if "SPT" not in seed.blocks[n - 1].evidence} == {2, 4, 8}
    # B1 row 8 (L29): SPT goal as SASARAN, LHKPN as INDIKATOR; SPT comes from L30.
    assert seed.blocks[0].evidence["LHKPN"].line == 29
    assert seed.blocks[0].evidence["SPT"].line == 30
    assert seed.blocks[0].evidence["SIRUP"].line == 32  # continuation line without NO


@pytest.mark.parametrize(
    ("number", "line", "fragment"),
    [
        (15, 588, "NIP missing"),
        (17, 650, "NIP missing"),
        (21, 768, "NIP missing"),
        (24, 863, "NIP missing"),
        (27, 947, "NIP missing"),
        (38, 1249, "NIP missing"),  # FERIA WIJAYA
        (57, 1788, "NIP missing"),
        (47, 1502, "malformed NIP '19820226 2001 1 007'"),
        (58, 1821, "malformed NIP '19760423 201121 002'"),
        (26, 922, "name missing"),
        (39, 1278, "name missing"),
        (39, 1276, "JABATAN line holds the TUGAS text"),
        (45, 1442, "JABATAN line holds the TUGAS text"),
        (15, 586, "JABATAN header missing"),
        (34, 1114, "JABATAN 'Pelaksana Teknis Kebijakan' differs from signature"),
        (59, 1823, "unit unknown"),
    ],
)
def test_seed_problems_have_line_numbers(
    seed: IkiImport, number: int, line: int, fragment: str
) -> None:
    hits = [p for p in seed.problems if p.line == line and fragment in p.message]
    assert hits, [p for p in seed.problems if p.line == line]
    assert hits[0].message.startswith(f"block {number}: ")
    assert hits[0] in seed.blocks[number - 1].problems


def test_seed_provisional_keys(seed: IkiImport) -> None:
    provisional = {e.name: e for e in seed.employees if e.key.startswith("TMP-")}
    assert set(provisional) == {
        "SALI", "ASRIANI, S.S.", "FARIDAH", "DARMA DIAN NUR", "YENI", "FERIA WIJAYA",
        "NORIS", "MULYO SUBINTO", "IRMAN HARBADI",
    }  # fmt: skip
    for name, employee in provisional.items():
        assert employee.nip is None
        assert employee.key == provisional_key(name)
        assert any("provisional key" in note for note in employee.review)
    unnamed = [e for e in seed.employees if e.name == UNNAMED]
    assert sorted(e.key for e in unnamed) == ["196810282001122003", "197008222009022001"]


@pytest.mark.parametrize(
    ("number", "name", "nip", "position", "unit"),
    [
        (3, "Drs. ZUKIPLI, M.Si", KABID_IWK, "Kepala Bidang Ideologi dan Wawasan Kebangsaan",
         "Bidang Ideologi dan Wawasan Kebangsaan"),
        (5, "MUHAMMAD ARDANI SE", KASUBBAG, "Kepala Sub Bagian Umum dan Kepegawaian",
         "Sekretariat"),
        (11, "SYAHRIUDIN", "197403172010011005", "Pengadministrasi Perkantoran", "Sekretariat"),
        (17, "ASRIANI, S.S.", None, "Pengolah Data dan Informasi", "Sekretariat"),  # | table |
        (18, "AHMAD JUNAIDI, S.Sos", "197201202009021001", "Penelaah Teknis Kebijakan",
         "Sekretariat"),  # FUNGSI value on the next line
        (24, "DARMA DIAN NUR", None, "Penelaah Teknis Kebijakan", "Sekretariat"),
        (28, "ZAINI MA'RUF", "197905252009021003", "Penelaah Teknis Kebijakan",
         "Sekretariat"),  # NIP before name
        (31, "FENY DANTICY", "198311042012121001", "Pengolah Data dan Informasi",
         "Bidang Ideologi dan Wawasan Kebangsaan"),  # date and position inside a table row
        (37, "MULYASTUTI, A.Md", "198005172008012027", "Pengolah Data dan Informasi", None),
        (38, "FERIA WIJAYA", None, "Pengolah Data dan Informasi",
         "Bidang Ideologi dan Wawasan Kebangsaan"),  # labels without numbers
        (39, None, "197008222009022001", "Pengolah Data dan Informasi",
         "Bidang Ideologi dan Wawasan Kebangsaan"),  # labels shifted by one
        (41, "WAHYU WIDAYATI", "196804092010012001", "Pengolah Data dan Informasi",
         "Bidang Politik Dalam Negeri"),  # all header items on one row (L1308)
        (45, "FATHURRAHMAN, S.Sos", "197711032007011019", "Penelaah Teknis Kebijakan",
         "Bidang Politik Dalam Negeri"),
        (50, "KONI FITARIAH", "198408192010012003", "Pengolah Data dan Informasi",
         "Bidang Ketahanan Ekonomi, Sosial dan Budaya"),  # tab-separated header
    ],
)  # fmt: skip
def test_seed_identity_of_noisy_blocks(
    seed: IkiImport,
    number: int,
    name: str | None,
    nip: str | None,
    position: str,
    unit: str | None,
) -> None:
    block = seed.blocks[number - 1]
    assert (block.name, block.nip, block.position, block.unit) == (name, nip, position, unit)


def test_seed_signing_dates(seed: IkiImport) -> None:
    dates = {str(b.signed_on) for b in seed.blocks}
    assert dates == {"2025-01-20", "2025-02-01"}
    assert [b.number for b in seed.blocks if str(b.signed_on) == "2025-01-20"] == list(range(1, 10))
    assert str(seed.blocks[53].signed_on) == "2025-02-01"  # "Tanggal 1 Februari 2025"


def test_seed_units_and_superiors(seed: IkiImport) -> None:
    by_key = {e.key: e for e in seed.employees}
    assert {e.unit for e in seed.employees} == {
        "Sekretariat",
        "Bidang Ideologi dan Wawasan Kebangsaan",
        "Bidang Politik Dalam Negeri",
        "Bidang Ketahanan Ekonomi, Sosial dan Budaya",
        "",  # no header at all: left to the administrator
    }
    heads = {
        "Sekretariat": KASUBBAG,
        "Bidang Ideologi dan Wawasan Kebangsaan": KABID_IWK,
        "Bidang Politik Dalam Negeri": KABID_PDN,
        "Bidang Ketahanan Ekonomi, Sosial dan Budaya": SECRETARY,  # the Plh.
        "": SECRETARY,
    }
    for employee in seed.employees:
        if employee.key == SECRETARY:
            continue
        # Heads, and functional officials of the Sekretariat (the Perencana Ahli Muda),
        # report to the Sekretaris; everyone else, functional or not, to their unit's head.
        if employee.roles or ("Ahli" in employee.position and employee.unit == "Sekretariat"):
            assert employee.superior_key == SECRETARY, employee.name
        else:
            assert employee.superior_key == heads[employee.unit], employee.name
        assert employee.superior_key in by_key
    assert {e.key for e in seed.employees if e.roles == {"unit_head"}} == {
        KABID_IWK,
        KABID_PDN,
        KASUBBAG,
    }
    unplaced = [e for e in seed.employees if not e.unit]
    assert len(unplaced) == 17
    assert all(any("unit unknown" in note for note in e.review) for e in unplaced)


@pytest.fixture(scope="module")
def seed_id(seed_text: str, catalog: Catalog) -> IkiImport:
    """The seed as the Secretary reads it: in Indonesian, the default."""
    return parse_iki(seed_text, catalog)


INFERRED = "atasan disimpulkan (IKI tidak menyebut atasan): "
SUTRISNO = "SUTRISNO, S.Sos, M.Si"
RINI = "RINI SULISTYOWATI, M.Si (Kepala Bidang Politik Dalam Negeri)"
ZUKIPLI = "Drs. ZUKIPLI, M.Si (Kepala Bidang Ideologi dan Wawasan Kebangsaan)"
PLH_KESB = f"{SUTRISNO} (Plh. Kepala Bidang Ketahanan Ekonomi, Sosial dan Budaya)"
ARDANI = "MUHAMMAD ARDANI SE (Kepala Sub Bagian Umum dan Kepegawaian)"


@pytest.mark.parametrize(
    ("number", "superior", "guess", "chosen"),
    [
        # Analis Kebijakan Ahli Muda of a bidang: its Kepala Bidang, not the Sekretaris.
        (8, KABID_PDN, False, f"{RINI}, karena jabatan fungsional di Bidang Politik Dalam Negeri"),
        (9, KABID_IWK, False,
         f"{ZUKIPLI}, karena jabatan fungsional di Bidang Ideologi dan Wawasan Kebangsaan"),
        (7, SECRETARY, False,
         f"{PLH_KESB}, karena jabatan fungsional di Bidang Ketahanan Ekonomi, Sosial dan Budaya"),
        # Perencana Ahli Muda of the Sekretariat: the Sekretaris heads the Sekretariat.
        (6, SECRETARY, True, f"{SUTRISNO} (Sekretaris), karena jabatan fungsional di Sekretariat"),
        (3, SECRETARY, False, f"{SUTRISNO} (Sekretaris), "
         "karena kepala unit melapor kepada Sekretaris"),
        (4, SECRETARY, False, f"{SUTRISNO} (Sekretaris), "
         "karena kepala unit melapor kepada Sekretaris"),
        (5, SECRETARY, False, f"{SUTRISNO} (Sekretaris), "
         "karena kepala unit melapor kepada Sekretaris"),
        # Staff (pelaksana): the Kasubbag Umum in the Sekretariat, the Kepala Bidang elsewhere.
        (10, KASUBBAG, False, f"{ARDANI}, karena staf pelaksana di Sekretariat"),
        (20, KASUBBAG, False, f"{ARDANI}, karena staf pelaksana di Sekretariat"),
        (45, KABID_PDN, False, f"{RINI}, karena staf pelaksana di Bidang Politik Dalam Negeri"),
        (34, KABID_IWK, False,
         f"{ZUKIPLI}, karena staf pelaksana di Bidang Ideologi dan Wawasan Kebangsaan"),
        (58, SECRETARY, False,
         f"{PLH_KESB}, karena staf pelaksana di Bidang Ketahanan Ekonomi, Sosial dan Budaya"),
        # No unit read: the Sekretaris, until an administrator sets the unit.
        (59, SECRETARY, True, f"{SUTRISNO} (Sekretaris), karena unit tidak diketahui; sementara "
         "Sekretaris sampai unit ditetapkan"),
        (42, SECRETARY, True, f"{SUTRISNO} (Sekretaris), karena unit tidak diketahui; sementara "
         "Sekretaris sampai unit ditetapkan"),
    ],
)  # fmt: skip
def test_seed_inferred_superior_is_flagged_when_a_guess(
    seed_id: IkiImport, number: int, superior: str, guess: bool, chosen: str
) -> None:
    """Who each kind of position reports to; where the structure does not settle it, the
    review note names whom and why (a note on every person would bury the guesses)."""
    person = next(e for e in seed_id.employees if e.blocks[0] == number)
    line = seed_id.blocks[number - 1].start_line
    assert person.superior_key == superior
    notes = [n for n in person.review if n.startswith(INFERRED)]
    said = [p for p in seed_id.problems if p.line == line and INFERRED in p.message]
    if guess:
        assert notes == [f"{INFERRED}{chosen} (L{line})"]
        assert [(p.severity, p.message) for p in said] == [
            ("review", f"blok {number}: {INFERRED}{chosen}")
        ]
    else:
        assert notes == [] and said == []


def test_seed_guessed_superiors_are_flagged_and_the_missing_kepala_badan_said_once(
    seed_id: IkiImport,
) -> None:
    """The guesses are flagged: everyone whose unit is unknown, and the Perencana of the
    Sekretariat; the Sekretaris has no superior, and the report says once why (the Kepala
    Badan has no block)."""
    flagged = {e.key for e in seed_id.employees if any(n.startswith(INFERRED) for n in e.review)}
    unplaced = {e.key for e in seed_id.employees if not e.unit}
    perencana = {e.key for e in seed_id.employees if e.blocks[0] == 6}
    assert flagged == unplaced | perencana
    assert sum(INFERRED in p.message for p in seed_id.problems) == len(flagged)
    secretary = next(e for e in seed_id.employees if e.key == SECRETARY)
    assert secretary.superior_key is None
    assert not any("Kepala Badan" in note for note in secretary.review)
    assert [(p.line, p.message) for p in seed_id.problems if "Kepala Badan" in p.message] == [
        (
            14,
            f"Kepala Badan tidak ada dalam daftar pegawai: Sekretaris {SUTRISNO} tidak "
            "mempunyai atasan, jadi pemberitahuan untuk atasan Sekretaris tidak dikirim",
        )
    ]


def test_seed_is_deterministic(seed_text: str, catalog: Catalog) -> None:
    """Speed is measured in bench/, never here: a loaded machine is no verdict."""
    assert parse(seed_text, catalog) == parse(seed_text, catalog)


def test_seed_crlf_reads_the_same(seed_text: str, seed: IkiImport, catalog: Catalog) -> None:
    assert parse(seed_text.replace("\n", "\r\n"), catalog) == seed


def _same_but_the_words(indonesian: IkiImport, english: IkiImport) -> None:
    """Blocks, roster, problem lines and severities agree; every message is reworded."""
    assert [replace(b, problems=[]) for b in indonesian.blocks] == [
        replace(b, problems=[]) for b in english.blocks
    ]
    assert [replace(e, review=[]) for e in indonesian.employees] == [
        replace(e, review=[]) for e in english.employees
    ]
    for ours, theirs in zip(indonesian.employees, english.employees, strict=True):
        # The same notes in the same order, each with its line: "... (L220)".
        assert [n.rsplit(" (L", 1)[1] for n in ours.review] == [
            n.rsplit(" (L", 1)[1] for n in theirs.review
        ]
        assert all(a != b for a, b in zip(ours.review, theirs.review, strict=True))
    pairs = list(zip(indonesian.problems, english.problems, strict=True))
    assert all((i.line, i.severity) == (e.line, e.severity) for i, e in pairs)
    assert all(i.message != e.message for i, e in pairs)


def test_seed_in_indonesian(seed_text: str, seed: IkiImport, catalog: Catalog) -> None:
    """Indonesian is the default: the same import as in English, worded for the admin."""
    indonesian = parse_iki(seed_text, catalog)
    _same_but_the_words(indonesian, seed)
    assert len(indonesian.problems) == len(seed.problems) > 40
    message = {
        p.line: p.message for p in indonesian.problems if "atasan disimpulkan" not in p.message
    }
    assert message[220] == "blok 5: kecocokan belum pasti (hanya di PENJELASAN): LHKPN"
    assert message[586] == (
        "blok 15: judul JABATAN tidak ada; jabatan diambil dari baris tanda tangan "
        "'Pengolah Data dan Informasi'"
    )
    assert message[1276] == (
        "blok 39: baris JABATAN berisi teks TUGAS; jabatan diambil dari baris tanda tangan "
        "'Pengolah Data dan Informasi'"
    )
    assert message[567] == (
        "blok 15: unit tidak diketahui (tanpa judul JABATAN/FUNGSI); blok di sekitarnya ada di "
        "Sekretariat"
    )
    assert message[1823] == "blok 59: unit tidak diketahui (tanpa judul JABATAN/FUNGSI)"
    assert message[1502] == "blok 47: NIP '19820226 2001 1 007' rusak; diberi kunci sementara"
    ardani = next(e for e in indonesian.employees if e.key == KASUBBAG)
    assert ardani.review == ["kecocokan belum pasti (hanya di PENJELASAN): LHKPN (L220)"]
    assert ardani.superior_key == SECRETARY  # a unit head: the Sekretaris, not a guess
    with pytest.raises(NotAnIki, match=r"^teks kosong: diharapkan dokumen IKI"):
        parse_iki("", catalog)


# --------------------------------------------------------------------------- seed excerpts


def _excerpt(seed_text: str, seed: IkiImport, number: int) -> str:
    """The text of one seed block (B10: FENIL INDAH NOVARIANTY E., Sekretariat staff)."""
    found = seed.blocks[number - 1]
    return "\n".join(seed_text.split("\n")[found.start_line - 1 : found.end_line]) + "\n"


def _widen(line: str) -> str:
    """Insert an empty column after SASARAN and repeat the last text cell (OCR noise)."""
    if "\t" not in line or line.startswith("NO"):
        return line
    cells = line.split("\t")
    texts = [c for c in cells[2:] if c.strip()]
    return "\t".join([*cells[:2], "", *cells[2:-1], *texts[-2:-1], cells[-1]])


PDI = "Pengolah Data dan Informasi"


@pytest.mark.parametrize(
    ("edit", "nip", "unit", "notes"),
    [
        (lambda t: t, "198511142009022002", "Sekretariat", []),
        # Header lines lost: the signature still says who signs.
        (lambda t: "\n".join(x for x in t.split("\n") if x[:2] not in {"1.", "2.", "3.", "4."}),
         "198511142009022002", None, ["JABATAN header missing", "unit unknown"]),
        # NIP above the name.
        (lambda t: t.replace("FENIL INDAH NOVARIANTY E.\nNIP. 19851114 200902 2 002",
                             "NIP. 19851114 200902 2 002\nFENIL INDAH NOVARIANTY E."),
         "198511142009022002", "Sekretariat", []),
        # No NIP at all.
        (lambda t: t.replace("NIP. 19851114 200902 2 002", ""), None, "Sekretariat",
         ["NIP missing"]),
        # Extra and shifted columns everywhere.
        (lambda t: "\n".join(_widen(x) for x in t.split("\n")), "198511142009022002",
         "Sekretariat", []),
    ],
)  # fmt: skip
def test_seed_excerpt_variants(
    seed_text: str,
    seed: IkiImport,
    catalog: Catalog,
    edit: Callable[[str], str],
    nip: str | None,
    unit: str | None,
    notes: list[str],
) -> None:
    result = parse(edit(_excerpt(seed_text, seed, 10)), catalog)
    [found] = result.blocks
    assert (found.name, found.nip, found.position, found.unit) == (
        "FENIL INDAH NOVARIANTY E.", nip, PDI, unit
    )  # fmt: skip
    assert {code: ev.column for code, ev in found.evidence.items()} == {
        "SKP": "indikator", "SPT": "indikator", "PK": "indikator"
    }  # fmt: skip
    messages = [p.message for p in found.problems]
    assert len(messages) == len(notes)
    for fragment, message in zip(notes, messages, strict=True):
        assert fragment in message


def test_seed_excerpt_with_the_indicator_lost(
    seed_text: str, seed: IkiImport, catalog: Catalog
) -> None:
    text = _excerpt(seed_text, seed, 10).replace(
        "Tingkat Kepatuhan Penyampaian SKP 100% paling lambat akhir bulan Februari setiap tahun",
        "Internalisasi Core Values ASN Berakhlak",
    )
    [found] = parse(text, catalog).blocks
    assert (found.evidence["SKP"].column, found.evidence["SKP"].line) == ("penjelasan", 19)
    assert [p.message for p in found.problems] == [
        "block 1: uncertain match (PENJELASAN only): SKP"
    ]


def test_seed_excerpts_with_a_title_lost(seed_text: str, seed: IkiImport, catalog: Catalog) -> None:
    second = _excerpt(seed_text, seed, 11).replace("INDIKATOR KINERJA INDIVIDU\n", "", 1)
    result = parse(_excerpt(seed_text, seed, 10) + "\n" + second, catalog)
    assert [e.name for e in result.employees] == ["FENIL INDAH NOVARIANTY E.", "SYAHRIUDIN"]
    assert result.blocks[1].start_line == 33  # its first header line
    assert result.blocks[1].problems[0].message == (
        "block 2: title line missing; block assumed to start here"
    )


# --------------------------------------------------------------------------- hand-made blocks

TABLE = "NO\tSASARAN KEGIATAN\tINDIKATOR KINERJA\tPENJELASAN (FORMULASI PERHITUNGAN)\tSUMBER DATA"
SKP = "Tingkat Kepatuhan Penyampaian SKP 100% paling lambat akhir bulan Februari setiap tahun"
SKP_PEN = "Ketepatan Waktu Penyampaian SKP paling lambat akhir bulan Februari setiap tahun"
SPT = "Tingkat Kepatuhan Penyampaian SPT Tahunan 100% per 31 Maret setiap tahun"
SPT_PEN = "Ketepatan Waktu Penyampaian SPT Tahunan pertanggal 31 Maret 2025"
LHKPN = "Tingkat Kepatuhan Penyampaian LHKPN 100% per tanggal 31 Maret setiap tahun"
LHKPN_GOAL = "Mewujudkan tingkat Kepatuhan Penyampaian LHKPN 100% per 31 Maret setiap tahun"
CORE = "Internalisasi Core Values ASN Berakhlak"
FUNGSI_IWK = (
    "Perumusan, perencanaan, pembinaan dan pengendalian kebijakan teknis di bidang "
    "Ideologi dan Wawasan Kebangsaan"
)
FUNGSI_SEKRETARIAT = (
    "Penyelenggaraan urusan pemerintahan dan pelayanan umum di bidang kesatuan bangsa dan politik"
)
TUGAS = (
    "Membantu Bupati dalam melaksanakan fungsi penunjang Urusan Pemerintahan yang menjadi "
    "kewenangan Daerah di bidang Kesatuan Bangsa dan Politik"
)


def block(
    *rows: str,
    jabatan: str | None = "Pengolah Data dan Informasi",
    fungsi: str = FUNGSI_IWK,
    signed: str = "Pengolah Data dan Informasi,",
    name: str | None = "BUDI SANTOSO, S.Sos",
    nip: str | None = "NIP. 19800101 200501 1 001",
    nip_first: bool = False,
) -> str:
    """One IKI block in the seed's layout; None leaves a part out."""
    lines = ["INDIKATOR KINERJA INDIVIDU", ""]
    if jabatan is not None:
        lines += [
            "1. PERANGKAT DAERAH : BADAN KESBANGPOL",
            f"2. JABATAN : {jabatan}",
            f"3. TUGAS : {TUGAS}",
            f"4. FUNGSI : {fungsi}",
            "",
        ]
    lines += [TABLE, *(rows or (f"1\tSasaran\t{SKP}\t{SKP_PEN}\tBadan Kesbangpol",)), ""]
    lines += ["Tenggarong, 1 Februari 2025", signed, ""]
    identity = [line for line in (name, nip) if line is not None]
    lines += list(reversed(identity)) if nip_first else identity
    return "\n".join(lines) + "\n\n"


def row(number: str, sasaran: str, *cells: str) -> str:
    return "\t".join((number, sasaran, *cells, "Badan Kesbangpol"))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # A1: the sasaran names SPT, the indicator LHKPN (B1 L29), and the reverse.
        ([row("8", "Mewujudkan tingkat Kepatuhan Penyampaian SPT Tahunan 100%", LHKPN)],
         {"LHKPN": "indikator"}),
        ([row("9", LHKPN_GOAL, SPT, SPT_PEN)], {"SPT": "indikator"}),
        ([row("9", LHKPN_GOAL, "Jumlah laporan", "Jumlah laporan")], {}),
        # A code only in PENJELASAN is kept, as weaker evidence.
        ([row("10", "Sasaran", CORE, SKP_PEN)], {"SKP": "penjelasan"}),
        # Duplicated extra columns, an inserted empty column, a column-number cell.
        ([row("10", "Sasaran", SKP, SKP_PEN, SKP)], {"SKP": "indikator"}),
        ([row("10", "Sasaran", "", SKP, SKP_PEN)], {"SKP": "indikator"}),
        ([row("9", "Sasaran", SPT, "5")], {"SPT": "indikator"}),
        # Running numbers in front of every cell (L983-995).
        ([row("10", "10 Mewujudkan", f"15 {SKP}", f"16 {SKP_PEN}")], {"SKP": "indikator"}),
        # Shifted columns: the INDIKATOR holds another row's text (B38, L1241).
        ([row("10", "Sasaran", f"20 {CORE}", f"21 {SKP_PEN}", f"22 {CORE}")],
         {"SKP": "penjelasan"}),
        # The indicator wins over an earlier PENJELASAN match.
        ([row("9", "Sasaran", SPT, SKP_PEN), row("10", "Sasaran", SKP, SKP_PEN)],
         {"SPT": "indikator", "SKP": "indikator"}),
        # Un-numbered continuation lines under a numbered row (B1 L30-32).
        ([row("8", "Sasaran", LHKPN), "\t\t" + SPT + "\t" + SPT_PEN + "\tBadan Kesbangpol"],
         {"LHKPN": "indikator", "SPT": "indikator"}),
        # Rows of column numbers.
        (["1\t2\t3\t4\t5", "\t\t\t1\t2\t", row("1", "Sasaran", SKP)], {"SKP": "indikator"}),
        # SPP is also spelled SPIP; the undated maturity score is another indicator (A7).
        ([row("20", "Sasaran", "Ketepatan Waktu Penyampaian Laporan Penilaian Mandiri "
              "Penyelenggaraan SPIP Perangkat daerah per 30 Juni Tahun berjalan")],
         {"SPP": "indikator"}),
        ([row("22", "Maturitas SPIP", "Nilai Maturitas SPIP pada Perangkat Daerah",
              "Penilaian Penilaian Mandiri Pelaksanaan SPIP di Perangkat Daerah")], {}),
        ([row("22", "Sasaran", "Nilai Maturitas SPIP: Penilaian Mandiri Penyelenggaraan SPIP")],
         {}),  # the exclude pattern vetoes a cell the pattern matched
        # PK survives OCR: Perijinan / Perjanjian Kerja / perjalanan kinerja (A8).
        ([row("10", "Sasaran", "Ketepatan Waktu penyusunan dan penyampaian perijinan kinerja PD")],
         {"PK": "indikator"}),
        ([row("12", "Sasaran", "Ketepatan Waktu penyusunan dan penyampaian perjanjian kerja PD")],
         {"PK": "indikator"}),
        ([row("12", "Penyusunan Perjanjian Kinerja sampai ke Pelaksana", CORE)], {}),
        # "Survey" and "(SKM)" next to IKM are not the SKM/RTL report (A12).
        ([row("31", "Sasaran", "IKM perangkat daerah (Aplikasi Survey Kukar)")], {}),
        ([row("31", "Sasaran", "Indeks Kepuasan Masyarakat (IKM) dari Survei (SKM)")], {}),
        # Header items that strayed into the table are not indicators.
        (["1\t1. PERANGKAT DAERAH : BADAN KESBANGPOL 2. JABATAN : Pengolah LHKPN\t\t\t",
          row("1", "Sasaran", SKP)], {"SKP": "indikator"}),
    ],
)  # fmt: skip
def test_rows_to_codes(rows: list[str], expected: dict[str, str], catalog: Catalog) -> None:
    result = parse(block(*rows), catalog)
    evidence = result.blocks[0].evidence
    assert {code: ev.column for code, ev in evidence.items()} == expected
    flagged = {p.message.split(": ")[-1] for p in result.problems if "PENJELASAN" in p.message}
    assert flagged == {code for code, column in expected.items() if column == "penjelasan"}
    assert result.employees[0].codes == set(expected)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # Other column names in the template's order.
        ("NO\tSASARAN KINERJA PROGRAM\tINDIKATOR KINERJA INDIVIDU\tFormulasi Perhitungan "
         f"Capaian Target IKI\tTARGET\n1\tMeningkatnya akuntabilitas\t{SKP}\tJumlah\t100%",
         {"SKP"}),
        # Two SASARAN columns before the INDIKATOR: the second one decides nothing (A1).
        ("No.\tSASARAN STRATEGIS\tSASARAN PROGRAM\tINDIKATOR KINERJA\tPenjelasan/ Formulasi "
         f"Perhitungan\n1\tTata kelola\t{LHKPN_GOAL}\t{SPT}\tJumlah",
         {"SPT"}),
        # No NO column: the rows carry no number; a SASARAN that mentions its sasaran and
        # an INDIKATOR that starts with the word are still a row, not a header.
        (f"SASARAN/KINERJA UTAMA\tINDIKATOR KINERJA\tPENJELASAN\nKepatuhan ASN\t{SKP}\tJumlah\n"
         f"Capaian sasaran kepatuhan pajak\tIndikator: {SPT}\tJumlah\n1\t2\t3",
         {"SKP", "SPT"}),
    ],
)  # fmt: skip
def test_table_layouts(table: str, expected: set[str], catalog: Catalog) -> None:
    text = block().replace(f"{TABLE}\n1\tSasaran\t{SKP}\t{SKP_PEN}\tBadan Kesbangpol", table)
    assert table in text
    evidence = parse(text, catalog).blocks[0].evidence
    assert {code for code, found in evidence.items() if found.column == "indikator"} == expected
    assert set(evidence) == expected


def test_evidence_records_cell_line_and_text(catalog: Catalog) -> None:
    text = block(row("1", "Sasaran", "Jumlah dokumen"), row("10", "10 Sasaran", f"15 {SKP}"))
    evidence = parse(text, catalog).blocks[0].evidence["SKP"]
    assert (evidence.line, evidence.column, evidence.text) == (10, "indikator", SKP)


def test_nip_before_name(catalog: Catalog) -> None:
    result = parse(block(nip_first=True), catalog)
    first = result.blocks[0]
    assert (first.name, first.nip) == ("BUDI SANTOSO, S.Sos", "198001012005011001")
    assert result.employees[0].key == "198001012005011001"
    assert not [p for p in result.problems if "block 1" in p.message]


def test_block_without_nip_gets_a_provisional_key(catalog: Catalog) -> None:
    result = parse(block(nip=None), catalog)
    employee = result.employees[0]
    assert employee.key == provisional_key("BUDI SANTOSO") == provisional_key("Budi Santoso, SE")
    assert employee.key.startswith("TMP-") and employee.nip is None
    assert any("NIP missing" in note for note in employee.review)
    [problem] = [p for p in result.problems if "NIP" in p.message]
    assert (problem.line, problem.severity) == (14, "review")  # the name line


def test_malformed_nip_gets_a_provisional_key(catalog: Catalog) -> None:
    result = parse(block(nip="NIP. 19820226 2001 1 007"), catalog)
    assert result.blocks[0].raw_nip == "19820226 2001 1 007"
    assert result.blocks[0].nip is None
    assert result.employees[0].key == provisional_key("BUDI SANTOSO")
    assert any("malformed NIP '19820226 2001 1 007'" in p.message for p in result.problems)


def test_block_without_name_and_nip_is_an_error_not_an_employee(catalog: Catalog) -> None:
    text = block() + block(name=None, nip=None)
    result = parse(text, catalog)
    assert len(result.blocks) == 2
    assert [e.blocks for e in result.employees] == [[1]]
    errors = [p for p in result.problems if p.severity == "error"]
    assert len(errors) == 1 and errors[0].message.startswith("block 2: neither name nor NIP")
    assert errors[0] in result.blocks[1].problems


def test_missing_header_takes_the_signature_position(catalog: Catalog) -> None:
    result = parse(block(jabatan=None, signed="Penelaah Teknis Rebijakan,"), catalog)
    employee = result.employees[0]
    assert employee.position == "Penelaah Teknis Kebijakan"
    assert employee.unit == ""
    messages = [p.message for p in result.problems]
    assert any("position taken from signature line" in m for m in messages)
    assert any("unit unknown" in m for m in messages)


def test_jabatan_holding_the_tugas_text(catalog: Catalog) -> None:
    """L1253-1257: the labels slid down one line; the value of JABATAN stands alone."""
    text = block().replace(
        f"2. JABATAN : Pengolah Data dan Informasi\n3. TUGAS : {TUGAS}\n4. FUNGSI : {FUNGSI_IWK}",
        f": Pengolah Data dan Informasi\n2. JABATAN : {TUGAS}\n3. TUGAS : {FUNGSI_IWK}\n"
        "4. FUNGSI :",
    )
    result = parse(text, catalog)
    assert result.blocks[0].position == "Pengolah Data dan Informasi"
    assert result.blocks[0].unit == "Bidang Ideologi dan Wawasan Kebangsaan"
    assert any("JABATAN line holds the TUGAS text" in p.message for p in result.problems)


@pytest.mark.parametrize(
    ("header", "position", "unit"),
    [
        ("| 2. JABATAN | : Penelaah Teknis Kebijakan |\n| 4. FUNGSI | : " + FUNGSI_SEKRETARIAT
         + " |", "Penelaah Teknis Kebijakan", "Sekretariat"),
        ("2.\tJABATAN\t:\tPengolahan Data dan Informasi\t\n4. FUNGSI\t: " + FUNGSI_IWK,
         "Pengolah Data dan Informasi", "Bidang Ideologi dan Wawasan Kebangsaan"),
        ("1\t1. PERRANGKAT DAERAH : BADAN KESBANGPOL 2. JABATAN : Pengadmnistrasi Perkantoran "
         f"3. TUGAS : {TUGAS} 4. FUNGSI : " + FUNGSI_IWK.replace("Ideologi", "Politik Dalam")
         .replace("dan Wawasan Kebangsaan", "Negeri") + "\t\t\t",
         "Pengadministrasi Perkantoran", "Bidang Politik Dalam Negeri"),
        ("2. JABATAN : Penelaah Teknis Kebijakan\n4. FUNGSI :\n - i. Penyelempgaraan urusan "
         "pemerintahan dan pelayanan umum di bidang kesatuan bangsa dan politik",
         "Penelaah Teknis Kebijakan", "Sekretariat"),
        ("2. JABATAN : KEPALA BIDANG IDEOLOGI DAN WAWASAN KEBANGSAAN",
         "Kepala Bidang Ideologi dan Wawasan Kebangsaan", "Bidang Ideologi dan Wawasan Kebangsaan"),
        ("2. JABATAN : SEKRETARIS", "Sekretaris", "Sekretariat"),
        # Other agencies' templates (issue 17): other numbering, case and punctuation, no
        # PERANGKAT DAERAH, FUNGSI as a lettered sub-list, "Nama Jabatan".
        ("1) Jabatan : Penelaah Teknis Kebijakan\n3) Fungsi : " + FUNGSI_SEKRETARIAT,
         "Penelaah Teknis Kebijakan", "Sekretariat"),
        ("I. JABATAN : Pengolah Data dan Informasi\nIII. TUGAS : " + TUGAS
         + "\nIV. FUNGSI : " + FUNGSI_IWK,
         "Pengolah Data dan Informasi", "Bidang Ideologi dan Wawasan Kebangsaan"),
        ("JABATAN. : Penelaah Teknis Kebijakan\nFUNGSI. : " + FUNGSI_SEKRETARIAT,
         "Penelaah Teknis Kebijakan", "Sekretariat"),
        ("a. Nama Jabatan : Pengolah Data dan Informasi\nb. Tugas :\n1) " + TUGAS
         + "\nc. Fungsi :\na. " + FUNGSI_IWK + ";\nb. Pelaksanaan kebijakan lain",
         "Pengolah Data dan Informasi", "Bidang Ideologi dan Wawasan Kebangsaan"),
    ],
)  # fmt: skip
def test_header_layouts(header: str, position: str, unit: str, catalog: Catalog) -> None:
    signed = f"{position},"
    text = block(jabatan=None, signed=signed).replace(TABLE, f"{header}\n\n{TABLE}")
    result = parse(text, catalog)
    assert (result.blocks[0].position, result.blocks[0].unit) == (position, unit)
    assert not [p for p in result.problems if p.message.startswith("block 1:")]


@pytest.mark.parametrize(
    "title",
    [
        "Indikator Kinerja Individu (IKI) Tahun 2025",
        "INDIKATOR KINERJA INDIVIDU TAHUN ANGGARAN 2025",
    ],
)
def test_title_variants(title: str, catalog: Catalog) -> None:
    text = block().replace("INDIKATOR KINERJA INDIVIDU", title)
    assert text.startswith(title)
    result = parse(text, catalog)
    assert [b.name for b in result.blocks] == ["BUDI SANTOSO, S.Sos"]
    assert not [p for p in result.problems if "title" in p.message]


def test_signature_variants(catalog: Catalog) -> None:
    text = block().replace("Tenggarong, 1 Februari 2025\nPengolah Data dan Informasi,", (
        "\t\tTenggarong, 20 Januari 2025 Pengolah Data dan Informasi,\t\t"
    ))  # fmt: skip
    first = parse(text, catalog).blocks[0]
    assert (str(first.signed_on), first.name) == ("2025-01-20", "BUDI SANTOSO, S.Sos")
    text = block().replace("Tenggarong, 1 Februari 2025", "Tanggal 3 Pebruari 2025")
    assert str(parse(text, catalog).blocks[0].signed_on) == "2025-02-03"


BUDI = "198001012005011001"


@pytest.mark.parametrize(
    ("signature", "nip", "repaired"),
    [
        ("BUDI SANTOSO, S.Sos\nNIP. 19800101 200501 1 001", BUDI, False),  # 8-6-1-3
        ("BUDI SANTOSO, S.Sos\nNIP. 19800101 200501 1001", BUDI, False),  # 8-6-4
        ("BUDI SANTOSO, S.Sos\nNIP.198001012005011001", BUDI, False),  # unspaced
        ("BUDI SANTOSO, S.Sos\nNlP. 19800101 200501 1 001", BUDI, False),  # OCR's label
        ("BUDI SANTOSO, S.Sos\nN1P : 19800101 200501 1 001", BUDI, False),
        ("BUDI SANTOSO, S.Sos\nN I P 19800101-200501-1-001", BUDI, True),
        ("BUDI SANTOSO, S.Sos\nNIP. l98OO1O1 2005O1 I OO1", BUDI, True),  # OCR's digits
        ("BUDI SANTOSO, S.Sos\nPenata Tk. I (III/d)\nNIP. 19800101 200501 1 001", BUDI, False),
        ("BUDI SANTOSO, S.Sos Penata (III/c) NIP. 19800101 200501 1 001", BUDI, False),
        ("BUDI SANTOSO, S.Sos / Penata Tk. I / III/d / NlP 1980010120050l1001", BUDI, True),
        ("BUDI SANTOSO, S.Sos, Pembina Utama Muda, IV/c\nNIP 19800101 200501 1 001", BUDI, False),
        # A letter that is no digit's look-alike is not guessed at.
        ("BUDI SANTOSO, S.Sos\nNIP. 19800101 2005X1 1 001", None, False),
    ],
)  # fmt: skip
def test_signature_name_and_nip_variants(
    signature: str, nip: str | None, repaired: bool, catalog: Catalog
) -> None:
    result = parse(block(name=signature, nip=None), catalog)
    first = result.blocks[0]
    assert (first.name, first.nip) == ("BUDI SANTOSO, S.Sos", nip)
    notes = [p.message for p in result.problems if "letters OCR put for digits" in p.message]
    assert len(notes) == repaired
    if repaired:
        assert notes[0].endswith(f"read as {BUDI}; check it")
        assert result.employees[0].key == BUDI


@pytest.mark.parametrize(
    ("raw", "nip"),
    [
        ("19710515 200012 1 003", "197105152000121003"),
        ("19740317201001 1 005", "197403172010011005"),
        ("19820226 2001 1 007", None),  # 16 digits
        ("19760423 201121 002", None),  # 17 digits
        ("19711399 200012 1 003", None),  # no such birth date
        ("19710515 200012 5 003", None),  # sex digit is 1 or 2
        ("1971O515 200012 1 003", None),  # letter O read for zero
    ],
)
def test_normalise_nip(raw: str, nip: str | None) -> None:
    assert read_nip(raw) == nip


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("BUDI SANTOSO", "Budi Santoso, SE", True),
        ("DIANA S.Sos", "DIANA", True),
        ("Drs. ZUKIPLI, M.Si", "ZUKIPLI", True),
        ("H. ABDUL HARIS, S.Sos", "ABDUL HARIS", True),
        ("M. ALI", "ALI", False),  # an initial, not a degree
        ("ARIANTO S.", "ARIANTO", False),
    ],
)
def test_provisional_key_ignores_titles_only(first: str, second: str, same: bool) -> None:
    assert (provisional_key(first) == provisional_key(second)) is same


def test_a_cell_starting_with_a_date_is_not_a_signature(catalog: Catalog) -> None:
    text = block(row("1", "Sasaran", "31 Maret 2025 batas LHKPN"), row("2", "Sasaran", SKP))
    result = parse(text, catalog)
    assert len(result.blocks) == 1
    assert set(result.blocks[0].evidence) == {"LHKPN", "SKP"}


# --------------------------------------------------------------------------- roster


def _document(*blocks: str) -> str:
    return "**INDIKATOR KINERJA INDIVIDU\nTAHUN 2025**\n\n" + "".join(blocks)


def test_same_person_in_two_blocks_is_one_employee(catalog: Catalog) -> None:
    text = _document(
        block(row("1", "S", SKP), jabatan="SEKRETARIS", fungsi=FUNGSI_SEKRETARIAT,
              signed="Sekretaris"),
        block(row("1", "S", LHKPN), jabatan="Pih. KEPALA BIDANG IDEOLOGI DAN WAWASAN KEBANGSAAN",
              signed="Plh. Kabid Ideologi dan Wasbang,"),
        block(row("1", "S", SPT), name="ANI", nip="NIP. 19850505 201001 2 001"),
    )  # fmt: skip
    result = parse(text, catalog)
    boss, staff = result.employees
    assert (boss.blocks, boss.codes, boss.roles) == ([1, 2], {"SKP", "LHKPN"}, {
        "secretary", "unit_head"})  # fmt: skip
    assert (boss.position, boss.unit, boss.superior_key) == ("Sekretaris", "Sekretariat", None)
    assert result.blocks[1].position == "Plh. Kepala Bidang Ideologi dan Wawasan Kebangsaan"
    assert staff.superior_key == boss.key  # the Plh. heads the staff's bidang


def test_same_nip_with_another_name_is_flagged(catalog: Catalog) -> None:
    result = parse(_document(block(), block(name="BUDI SANTOSA")), catalog)
    [employee] = result.employees
    assert employee.blocks == [1, 2] and employee.name == "BUDI SANTOSO, S.Sos"
    assert any("'BUDI SANTOSA' differs" in note for note in employee.review)
    assert [p.message for p in result.problems if p.message.startswith("block 2")] == [
        "block 2: name 'BUDI SANTOSA' differs from 'BUDI SANTOSO, S.Sos'"
    ]


def test_two_blocks_without_nip_and_the_same_name_merge_for_review(catalog: Catalog) -> None:
    result = parse(_document(block(nip=None), block(row("1", "S", SPT), nip=None)), catalog)
    [employee] = result.employees
    assert employee.blocks == [1, 2] and employee.codes == {"SKP", "SPT"}
    assert any("merged by name" in note for note in employee.review)
    assert any(p.line == result.blocks[1].start_line for p in result.problems)


def test_superiors(catalog: Catalog) -> None:
    fungsi_pdn = FUNGSI_IWK.replace("Ideologi dan Wawasan Kebangsaan", "Politik Dalam Negeri")
    text = _document(
        block(jabatan="SEKRETARIS", fungsi=FUNGSI_SEKRETARIAT, signed="Sekretaris",
              name="SEKRE", nip="NIP. 19700101 199501 1 001"),
        block(jabatan="KEPALA BIDANG IDEOLOGI DAN WAWASAN KEBANGSAAN", signed="Kabid,",
              name="KABID", nip="NIP. 19700202 199501 1 002"),
        block(jabatan="KEPALA SUB BAGIAN UMUM DAN KEPEGAWAIAN", fungsi=FUNGSI_SEKRETARIAT,
              signed="Kasub.Bag. Umum dan Keppegawaiannya,", name="KASUBBAG",
              nip="NIP. 19700303 199501 1 003"),
        block(jabatan="ANALIS KEBIJAKAN AHLI MUDA", name="ANALIS",
              nip="NIP. 19700404 199501 1 004"),
        block(name="STAF IWK", nip="NIP. 19800505 200501 1 005"),
        block(fungsi=FUNGSI_SEKRETARIAT, name="STAF SEKRETARIAT",
              nip="NIP. 19800606 200501 1 006"),
        block(fungsi=fungsi_pdn, name="STAF PDN", nip="NIP. 19800707 200501 1 007"),
    )  # fmt: skip
    result = parse(text, catalog)
    superior = {e.name: e.superior_key for e in result.employees}
    key = {e.name: e.key for e in result.employees}
    assert superior == {
        "SEKRE": None,
        "KABID": key["SEKRE"],
        "KASUBBAG": key["SEKRE"],
        "ANALIS": key["KABID"],  # a functional official of the bidang
        "STAF IWK": key["KABID"],
        "STAF SEKRETARIAT": key["KASUBBAG"],
        "STAF PDN": key["SEKRE"],  # no Kabid PDN in the roster
    }
    staf_pdn = next(e for e in result.employees if e.name == "STAF PDN")
    start = result.blocks[6].start_line
    note = (
        "superior inferred (the IKI names none): SEKRE (Sekretaris), because no head of "
        "Bidang Politik Dalam Negeri is on the roster"
    )
    assert staf_pdn.review == [f"{note} (L{start})"]
    assert (start, f"block 7: {note}") in [(p.line, p.message) for p in result.problems]


@pytest.mark.parametrize(
    "jabatan", ["KEPALA BADAN KESATUAN BANGSA DAN POLITIK", "Plt. KEPALA BADAN KESBANGPOL"]
)
def test_secretary_reports_to_the_kepala_badan_on_the_roster(
    jabatan: str, catalog: Catalog
) -> None:
    text = _document(
        block(jabatan=jabatan, fungsi=FUNGSI_SEKRETARIAT, signed=f"{jabatan},",
              name="KABAN", nip="NIP. 19690101 199001 1 001"),
        block(jabatan="SEKRETARIS", fungsi=FUNGSI_SEKRETARIAT, signed="Sekretaris",
              name="SEKRE", nip="NIP. 19700101 199501 1 001"),
    )  # fmt: skip
    result = parse(text, catalog)
    kaban, sekre = result.employees
    assert (kaban.roles, kaban.superior_key, kaban.review) == (set(), None, [])
    assert sekre.superior_key == kaban.key
    assert not [note for note in sekre.review if "superior" in note]  # settled: no flag
    assert not [p for p in result.problems if "not on the roster" in p.message]


def test_roster_without_secretary_leaves_superiors_open(catalog: Catalog) -> None:
    result = parse(block(jabatan="ANALIS KEBIJAKAN AHLI MUDA"), catalog)
    assert result.employees[0].superior_key is None
    assert any("no Sekretaris" in note for note in result.employees[0].review)
    assert [p.message for p in result.problems if "Sekretaris" in p.message] == [
        "no Sekretaris in the roster: heads, functional officials of the Sekretariat, and "
        "staff without a unit or a unit head have no superior"
    ]


# --------------------------------------------------------------------------- catalog-driven


def test_codes_come_from_the_catalog(make_catalog: Callable[..., Catalog]) -> None:
    config = Source(
        "config.toml",
        "[rules.SPT]\nenabled = false\n\n[rules.SKP]\npatterns = ['Internalisasi\\s+Core']\n",
    )
    result = parse(block(row("1", "S", SPT), row("2", "S", CORE)), make_catalog(config))
    assert set(result.blocks[0].evidence) == {"SKP"}
    assert result.blocks[0].evidence["SKP"].line == 10


def test_invalid_pattern_names_its_rule(make_catalog: Callable[..., Catalog]) -> None:
    config = Source("config.toml", "[rules.MR]\npatterns = ['Manajemen(']\n")
    with pytest.raises(ValueError, match="rule MR"):
        parse(block(), make_catalog(config))


# --------------------------------------------------------------------------- not an IKI


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty text"),
        ("  \n\t\n", "empty text"),
        ("INDIKATOR\x00KINERJA\x00\x01\x02", "binary"),
        ("\x01\x02\x03\x04\x05\x06\x07\x08 abc", "non-printable"),
        ("Laporan Keuangan SKPD\nNO\tURAIAN\tJUMLAH\n1\tBelanja\t100\n", "no 'INDIKATOR"),
        ("**INDIKATOR KINERJA INDIVIDU\nBADAN KESBANGPOL\nTAHUN 2025**\n", "no 'INDIKATOR"),
    ],
)
def test_not_an_iki(text: str, message: str, catalog: Catalog) -> None:
    with pytest.raises(NotAnIki, match=message):
        parse(text, catalog)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "^teks kosong: diharapkan dokumen IKI"),
        ("INDIKATOR\x00KINERJA\x00\x01\x02", "^data biner"),
        ("\x01\x02\x03\x04\x05\x06\x07\x08 abc", "tidak dapat dicetak"),
        ("Laporan Keuangan SKPD\nNO\tURAIAN\tJUMLAH\n1\tBelanja\t100\n",
         "^tidak ditemukan blok 'INDIKATOR KINERJA INDIVIDU'"),
    ],
)  # fmt: skip
def test_not_an_iki_in_indonesian(text: str, message: str, catalog: Catalog) -> None:
    with pytest.raises(NotAnIki, match=message):
        parse_iki(text, catalog, language="id")


def test_roster_notes_in_indonesian(catalog: Catalog) -> None:
    """The notes of the roster step (merges, superiors) and a stray title, in both words."""
    text = _document(
        block(nip=None),
        block(row("1", "S", SPT), nip=None),
        block(name="ANI", nip="NIP. 19850505 201001 2 001"),
        block(name="ANITA", nip="NIP. 19850505 201001 2 001", jabatan=None, signed="Staf,"),
        "INDIKATOR KINERJA INDIVIDU\n\n",
    )
    indonesian, english = parse_iki(text, catalog), parse(text, catalog)
    _same_but_the_words(indonesian, english)
    said = [p.message for p in indonesian.problems]
    merged = indonesian.employees[0].key
    assert f"blok 2: tanpa NIP yang sah; digabung menurut nama dengan {merged}" in said
    assert "blok 4: nama 'ANITA' berbeda dari 'ANI'" in said
    assert said[0] == (
        "tidak ada Sekretaris dalam daftar pegawai: kepala unit, pejabat fungsional "
        "Sekretariat, dan staf tanpa unit atau tanpa kepala unit tidak mempunyai atasan"
    )
    title = indonesian.problems[-1].line
    assert said[-1] == f"baris judul di L{title} tanpa isi IKI; diabaikan"
    assert any("atasan tidak diketahui" in note for note in indonesian.employees[0].review)
