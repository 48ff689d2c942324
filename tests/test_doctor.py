"""`tenggat doctor`: every check against the real thing (SQLite file, PostgreSQL schema,
an SMTP server from aiosmtpd on 127.0.0.1), in Indonesian by default and English on request,
and never a secret in what it prints."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result
from conftest import free_port
from fake_telegram import FakeBotAPI

from rules.calendar import WITA
from scheduler.cli.main import Context, cli
from scheduler.service.doctor import CHECKS, FAIL, Check, Doctor, run_checks
from scheduler.store import models
from scheduler.store.db import SCHEMA_REVISION, Database

PASSWORD = "doctor-Passw0rd-never-printed"
TOKEN = "123456:AAE-doctor-secret-bot-token"


class Server:
    """An SMTP server that accepts one password and remembers who logged in."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        # handled=False: aiosmtpd answers 235 or 535 itself
        return AuthResult(success=data.password.decode() == PASSWORD, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Server, int]]:
    handler = Server()
    port = free_port()
    controller = Controller(
        object(), hostname="127.0.0.1", port=port, server_hostname="localhost",
        authenticator=handler, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory and no TENGGAT_* variables."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "250")
    yield tmp_path
    import gc

    gc.collect()  # close the pools of the engines the in-process commands left behind


def use(monkeypatch: pytest.MonkeyPatch, database: Database) -> None:
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database.url.render_as_string(hide_password=False))


def with_smtp(monkeypatch: pytest.MonkeyPatch, port: int, password: str = PASSWORD) -> None:
    for key, value in {
        "HOST": "127.0.0.1", "PORT": str(port), "SECURITY": "none", "USERNAME": "admin",
        "PASSWORD": password, "SENDER": "tenggat@kesbangpol.go.id",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"TENGGAT_SMTP_{key}", value)


def employ(database: Database, email: str | None = None) -> None:
    with database.write() as session:
        session.add(
            models.Employee(
                key="197105152000121003", nip="197105152000121003", name="SUTRISNO",
                email=email, updated_at=datetime(2025, 3, 1, tzinfo=WITA),
            )
        )  # fmt: skip


def doctor(*args: str) -> tuple[Result, dict[str, Check]]:
    """``tenggat [ARGS] doctor --json`` and its checks by name."""
    result = CliRunner().invoke(cli, [*args, "doctor", "--json"])
    data = json.loads(result.stdout)
    assert data["ok"] == (result.exit_code == 0), result.output
    return result, {
        c["check"]: Check(c["check"], c["status"], c["message"]) for c in data["checks"]
    }


