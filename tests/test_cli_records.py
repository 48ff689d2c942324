"""The admin's commands on real SQLite and PostgreSQL: a few end-to-end flows through the real
``tenggat`` console script, and a corpus of bad input in-process, each of which must be refused
with a clear message, a non-zero exit status and the database left exactly as it was."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import dump_tables
from sqlalchemy import select

from rules.calendar import WITA
from rules.catalog import Catalog
from scheduler.cli.main import cli
from scheduler.iki.apply import apply_import
from scheduler.iki.document import IkiImport, parse_iki
from scheduler.store.db import Database

TENGGAT = Path(sys.executable).parent / "tenggat"
SEED_TEXT = (
    resources.files("scheduler")
    .joinpath("data/iki_2025_kesbangpol_kukar.txt")
    .read_text(encoding="utf-8")
)
SECRETARY = "197105152000121003"  # SUTRISNO
SECRETARY_SPACED = "19710515 200012 1 003"
KASUBBAG = "197308132007011009"  # MUHAMMAD ARDANI
STAFF = "197201202009021001"  # AHMAD JUNAIDI, Sekretariat, reports to the Kasubbag
KABID = "196905221997031004"  # ZUKIPLI, Bidang Ideologi dan Wawasan Kebangsaan
ANALIS = "197008252000121003"  # H. ABDUL HARIS, his bidang's Analis: carries EPANTAU
EMPLOYEE_KEYS = {"key", "nip", "name", "unit", "superior", "achievement", "rules", "occurrences"}
OCCURRENCE_KEYS = {"rule", "period", "due", "status", "days_late", "value", "submitted_at"}


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    database = Database(url)
    try:
        return dump_tables(database.engine)
    finally:
        database.engine.dispose()


@dataclass
class Env:
    url: str
    cwd: Path

    def run(self, *args: str) -> Result:
        """``tenggat ARGS`` in-process."""
        return CliRunner().invoke(cli, list(args))

    def proc(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``tenggat ARGS`` as a real process: the console script and its exit statuses."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
        environ |= {"TENGGAT_DATABASE_URL": self.url, "COLUMNS": "250"}
        return subprocess.run(
            [str(TENGGAT), *args],
            cwd=self.cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def json(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        return dump(self.url)


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """An empty database and an empty working directory, no TENGGAT_* but the database URL."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "250")
    (tmp_path / "iki.txt").write_text(SEED_TEXT, encoding="utf-8")
    yield Env(database_url, tmp_path)
    import gc

    gc.collect()  # close the pools of the engines the in-process commands left behind


@pytest.fixture(scope="module")
def seed(catalog: Catalog) -> IkiImport:
    return parse_iki(SEED_TEXT, catalog)


@pytest.fixture
def seeded(env: Env, seed: IkiImport) -> Env:
    """The seed imported (as `import-iki` does, without parsing it again for every test)."""
    database = Database(env.url)
    database.migrate()
    with database.write() as session:
        apply_import(session, seed, datetime(2025, 3, 1, 9, tzinfo=WITA))
    database.engine.dispose()
    return env


