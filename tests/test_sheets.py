"""``tenggat roster export/import`` and ``tenggat submissions import`` on a real database."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from rules.calendar import WITA
from scheduler.cli.main import cli
from scheduler.cli.sheets import register
from scheduler.config import load_config
from scheduler.sheets.roster import ROSTER_COLUMNS
from scheduler.sheets.submissions import parse_moment
from scheduler.store import models
from scheduler.store.db import Database

SITI, ZUKIPLI, DESSY = "197105152000121003", "196905221997031004", "198312132010012013"
FERIA = "TMP-13871de04c"
NEW_NIP = "198501012010011005"
BEFORE = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
# Export order: unit, then name.  Row 1 is the header.
ROW = {DESSY: 2, FERIA: 3, ZUKIPLI: 4, SITI: 5}


@pytest.fixture(scope="module", autouse=True)
def _commands() -> None:
    roster = cli.commands["roster"]
    if "export" not in getattr(roster, "commands", {}):
        register(cli)


@dataclass
class Env:
    path: Path
    db: Database
    config: Path

    def run(self, *args: str) -> Result:
        """Run ``tenggat ARGS``; an unexpected exception fails the test with its traceback."""
        return CliRunner().invoke(
            cli, ["--config", str(self.config), *args], catch_exceptions=False
        )

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.db.read() as session:
            return {
                table.name: [
                    tuple(row)
                    for row in session.execute(table.select().order_by(*table.primary_key))
                ]
                for table in models.Base.metadata.sorted_tables
            }

    def employee(self, key: str) -> models.Employee:
        with self.db.read() as session:
            found = session.scalar(select(models.Employee).where(models.Employee.key == key))
            assert found is not None, key
            session.expunge(found)
            return found

    def codes(self, key: str) -> dict[str, str]:
        with self.db.read() as session:
            rows = session.execute(
                select(models.Assignment.rule_code, models.Assignment.origin)
                .join(models.Employee, models.Employee.id == models.Assignment.employee_id)
                .where(models.Employee.key == key)
            )
            return {code: origin for code, origin in rows}


def seed(session: Session) -> None:
    sek, bid = models.Unit(name="Sekretariat"), models.Unit(name="Bidang Ideologi")
    session.add_all([sek, bid])
    session.flush()

    def person(
        key: str, name: str, unit: models.Unit, boss: models.Employee | None, **kw: Any
    ) -> models.Employee:
        nip = None if key.startswith("TMP-") else key
        row = models.Employee(
            key=key, nip=nip, name=name, unit_id=unit.id, superior_id=boss.id if boss else None,
            superior_origin="iki", updated_at=BEFORE, **kw,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row

    siti = person(SITI, "Hj. SITI AMINAH", sek, None, roles="secretary", position="Sekretaris")
    zuk = person(ZUKIPLI, "ZUKIPLI, M.Si", bid, siti, roles="unit_head", position="Kepala Bidang")
    dessy = person(
        DESSY, "DESSY LAULA", bid, zuk, telegram_chat_id="12345", email="dessy@example.go.id"
    )
    feria = person(FERIA, "FERIA WIJAYA", bid, zuk, review="NIP missing")
    # GEMA was a local rule since removed from config.toml: it must not block a round trip.
    plan = {siti: "SKP SPT LHKPN", zuk: "SKP SPT EPANTAU GEMA", dessy: "SKP SPT", feria: "SKP"}
    for who, codes in plan.items():
        session.add_all(
            models.Assignment(employee_id=who.id, rule_code=c, origin="iki") for c in codes.split()
        )
    session.add(
        models.Exemption(employee_id=dessy.id, rule_code="SPT", period="2024", reason="cuti",
                         recorded_by="test", recorded_at=BEFORE)
    )  # fmt: skip


def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Env:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    config = tmp_path / "tenggat.toml"
    config.write_text(
        f'[service]\nlanguage = "en"\n\n[database]\nurl = "{url}"\n', encoding="utf-8"
    )
    db = Database(url)
    db.migrate()
    with db.write() as session:
        seed(session)
    return Env(tmp_path, db, config)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, monkeypatch, database_url)
    yield made
    made.db.engine.dispose()


def read_csv(path: Path) -> list[dict[str, str]]:
    """An exported CSV (';', NIPs spaced for Excel) with its NIPs as stored, for comparing."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    nips = ("key", "nip", "superior")
    return [row | {c: row[c].replace(" ", "") for c in nips if c in row} for row in rows]