def test_a_ready_service_passes_and_the_password_stays_secret(
    clean: Path,
    database: Database,
    smtp: tuple[Server, int],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    server, port = smtp
    use(monkeypatch, database)
    with_smtp(monkeypatch, port)
    monkeypatch.setenv("TENGGAT_TELEGRAM_TOKEN", TOKEN)
    api = FakeBotAPI(token=TOKEN).__enter__()
    request.addfinalizer(lambda: api.__exit__(None, None, None))
    monkeypatch.setenv("TENGGAT_TELEGRAM_API_URL", api.base_url)
    employ(database, email="sutrisno@kesbangpol.go.id")
    result, checks = doctor()
    assert result.exit_code == 0, result.output
    assert [c.status for c in checks.values()] == ["ok", "ok", "ok", "ok", "warn", "ok"]
    assert "bot @tenggat_test_bot menjawab getMe" in checks["telegram"].message
    assert checks["config"].message == "dimuat dari nilai bawaan (tanpa berkas)"
    # "Asia/Makassar, sekarang UTC+08:00: Senin, 7 Desember 2026 pukul 09.15 WITA"
    assert re.search(r"UTC\+08:00: \w+, \d+ \w+ \d{4} pukul \d\d\.\d\d WITA$",
                     checks["timezone"].message), checks["timezone"].message  # fmt: skip
    assert f"revisi {SCHEMA_REVISION} (terbaru)" in checks["database"].message
    assert "1 pegawai aktif: 1 dengan e-mail" in checks["roster"].message
    assert "login sebagai admin berhasil" in checks["smtp"].message
    assert "tanpa enkripsi" in checks["smtp"].message  # security = "none" with a password
    assert server.logins == ["admin"]
    people = CliRunner().invoke(cli, ["--lang", "en", "doctor"])
    assert people.exit_code == 0, people.output
    assert "logged in as admin" in people.output and "Passed, with 1 warning" in people.output
    for output in (result.output, people.output):
        assert PASSWORD not in output and TOKEN not in output


def test_smtp_without_login_is_ok(
    clean: Path, database: Database, smtp: tuple[Server, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = smtp
    use(monkeypatch, database)
    with_smtp(monkeypatch, port)
    monkeypatch.delenv("TENGGAT_SMTP_USERNAME")
    monkeypatch.delenv("TENGGAT_SMTP_PASSWORD")
    employ(database)
    result, checks = doctor("--lang", "en")
    assert result.exit_code == 0
    assert checks["smtp"] == Check("smtp", "ok", f"127.0.0.1:{port} (none): connected, no login")


def test_a_wrong_smtp_password_fails_without_being_printed(
    clean: Path, database: Database, smtp: tuple[Server, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = smtp
    wrong = "wrong-Passw0rd-also-secret"
    use(monkeypatch, database)
    with_smtp(monkeypatch, port, password=wrong)
    result, checks = doctor()
    assert result.exit_code == 1
    assert checks["smtp"].status == "fail"
    assert "SMTP login refused (535)" in checks["smtp"].message
    people = CliRunner().invoke(cli, ["doctor"])
    assert people.exit_code == 1 and "1 pemeriksaan gagal" in people.output
    assert wrong not in result.output + people.output


def test_an_smtp_server_that_is_down_fails(
    clean: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, database)
    port = free_port()  # nothing listens there
    with_smtp(monkeypatch, port)
    result, checks = doctor()
    assert result.exit_code == 1
    assert checks["smtp"].status == "fail" and f"127.0.0.1:{port}" in checks["smtp"].message
    assert PASSWORD not in result.output


def test_a_username_without_password_fails_before_connecting(
    clean: Path, database: Database, smtp: tuple[Server, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, port = smtp
    use(monkeypatch, database)
    with_smtp(monkeypatch, port)
    monkeypatch.delenv("TENGGAT_SMTP_PASSWORD")
    result, checks = doctor()
    assert result.exit_code == 1
    assert "TENGGAT_SMTP_PASSWORD kosong" in checks["smtp"].message
    assert server.logins == []


def test_a_broken_configuration_fails_and_the_rest_is_skipped(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean / "broken.toml").write_text('[service]\ntimezone = "Asia/Makasar"\n', encoding="utf-8")
    result, checks = doctor("--config", "broken.toml")
    assert result.exit_code == 1
    assert checks["config"].status == "fail"
    assert "broken.toml:2: service.timezone: unknown time zone 'Asia/Makasar'" in (
        checks["config"].message
    )
    assert {c.status for name, c in checks.items() if name != "config"} == {"skip"}
    english = CliRunner().invoke(cli, ["--lang", "en", "--config", "broken.toml", "doctor"])
    assert english.exit_code == 1
    assert "cannot be loaded" in english.output and "1 check(s) failed" in english.output


def test_a_missing_sqlite_file_is_reported_and_not_created(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENGGAT_DATABASE_URL", "sqlite:///tenggat.db")
    result, checks = doctor()
    assert result.exit_code == 1
    assert checks["database"].status == "fail"
    assert checks["database"].message.endswith("belum ada: jalankan `tenggat init`")
    assert checks["roster"].status == "skip"
    assert not (clean / "tenggat.db").exists()


def test_an_uninitialised_old_or_newer_database_fails(
    clean: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database_url)
    database = Database(database_url)
    try:
        if database_url.startswith("sqlite"):
            database.engine.connect().close()  # an empty file
        _, checks = doctor()
        assert "belum diinisialisasi: jalankan `tenggat init`" in checks["database"].message
        database.migrate()
        with database.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0002'")
        _, checks = doctor("--lang", "en")
        assert f"is at revision 0002, this version needs {SCHEMA_REVISION}: run `tenggat init`" in (
            checks["database"].message
        )
        with database.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
        result, checks = doctor("--lang", "en")
        assert "revision 0099, unknown to this version" in checks["database"].message
        assert result.exit_code == 1
    finally:
        database.engine.dispose()


def test_an_unreachable_server_fails(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("TENGGAT_DATABASE_URL", f"postgresql+psycopg://u:pw-x@127.0.0.1:{port}/db")
    result, checks = doctor()
    assert result.exit_code == 1
    assert checks["database"].message.startswith(
        f"postgresql+psycopg://u:***@127.0.0.1:{port}/db tidak dapat dihubungi: OperationalError"
    )
    assert "pw-x" not in result.output


def test_an_empty_roster_and_a_zone_other_than_wita_only_warn(
    clean: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, database)
    monkeypatch.setenv("TENGGAT_SERVICE_TIMEZONE", "Asia/Jakarta")
    result, checks = doctor()
    assert result.exit_code == 0
    assert checks["timezone"] == Check(
        "timezone", "warn",
        "Asia/Jakarta (UTC+07:00) bukan WITA: batas waktu IKI berakhir tengah malam WITA "
        "(Asia/Makassar, UTC+08:00)",
    )  # fmt: skip
    assert checks["roster"].status == "warn" and "tenggat demo" in checks["roster"].message
    assert checks["smtp"].status == "skip"


def test_a_check_that_raises_is_a_failure_not_a_crash(clean: Path) -> None:
    def check_broken(doctor: Doctor) -> Check:
        raise RuntimeError("boom")

    context = Context(None, "en")
    results = run_checks(lambda: context.config, "en", [CHECKS[0], check_broken])
    assert results[0].status == "ok"
    assert results[1] == Check(
        "broken", FAIL, "the check failed with an unexpected error: RuntimeError: boom"
    )


def test_a_wrong_bot_token_fails_without_being_printed(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBotAPI() as api:  # knows another token
        monkeypatch.setenv("TENGGAT_TELEGRAM_TOKEN", TOKEN)
        monkeypatch.setenv("TENGGAT_TELEGRAM_API_URL", api.base_url)
        result, checks = doctor()
    assert result.exit_code == 1
    assert checks["telegram"].status == FAIL
    assert "InvalidToken" in checks["telegram"].message
    assert TOKEN not in result.output and TOKEN.split(":")[1] not in result.output


def test_a_roster_reached_only_on_the_console_is_a_warning_that_names_them(
    clean: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody reachable but on the console is not "all passed": the roster check warns and
    names who cannot be reached, and why (no contact, or a channel not configured)."""
    use(monkeypatch, database)
    employ(database, email="sutrisno@kesbangpol.go.id")  # but no SMTP configured
    with database.write() as session:
        session.add(
            models.Employee(
                key="198404232010011013", nip="198404232010011013", name="ALEXANDER",
                updated_at=datetime(2025, 3, 1, tzinfo=WITA),
            )
        )  # fmt: skip
    result, checks = doctor()
    assert result.exit_code == 0, result.output
    assert checks["roster"].status == "warn", checks["roster"]
    assert "ALEXANDER" in checks["roster"].message and "SUTRISNO" in checks["roster"].message
    assert "SMTP" in checks["roster"].message
    people = CliRunner().invoke(cli, ["doctor"])
    assert "Semua pemeriksaan lulus" not in people.output, people.output
    assert "ALEXANDER" in people.output
    english = CliRunner().invoke(cli, ["--lang", "en", "doctor"])
    assert "All checks passed" not in english.output
    assert "cannot be reached except on the console" in english.output, english.output
