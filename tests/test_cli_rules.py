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
    assert rows["LKSKPD"]["next_due"] == "2026-01-24"  # 24 Jan 2025 has passed
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
        '[rules.RKBM]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15"\n\n'
        "[rules.P3DN]\nenabled = false\n",
        encoding="utf-8",
    )
    rows = by_code(
        as_json(invoke("--config", str(config), "rules", "list", "--json", "--as-of", "2025-02-01"))
    )
    assert rows["RKBM"]["next_due"] == "2025-03-15"
    assert rows["P3DN"]["enabled"] is False
    assert rows["PK"]["next_note"] == "waiting for APBD adoption"  # language from the file


def test_config_toml_in_working_directory_is_used(invoke: Invoke, tmp_path: Path) -> None:
    """Why the fixture changes directory: a ./config.toml is read without --config."""
    args = ("rules", "list", "--json", "--as-of", "2025-02-01")
    assert by_code(as_json(invoke(*args)))["RKBM"]["next_due"] is None
    (tmp_path / "config.toml").write_text(
        '[rules.RKBM]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15"\n', encoding="utf-8"
    )
    assert by_code(as_json(invoke(*args)))["RKBM"]["next_due"] == "2025-03-15"


def test_rules_due_lhkpn_override(invoke: Invoke) -> None:
    shown = as_json(
        invoke("rules", "due", "LHKPN", "--from", "2025-01-01", "--to", "2025-12-31", "--json")
    )
    assert shown["rule"] == "LHKPN"
    (occ,) = shown["occurrences"]
    assert (occ["period"], occ["due"], occ["nominal"]) == ("2025", "2025-04-11", "2025-03-31")
    assert occ["adjustment"] == "override"
    assert occ["reason"].startswith("diubah oleh keputusan: KPK")
    assert shown["warnings"] == []


def test_rules_due_spt_seven_years(invoke: Invoke) -> None:
    shown = as_json(
        invoke("rules", "due", "spt", "--from", "2024-01-01", "--to", "2030-12-31", "--json")
    )
    assert shown["rule"] == "SPT"
    assert [(o["period"], o["due"]) for o in shown["occurrences"]] == [
        (str(y), f"{y}-03-31") for y in range(2024, 2031)
    ]
    assert all(o["adjustment"] is None and o["reason"] == "" for o in shown["occurrences"])
    assert any("2030" in w and "cuti bersama" in w for w in shown["warnings"])


def test_rules_due_pk_waiting(invoke: Invoke) -> None:
    shown = as_json(
        invoke("rules", "due", "PK", "--from", "2025-01-01", "--to", "2026-12-31", "--json")
    )
    assert [(o["period"], o["due"], o["reason"]) for o in shown["occurrences"]] == [
        ("2025", None, "menunggu penetapan APBD"),
        ("2026", None, "menunggu penetapan APBD"),
    ]


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


@pytest.mark.parametrize("bad", ["2025-02-30", "31-03-2025", "tomorrow"])
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
