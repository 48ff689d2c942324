"""scheduler.config: config.toml plus TENGGAT_* variables, validated at load, secrets kept out."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rules.catalog import Catalog
from rules.errors import DefinitionError
from scheduler.config import Config, ConfigError, load_config

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config.toml"
TENGGAT = Path(sys.executable).parent / "tenggat"
TOKEN = "123456:AAE-not-a-real-bot-token"
PASSWORD = "hunter2-sandi-rahasia"


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in an empty directory, so the repository's ./config.toml is not picked up."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "tenggat.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def refused(load: Callable[[], object], kind: type[DefinitionError] = ConfigError) -> Any:
    """The error ``load`` raises; its text is always "file[:line]: key: reason"."""
    with pytest.raises(kind) as caught:
        load()
    err = caught.value
    where = f"{err.source}:{err.line}" if err.line is not None else err.source
    assert str(err) == f"{where}: {err.key}: {err.reason}"
    return err


# --- where the configuration comes from -------------------------------------------------------


def test_no_file_gives_embedded_defaults(catalog: Catalog) -> None:
    config = load_config(None, environ={})
    assert config.path is None
    assert config.settings.database.url == "sqlite:///tenggat.db"
    assert config.settings.service.timezone == "Asia/Makassar"
    assert config.settings.service.language == "id"
    assert config.settings.smtp.port == 587
    assert config.settings.telegram.token is None
    # the shipped catalog, nothing folded on top
    assert [r.model_dump() for r in config.catalog.rules.values()] == [
        r.model_dump() for r in catalog.rules.values()
    ]
    assert config.calendar().tz == ZoneInfo("Asia/Makassar")


def test_config_toml_in_the_working_directory_is_used(tmp_path: Path) -> None:
    write(tmp_path, '[database]\nurl = "sqlite:///here.db"\n', name="config.toml")
    config = load_config(None, environ={})
    assert config.path == Path("config.toml")
    assert config.settings.database.url == "sqlite:///here.db"


def test_tenggat_config_selects_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///env.db"\n')
    config = load_config(None, environ={"TENGGAT_CONFIG": path})
    assert config.path == Path(path)
    assert config.settings.database.url == "sqlite:///env.db"


def test_explicit_path_beats_tenggat_config(tmp_path: Path) -> None:
    chosen = write(tmp_path, '[database]\nurl = "sqlite:///chosen.db"\n', name="chosen.toml")
    other = write(tmp_path, '[database]\nurl = "sqlite:///other.db"\n', name="other.toml")
    config = load_config(chosen, environ={"TENGGAT_CONFIG": other})
    assert config.settings.database.url == "sqlite:///chosen.db"


@pytest.mark.parametrize("via", ["explicit", "TENGGAT_CONFIG"])
def test_missing_file_is_refused_by_name(tmp_path: Path, via: str) -> None:
    missing = str(tmp_path / "nowhere.toml")
    if via == "explicit":
        err = refused(lambda: load_config(missing, environ={}))
    else:
        err = refused(lambda: load_config(None, environ={"TENGGAT_CONFIG": missing}))
    assert (err.source, err.key, err.line) == (missing, "(file)", None)
    assert missing in str(err)


def test_repository_config_toml_is_valid(catalog: Catalog) -> None:
    config = load_config(str(REPO_CONFIG), environ={})
    assert config.path == REPO_CONFIG
    assert config.settings.service.timezone == "Asia/Makassar"
    assert config.settings.service.language == "id"
    assert config.settings.database.url.startswith("sqlite:")
    assert set(config.catalog.rules) >= set(catalog.rules)


# --- environment overrides --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "read", "expected"),
    [
        (
            "TENGGAT_DATABASE_URL",
            "postgresql+psycopg://tenggat@db/tenggat",
            lambda c: c.settings.database.url,
            "postgresql+psycopg://tenggat@db/tenggat",
        ),
        (
            "TENGGAT_TELEGRAM_API_URL",
            "http://127.0.0.1:8081/bot",
            lambda c: c.settings.telegram.api_url,
            "http://127.0.0.1:8081/bot",
        ),
        ("TENGGAT_SMTP_PORT", "2525", lambda c: c.settings.smtp.port, 2525),
        ("TENGGAT_SERVICE_LANGUAGE", "en", lambda c: c.settings.service.language, "en"),
        (
            "TENGGAT_SERVICE_TIMEZONE",
            "Asia/Jakarta",
            lambda c: c.calendar().tz,
            ZoneInfo("Asia/Jakarta"),
        ),
    ],
)
def test_environment_overrides_the_file(
    tmp_path: Path, variable: str, value: str, read: Callable[[Config], object], expected: object
) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///file.db"\n[smtp]\nport = 587\n')
    config = load_config(path, environ={variable: value})
    assert read(config) == expected
    assert type(read(config)) is type(expected)  # "2525" is coerced to an int


def test_bad_port_in_environment_names_the_variable() -> None:
    err = refused(lambda: load_config(None, environ={"TENGGAT_SMTP_PORT": "abc"}))
    assert (err.source, err.key, err.line) == ("TENGGAT_SMTP_PORT", "smtp.port", None)
    assert "valid integer" in err.reason


def test_misspelt_variable_is_refused_with_a_hint() -> None:
    err = refused(lambda: load_config(None, environ={"TENGGAT_DATABASE_URLL": "sqlite://"}))
    assert err.source == "TENGGAT_DATABASE_URLL"
    assert "did you mean TENGGAT_DATABASE_URL?" in err.reason


def test_unrelated_variables_are_ignored() -> None:
    environ = {"TENGGAT_TEST_X": "1", "TENGGAT_": "", "PATH": "/usr/bin", "TENGGATX_SMTP_PORT": "x"}
    config = load_config(None, environ=environ)
    assert config.settings == load_config(None, environ={}).settings


def test_calendar_overrides_cannot_come_from_the_environment() -> None:
    err = refused(lambda: load_config(None, environ={"TENGGAT_CALENDAR_OVERRIDE": "x"}))
    assert (err.source, err.key) == ("TENGGAT_CALENDAR_OVERRIDE", "calendar.override")


# --- errors in the file name file, key and line -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "line", "reason"),
    [
        pytest.param(
            '[smtp]\nhost = "mail.example.go.id"\nport = "x"\n',
            "smtp.port",
            3,
            "Input should be a valid integer",
            id="wrong-type",
        ),
        pytest.param("[smtp]\n\nport = 70000\n", "smtp.port", 3, "less than or equal", id="range"),
        pytest.param(
            '# WITA\n[service]\ntimezone = "Asia/Makasar"\n',
            "service.timezone",
            3,
            "unknown time zone 'Asia/Makasar'",
            id="timezone",
        ),
        pytest.param(
            '[service]\nlanguage = "fr"\n', "service.language", 2, "'id' or 'en'", id="language"
        ),
        pytest.param(
            '[database]\nurl = "sqlite://"\nuri = "sqlite://"\n',
            "database.uri",
            3,
            "unknown key",
            id="unknown-key",
        ),
        pytest.param(
            '[service]\nlanguage = "id"\n\n[datbase]\nurl = "x"\n',
            "datbase",
            4,
            "unknown section (did you mean database?)",
            id="unknown-section",
        ),
        pytest.param(
            '[[calendar.override]]\ndate = 2025-05-02\nname = "Cuti"\nreference = "SKB"\n'
            '[[calendar.override]]\ndate = "besok"\nname = "Cuti"\nreference = "SKB"\n',
            "calendar.override[1].date",
            6,
            "valid date",
            id="override-date",
        ),
    ],
)
def test_file_error_names_file_key_and_line(
    tmp_path: Path, text: str, key: str, line: int, reason: str
) -> None:
    path = write(tmp_path, text)
    err = refused(lambda: load_config(path, environ={}))
    assert (err.source, err.key, err.line) == (path, key, line)
    assert reason in err.reason
    assert str(err).startswith(f"{path}:{line}: {key}: ")


def test_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[service]\nlanguage = "id"\ntimezone = "Asia/Makassar\n')
    err = refused(lambda: load_config(path, environ={}), DefinitionError)
    assert (err.source, err.key, err.line) == (path, "(syntax)", 3)


def test_catalog_error_in_config_names_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[service]\nlanguage = 'id'\n\n[rules.SKPP]\nenabled = false\n")
    err = refused(lambda: load_config(path, environ={}), DefinitionError)
    assert (err.source, err.key, err.line) == (path, "rules.SKPP", 4)
    assert "did you mean SPP?" in err.reason


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('x = "a\n', id="syntax"),
        pytest.param("[rules.SKPP]\nenabled = false\n", id="catalog"),
    ],
)
def test_every_config_file_error_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    refused(lambda: load_config(path, environ={}))


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        pytest.param("telegram = 5\n", {}, id="scalar-section"),
        pytest.param('database = "x"\n', {"TENGGAT_DATABASE_URL": "sqlite://"}, id="env-merge"),
    ],
)
def test_scalar_section_is_refused_not_crashed(
    tmp_path: Path, text: str, environ: dict[str, str]
) -> None:
    path = write(tmp_path, text)
    err = refused(lambda: load_config(path, environ=environ))
    assert err.line == 1


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('[[calendar.override]]\nname = "Cuti bersama é"\n'.encode("cp1252"))
    err = refused(lambda: load_config(str(path), environ={}))
    assert err.source == str(path)


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "variable", "secret"),
    [
        (
            "[telegram]\napi_url = 'x'\ntoken = '%s'\n",
            "telegram.token",
            "TENGGAT_TELEGRAM_TOKEN",
            TOKEN,
        ),
        (
            "[smtp]\nhost = 'mail'\npassword = '%s'\n",
            "smtp.password",
            "TENGGAT_SMTP_PASSWORD",
            PASSWORD,
        ),
    ],
)
def test_secret_in_file_is_refused_without_echoing_it(
    tmp_path: Path, text: str, key: str, variable: str, secret: str
) -> None:
    path = write(tmp_path, text % secret)
    err = refused(lambda: load_config(path, environ={}))
    assert (err.source, err.key, err.line) == (path, key, 3)
    assert variable in str(err)
    assert secret not in str(err) and secret not in repr(err)


@pytest.mark.parametrize(
    ("variable", "read", "secret"),
    [
        ("TENGGAT_TELEGRAM_TOKEN", lambda s: s.telegram.token, TOKEN),
        ("TENGGAT_SMTP_PASSWORD", lambda s: s.smtp.password, PASSWORD),
    ],
)
def test_secret_from_environment_is_kept_out_of_repr(
    variable: str, read: Callable[[Any], Any], secret: str
) -> None:
    config = load_config(None, environ={variable: secret})
    assert read(config.settings).get_secret_value() == secret
    for shown in (repr(config.settings), str(config.settings), repr(config), str(config)):
        assert secret not in shown


# --- calendar overrides -----------------------------------------------------------------------


def test_calendar_override_adds_and_removes_holidays(tmp_path: Path) -> None:
    text = """\