def people(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {person["key"]: person for person in status["employees"]}


def occurrence(person: dict[str, Any], rule: str, period: str) -> dict[str, Any]:
    (found,) = [o for o in person["occurrences"] if (o["rule"], o["period"]) == (rule, period)]
    return found


# --------------------------------------------------------------------------- end to end


def test_admin_workflow_end_to_end(env: Env, catalog: Catalog) -> None:
    def ok(*args: str) -> str:
        done = env.proc(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    assert "basis data siap" in ok("init")
    imported = ok("import-iki", "iki.txt").splitlines()
    assert imported[0] == "diimpor 59 blok IKI → 58 pegawai: 58 baru, 0 diperbarui, 0 tetap"
    assert imported[1:] and all(re.match(r"  baris \d+: \[review\] ", x) for x in imported[1:])
    assert (
        "  baris 220: [review] blok 5: kecocokan belum pasti (hanya di PENJELASAN): LHKPN"
        in imported
    )
    assert not [x for x in imported if "baris 336:" in x and "atasan" in x]  # settled: no flag
    assert (
        "  baris 1823: [review] blok 59: atasan disimpulkan (IKI tidak menyebut atasan): "
        "SUTRISNO, S.Sos, M.Si (Sekretaris), karena unit tidak diketahui; sementara Sekretaris "
        "sampai unit ditetapkan" in imported
    )
    assert [x for x in imported if "Kepala Badan" in x] == [
        "  baris 14: [review] Kepala Badan tidak ada dalam daftar pegawai: Sekretaris "
        "SUTRISNO, S.Sos, M.Si tidak mempunyai atasan, jadi pemberitahuan untuk atasan "
        "Sekretaris tidak dikirim"
    ]

    listed = json.loads(ok("roster", "list", "--json"))
    assert len(listed) == 58
    assert all(person["rules"] for person in listed)
    by_key = {person["key"]: person for person in listed}
    assert by_key[SECRETARY]["superior"] is None
    assert len(by_key[SECRETARY]["rules"]) == 15
    assert by_key[STAFF]["superior"] == KASUBBAG
    assert all(p["superior"] for p in listed if p["key"] != SECRETARY)

    assert f"SKP 2025: SUTRISNO, S.Sos, M.Si ({SECRETARY})" in ok(
        "submit", SECRETARY_SPACED, "SKP", "2025", "--at", "2025-02-10"
    )
    assert ok("event", "set", "APBD_ADOPTED", "2025", "2024-12-20").strip() == (
        "APBD_ADOPTED 2025: 2024-12-20"
    )
    assert "Cuti besar" in ok("exempt", SECRETARY, "SPT", "2024", "--reason", "Cuti besar")
    assert "telegram=12345 email=a@b.go.id" in ok(
        "contact", SECRETARY, "--telegram", "12345", "--email", "a@b.go.id"
    )
    assert "→ SUTRISNO" in ok("superior", STAFF, SECRETARY)
    # a re-import changes nothing, and keeps the superior set by hand
    assert "0 baru, 0 diperbarui, 58 tetap" in ok("import-iki", "iki.txt")
    again = json.loads(ok("roster", "list", "--json"))
    contact = {p["key"]: (p["telegram_chat_id"], p["email"], p["superior"]) for p in again}
    assert contact[SECRETARY] == ("12345", "a@b.go.id", None)
    assert contact[STAFF] == (None, None, SECRETARY)

    cells = people(json.loads(ok("status", "--as-of", "2025-03-03", "--json")))
    assert all(set(p) == EMPLOYEE_KEYS - {"occurrences"} for p in cells.values())
    assert cells[SECRETARY]["rules"]["SKP"]["status"] == "on_time"  # the cell of each rule
    assert cells[STAFF]["rules"]["PK"] == {
        "rule": "PK", "period": "2025", "due": "2025-01-20", "status": "overdue",
        "days_late": 42, "value": None, "submitted_at": None,
    }  # fmt: skip
    status = json.loads(ok("status", "--as-of", "2025-03-03", "--json", "--occurrences"))
    assert set(status) == {"as_of", "employees"}
    assert status["as_of"] == "2025-03-03T23:59:59+08:00"
    everyone = people(status)
    assert len(everyone) == 58
    assert all(set(p) == EMPLOYEE_KEYS for p in everyone.values())
    assert all(set(o) == OCCURRENCE_KEYS for p in everyone.values() for o in p["occurrences"])
    boss = everyone[SECRETARY]
    skp = occurrence(boss, "SKP", "2025")
    assert (skp["status"], skp["due"]) == ("on_time", "2025-02-28")
    assert datetime.fromisoformat(skp["submitted_at"]) == datetime(
        2025, 2, 10, 12, tzinfo=WITA
    )  # a date alone: midday
    assert occurrence(boss, "SPT", "2024")["status"] == "exempt"
    assert {
        (o["status"], o["days_late"], o["due"])
        for p in everyone.values()
        for o in p["occurrences"]
        if (o["rule"], o["period"]) == ("PK", "2025")
    } == {("overdue", 42, "2025-01-20")}
    assert boss["achievement"]["rules"]["SKP"] == 100.0
    assert boss["achievement"]["rules"]["PK"] == 0.0
    assert 0 < boss["achievement"]["overall"] < 100
    assert everyone[STAFF]["superior"] == SECRETARY
    assert occurrence(everyone[STAFF], "SKP", "2025")["status"] == "overdue"

    table = ok("status", "--as-of", "2025-03-03", "--unit", "sekretariat")
    assert "SUTRISNO" in table and "ZUKIPLI" not in table
    header = next(line for line in table.splitlines() if line.startswith("Nama"))
    # Not a terminal: the table keeps its full width, every code whole, the unit in the title.
    name, *codes, achievement = header.split()
    assert (name, achievement) == ("Nama", "Capaian")
    assert codes == [c for c in catalog.rules if c in codes] and len(codes) >= 14
    assert "— Sekretariat" in table.splitlines()[0]
    one = ok("status", "--as-of", "2025-03-03", "--nip", SECRETARY_SPACED)
    assert "SUTRISNO" in one and "ARDANI" not in one


def test_demo_fills_a_fresh_database_once(env: Env) -> None:
    first = env.proc("demo")
    assert first.returncode == 0, first.stderr
    assert "diimpor 59 blok IKI → 58 pegawai: 58 baru" in first.stdout
    before = env.dump()
    second = env.proc("demo")
    assert second.returncode != 0
    assert "sudah berisi 58 pegawai" in second.stderr
    assert "Traceback" not in second.stderr
    assert env.dump() == before


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("roster", "list"),
        ("submit", SECRETARY, "SKP", "2025"),
        ("event", "set", "APBD_ADOPTED", "2025", "2024-12-20"),
        ("contact", SECRETARY, "--telegram", "1"),
        ("import-iki", "iki.txt"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_uninitialised_database_says_run_init(env: Env, args: tuple[str, ...]) -> None:
    done = env.proc(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "`tenggat init`" in done.stderr
    assert "Traceback" not in done.stderr
    assert env.dump() == {}


# --------------------------------------------------------------------------- in-process


def test_dry_run_on_a_fresh_database_writes_nothing(env: Env) -> None:
    assert env.run("init").exit_code == 0
    before = env.dump()
    result = env.run("--lang", "en", "import-iki", "--dry-run", "iki.txt")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("would import 59 IKI blocks → 58 employees: 58 new")
    assert (
        "  line 220: [review] block 5: uncertain match (PENJELASAN only): LHKPN\n" in result.output
    )
    assert env.dump() == before
    assert env.json("roster", "list", "--json") == []


def test_import_json_reports_people_and_problems(env: Env) -> None:
    assert env.run("init").exit_code == 0
    report = env.json("import-iki", "--json", "iki.txt")
    assert (report["dry_run"], report["blocks"], len(report["employees"])) == (False, 59, 58)
    assert len(report["created"]) == 58
    assert report["problems"] and all(p["line"] > 0 for p in report["problems"])
    first = report["problems"][0]  # said once, at the Sekretaris' block: no Kepala Badan
    assert (first["line"], first["message"]) == (
        14,
        "Kepala Badan tidak ada dalam daftar pegawai: Sekretaris SUTRISNO, S.Sos, M.Si tidak "
        "mempunyai atasan, jadi pemberitahuan untuk atasan Sekretaris tidak dikirim",
    )
    at_220 = [p["message"] for p in report["problems"] if p["line"] == 220]
    assert at_220 == ["blok 5: kecocokan belum pasti (hanya di PENJELASAN): LHKPN"]
    ardani = next(p for p in report["employees"] if p["key"] == KASUBBAG)
    assert ardani["review"] == ["kecocokan belum pasti (hanya di PENJELASAN): LHKPN (L220)"]
    assert ardani["superior"] == SECRETARY


# Read on 3 March: handed in on 7 February and not verified by the 10th is overdue.
@pytest.mark.parametrize(("flags", "expected"), [((), "overdue"), (("--verified",), "on_time")])
def test_epantau_needs_verification(seeded: Env, flags: tuple[str, ...], expected: str) -> None:
    result = seeded.run("submit", KABID, "EPANTAU", "2025-02", "--at", "2025-02-07 14:00", *flags)
    assert result.exit_code == 0, result.output
    everyone = people(seeded.json("status", "--as-of", "2025-03-03", "--json", "--occurrences"))
    # a unit rule: one record serves every carrier of the bidang, and no other unit
    assert occurrence(everyone[KABID], "EPANTAU", "2025-02")["status"] == expected
    assert occurrence(everyone[ANALIS], "EPANTAU", "2025-02")["status"] == expected
    assert occurrence(everyone[SECRETARY], "EPANTAU", "2025-02")["status"] == "overdue"


def test_status_unit_is_case_insensitive(seeded: Env) -> None:
    listed = seeded.json("status", "--as-of", "2025-03-03", "--unit", "SEKRETARIAT", "--json")
    units = {person["unit"] for person in listed["employees"]}
    assert units == {"Sekretariat"}
    assert SECRETARY in people(listed)


def test_status_of_one_employee(seeded: Env) -> None:
    listed = seeded.json("status", "--as-of", "2025-03-03", "--nip", SECRETARY_SPACED, "--json")
    assert list(people(listed)) == [SECRETARY]


def test_superior_dash_removes_the_superior(seeded: Env) -> None:
    result = seeded.run("superior", STAFF, "-")
    assert result.exit_code == 0, result.output
    listed = {p["key"]: p for p in seeded.json("roster", "list", "--json")}
    assert listed[STAFF]["superior"] is None
    seeded.run("import-iki", "iki.txt")  # kept across a re-import: it was set by hand
    assert {p["key"]: p for p in seeded.json("roster", "list", "--json")}[STAFF]["superior"] is None


def test_messages_follow_the_language(seeded: Env) -> None:
    indonesian = seeded.run("submit", "197105152000121004", "SKP", "2025")
    english = seeded.run("--lang", "en", "submit", "197105152000121004", "SKP", "2025")
    assert "tidak ada pegawai dengan NIP '197105152000121004'" in indonesian.output
    assert "maksud Anda" in indonesian.output
    assert "no employee with NIP '197105152000121004'" in english.output
    assert "did you mean" in english.output
    assert SECRETARY in english.output


BAD_FILES = {
    "empty.txt": b"",
    "binary.bin": b"INDIKATOR KINERJA INDIVIDU\x00\x01\x02\xff" * 20,
    "notes.txt": b"Notulen rapat koordinasi\nTenggarong, 3 Maret 2025\n",
}
BAD_INPUT = [
    (("import-iki", "empty.txt"), "teks kosong: diharapkan dokumen IKI"),
    (("import-iki", "binary.bin"), "binary.bin adalah berkas biner, bukan teks IKI"),
    (("--lang", "en", "import-iki", "binary.bin"), "binary.bin is a binary file, not IKI text"),
    (("import-iki", "notes.txt"), "tidak ditemukan blok 'INDIKATOR KINERJA INDIVIDU'"),
    (("import-iki", "missing.txt"), "missing.txt"),
    (("import-iki", "folder"), "folder"),
    (("import-iki", "--dry-run", "notes.txt"), "INDIKATOR KINERJA INDIVIDU"),
    (("submit", "197105152000121004", "SKP", "2025"), "maksud Anda: 197105152000121003"),
    (("submit", "123", "SKP", "2025"), "tenggat roster list"),
    (("submit", SECRETARY, "LHKPM", "2025"), "maksud Anda: LHKPN"),
    (("submit", SECRETARY, "EPANTAU", "2025-13"), "contoh: 2025-02"),
    (("submit", SECRETARY, "EPANTAU", "2025"), "contoh: 2025-02"),
    (("submit", SECRETARY, "SKM_RTL", "2025-S3"), "contoh: 2025-S1"),
    # the year the deadline falls in, typed for the year it reports on
    (
        ("submit", SECRETARY, "SPT", "2025", "--at", "2025-03-15 10:00"),
        "SPT 2025 batas waktunya 31 Maret 2026; maksud Anda SPT 2024?",
    ),
    (
        ("--lang", "en", "submit", SECRETARY, "LHKPN", "2025", "--at", "2025-03-15 10:00"),
        "LHKPN 2025 is due 31 March 2026; did you mean LHKPN 2024?",
    ),
    (
        ("submit", SECRETARY, "SHS", "2027", "--at", "2025-04-10"),
        "SHS 2027 batas waktunya 30 April 2026; maksud Anda SHS 2026?",
    ),
    (
        ("submit", SECRETARY, "SKP", "2025", "--at", "2025-02-30"),
        "tidak ada tanggal 30 pada bulan 02",
    ),
    (("submit", SECRETARY, "SKP", "2025", "--at", "kemarin"), "--at"),
    (("submit", SECRETARY, "SKP", "2025", "--at", "31/02/2025 09.00"), "tidak ada tanggal 31"),
    (("submit", SECRETARY, "SKP", "2025", "--at", "02/20/2025"), "maksud Anda 20/02/2025?"),
    (("submit", SECRETARY, "SKP", "2025", "--at", "2025-02-20 25.00"), "jam itu tidak ada"),
    (("event", "set", "APBD", "2025", "2024-12-20"), "maksud Anda: APBD_ADOPTED"),
    (("event", "set", "APBD_ADOPTED", "25", "2024-12-20"), "'25'"),
    (("event", "set", "APBD_ADOPTED", "2025", "12/20/2024"), "maksud Anda 20/12/2024?"),
    (("event", "set", "APBD_ADOPTED", "2025", "2024-12-20 09:00"), "tidak terbaca sebagai tanggal"),
    (("exempt", SECRETARY, "LHKPM", "2025", "--reason", "Cuti"), "LHKPN"),
    (("exempt", SECRETARY, "SPT", "2025"), "--reason"),
    (("exempt", "197105152000121004", "SPT", "2025", "--reason", "Cuti"), "maksud Anda"),
    (("contact", SECRETARY, "--telegram", "abc"), "--telegram: id chat Telegram berupa angka"),
    (("contact", SECRETARY, "--email", "a.b.go.id"), "'a.b.go.id' bukan alamat e-mail"),
    (("contact", "123", "--telegram", "12345"), "tidak ada pegawai"),
    (("superior", KASUBBAG, STAFF), "berputar"),
    (("superior", STAFF, STAFF), "berputar"),
    (("superior", STAFF, "197105152000121004"), "maksud Anda"),
    (("status", "--unit", "Sekretarit"), "maksud Anda: Sekretariat"),
    (("status", "--unit", "xyz"), "unit 'xyz' tidak dikenal; unit yang ada: Bidang "),
    (("status", "--nip", "197105152000121004"), "maksud Anda"),
    (("status", "--nip", "123"), "tidak ada pegawai"),
    (("status", "--as-of", "3 Maret"), "--as-of"),
    (("status", "--as-of", "2025-13-01"), "tidak ada bulan 13"),
    (("status", "--as-of", "31/02/2025"), "tidak ada tanggal 31 pada bulan 02 tahun 2025"),
    (("status", "--as-of", "02/20/2025"), "tanggal ditulis tanggal/bulan/tahun"),
    (("submissions", "list", "--nip", "197105152000121004"), "maksud Anda"),
    (("submissions", "list", "--rule", "LHKPM"), "maksud Anda: LHKPN"),
    (("submissions", "list", "--rule", "EPANTAU", "--period", "2025"), "contoh: 2025-02"),
]


@pytest.mark.parametrize(
    ("args", "expected"), BAD_INPUT, ids=[" ".join(a[:3]) for a, _ in BAD_INPUT]
)
def test_bad_input_is_refused_and_changes_nothing(
    seeded: Env, args: tuple[str, ...], expected: str
) -> None:
    for name, data in BAD_FILES.items():
        (seeded.cwd / name).write_bytes(data)
    (seeded.cwd / "folder").mkdir()
    before = seeded.dump()
    result = seeded.run(*args)
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no crash
    assert "Traceback" not in result.output
    assert result.output.count("Kesalahan: ") + result.output.count("Error: ") == 1
    assert expected in result.output
    assert seeded.dump() == before


def test_overlong_email_is_refused_cleanly(seeded: Env) -> None:
    """Over the 254-character column: SQLite stored it, PostgreSQL crashed with a DataError
    traceback, until 94a2666."""
    before = seeded.dump()
    done = seeded.proc("contact", SECRETARY, "--email", "a" * 300 + "@b.go.id")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "--email" in done.stderr
    assert seeded.dump() == before


def test_contact_can_be_cleared(seeded: Env) -> None:
    """An empty value clears (the validation refused "" until 94a2666)."""
    set_both = seeded.run("contact", SECRETARY, "--telegram", "12345", "--email", "a@b.go.id")
    assert set_both.exit_code == 0, set_both.output
    result = seeded.run("contact", SECRETARY, "--telegram", "", "--email", "")
    assert result.exit_code == 0, result.output
    listed = {p["key"]: p for p in seeded.json("roster", "list", "--json")}
    assert (listed[SECRETARY]["telegram_chat_id"], listed[SECRETARY]["email"]) == (None, None)


def test_submit_for_an_employee_with_a_provisional_key(seeded: Env) -> None:
    """TMP- keys are lower-case hex; find_employee upper-cased them until 46de75e."""
    key = next(p["key"] for p in seeded.json("roster", "list", "--json") if p["key"][:4] == "TMP-")
    result = seeded.run("submit", key.upper(), "SKP", "2025", "--at", "2025-02-10")
    assert result.exit_code == 0, result.output
    assert f"({key})" in result.output


def test_the_history_keeps_every_record_and_marks_the_replaced(seeded: Env) -> None:
    """A correction is a new row: both stay, newest first, the older one marked replaced."""
    for at, evidence in (("2025-02-20", "BKN e-Kinerja"), ("2025-02-21", "koreksi")):
        done = seeded.run("submit", STAFF, "SKP", "2025", "--at", at, "--evidence", evidence)
        assert done.exit_code == 0, done.output
    assert seeded.run("submit", SECRETARY, "SIRUP", "2025", "--at", "2025-02-27").exit_code == 0
    mine = seeded.json("submissions", "list", "--nip", STAFF, "--json")
    assert [(r["rule"], r["evidence"], r["current"]) for r in mine] == [
        ("SKP", "koreksi", True),
        ("SKP", "BKN e-Kinerja", False),
    ]
    assert {r["key"] for r in mine} == {STAFF} and mine[0]["source"] == "cli"
    (sirup,) = seeded.json("submissions", "list", "--rule", "sirup", "--json")
    assert (sirup["key"], sirup["period"], sirup["current"]) == (SECRETARY, "2025", True)
    assert len(seeded.json("submissions", "list", "--limit", "2", "--json")) == 2
    assert seeded.json("submissions", "list", "--rule", "SKP", "--period", "2024", "--json") == []
    table = seeded.run("submissions", "list", "--nip", STAFF).output
    assert "Riwayat laporan (2)" in table and "diganti" in table and "koreksi" in table
    events = seeded.run("event", "list")
    assert events.exit_code == 0 and "Peristiwa (0)" in events.output
    assert seeded.run("event", "set", "APBD_ADOPTED", "2025", "2024-12-20").exit_code == 0
    (adopted,) = seeded.json("event", "list", "--json")
    assert (adopted["code"], adopted["key"], adopted["day"]) == (
        "APBD_ADOPTED",
        "2025",
        "2024-12-20",
    )
    assert "Jumat, 20 Desember 2024" in seeded.run("event", "list").output


@pytest.mark.parametrize(
    ("rule", "period", "at", "due"),
    [
        ("SPT", "2024", "2025-03-15 10:00", "2025-03-31"),  # tax year 2024, as DJP names it
        ("LHKPN", "2024", "2025-04-10 10:00", "2025-04-11"),  # KPK's decree moved it
        ("SKP", "2025", "2025-02-20 10:00", "2025-02-28"),  # the 2025 plan: no lag
    ],
)
def test_a_submission_for_the_period_the_agency_names_is_on_time(
    seeded: Env, rule: str, period: str, at: str, due: str
) -> None:
    done = seeded.run("submit", SECRETARY, rule, period, "--at", at)
    assert done.exit_code == 0, done.output
    status = seeded.json("status", "--as-of", "2025-05-01", "--json", "--occurrences")
    found = occurrence(people(status)[SECRETARY], rule, period)
    assert (found["due"], found["status"]) == (due, "on_time")


def test_submit_at_today_is_never_later_than_now(seeded: Env) -> None:
    """A date alone means midday, as in the submissions sheet, but never a time to come."""
    today = datetime.now(WITA).date().isoformat()
    before = datetime.now(WITA)
    assert seeded.run("submit", STAFF, "SKP", "2025", "--at", today).exit_code == 0
    (row,) = seeded.json("submissions", "list", "--nip", STAFF, "--json")
    at = datetime.fromisoformat(row["submitted_at"]).astimezone(WITA)
    noon = before.replace(hour=12, minute=0, second=0, microsecond=0)
    assert before <= at <= datetime.now(WITA) if before < noon else at == noon


def test_event_set_usage_names_the_day() -> None:
    result = CliRunner().invoke(
        cli, ["--lang", "en", "event", "set", "--help"], prog_name="tenggat"
    )
    assert result.output.startswith("Usage: tenggat event set [OPTIONS] CODE KEY DAY")


def test_a_provisional_person_named_in_the_sheet_survives_a_re_import(seeded: Env) -> None:
    """The review loop: an admin gives a TMP- person their NIP in the roster sheet; importing
    the IKI again must neither recreate the provisional person nor wipe the NIP."""
    roster = {p["key"]: p for p in seeded.json("roster", "list", "--json")}
    tmp_key = sorted(key for key in roster if key.startswith("TMP-"))[0]
    sheet = seeded.cwd / "roster.csv"
    assert seeded.run("roster", "export", str(sheet)).exit_code == 0
    nip = "199001012020121001"
    lines = sheet.read_text(encoding="utf-8-sig").splitlines()
    fixed = [line.replace(f"{tmp_key};;", f"{tmp_key};{nip};", 1) for line in lines]
    assert fixed != lines
    sheet.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    result = seeded.run("roster", "import", str(sheet))
    assert result.exit_code == 0, result.output
    again = seeded.run("import-iki", str(seeded.cwd / "iki.txt"))
    assert again.exit_code == 0, again.output
    after = {p["key"]: p for p in seeded.json("roster", "list", "--json")}
    assert len(after) == 58
    assert tmp_key not in after
    assert after[nip]["name"] == roster[tmp_key]["name"]
    assert after[nip]["rules"] == roster[tmp_key]["rules"]


# --------------------------------------------------------------------------- field lengths

RUN_TOGETHER = "PENGOLAH DATA " * 400  # OCR that lost the line breaks: 5,600 characters


@pytest.mark.parametrize(
    ("old", "new", "field", "limit"),
    [
        ("AHMAD JUNAIDI, S.Sos", "AHMAD JUNAIDI " + RUN_TOGETHER, "name", 200),
        (
            "Pengolah Data dan Informasi",  # the JABATAN and the signature alike
            RUN_TOGETHER,
            "position",
            300,
        ),
    ],
)
def test_an_overlong_iki_value_is_refused_with_its_line(
    env: Env, old: str, new: str, field: str, limit: int
) -> None:
    """A 5,000-character name: SQLite stored it, PostgreSQL failed with a
    StringDataRightTruncation traceback."""
    assert SEED_TEXT.count(old) >= 1
    (env.cwd / "long.txt").write_text(SEED_TEXT.replace(old, new), encoding="utf-8")
    assert env.run("init").exit_code == 0
    before = env.dump()
    result = env.run("--lang", "en", "import-iki", "long.txt")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    found = re.search(rf"line (\d+): {field}: (\d+) characters, at most {limit}: “", result.output)
    assert found is not None, result.output
    assert int(found.group(2)) > 5000 and len(result.output) < 300
    assert env.dump() == before


def test_no_write_stores_a_text_longer_than_its_column(seeded: Env) -> None:
    """The last line of defence, for every path (the bot, the service, future commands):
    SQLite and PostgreSQL both refuse, with the field and its limit, before any SQL."""
    from scheduler.store import models
    from scheduler.store.records import RecordError

    database = Database(seeded.url)
    before = seeded.dump()
    try:
        for table, field, value in [
            (models.Unit, "name", "U" * 201),
            (models.Employee, "telegram_chat_id", "9" * 33),
            (models.Employee, "name", "N" * 5000),
        ]:
            with pytest.raises(RecordError) as refused, database.write() as session:
                row = session.scalars(select(table).order_by(table.id)).first()
                setattr(row, field, value)
            assert refused.value.text("en").startswith(f"{field}: {len(value)} characters, at most")
        assert seeded.dump() == before
    finally:
        database.engine.dispose()


def test_an_overlong_user_name_is_refused_cleanly(
    seeded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who records comes from the environment (LOGNAME) into a 100-character column."""
    monkeypatch.setenv("LOGNAME", "admin" * 40)
    before = seeded.dump()
    result = seeded.run("--lang", "en", "submit", SECRETARY, "SKP", "2025")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "recorded_by: 204 characters, at most 100: “cli:adminadmin" in result.output
    assert seeded.dump() == before


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (["submit", SECRETARY, "SKP", "2025", "--evidence"], "evidence"),
        (["exempt", SECRETARY, "SKP", "2025", "--reason"], "reason"),
    ],
)
def test_free_text_is_bounded_on_input(seeded: Env, command: list[str], field: str) -> None:
    """Evidence and reasons are TEXT in the schema, yet a note of megabytes is a mistake."""
    before = seeded.dump()
    result = seeded.run("--lang", "en", *command, "x" * 2001)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{field}: 2001 characters, at most 2000: “xxx" in result.output
    assert "SKP 2025:" not in result.output  # no line of success before the refusal
    assert seeded.dump() == before
    assert seeded.run(*command, "x" * 2000).exit_code == 0


# --------------------------------------------------------------------------- measured values

BAD_VALUES = [
    (
        ("SERAPAN", "2025-02", "--value", "delapan puluh"),
        "nilai 'delapan puluh' bukan angka",
        "'delapan puluh' is not a number",
    ),
    (("SERAPAN", "2025-02", "--value", "nan"), "'nan' bukan angka", "'nan' is not a number"),
    (("SERAPAN", "2025-02", "--value", "-3"), "tidak boleh negatif: -3", "cannot be negative: -3"),
    (("SERAPAN", "2025-02", "--value", "1200"), "melebihi batas 1000", "above the limit of 1000"),
    (("SKP", "2025", "--value", "80"), "SKP adalah kewajiban penyampaian dokumen", "SKP is a doc"),
    (("SERAPAN", "2025-02"), "SERAPAN diisi dengan nilai (%)", "SERAPAN is recorded as a value"),
]


@pytest.mark.parametrize(("args", "indonesian", "english"), BAD_VALUES)
def test_a_bad_value_is_refused_in_both_languages_and_changes_nothing(
    seeded: Env, args: tuple[str, ...], indonesian: str, english: str
) -> None:
    before = seeded.dump()
    for language, expected in (("id", indonesian), ("en", english)):
        result = seeded.run("--lang", language, "submit", SECRETARY, *args)
        assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
        assert expected in result.output
    assert seeded.dump() == before


@pytest.mark.parametrize(
    ("given", "stored", "said"),
    [("87,5", 87.5, "= 87,5%"), ("92.25%", 92.25, "= 92,25%"), ("0", 0.0, "= 0%")],
)
def test_a_measure_is_recorded_with_its_value(
    seeded: Env, given: str, stored: float, said: str
) -> None:
    before = seeded.json("status", "--as-of", "2025-03-03", "--json", "--nip", SECRETARY)
    overall = before["employees"][0]["achievement"]["overall"]
    result = seeded.run("submit", SECRETARY, "serapan", "2025-02", "--value", given)
    assert result.exit_code == 0, result.output
    assert said in result.output
    (row,) = [r for r in seeded.dump()["submissions"] if "SERAPAN" in r]
    assert stored in row
    (listed,) = seeded.json("submissions", "list", "--rule", "SERAPAN", "--json")
    assert listed["value"] == stored
    table = seeded.run("submissions", "list", "--rule", "SERAPAN").output
    assert "Nilai" in table and said.removeprefix("= ") in table
    status = seeded.json(
        "status", "--as-of", "2025-03-03", "--json", "--nip", SECRETARY, "--occurrences"
    )
    (boss,) = status["employees"]
    (cell,) = [o for o in boss["occurrences"] if (o["rule"], o["period"]) == ("SERAPAN", "2025-02")]
    assert (cell["value"], cell["status"]) == (stored, "met" if stored >= 100 else "below")
    assert boss["rules"]["SERAPAN"]["value"] is None  # the cell: January's, still missing
    # a measure keeps its own percentage (months met) and stays out of the on-time one
    assert boss["achievement"]["rules"]["SERAPAN"] == (50.0 if stored >= 100 else 0.0)
    assert boss["achievement"]["overall"] == overall


# Handed in on 7 February, due on the 10th (WITA); `verify --at` in each accepted form.
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("10/02/2025", ("on_time", None)),  # a date alone: by the end of that day
        ("2025-02-10 23:59", ("on_time", None)),
        ("11/02/2025 08.00 WITA", ("late", 1)),
        ("2025-02-11T00:00:00+08:00", ("late", 1)),  # the deadline itself is too late
        ("2025-02-14T02:00:00Z", ("late", 4)),  # 10:00 WITA on the 14th
    ],
)
def test_verify_at_decides_on_time(seeded: Env, at: str, expected: tuple[str, int | None]) -> None:
    # the Analis inputs his bidang's e-Pantau; the Kepala Bidang verifies it with his own NIP
    result = seeded.run("submit", ANALIS, "EPANTAU", "2025-02", "--at", "2025-02-07 14:00")
    assert result.exit_code == 0, result.output
    result = seeded.run("verify", KABID, "EPANTAU", "2025-02", "--at", at)
    assert result.exit_code == 0, result.output
    assert "H. ABDUL HARIS, S.Sos" in result.output.splitlines()[0]  # whose record it is
    everyone = people(seeded.json("status", "--as-of", "2025-03-03", "--json", "--occurrences"))
    for carrier in (KABID, ANALIS):
        found = occurrence(everyone[carrier], "EPANTAU", "2025-02")
        assert (found["status"], found["days_late"]) == expected
    said = result.output.splitlines()[1]  # what the verification made of it, as status says
    late = expected[1]
    assert said.startswith(f"Disampaikan terlambat {late} hari" if late else "Tepat waktu")


def test_verify_before_the_submission_is_refused(seeded: Env) -> None:
    seeded.run("submit", KABID, "EPANTAU", "2025-02", "--at", "2025-02-07 14:00")
    result = seeded.run("verify", KABID, "EPANTAU", "2025-02", "--at", "06/02/2025")
    assert result.exit_code == 1
    assert "verifikasinya tidak bisa lebih awal" in result.output


def test_verify_finds_no_record_of_another_unit(seeded: Env) -> None:
    seeded.run("submit", ANALIS, "EPANTAU", "2025-02", "--at", "2025-02-07 14:00")
    # the Sekretaris's own unit has handed in nothing: the bidang's record is not theirs
    result = seeded.run("verify", SECRETARY, "EPANTAU", "2025-02")
    assert result.exit_code == 1
    assert f"{SECRETARY} belum punya laporan EPANTAU 2025-02" in result.output
    listed = seeded.json("submissions", "list", "--rule", "EPANTAU", "--json")
    assert [row["verified_at"] for row in listed] == [None]  # nothing written


@pytest.mark.parametrize(
    ("again", "evidence", "rows", "said"),
    [
        # without evidence: the earlier evidence is carried over, and said so
        (("--at", "2025-02-21"), "BA-1", 2, "Bukti sebelumnya tetap dipakai: BA-1"),
        # --replace: replaced, even with none
        (("--at", "2025-02-21", "--replace"), "", 2, None),
        (("--at", "2025-02-21", "--evidence", "BA-2"), "BA-2", 2, None),
        # the same record again: nothing new written
        (("--at", "2025-02-20"), "BA-1", 1, "Sudah tercatat persis sama; tidak dicatat lagi."),
        (("--at", "2025-02-20", "--evidence", "BA-1"), "BA-1", 1, "tidak dicatat lagi"),
    ],
)
def test_a_repeated_submission_keeps_the_evidence_it_does_not_replace(
    seeded: Env, again: tuple[str, ...], evidence: str, rows: int, said: str | None
) -> None:
    first = ("submit", STAFF, "SKP", "2025", "--at", "2025-02-20", "--evidence", "BA-1")
    assert seeded.run(*first).exit_code == 0
    result = seeded.run("submit", STAFF, "SKP", "2025", *again)
    assert result.exit_code == 0, result.output
    mine = seeded.json("submissions", "list", "--nip", STAFF, "--json")
    assert (mine[0]["evidence"], mine[0]["current"], len(mine)) == (evidence, True, rows)
    if said is None:
        assert "Bukti sebelumnya" not in result.output and "dicatat lagi" not in result.output
    else:
        assert said in result.output


@pytest.mark.parametrize(
    ("language", "args", "said"),
    [
        (
            "id",
            (STAFF, "SKP", "2025", "--at", "2025-02-10"),
            "Tepat waktu (batas waktu Jumat, 28 Februari 2025)",
        ),
        (
            "id",
            (STAFF, "SKP", "2025", "--at", "2025-03-03 09:00"),
            "Disampaikan terlambat 3 hari (batas waktu Jumat, 28 Februari 2025)",
        ),
        (
            "id",
            (KABID, "EPANTAU", "2025-02", "--at", "2025-02-07 14:00"),
            "Diinput sebelum batas waktu Senin, 10 Februari 2025: tepat waktu bila diverifikasi "
            "atasan paling lambat hari itu",
        ),
        (
            "id",
            (KABID, "EPANTAU", "2025-02", "--at", "2025-02-12 14:00", "--verified"),
            "Disampaikan terlambat 2 hari (batas waktu Senin, 10 Februari 2025)",
        ),
        (
            "id",
            (SECRETARY, "PK", "2026", "--at", "2025-02-07"),
            "Batas waktu belum diketahui; menunggu penetapan APBD",
        ),
        (
            "en",
            (STAFF, "SKP", "2025", "--at", "2025-02-10"),
            "On time (deadline Friday, 28 February 2025)",
        ),
        (
            "en",
            (STAFF, "SKP", "2025", "--at", "2025-03-03 09:00"),
            "Submitted 3 day(s) late (deadline Friday, 28 February 2025)",
        ),
        (
            "en",
            (KABID, "EPANTAU", "2025-02", "--at", "2025-02-07 14:00"),
            "Entered before the deadline, Monday, 10 February 2025: on time if the superior "
            "verifies it by that day",
        ),
    ],
)
def test_the_confirmation_says_what_the_record_means(
    seeded: Env, language: str, args: tuple[str, ...], said: str
) -> None:
    result = seeded.run("--lang", language, "submit", *args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == said


@pytest.mark.parametrize(("again", "rows"), [("87,5", 1), ("91", 2)])
def test_a_new_value_at_the_same_moment_is_a_new_record(seeded: Env, again: str, rows: int) -> None:
    first = ("submit", SECRETARY, "SERAPAN", "2025-02", "--at", "2025-03-01", "--value")
    assert seeded.run(*first, "87,5").exit_code == 0
    result = seeded.run(*first, again)
    assert result.exit_code == 0, result.output
    listed = seeded.json("submissions", "list", "--rule", "SERAPAN", "--json")
    assert (len(listed), listed[0]["value"]) == (rows, float(again.replace(",", ".")))
    assert ("tidak dicatat lagi" in result.output) == (rows == 1)