def write_csv(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def exported(
    env: Env, name: str = "roster.csv", *options: str
) -> tuple[Path, list[dict[str, str]]]:
    result = env.run("roster", "export", *options, name)
    assert result.exit_code == 0, result.output
    assert "exported 4 employees" in result.output
    return env.path / name, read_csv(env.path / name) if name.endswith(".csv") else []


def by_key(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["key"]: row for row in rows}


# --------------------------------------------------------------------------- roster export


def test_export_has_the_columns_one_row_per_employee_by_unit_then_name(env: Env) -> None:
    path, rows = exported(env)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for UTF-8
    assert tuple(rows[0]) == ROSTER_COLUMNS
    assert [row["key"] for row in rows] == sorted(ROW, key=ROW.__getitem__)
    dessy = by_key(rows)[DESSY]
    assert dessy == {
        "key": DESSY, "nip": DESSY, "name": "DESSY LAULA", "position": "",
        "unit": "Bidang Ideologi",
        "superior": ZUKIPLI, "roles": "", "rules": "SKP SPT", "telegram_chat_id": "12345",
        "email": "dessy@example.go.id", "active": "yes", "review": "",
    }  # fmt: skip
    assert by_key(rows)[FERIA]["nip"] == "" and by_key(rows)[FERIA]["review"] == "NIP missing"
    assert by_key(rows)[SITI]["rules"] == "LHKPN SKP SPT"
    assert by_key(rows)[ZUKIPLI]["rules"] == "EPANTAU GEMA SKP SPT"


def test_export_refuses_other_formats(env: Env) -> None:
    result = env.run("roster", "export", "roster.ods")
    assert result.exit_code != 0
    assert ".ods files are not supported; use .csv or .xlsx" in result.output
    assert not (env.path / "roster.ods").exists()


# --------------------------------------------------------------------------- roster import


@pytest.mark.parametrize(
    ("name", "options"),
    [("roster.csv", []), ("roster.csv", ["--delimiter", ";"]), ("roster.xlsx", [])],
)
def test_round_trip_without_changes_leaves_the_database_identical(
    env: Env, name: str, options: list[str]
) -> None:
    before = env.dump()
    path, _ = exported(env, name, *options)
    if options:
        assert path.read_text(encoding="utf-8-sig").startswith("key;nip;name;")
    result = env.run("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 4 unchanged, 0 skipped" in result.output
    assert env.dump() == before


def test_fixing_a_name_and_a_superior_updates_them(env: Env) -> None:
    path, rows = exported(env)
    by_key(rows)[DESSY]["name"] = "DESSY LAULA, S.E."
    by_key(rows)[DESSY]["superior"] = "19710515 200012 1 003"  # spaces as NIPs are written
    write_csv(path, rows)
    result = env.run("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 3 unchanged" in result.output
    assert f"row 2: {DESSY} DESSY LAULA, S.E.: name, superior" in result.output
    dessy, siti = env.employee(DESSY), env.employee(SITI)
    assert (dessy.name, dessy.superior_id, dessy.superior_origin) == (
        "DESSY LAULA, S.E.",
        siti.id,
        "manual",
    )
    assert dessy.updated_at > BEFORE
    assert env.employee(FERIA).superior_origin == "iki"  # untouched rows keep their origin
    assert env.employee(FERIA).updated_at == BEFORE


def test_rules_in_the_file_become_the_assignments_and_exemptions_stay(env: Env) -> None:
    path, rows = exported(env)
    by_key(rows)[DESSY]["rules"] = "skp, lhkpn"  # any case, commas tolerated
    by_key(rows)[DESSY]["roles"] = "admin"
    write_csv(path, rows)
    before = env.dump()["exemptions"]
    result = env.run("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "roles, rules +LHKPN -SPT" in result.output
    assert env.codes(DESSY) == {"SKP": "iki", "LHKPN": "manual"}
    assert env.employee(DESSY).roles == "admin"
    assert env.dump()["exemptions"] == before


def test_provisional_key_takes_its_nip_and_new_rows_create_employees(env: Env) -> None:
    path, rows = exported(env)
    feria_id = env.employee(FERIA).id
    by_key(rows)[FERIA]["nip"] = "19850101 201001 1 005"
    new = {**by_key(rows)[DESSY], "key": "", "nip": "199001012015031002", "name": "BARU",
           "superior": FERIA.upper(), "rules": "SKP", "telegram_chat_id": "",
           "email": ""}  # fmt: skip
    temp = {**new, "key": "TMP-new1", "nip": "", "name": "SEMENTARA", "superior": NEW_NIP}
    write_csv(path, [*rows, new, temp])
    result = env.run("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "2 created, 1 updated, 3 unchanged" in result.output
    feria = env.employee(NEW_NIP)
    assert (feria.id, feria.nip, feria.name) == (feria_id, NEW_NIP, "FERIA WIJAYA")
    baru, sementara = env.employee("199001012015031002"), env.employee("TMP-new1")
    assert (baru.superior_id, baru.superior_origin, baru.unit_id) == (
        feria_id,
        "manual",
        feria.unit_id,
    )
    assert (sementara.nip, sementara.superior_id) == (None, feria_id)
    assert env.codes("199001012015031002") == {"SKP": "manual"}
    assert env.codes(NEW_NIP) == {"SKP": "iki"}


def test_xlsx_edit_round_trip(env: Env) -> None:
    path, _ = exported(env, "roster.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert [cell.value for cell in sheet[1]] == list(ROSTER_COLUMNS)
    assert sheet.cell(row=ROW[SITI], column=1).value == SITI  # a NIP stays text
    sheet.cell(row=ROW[SITI], column=10).value = "siti@example.go.id"
    sheet.cell(
        row=ROW[DESSY], column=9
    ).value = -100123456  # Telegram group ids are negative numbers
    sheet.cell(row=ROW[SITI], column=11).value = False  # (an inactive employee holds no chat)
    book.save(path)
    result = env.run("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "SITI AMINAH: email, active" in result.output
    assert "DESSY LAULA: telegram_chat_id" in result.output
    siti = env.employee(SITI)
    assert (siti.email, siti.active) == ("siti@example.go.id", False)
    assert env.employee(DESSY).telegram_chat_id == "-100123456"
    again, _ = exported(env, "again.xlsx")
    assert env.run("roster", "import", str(again)).output.count("4 unchanged") == 1


def _set(key: str, column: str, value: str) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        by_key(rows)[key][column] = value

    return edit


BAD_ROSTER = [  # id, edit, rows reported, reason
    ("invalid nip", _set(FERIA, "nip", "19850101 201001"), [3],
     "nip '19850101 201001' is not 18 digits"),
    ("excel ate the nip", _set(DESSY, "key", "1.98312E+17"), [2],
     "Excel turned it into a number"),
    ("unknown code", _set(DESSY, "rules", "SKP SPTT"), [2],
     "unknown rule 'SPTT'; did you mean SPT?"),
    ("unknown role", _set(DESSY, "roles", "secretery"), [2], "did you mean secretary?"),
    ("duplicate nip", _set(FERIA, "nip", DESSY), [2, 3],
     "is used for 'DESSY LAULA' here and for 'FERIA WIJAYA, S.Kom' on row 3"),
    ("loop", _set(SITI, "superior", DESSY), [2, 4, 5],
     "reporting loop: Hj. SITI AMINAH → DESSY LAULA"),
    ("own superior", _set(SITI, "superior", SITI), [5], "cannot be their own superior"),
    ("unknown superior", _set(DESSY, "superior", "196905221997031005"), [2],
     f"did you mean {ZUKIPLI}?"),
    ("bad e-mail", _set(SITI, "email", "siti@kukar"), [5],
     "'siti@kukar' is not an e-mail address"),
    ("chat id", _set(SITI, "telegram_chat_id", "@siti"), [5],
     "telegram_chat_id '@siti' is not a number"),
    ("active", _set(SITI, "active", "maybe"), [5], "active 'maybe' is not yes/no"),
    ("key", _set(SITI, "key", "SITI"), [5], "key 'SITI' is neither an 18-digit NIP"),
    ("key and nip", _set(DESSY, "nip", SITI), [2], f"nip {SITI} differs from key {DESSY}"),
    ("empty name", _set(SITI, "name", " "), [5], "name is empty"),
    ("pasted twice", lambda rows: rows.append(dict(by_key(rows)[FERIA])), [3, 6],
     "the same employee as row"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "rows", "reason"), [c[1:] for c in BAD_ROSTER], ids=[c[0] for c in BAD_ROSTER]
)
def test_bad_rows_are_reported_and_nothing_is_written(
    env: Env, edit: Callable[[list[dict[str, str]]], None], rows: list[int], reason: str
) -> None:
    path, exported_rows = exported(env)
    by_key(exported_rows)[FERIA]["name"] = "FERIA WIJAYA, S.Kom"  # a good change, not written
    edit(exported_rows)
    write_csv(path, exported_rows)
    before = env.dump()
    result = env.run("roster", "import", str(path))
    assert result.exit_code != 0
    assert reason in result.output
    for number in rows:
        assert f"row {number}: " in result.output
    assert "nothing written" in result.output
    assert env.dump() == before


def test_wrong_headers_are_refused_naming_the_columns(env: Env) -> None:
    path, rows = exported(env)
    renamed = [{("atasan" if k == "superior" else "emial" if k == "email" else k): v
                for k, v in row.items() if k != "rules"} for row in rows]  # fmt: skip
    write_csv(path, renamed)
    before = env.dump()
    result = env.run("roster", "import", str(path))
    assert result.exit_code != 0
    assert "missing: superior, rules; unknown: atasan, emial" in result.output
    assert "did you mean emial → email?" in result.output
    assert env.dump() == before


def test_skip_bad_writes_the_good_rows_and_reports_the_others(env: Env) -> None:
    path, rows = exported(env)
    by_key(rows)[DESSY]["name"] = "DESSY LAULA, S.E."
    by_key(rows)[SITI]["email"] = "not-an-address"
    new = {**by_key(rows)[DESSY], "key": "TMP-x", "nip": "", "name": "ANAK", "superior": "TMP-bad!",
           "telegram_chat_id": ""}  # fmt: skip
    boss = {
        **new,
        "key": "TMP-bad!",
        "name": "BOS",
    }  # an invalid key: its subordinate is skipped too
    write_csv(path, [*rows, new, boss])
    result = env.run("roster", "import", "--skip-bad", str(path))
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 2 unchanged, 3 skipped" in result.output
    assert "row 5: 'not-an-address' is not an e-mail address" in result.output
    assert "row 6: superior 'tmp-bad!' is on row 7, which has problems" in result.output
    assert "row 7: key 'TMP-bad!' is neither" in result.output
    assert env.employee(DESSY).name == "DESSY LAULA, S.E."
    assert env.employee(SITI).email is None


def test_dry_run_shows_the_changes_and_writes_nothing(env: Env) -> None:
    path, rows = exported(env)
    by_key(rows)[DESSY]["unit"] = "Bidang Baru"
    write_csv(path, rows)
    before = env.dump()
    result = env.run("roster", "import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert "would import" in result.output and f"{DESSY} DESSY LAULA: unit" in result.output
    assert env.dump() == before


# --------------------------------------------------------------------------- submissions import

SUBMISSION_HEADER = ["nip", "rule", "period", "submitted_at", "evidence", "agency"]


def submissions_csv(
    env: Env, *rows: list[str], delimiter: str = ",", name: str = "subs.csv"
) -> str:
    path = env.path / name
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows([SUBMISSION_HEADER, *rows])
    return str(path)


def stored_submissions(env: Env) -> list[tuple[str, str, str, datetime, str, str]]:
    with env.db.read() as session:
        rows = session.execute(
            select(models.Employee.key, models.Submission.rule_code,
                   models.Submission.period, models.Submission.submitted_at,
                   models.Submission.source, models.Submission.evidence)
            .join(models.Employee, models.Employee.id == models.Submission.employee_id)
            .order_by(models.Submission.id)
        )  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


GOOD = [
    ["1983 1213 2010 0120 13", "skp", "2024", "2025-02-10", "BKN-1", ""],
    [SITI, "SPT", "2024", "2025-03-01 14.30", "", "no"],
    [FERIA.upper(), "EPANTAU", "2025-01", "2025-02-05T09:00:00+08:00", "", "yes"],
]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_submissions_import_inserts_one_record_per_row(env: Env, delimiter: str) -> None:
    result = env.run("submissions", "import", submissions_csv(env, *GOOD, delimiter=delimiter))
    assert result.exit_code == 0, result.output
    assert "recorded 3 submissions" in result.output
    assert stored_submissions(env) == [
        (
            DESSY,
            "SKP",
            "2024",
            datetime(2025, 2, 10, 4, 0, tzinfo=UTC),
            "import",
            "BKN-1",
        ),  # 12:00 WITA
        (SITI, "SPT", "2024", datetime(2025, 3, 1, 6, 30, tzinfo=UTC), "import", ""),
        (FERIA, "EPANTAU", "2025-01", datetime(2025, 2, 5, 1, 0, tzinfo=UTC), "import", ""),
    ]
    again = env.run("submissions", "import", submissions_csv(env, GOOD[0]))
    assert again.exit_code == 0 and "recorded 0 submissions" in again.output  # nothing new
    later = [DESSY, "SKP", "2024", "2025-02-11", "", ""]  # a correction without evidence
    assert env.run("submissions", "import", submissions_csv(env, later)).exit_code == 0
    # never updated: a new record, which keeps the evidence
    before, after = [row for row in stored_submissions(env) if row[0] == DESSY]
    assert (before[3], after[3], before[5], after[5]) == (
        datetime(2025, 2, 10, 4, 0, tzinfo=UTC),
        datetime(2025, 2, 11, 4, 0, tzinfo=UTC),
        "BKN-1",
        "BKN-1",
    )


BAD_SUBMISSIONS = [  # id, the bad row (row 5, after GOOD), reason
    ("unknown nip", [DESSY[:-1] + "4", "SKP", "2024", "2025-02-10", "", ""],
     f"no employee with NIP '{DESSY[:-1]}4'; did you mean {DESSY} (DESSY LAULA)?"),
    ("unknown code", [DESSY, "SKPX", "2024", "2025-02-10", "", ""],
     "unknown rule 'SKPX'; did you mean SKP, LKSKPD?"),
    ("bad period", [DESSY, "EPANTAU", "2025-13", "2025-02-10", "", ""],
     "period '2025-13' does not fit EPANTAU (e.g. 2025-02)"),
    ("future", [DESSY, "SKP", "2024", "2100-01-01", "", ""],
     "submitted_at 2100-01-01 12:00 WITA is in the future"),
    ("bad time", [DESSY, "SKP", "2024", "10/02/2025", "", ""],
     "submitted_at '10/02/2025' is not a date or time"),
    ("empty", [DESSY, "SKP", "", "2025-02-10", "", ""], "period is empty"),
    # the year the deadline falls in, typed for the year the SPT reports on
    ("far period", [DESSY, "SPT", "2025", "2025-03-15", "", ""],
     "SPT 2025 is due 2026-03-31; did you mean SPT 2024?"),
    ("agency", [DESSY, "SKP", "2024", "2025-02-10", "", "maybe"], "agency 'maybe' is not yes/no"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "reason"), [c[1:] for c in BAD_SUBMISSIONS], ids=[c[0] for c in BAD_SUBMISSIONS]
)
def test_one_bad_submission_row_inserts_nothing(env: Env, row: list[str], reason: str) -> None:
    before = env.dump()
    result = env.run("submissions", "import", submissions_csv(env, *GOOD, row))
    assert result.exit_code != 0
    assert f"row 5: {reason}" in result.output
    assert "nothing written" in result.output
    assert env.dump() == before


def test_submissions_dry_run_records_nothing(env: Env) -> None:
    before = env.dump()
    result = env.run("submissions", "import", "--dry-run", submissions_csv(env, *GOOD))
    assert result.exit_code == 0, result.output
    assert "would record 3 submissions" in result.output
    assert env.dump() == before


def test_submissions_skip_bad_inserts_the_good_rows(env: Env) -> None:
    result = env.run(
        "submissions", "import", "--skip-bad", submissions_csv(env, GOOD[0], BAD_SUBMISSIONS[3][1])
    )
    assert result.exit_code == 0, result.output
    assert "recorded 1 submissions" in result.output and "row 3: submitted_at" in result.output
    assert [row[:3] for row in stored_submissions(env)] == [(DESSY, "SKP", "2024")]


def test_submissions_from_xlsx_take_date_cells(env: Env) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["NIP", "Rule", "Period", "Submitted At"])  # headings in any case
    sheet.append([DESSY, "SKP", 2024, datetime(2025, 2, 10, 9, 15)])
    sheet.append(
        [SITI, "EPANTAU", date(2025, 1, 1), date(2025, 2, 3)]
    )  # Excel made "2025-01" a date
    book.save(env.path / "subs.xlsx")
    result = env.run("submissions", "import", "subs.xlsx")
    assert result.exit_code == 0, result.output
    assert stored_submissions(env) == [
        (DESSY, "SKP", "2024", datetime(2025, 2, 10, 1, 15, tzinfo=UTC), "import", ""),
        (SITI, "EPANTAU", "2025-01", datetime(2025, 2, 3, 4, 0, tzinfo=UTC), "import", ""),
    ]


def test_a_nip_stored_as_an_excel_number_is_refused(env: Env) -> None:
    book = openpyxl.Workbook()
    book.active.append(SUBMISSION_HEADER[:4])
    book.active.append([float(DESSY), "SKP", "2024", "2025-02-10"])
    book.save(env.path / "subs.xlsx")
    result = env.run("submissions", "import", "subs.xlsx")
    assert result.exit_code != 0
    assert "row 2: nip 198312132010012000 is stored as a number" in result.output


HEADER = b"nip,rule,period,submitted_at\n"
FILES = [  # name, content, reason
    ("empty.csv", b"", "is empty: expected a header row (nip, rule, period, submitted_at"),
    ("header.csv", b"\xef\xbb\xbfnip;rule;period;submitted_at\r\n;;;\r\n",
     "has a header row but no data rows"),
    ("binary.csv", bytes(range(256)) * 4, "is not a text CSV file"),
    ("latin1.csv", HEADER + "1,SKP,2024,2025-01-01 Müller\n".encode("latin-1"), "is not UTF-8"),
    ("book.csv", b"PK\x03\x04" + bytes(100),
     "is an Excel workbook, not CSV text: rename it to .xlsx"),
    ("broken.xlsx", b"not a zip at all", "cannot be read as an Excel workbook"),
    ("subs.txt", b"nip,rule\n", ".txt files are not supported"),
    ("shifted.csv", HEADER + b"1,SKP,2024,2025-01-01,extra\n", "row 2: 1 cell(s) beyond"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "reason"), FILES, ids=[f[0] for f in FILES])
def test_unreadable_files_are_refused_cleanly(
    env: Env, name: str, content: bytes, reason: str
) -> None:
    (env.path / name).write_bytes(content)
    before = env.dump()
    result = env.run("submissions", "import", name)
    assert result.exit_code == 1 and reason in result.output, result.output
    assert env.run("roster", "import", name).exit_code == 1
    assert env.dump() == before


def test_messages_follow_the_language(env: Env) -> None:
    path, rows = exported(env)
    by_key(rows)[SITI]["email"] = "siti@kukar"
    write_csv(path, rows)
    result = env.run("--lang", "id", "roster", "import", str(path))
    assert result.exit_code != 0
    assert "baris 5: 'siti@kukar' bukan alamat e-mail" in result.output
    assert "tidak ada yang ditulis: 1 baris bermasalah" in result.output
    by_key(rows)[SITI]["email"] = "siti@kukar.go.id"
    write_csv(path, rows)
    result = env.run("--lang", "id", "roster", "import", str(path))
    assert result.exit_code == 0, result.output
    assert f"  ~ baris 5: {SITI} " in result.output and ": email" in result.output


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-02-10", datetime(2025, 2, 10, 12, 0, tzinfo=WITA)),
        ("2025-02-10 07:05", datetime(2025, 2, 10, 7, 5, tzinfo=WITA)),
        ("2025-02-10T07.05.09", datetime(2025, 2, 10, 7, 5, 9, tzinfo=WITA)),
        ("2025-02-10T07:05Z", datetime(2025, 2, 10, 7, 5, tzinfo=UTC)),
        (date(2025, 3, 3), datetime(2025, 3, 3, 9, 30, tzinfo=WITA)),  # today before noon: now
        (datetime(2025, 2, 10, 23, 59), datetime(2025, 2, 10, 23, 59, tzinfo=WITA)),
        (datetime(2025, 2, 10), datetime(2025, 2, 10, 12, 0, tzinfo=WITA)),  # a date cell
        ("20250210", None),
        ("2025-02-30", None),
        (45678, None),
    ],
)
def test_parse_moment(cell: Any, expected: datetime | None) -> None:
    now = datetime(2025, 3, 3, 9, 30, tzinfo=WITA)
    assert parse_moment(cell, WITA, now) == expected


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = os.environ.get(
        "TENGGAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    schema = f"sheets_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("TENGGAT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {base}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {base}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_roster_round_trip_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    env = make_env(tmp_path, monkeypatch, postgres_url)
    try:
        before = env.dump()
        path, rows = exported(env)
        result = env.run("roster", "import", str(path))
        assert result.exit_code == 0 and "4 unchanged" in result.output, result.output
        assert env.dump() == before
        by_key(rows)[DESSY]["superior"] = SITI
        by_key(rows)[SITI]["superior"] = DESSY  # a loop: refused, nothing written
        write_csv(path, rows)
        assert env.run("roster", "import", str(path)).exit_code != 0
        assert env.dump() == before
        by_key(rows)[SITI]["superior"] = ""
        write_csv(path, rows)
        assert env.run("roster", "import", str(path)).exit_code == 0
        assert env.employee(DESSY).superior_origin == "manual"
    finally:
        env.db.engine.dispose()


# --------------------------------------------------------------------------- Excel


def excel_rows(data: bytes) -> list[list[str]]:
    """A CSV as Excel set for Indonesia opens it: UTF-8 only with a BOM, ';' between cells."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    text = data[3:].decode("utf-8")
    assert "\ufeff" not in text  # one BOM, not two
    return list(csv.reader(text.splitlines(), delimiter=";"))


def test_every_csv_export_opens_right_in_excel_set_for_indonesia(env: Env) -> None:
    """';' as separator, a BOM, and NIPs as NIPs are written ("19710515 200012 1 003"),
    which Excel keeps as text where it turns 18 bare digits into 1,97105E+17."""
    from scheduler.reports import digest

    assert env.run("roster", "export", "roster.csv").exit_code == 0
    assert env.run("link", "--all", "--out", "kode.csv").exit_code == 0
    shown = env.run(
        "--lang", "id", "digest", "--format", "csv", "--preview", "--as-of", "2025-03-03"
    )
    assert shown.exit_code == 0, shown.output
    mails = digest.weekly(
        load_config(str(env.config)), env.db, datetime(2025, 3, 3, 7, 30, tzinfo=WITA)
    )
    exports = {
        "roster": (env.path / "roster.csv").read_bytes(),
        "link codes": (env.path / "kode.csv").read_bytes(),
        "digest": shown.stdout_bytes,
        **{f"mail to {mail.recipient.key}": mail.csv for mail in mails},
    }
    spaced = "19710515 200012 1 003"
    for name, data in exports.items():
        rows = excel_rows(data)
        assert len(rows[0]) > 5, (name, rows[0])
        assert all(len(row) == len(rows[0]) for row in rows), name
        cells = [cell for row in rows for cell in row]
        assert not [cell for cell in cells if cell.isdigit() and len(cell) > 15], name
        assert spaced in cells, name
    percent = [row[-1] for row in excel_rows(shown.stdout_bytes)[1:]]
    assert percent and not [p for p in percent if "." in p], percent  # 66,7 in Indonesian


MEASURED_HEADER = [*SUBMISSION_HEADER, "value"]


def measured_csv(env: Env, *rows: list[str]) -> str:
    path = env.path / "measured.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([MEASURED_HEADER, *rows])
    return str(path)


def test_a_measured_value_is_read_from_the_value_column(env: Env) -> None:
    rows = [[DESSY, "SERAPAN", "2025-02", "2025-03-01", "", "", "87,5"], [*GOOD[0], ""]]
    result = env.run("submissions", "import", measured_csv(env, *rows))
    assert result.exit_code == 0, result.output
    with env.db.read() as session:
        stored = session.execute(
            select(models.Submission.rule_code, models.Submission.value).order_by(
                models.Submission.id
            )
        ).all()
    assert [tuple(row) for row in stored] == [("SERAPAN", 87.5), ("SKP", None)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([DESSY, "SERAPAN", "2025-02", "2025-03-01", "", "", ""], "SERAPAN is recorded as a value"),
        (
            [DESSY, "SERAPAN", "2025-02", "2025-03-01", "", "", "banyak"],
            "value 'banyak' is not a number",
        ),
        (
            [DESSY, "SERAPAN", "2025-02", "2025-03-01", "", "", "-1"],
            "a value cannot be negative: -1",
        ),
        ([DESSY, "SKP", "2024", "2025-02-10", "", "", "80"], "SKP is a document to hand in"),
    ],
)
def test_a_bad_measured_value_in_a_sheet_inserts_nothing(
    env: Env, row: list[str], reason: str
) -> None:
    before = env.dump()
    result = env.run("submissions", "import", measured_csv(env, [*GOOD[0], ""], row))
    assert result.exit_code != 0
    assert f"row 3: {reason}" in result.output
    assert env.dump() == before
