"""IKI documents as agencies hold them: text, Word and PDF read to the same roster, and the
files that cannot be read refused with what to do about them."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from iki_documents import AGENCY, TRAPS, agency, as_docx, as_docx_of_another_agency, as_pdf, as_text

from rules.catalog import Catalog
from scheduler.cli.main import cli
from scheduler.iki.document import IkiImport, NotAnIki, parse_layout
from scheduler.iki.files import MAX_FILE_BYTES, read_layout
from scheduler.iki.pdf import PAGES_A_PROCESS
from scheduler.store.db import Database

WRITERS = {"txt": lambda p: as_text(p).encode(), "docx": as_docx, "pdf": as_pdf}


def read(data: bytes, name: str, catalog: Catalog, language: str = "en") -> IkiImport:
    return parse_layout(read_layout(data, name, language), catalog, language)


def roster(result: IkiImport) -> list[tuple[object, ...]]:
    """What the import writes, with the places of the review notes left out (they are a
    line number in text, a page or table in Word and PDF)."""
    return [
        (e.key, e.nip, e.name, e.position, e.unit, sorted(e.codes), e.superior_key,
         sorted(e.roles), e.blocks, [re.sub(r" \([^()]*\)$", "", note) for note in e.review])
        for e in result.employees
    ]  # fmt: skip


@pytest.fixture(scope="module")
def imports(catalog: Catalog) -> dict[str, IkiImport]:
    return {kind: read(write(AGENCY), f"iki.{kind}", catalog) for kind, write in WRITERS.items()}


def test_the_same_content_in_every_format_is_the_same_roster(
    imports: dict[str, IkiImport],
) -> None:
    text = roster(imports["txt"])
    assert len(text) == len(AGENCY) == 5
    assert roster(imports["docx"]) == text
    assert roster(imports["pdf"]) == text
    for kind in ("docx", "pdf"):
        problems = [(p.severity, p.message) for p in imports[kind].problems]
        assert problems == [(p.severity, p.message) for p in imports["txt"].problems]


def test_another_agencys_word_template_reads_to_the_same_roster(
    imports: dict[str, IkiImport], catalog: Catalog
) -> None:
    """Other labels and column names, merged cells, cells of several lines, the signature
    beside the superior's in a table, pangkat and NIP on the name's line (issue 17)."""
    other = read(as_docx_of_another_agency(AGENCY), "lain.docx", catalog)
    assert roster(other) == roster(imports["txt"])
    problems = [(p.severity, p.message) for p in other.problems]
    assert problems == [(p.severity, p.message) for p in imports["txt"].problems]


def test_header_values_wrapped_over_lines_in_a_pdf(
    imports: dict[str, IkiImport], catalog: Catalog
) -> None:
    """At 12 points JABATAN, TUGAS and FUNGSI run onto a second line of the page."""
    layout = read_layout(as_pdf(AGENCY, font_size=12), "besar.pdf", "en")
    fungsi = [k for k, line in enumerate(layout.lines) if line.startswith("4. FUNGSI")]
    assert fungsi and all("Kebangsaan" not in layout.lines[k] for k in fungsi[1:2])
    assert roster(parse_layout(layout, catalog, "en")) == roster(imports["txt"])


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_a_signature_beside_the_superiors(
    kind: str, imports: dict[str, IkiImport], catalog: Catalog
) -> None:
    """Read across, each line would hold two people: the columns are read one by one
    (in a PDF by where the text stands, in Word by its tab stops)."""
    write = as_pdf if kind == "pdf" else as_docx
    layout = read_layout(write(AGENCY, beside=True), f"berdampingan.{kind}", "en")
    at = layout.lines.index("Mengetahui,")
    assert layout.lines[at : at + 4] == ["Mengetahui,", "Atasan Langsung,", "Drs. H. ATASAN, M.Si",
                                         "NIP. 19650101 199003 1 001"]  # fmt: skip
    assert layout.lines[at + 4] == "Tenggarong, 20 Januari 2025"
    assert roster(parse_layout(layout, catalog, "en")) == roster(imports["txt"])


def test_a_long_pdf_read_on_several_cores_keeps_its_order(catalog: Catalog) -> None:
    """Over 2 × PAGES_A_PROCESS pages, runs of pages are read in processes of their own
    (where there are two cores): joined, they are the document in its order."""
    positions = agency(2 * PAGES_A_PROCESS + 2)
    layout = read_layout(as_pdf(positions), "panjang.pdf", "en")
    pages = [int(place.split()[1]) for place in layout.places or []]
    assert pages == sorted(pages) and pages[-1] == len(positions) + 1
    text = read(as_text(positions).encode(), "panjang.txt", catalog)
    assert roster(parse_layout(layout, catalog, "en")) == roster(text)


def test_what_is_read_from_each_block(imports: dict[str, IkiImport]) -> None:
    people = {e.nip: e for e in imports["pdf"].employees}
    secretary = people["197105152000121003"]
    assert (secretary.position, secretary.unit) == ("Sekretaris", "Sekretariat")
    assert secretary.codes == {"SKP", "SPT", "LHKPN", "PK", "SERAPAN"}
    kabid = people["196905221997031004"]
    assert kabid.unit == "Bidang Ideologi dan Wawasan Kebangsaan"
    assert kabid.superior_key == secretary.key
    assert people["198001012005011001"].superior_key == kabid.key
    assert people["198502142010012002"].nip == "198502142010012002"  # an unspaced NIP
    assert [b.signed_on and b.signed_on.isoformat() for b in imports["docx"].blocks] == [
        "2025-01-20"
    ] * 5


def test_indicators_that_only_look_like_ours_map_to_nothing(catalog: Catalog) -> None:
    staff = replace(AGENCY[2], rows=TRAPS)
    for kind, write in WRITERS.items():
        result = read(write([AGENCY[0], staff]), f"iki.{kind}", catalog)
        assert result.blocks[1].evidence == {}, kind
        assert result.employees[1].codes == set(), kind
        assert any("no indicator" in p.message for p in result.problems), kind


def test_problems_name_the_page_table_or_row(imports: dict[str, IkiImport]) -> None:
    assert {p.where for p in imports["txt"].problems} == {None}
    places = [p.where for p in imports["pdf"].problems]
    assert places[0] == "page 2 line 1"  # the Sekretaris's block, where the Kepala Badan is missing
    assert all(re.fullmatch(r"page \d+ (line|table \d+ row) \d+", str(p)) for p in places)
    assert all(
        re.fullmatch(r"(paragraph|table) \d+.*", str(p.where)) for p in imports["docx"].problems
    )
    reviewed = imports["pdf"].employees[3].review
    assert reviewed and all(note.endswith(")") and "(page " in note for note in reviewed)


def test_the_format_is_told_by_content_not_by_name(catalog: Catalog) -> None:
    as_txt = read(as_pdf(AGENCY), "iki.txt", catalog)
    assert roster(as_txt) == roster(read(as_docx(AGENCY), "IKI 2025", catalog))
    assert as_txt.problems[0].where == "page 2 line 1"


def test_a_table_row_spread_over_pages_and_cells_broken_over_lines(catalog: Catalog) -> None:
    """A long table runs onto the next page and its cells wrap: still one row a line."""
    many = tuple((f"Sasaran {k} " + "kegiatan " * 12, f"Indikator {k} " + "kinerja " * 15, "Jumlah")
                 for k in range(40))  # fmt: skip
    long = replace(AGENCY[2], rows=(*many, AGENCY[0].rows[0]))
    layout = read_layout(as_pdf([AGENCY[0], long]), "iki.pdf", "en")
    rows = [line for line in layout.lines if line.startswith("41\t")]
    assert len(rows) == 1 and "Penyampaian SKP" in rows[0]
    result = parse_layout(layout, catalog, "en")
    assert result.employees[1].codes == {"SKP"}
    assert result.employees[1].nip == "198001012005011001"  # the signature after the table


# --------------------------------------------------------------------------- refused


def _zip(**parts: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name.replace("__", "/"), data)
    return out.getvalue()


DOCX = as_docx(AGENCY[:1])
REFUSED = {
    "truncated.docx": (DOCX[: len(DOCX) // 2], "damaged Word document"),
    "bad-xml.docx": (_zip(**{"word__document.xml": b"<w:document", "[Content_Types].xml": b"<x"}),
                     "damaged Word document"),
    "garbage.docx": (b"\x13\x37" * 500, "damaged Word document"),
    "archive.zip": (_zip(readme__txt=b"hello"), "a ZIP archive, not a Word document"),
    "old.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "save it as .docx"),
    "scan.pdf": (as_pdf([], scans=1), "ocrmypdf -l ind in.pdf out.pdf"),
    "locked.pdf": (as_pdf(AGENCY[:1], password="rahasia"), "password-protected PDF"),
    "truncated.pdf": (as_pdf(AGENCY[:1])[:400], "damaged PDF"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unreadable_files_are_refused_with_what_to_do(name: str) -> None:
    data, words = REFUSED[name]
    with pytest.raises(NotAnIki) as refused:
        read_layout(data, name, "en")
    assert words in str(refused.value)
    assert name in str(refused.value)


def test_a_pdf_with_some_pages_scanned_is_refused_naming_them() -> None:
    """Reading the pages with text would silently leave out the people on the others."""
    with pytest.raises(NotAnIki) as refused:
        read_layout(as_pdf(AGENCY[:2], scans=2), "mixed.pdf", "en")
    assert "these pages are scanned images without a text layer: 4, 5;" in str(refused.value)


def test_refusals_are_in_indonesian_by_default() -> None:
    with pytest.raises(NotAnIki) as scanned:
        read_layout(REFUSED["scan.pdf"][0], "scan.pdf", "id")
    assert "tanpa lapisan teks" in str(scanned.value) and "ocrmypdf" in str(scanned.value)
    with pytest.raises(NotAnIki) as locked:
        read_layout(REFUSED["locked.pdf"][0], "locked.pdf", "id")
    assert "dilindungi kata sandi" in str(locked.value)


def test_a_file_too_large_is_refused_before_it_is_read() -> None:
    with pytest.raises(NotAnIki, match="at most 50 MB"):
        read_layout(b"%PDF-1.7\n" + b"0" * MAX_FILE_BYTES, "huge.pdf", "en")


def test_import_iki_reads_word_and_pdf(tmp_path: Path, database_url: str) -> None:
    database = Database(database_url)
    database.migrate()
    database.engine.dispose()
    runner = CliRunner(env={"TENGGAT_DATABASE_URL": database_url, "COLUMNS": "250"})
    (tmp_path / "iki.docx").write_bytes(as_docx(AGENCY))
    (tmp_path / "scan.pdf").write_bytes(REFUSED["scan.pdf"][0])
    done = runner.invoke(
        cli, ["--lang", "en", "import-iki", "--dry-run", str(tmp_path / "iki.docx")]
    )
    assert done.exit_code == 0, done.output
    assert "would import 5 IKI blocks → 5 employees: 5 new" in done.output
    assert "  paragraph 3: [review] the Kepala Badan is not on the roster" in done.output
    refused = runner.invoke(cli, ["import-iki", str(tmp_path / "scan.pdf")])
    assert refused.exit_code == 1
    assert "PDF hasil pindaian tanpa lapisan teks" in refused.output
    assert "Traceback" not in refused.output and refused.exception is not None


def test_a_value_too_long_for_the_roster_names_its_place(tmp_path: Path, database_url: str) -> None:
    database = Database(database_url)
    database.migrate()
    database.engine.dispose()
    runner = CliRunner(env={"TENGGAT_DATABASE_URL": database_url, "COLUMNS": "250"})
    long = replace(AGENCY[2], name="BUDI " * 60)
    (tmp_path / "iki.docx").write_bytes(as_docx([AGENCY[0], long]))
    done = runner.invoke(cli, ["--lang", "en", "import-iki", str(tmp_path / "iki.docx")])
    assert done.exit_code != 0
    assert "paragraph 9: name: 299 characters, at most 200" in done.output
    assert "Traceback" not in done.output