[[calendar.override]]
date = 2025-05-02
name = "Cuti bersama tambahan"
reference = "SKB 3 Menteri (perubahan)"

[[calendar.override]]
date = 2025-12-26
working = true
name = "Cuti bersama Natal dibatalkan"
reference = "SKB 3 Menteri (perubahan)"
"""
    assert load_config(None, environ={}).calendar().is_working_day(date(2025, 5, 2))
    calendar = load_config(write(tmp_path, text), environ={}).calendar()
    assert not calendar.is_working_day(date(2025, 5, 2))
    assert calendar.holiday_name(date(2025, 5, 2)) == "Cuti bersama tambahan"
    assert calendar.is_working_day(date(2025, 12, 26))  # a Friday, cuti bersama in the package


def test_config_schedule_uses_config_catalog_and_calendar(tmp_path: Path) -> None:
    text = (
        '[[calendar.override]]\ndate = 2025-02-28\nname = "Libur daerah"\nreference = "SK"\n'
        '[rules.SKP]\nholiday_policy = "previous_working_day"\n'
    )
    schedule = load_config(write(tmp_path, text), environ={}).schedule()
    occurrence = schedule.occurrence(schedule.catalog.get("SKP"), "2025")
    assert (occurrence.nominal, occurrence.due) == (date(2025, 2, 28), date(2025, 2, 27))
    assert occurrence.note == "Libur daerah"


# --- the command line -------------------------------------------------------------------------


def run_cli(cwd: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    return subprocess.run(
        [str(TENGGAT), *args],
        cwd=cwd,
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("text", "environ", "line"),
    [
        pytest.param(
            '[service]\nlanguage = "id"\n\n[smtp]\nport = "x"\n',
            {},
            "tenggat: bad.toml:5: smtp.port: Input should be a valid integer",
            id="type",
        ),
        pytest.param(
            "# ok\n[rules.SKPP]\nenabled = false\n",
            {},
            "tenggat: bad.toml:2: rules.SKPP: unknown rule 'SKPP' (did you mean SPP?)",
            id="catalog",
        ),
        pytest.param(
            "[smtp]\nport = 25\n",
            {"TENGGAT_SMTP_PORT": "abc"},
            "tenggat: TENGGAT_SMTP_PORT: smtp.port: Input should be a valid integer",
            id="environment",
        ),
        pytest.param(
            "[telegram]\ntoken = 'x'\n",
            {},
            "tenggat: bad.toml:2: telegram.token: secrets are not read from files",
            id="secret",
        ),
    ],
)
def test_cli_reports_one_line_and_exits_2(
    tmp_path: Path, text: str, environ: dict[str, str], line: str
) -> None:
    write(tmp_path, text, name="bad.toml")
    result = run_cli(tmp_path, "--config", "bad.toml", "rules", "list", **environ)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(line)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_cli_reports_a_missing_file(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--config", "nope.toml", "rules", "list")
    assert (result.returncode, result.stderr) == (
        2,
        "tenggat: nope.toml: (file): no such configuration file\n",
    )


def test_cli_scalar_section_gives_no_traceback(tmp_path: Path) -> None:
    write(tmp_path, "telegram = 5\n", name="bad.toml")
    result = run_cli(tmp_path, "--config", "bad.toml", "rules", "list")
    assert (result.returncode, "Traceback" in result.stderr) == (2, False)
