"""IKI documents made for the tests and the benchmark: the same content as text, Word and PDF.

Word files are written with python-docx and PDFs with fpdf2 (a pure-Python writer, a dev
dependency), the way an agency's Keputusan lays them out: a title, the header items as a
borderless table ("1." | "JABATAN" | ":" | value), the ruled indicator table, the
signature as paragraphs, a page break between positions.  The text is the seed's layout.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace

from docx import Document
from fpdf import FPDF
from PIL import Image

TITLE = "INDIKATOR KINERJA INDIVIDU"
COLUMNS = ("NO", "SASARAN KEGIATAN", "INDIKATOR KINERJA", "PENJELASAN (FORMULASI PERHITUNGAN)")
TUGAS = (
    "Membantu Bupati dalam melaksanakan fungsi penunjang Urusan Pemerintahan yang menjadi "
    "kewenangan Daerah di bidang Kesatuan Bangsa dan Politik"
)


@dataclass(frozen=True)
class Position:
    """One block: who holds which position, and the indicator rows (SASARAN, INDIKATOR,
    PENJELASAN) of their IKI."""

    jabatan: str
    fungsi: str
    rows: tuple[tuple[str, str, str], ...]
    signed_as: str
    name: str
    nip: str
    signed_on: str = "Tenggarong, 20 Januari 2025"

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("PERANGKAT DAERAH", "BADAN KESBANGPOL"),
            ("JABATAN", self.jabatan),
            ("TUGAS", TUGAS),
            ("FUNGSI", self.fungsi),
        ]

    def signature(self) -> list[str]:
        return [self.signed_on, self.signed_as, self.name, f"NIP. {self.nip}"]


SKP = ("Penerapan SKP", "Tingkat Kepatuhan Penyampaian SKP 100% paling lambat akhir Februari",
       "Ketepatan Waktu Penyampaian SKP")  # fmt: skip
SPT = ("Kepatuhan pajak", "Tingkat Kepatuhan Penyampaian SPT Tahunan 100% per 31 Maret",
       "Ketepatan Waktu Penyampaian SPT Tahunan")  # fmt: skip
LHKPN = ("Kepatuhan LHKPN", "Tingkat Kepatuhan Penyampaian LHKPN 100% per tanggal 31 Maret",
         "Ketepatan Waktu Penyampaian LHKPN")  # fmt: skip
PK = ("Perjanjian Kinerja", "Ketepatan Waktu penyusunan dan penyampaian perjanjian kinerja PD",
      "Maksimal 1 bulan setelah APBD ditetapkan")  # fmt: skip
SERAPAN = ("Serapan anggaran", "Serapan Anggaran Berdasarkan SPD yang terbit",
           "Jumlah realisasi anggaran dibagi jumlah SPD yang telah terbit")  # fmt: skip
# Indicators that only look like ours (issue 17): each must map to no rule.
TRAPS = (
    ("Kepuasan pegawai", "Survey kepuasan pegawai", "Jumlah responden"),
    ("Data kepegawaian", "Pemutakhiran Data SAPK", "Jumlah data"),
    ("Pelaporan", "Laporan Kinerja dan Keuangan", "Jumlah laporan"),
    ("Belanja", "Belanja Operasional", "Persentase realisasi"),
)

FUNGSI_SEKRETARIAT = (
    "Penyelenggaraan urusan pemerintahan dan pelayanan umum di bidang kesatuan bangsa dan politik"
)
FUNGSI_IWK = (
    "Perumusan, perencanaan, pembinaan dan pengendalian kebijakan teknis di bidang "
    "Ideologi dan Wawasan Kebangsaan"
)

AGENCY = (
    Position("SEKRETARIS", FUNGSI_SEKRETARIAT, (SKP, SPT, LHKPN, PK, SERAPAN),
             "Sekretaris", "SUTRISNO, S.Sos, M.Si", "19710515 200012 1 003"),
    Position("KEPALA BIDANG IDEOLOGI DAN WAWASAN KEBANGSAAN", FUNGSI_IWK, (SKP, SPT, LHKPN, PK),
             "Kepala Bidang Ideologi dan Wawasan Kebangsaan", "ZUKIPLI, S.Sos",
             "19690522 199703 1 004"),
    Position("Pengolah Data dan Informasi", FUNGSI_IWK, (SKP, SPT, *TRAPS),
             "Pengolah Data dan Informasi,", "BUDI SANTOSO", "19800101 200501 1 001"),
    Position("Perencana Ahli Muda", FUNGSI_SEKRETARIAT, (SKP, PK),
             "Perencana Ahli Muda,", "SITI AMINAH, S.E", "198502142010012002"),
    Position("Pengadministrasi Perkantoran", FUNGSI_SEKRETARIAT, (SKP, *TRAPS),
             "Pengadministrasi Perkantoran,", "AHMAD FAUZI", "19900303 201503 1 003"),
)  # fmt: skip


SUPERIOR = (
    "Mengetahui,",
    "Atasan Langsung,",
    "",
    "Drs. H. ATASAN, M.Si",
    "NIP. 19650101 199003 1 001",
)


FILLER = ("Peningkatan kualitas perencanaan dan pelaporan kinerja", "Jumlah dokumen perencanaan "
          "dan pelaporan kinerja yang disusun tepat waktu", "Jumlah dokumen")  # fmt: skip


def agency(positions: int, rows: int = 0) -> list[Position]:
    """AGENCY repeated with new NIPs and names to ``positions`` positions, each table
    filled up to ``rows`` rows with indicators of no rule: the long document of the
    benchmark."""
    out: list[Position] = []
    for k in range(positions):
        base = AGENCY[k % len(AGENCY)]
        filled = (*base.rows, *(FILLER,) * max(rows - len(base.rows), 0))
        if k < len(AGENCY):
            out.append(replace(base, rows=filled))
            continue
        nip = f"1980{1 + k % 12:02d}{1 + k % 28:02d}200501{1 + k % 2}{k:03d}"
        out.append(replace(base, rows=filled, name=f"PEGAWAI {k}", nip=nip))
    return out


# --------------------------------------------------------------------------- writers


def as_text(positions: Sequence[Position]) -> str:
    """The seed's layout: numbered header items, a tab-separated table, the signature."""
    lines = [TITLE, "BADAN KESATUAN BANGSA DAN POLITIK", ""]
    for position in positions:
        lines += [TITLE, ""]
        lines += [
            f"{k}. {label} : {value}" for k, (label, value) in enumerate(position.headers(), 1)
        ]
        lines += ["", "\t".join(COLUMNS)]
        lines += ["\t".join((str(k), *cells)) for k, cells in enumerate(position.rows, 1)]
        lines += ["", *position.signature(), ""]
    return "\n".join(lines)


