"""``tenggat rules list`` and ``tenggat rules due``, in-process and once as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from freezegun import freeze_time

from scheduler.cli.main import cli

Invoke = Callable[..., Result]
CODES = [
    "SKP", "SPT", "LHKPN", "EPANTAU", "P3DN", "SKM_RTL", "LKJP", "LKSKPD",
    "SIRUP", "SHS", "SPP", "PK", "MR", "RKBM", "SERAPAN",
]  # fmt: skip


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``tenggat ARGS`` in an empty directory, without any TENGGAT_* variable."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps long dates in narrower tables

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return run


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_code(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in listed}


def test_rules_list_json(invoke: Invoke) -> None:
    listed = as_json(invoke("rules", "list", "--json", "--as-of", "2025-02-01"))
    assert [row["code"] for row in listed] == CODES
    rows = by_code(listed)
    assert (rows["SKP"]["next_due"], rows["SKP"]["next_period"]) == ("2025-02-28", "2025")
    assert rows["LKSKPD"]["next_due"] == "2026-01-26"  # 24 Jan 2025 has passed; 2026: a Saturday
    assert rows["LHKPN"]["next_due"] == "2025-04-11"
    assert "KPK" in rows["LHKPN"]["next_note"]
    assert rows["EPANTAU"]["next_due"] == "2025-02-10"
    assert rows["PK"]["next_due"] is None
    assert "penetapan APBD" in rows["PK"]["next_note"]  # words for people, the code for machines
    assert rows["PK"]["waiting_for"] == "APBD_ADOPTED"
    assert (rows["RKBM"]["next_due"], rows["RKBM"]["next_note"]) == (None, "")
    assert rows["SKP"]["recurrence"] == "setiap tahun, akhir Februari"


def test_rules_list_with_config_file(invoke: Invoke, tmp_path: Path) -> None:
    config = tmp_path / "kukar.toml"
    config.write_text(
        '[service]\nlanguage = "en"\n\n'
        '[rules.RKBM]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14"\n\n'
        "[rules.P3DN]\nenabled = false\n\n"
        "[rules.SERAPAN]\ntarget = 90\n",
        encoding="utf-8",
    )
    rows = by_code(
        as_json(invoke("--config", str(config), "rules", "list", "--json", "--as-of", "2025-02-01"))
    )
    assert rows["RKBM"]["next_due"] == "2025-03-14"
    assert rows["P3DN"]["enabled"] is False
    assert (rows["SERAPAN"]["kind"], rows["SERAPAN"]["target"]) == ("measure", 90)
    assert (rows["SKP"]["kind"], rows["SKP"]["target"]) == ("submission", None)
    assert rows["PK"]["next_note"] == "waiting for APBD adoption"  # language from the file


def test_config_toml_in_working_directory_is_used(invoke: Invoke, tmp_path: Path) -> None:
    """Why the fixture changes directory: a ./config.toml is read without --config."""
    args = ("rules", "list", "--json", "--as-of", "2025-02-01")
    assert by_code(as_json(invoke(*args)))["RKBM"]["next_due"] is None
    (tmp_path / "config.toml").write_text(
        '[rules.RKBM]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14"\n', encoding="utf-8"
    )
    assert by_code(as_json(invoke(*args)))["RKBM"]["next_due"] == "2025-03-14"


def test_rules_due_lhkpn_override(invoke: Invoke) -> None:
    shown = as_json(
        invoke("rules", "due", "LHKPN", "--from", "2025-01-01", "--to", "2025-12-31", "--json")
    )
    assert shown["rule"] == "LHKPN"
    (occ,) = shown["occurrences"]
    # reporting year 2024, as KPK names it, due in 2025
    assert (occ["period"], occ["due"], occ["nominal"]) == ("2024", "2025-04-11", "2025-03-31")
    assert occ["adjustment"] == "override"
    assert occ["reason"].startswith("diubah oleh keputusan: KPK")
    assert shown["warnings"] == []


def test_rules_due_spt_seven_years(invoke: Invoke) -> None:
    shown = as_json(
        invoke("rules", "due", "spt", "--from", "2024-01-01", "--to", "2030-12-31", "--json")
    )
    assert shown["rule"] == "SPT"
    assert [(o["period"], o["due"]) for o in shown["occurrences"]] == [
        (str(y - 1), f"{y}-03-31")
        for y in range(2024, 2031)  # tax year Y-1, due in Y
    ]
    assert all(o["adjustment"] is None for o in shown["occurrences"])  # never shifted
    reasons = {o["due"][:4]: o["reason"] for o in shown["occurrences"]}
    assert reasons["2030"] == ""  # 31 March 2030 is a Sunday, and stays the due day
    assert "Hari Raya Idul Fitri (31 Maret)" in reasons["2025"]  # the reminders come earlier
    assert any("2030" in w and "cuti bersama" in w for w in shown["warnings"])


def test_rules_due_pk_waiting(invoke: Invoke) -> None:
    shown = as_json(
        invoke("rules", "due", "PK", "--from", "2025-01-01", "--to", "2026-12-31", "--json")
    )
    assert [(o["period"], o["due"], o["reason"]) for o in shown["occurrences"]] == [
        ("2025", None, "menunggu penetapan APBD"),
        ("2026", None, "menunggu penetapan APBD"),
    ]


def due(invoke: Invoke, code: str, start: str, end: str) -> dict[str, Any]:
    return as_json(invoke("rules", "due", code, "--from", start, "--to", end, "--json"))


@pytest.mark.parametrize(
    ("code", "period", "due_day", "first_reminder", "days_off"),
    [
        # Filed online: the due day stays; the ladder's H-7 counts back over Nyepi and Lebaran.
        ("SPT", "2024", "2025-03-31", "2025-03-18", ["2025-03-28", "2025-03-29", "2025-03-31"]),
        ("SPT", "2029", "2030-03-31", "2030-03-20", []),  # a Sunday: still the due day
        ("SKP", "2025", "2025-02-28", "2025-02-19", []),
        # A document handed to an office: a Saturday's due day moves to the next working
        # day, past Isra Mi'raj and Imlek: Thursday ...
        ("P3DN", "2025-01", "2025-01-30", "2025-01-22", ["2025-01-27", "2025-01-28", "2025-01-29"]),
        # ... and Christmas with its cuti bersama to the Monday after.
        ("P3DN", "2025-12", "2025-12-29", "2025-12-22", ["2025-12-25", "2025-12-26"]),
        # The end of March 2025 was Idul Fitri: the quarter's MR waits for the office to open.
        ("MR", "2025-Q1", "2025-04-08", "2025-03-19", None),
    ],
)
def test_rules_due_holiday_policy_and_first_reminder(
    invoke: Invoke,
    code: str,
    period: str,
    due_day: str,
    first_reminder: str,
    days_off: list[str] | None,
) -> None:
    year = due_day[:4]  # the year it is due in: SPT 2024 is due in 2025
    shown = due(invoke, code, f"{year}-01-01", f"{int(year) + 1}-01-31")
    (occ,) = [o for o in shown["occurrences"] if o["period"] == period]
    assert (occ["due"], occ["first_reminder"]) == (due_day, first_reminder)
    if days_off is not None:
        assert [d["day"] for d in occ["days_off"]] == days_off
    assert shown["holiday_policy"] in ("fixed", "next_working_day")
    assert shown["holiday_basis"]  # every bundled rule says why


def test_rules_due_says_the_policy_and_why_a_reminder_moved(invoke: Invoke) -> None:
    result = invoke("rules", "due", "MR", "--from", "2025-01-01", "--to", "2025-06-30")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "dimundurkan ke hari kerja berikutnya (Hari Raya Idul Fitri)" in text
    assert "Cuti Bersama Hari Raya Idul Fitri (2, 3, 4 dan 7 April)" in text
    assert "Batas waktu pada hari libur dimundurkan ke hari kerja berikutnya: dokumen" in text
    english = invoke(
        "--lang", "en", "rules", "due", "SPT", "--from", "2025-01-01", "--to", "2025-12-31"
    )
    text = " ".join(english.stdout.split())
    assert "A due date on a day off stays on that day: UU KUP" in text
    assert "reminders earlier for the days off:" in text


def test_a_config_file_changes_a_holiday_policy(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[rules.P3DN]\nholiday_policy = "previous_working_day"\n')
    shown = due(invoke, "P3DN", "2025-01-01", "2025-01-31")
    (occ,) = shown["occurrences"]
    assert (occ["due"], occ["adjustment"]) == ("2025-01-24", "previous_working_day")


def test_rules_list_and_due_read_recorded_events(
    invoke: Invoke, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database_url)
    assert invoke("init").exit_code == 0
    assert invoke("event", "set", "APBD_ADOPTED", "2025", "2024-12-20").exit_code == 0
    listed = by_code(as_json(invoke("rules", "list", "--json", "--as-of", "2025-01-05")))
    assert (listed["PK"]["next_due"], listed["PK"]["waiting_for"]) == ("2025-01-20", None)
    shown = due(invoke, "PK", "2025-01-01", "2026-12-31")
    assert [(o["period"], o["due"]) for o in shown["occurrences"]] == [
        ("2025", "2025-01-20"),
        ("2026", None),  # the APBD 2026 is not adopted yet: nothing guessed
    ]


def test_rules_list_without_a_database_says_why_pk_waits(invoke: Invoke) -> None:
    result = invoke("rules", "list", "--json", "--as-of", "2025-01-05")
    assert by_code(as_json(result))["PK"]["waiting_for"] == "APBD_ADOPTED"
    assert "penetapan APBD" in result.stderr and "tenggat init" in result.stderr


def test_table_wording_follows_language(invoke: Invoke) -> None:
    indonesian = invoke("rules", "list", "--as-of", "2025-02-01")
    english = invoke("--lang", "en", "rules", "list", "--as-of", "2025-02-01")
    assert indonesian.exit_code == english.exit_code == 0
    for text in (
        "Katalog kewajiban",
        "Batas waktu berikutnya",
        "Jumat, 28 Februari 2025",
        "setiap tahun, akhir Februari",
        "menunggu penetapan APBD",
        "setempat",
        "belum dipastikan",
    ):
        assert text in indonesian.stdout and text not in english.stdout
    for text in (
        "Tenggat rule catalog",
        "Next due",
        "Friday, 28 February 2025",
        "every year, end of February",
        "waiting for APBD adoption",
    ):
        assert text in english.stdout and text not in indonesian.stdout


def test_rules_due_table(invoke: Invoke) -> None:
    result = invoke("rules", "due", "LHKPN", "--from", "2025-01-01", "--to", "2026-12-31")
    assert result.exit_code == 0, result.output
    assert "Jumat, 11 April 2025" in result.stdout
    assert "Selasa, 31 Maret 2026" in result.stdout
    assert "diubah oleh keputusan" in result.stdout
    english = invoke(
        "--lang", "en", "rules", "due", "LHKPN", "--from", "2025-01-01", "--to", "2025-12-31"
    )
    assert "Friday, 11 April 2025" in english.stdout
    assert "moved by decree" in english.stdout


def test_rules_due_unscheduled_rule_explains_itself(invoke: Invoke) -> None:
    result = invoke("rules", "due", "RKBM", "--from", "2025-01-01", "--to", "2025-12-31")
    assert result.exit_code == 0, result.output
    assert "tanggal belum ditetapkan: atur [rules.RKBM] rrule di config.toml" in result.stdout


def test_rules_due_title_keeps_brackets(invoke: Invoke) -> None:
    result = invoke("rules", "due", "RKBM", "--from", "2025-01-01", "--to", "2025-12-31")
    title = result.stdout.split("┏")[0]  # what rich prints above the table
    assert "[rules.RKBM]" in title


def test_unknown_code_suggests_closest(invoke: Invoke) -> None:
    result = invoke("rules", "due", "LHKPM", "--from", "2025-01-01", "--to", "2025-12-31")
    assert result.exit_code == 2
    assert "did you mean LHKPN" in result.stderr


def test_to_before_from_is_refused(invoke: Invoke) -> None:
    result = invoke("rules", "due", "SPT", "--from", "2025-12-31", "--to", "2025-01-01")
    assert result.exit_code == 2
    assert "Nilai tidak sah untuk --to: --to sebelum --from" in result.stderr
    assert result.stdout == ""
    english = invoke(
        "--lang", "en", "rules", "due", "SPT", "--from", "2025-12-31", "--to", "2025-01-01"
    )
    assert "Invalid value for --to: --to is before --from" in english.stderr


@pytest.mark.parametrize("bad", ["2025-02-30", "31/02/2025", "02/20/2025", "tomorrow"])
def test_malformed_date_is_refused(invoke: Invoke, bad: str) -> None:
    result = invoke("rules", "list", "--as-of", bad)
    assert result.exit_code == 2
    assert "--as-of" in result.stderr


def test_rules_list_counts_from_today_in_wita(invoke: Invoke) -> None:
    with freeze_time("2025-02-20 09:00:00+08:00"):
        rows = by_code(as_json(invoke("rules", "list", "--json")))
        table = invoke("rules", "list")
    assert rows["SKP"]["next_due"] == "2025-02-28"
    assert rows["EPANTAU"]["next_due"] == "2025-03-10"
    assert "Jumat, 28 Februari 2025" in table.stdout


def test_today_turns_at_midnight_wita_not_utc(invoke: Invoke) -> None:
    with freeze_time("2025-02-28 16:30:00+00:00"):  # 00:30 on 1 March in WITA
        rows = by_code(as_json(invoke("rules", "list", "--json")))
    assert rows["SKP"]["next_due"] == "2026-02-28"
    assert rows["SERAPAN"]["next_due"] == "2025-03-31"


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tenggat"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    args = ["rules", "due", "SKP", "--from", "2028-01-01", "--to", "2028-12-31", "--json"]
    done = subprocess.run(
        [script, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [o["due"] for o in json.loads(done.stdout)["occurrences"]] == ["2028-02-29"]
    typo = subprocess.run(
        [script, "rules", "due", "LHKPM", "--from", "2025-01-01", "--to", "2025-12-31"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert typo.returncode == 2
    assert "did you mean LHKPN" in typo.stderr
    (tmp_path / "bad.toml").write_text('[rules.SPT]\nholiday_policy = "nearest"\n')
    bad = subprocess.run(
        [script, "--config", "bad.toml", "rules", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("tenggat: bad.toml:2: rules.SPT.holiday_policy: 'nearest'")
    assert bad.stdout == ""