def as_docx(positions: Sequence[Position], *, beside: bool = False) -> bytes:
    """A Word document: header items in a borderless table, the indicators in a ruled one;
    ``beside`` sets the superior's signature to the left of the holder's with tab stops."""
    document = Document()
    document.add_paragraph(TITLE)
    document.add_paragraph("BADAN KESATUAN BANGSA DAN POLITIK")
    for number, position in enumerate(positions):
        title = document.add_paragraph(TITLE)
        title.paragraph_format.page_break_before = number > 0
        headers = document.add_table(rows=0, cols=4)
        for k, (label, value) in enumerate(position.headers(), 1):
            cells = headers.add_row().cells
            for cell, text in zip(cells, (f"{k}.", label, ":", value), strict=True):
                cell.text = text
        table = document.add_table(rows=1, cols=len(COLUMNS))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, COLUMNS, strict=True):
            cell.text = text
        for k, row in enumerate(position.rows, 1):
            cells = table.add_row().cells
            for cell, text in zip(cells, (str(k), *row), strict=True):
                cell.text = text
        document.add_paragraph()
        if not beside:
            for line in position.signature():
                document.add_paragraph(line)
            continue
        right = position.signature()
        right.insert(2, "")
        for left, text in zip(SUPERIOR, right, strict=True):  # tab stops, as typed in Word
            document.add_paragraph(f"{left}\t\t\t\t{text}" if left else f"\t\t\t\t\t{text}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def as_docx_of_another_agency(positions: Sequence[Position]) -> bytes:
    """The same content in another agency's Word template: "1) Jabatan" items in a
    two-column table, no PERANGKAT DAERAH, other column names with the NO and SASARAN
    cells merged down over the rows of one goal and cells broken over several lines, and
    the signature set beside the superior's in a borderless table, pangkat and NIP on the
    name's line."""
    document = Document()
    for number, position in enumerate(positions):
        title = document.add_paragraph(f"{TITLE} (IKI)")
        title.paragraph_format.page_break_before = number > 0
        headers = document.add_table(rows=0, cols=2)
        for k, (label, value) in enumerate(position.headers()[1:], 1):
            cells = headers.add_row().cells
            cells[0].text = f"{k}) {label.title()}"
            cells[1].text = f": {value}"
        table = document.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        names = ("No.", "Sasaran Kinerja Program", "Indikator Kinerja Individu",
                 "Formulasi Perhitungan Capaian Target IKI", "Target")  # fmt: skip
        for cell, text in zip(table.rows[0].cells, names, strict=True):
            cell.text = text
        first = None
        for k, (goal, indicator, formula) in enumerate(position.rows, 1):
            cells = table.add_row().cells
            cells[0].text, cells[1].text = str(k), goal
            words = indicator.split()
            cells[2].text = " ".join(words[: len(words) // 2])
            cells[2].add_paragraph(" ".join(words[len(words) // 2 :]))
            cells[3].text, cells[4].text = formula, "100%"
            if first is None:
                first = cells
            else:  # one goal for two rows: NO and SASARAN merged down, written once
                for column in (0, 1):
                    text = first[column].text
                    first[column].merge(cells[column]).text = text
                first = None
        document.add_paragraph()
        signature = document.add_table(rows=1, cols=2)
        left, right = signature.rows[0].cells
        left.text = "Mengetahui,"
        for line in (
            "Atasan Langsung,",
            "",
            "",
            "Drs. H. ATASAN, M.Si",
            "NIP. 19650101 199003 1 001",
        ):
            left.add_paragraph(line)
        right.text = position.signed_on
        name = f"{position.name} Penata Tk. I (III/d) NIP. {position.nip}"
        for line in (position.signed_as, "", "", name):
            right.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def as_pdf(
    positions: Sequence[Position],
    *,
    password: str | None = None,
    scans: int = 0,
    font_size: int = 9,
    beside: bool = False,
) -> bytes:
    """A PDF with a text layer, one position a page: header lines, a ruled table whose
    long cells wrap over several lines, the signature; then ``scans`` pages that are only
    an image, as a scanner makes them (all of the PDF when there are no positions).
    ``beside`` sets the superior's signature to the left of the holder's."""
    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=font_size)
    if positions:
        pdf.add_page()
        cover = f"{TITLE}\nBADAN KESATUAN BANGSA DAN POLITIK"
        pdf.multi_cell(0, 5, cover, new_x="LMARGIN", new_y="NEXT")
    for position in positions:
        pdf.add_page()
        head = [
            TITLE,
            *(f"{k}. {label} : {value}" for k, (label, value) in enumerate(position.headers(), 1)),
        ]
        pdf.multi_cell(0, 5, "\n".join(head), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        with pdf.table(col_widths=(8, 50, 70, 62), first_row_as_headings=False) as table:
            for cells in (COLUMNS, *((str(k), *row) for k, row in enumerate(position.rows, 1))):
                line = table.row()
                for text in cells:
                    line.cell(text)
        pdf.ln(4)
        if not beside:
            pdf.multi_cell(0, 6, "\n".join(position.signature()), new_x="LMARGIN", new_y="NEXT")
            continue
        right = position.signature()
        right.insert(2, "")
        for left, text in zip(SUPERIOR, right, strict=True):
            pdf.cell(95, 6, left)
            pdf.cell(95, 6, text, new_x="LMARGIN", new_y="NEXT")
    for _ in range(scans):
        picture = io.BytesIO()
        Image.new("L", (200, 280), color=255).save(picture, format="PNG")
        pdf.add_page()
        pdf.image(picture, x=0, y=0, w=210)
    if password is not None:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    return bytes(pdf.output())
