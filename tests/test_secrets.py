"""Secrets come from the environment and go nowhere else: not in output, logs or errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from fake_telegram import TOKEN, FakeBotAPI, text_message

from scheduler.bot.webhook import SECRET_HEADER

TENGGAT = str(Path(sys.executable).parent / "tenggat")
PASSWORD = "smtp-Passw0rd-do-not-print"


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    return env | {
        "TENGGAT_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "TENGGAT_TELEGRAM_TOKEN": TOKEN,
        "TENGGAT_SMTP_PASSWORD": PASSWORD,
        "TENGGAT_SMTP_HOST": "127.0.0.1",
        "TENGGAT_SMTP_PORT": "1",  # nothing listens: sending fails, and says so
        "TENGGAT_SMTP_USERNAME": "admin",
    }


def test_no_command_prints_the_secrets(tmp_path: Path, environ: dict[str, str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[service]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    commands = [
        ["demo"],
        ["contact", "197105152000121003", "--email", "s@kesbangpol.go.id"],
        ["run", "--once", "--as-of", "2025-03-03 09:00"],
        ["plan", "--as-of", "2025-03-03 09:00", "--json"],
        ["outbox", "--json", "--limit", "500"],
        ["status", "--as-of", "2025-03-03", "--json"],
        ["rules", "list", "--json"],
        ["--config", str(bad), "rules", "list"],
        ["submit", "nobody", "SKP", "2025"],
    ]
    seen = []
    for command in commands:
        done = subprocess.run(
            [TENGGAT, *command], cwd=tmp_path, env=environ, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        seen.append(done.stdout + done.stderr)
    everything = "\n".join(seen)
    assert "send failed" in everything and "SMTP 127.0.0.1:1" in everything
    assert "service.timezone" in everything  # the config error was printed
    assert TOKEN not in everything and PASSWORD not in everything
    assert TOKEN.split(":")[1] not in everything


# ---- the running service: polling and webhook, at INFO and DEBUG ---------------------

DB_PASSWORD = "Db-Passw0rd-never-logged"
QUERY_PASSWORD = "Query-Passw0rd-in-the-url"  # ?password=..., which psycopg accepts too


def with_password(url: str) -> str:
    """The test database's URL with a password in it (trust auth ignores it)."""
    return url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def post_update(port: int, secret: str, update: dict[str, Any]) -> int:
    """Post an update to the service's webhook as Telegram does; the HTTP status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram",
        data=json.dumps(update).encode(),
        headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


@pytest.mark.parametrize("level", ["info", "debug"])
@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_the_running_bot_logs_no_secret(
    tmp_path: Path, environ: dict[str, str], database_url: str, mode: str, level: str
) -> None:
    """`tenggat run` (no --once) for several getUpdates cycles, or serving the webhook:
    every line it writes, from every library, is searched for every secret."""
    port = free_port()
    log = tmp_path / "run.log"
    with FakeBotAPI(token=TOKEN) as api:
        env = environ | {
            "TENGGAT_DATABASE_URL": with_password(database_url),
            "TENGGAT_TELEGRAM_API_URL": api.base_url,
            "TENGGAT_BOT_POLL_SECONDS": "1",
        }
        if mode == "webhook":
            env |= {
                "TENGGAT_BOT_WEBHOOK_URL": "https://tenggat.example.go.id/telegram",
                "TENGGAT_WEB_PORT": str(port),
            }
        command = [TENGGAT, "run", *(["--log-level", level] if level != "info" else [])]
        with log.open("w") as output:
            service = subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        hook_secret = "the webhook's secret, once registered"
        try:
            if mode == "webhook":
                wait_until(lambda: bool(api.webhook) and "webhook listening" in log.read_text())
                hook_secret = str(api.webhook["secret_token"])
                update = {"update_id": 41} | text_message(777, "/bantuan")
                assert post_update(port, hook_secret, update) == 200
            else:
                api.push(text_message(777, "/bantuan"))
            wait_until(lambda: len(api.texts(777)) == 1)  # the reply went out
            if mode == "polling":
                polled = api.calls["getUpdates"]
                wait_until(lambda: api.calls["getUpdates"] >= polled + 3)  # more cycles
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
        everything = log.read_text()
    assert service.returncode == 0, everything
    assert "stopped" in everything
    if mode == "webhook":
        assert api.calls["setWebhook"] == 1 and api.calls["deleteWebhook"] >= 1
    else:
        assert api.calls["getUpdates"] >= 4
    if level == "debug":  # the transport did log its requests, with the token taken out
        assert "HTTP Request: POST" in everything and "/bot***/" in everything
    for secret in (TOKEN, TOKEN.split(":")[1], PASSWORD, DB_PASSWORD, hook_secret):
        assert secret not in everything, f"{secret!r} in the log:\n{everything[-3000:]}"


def test_every_secret_is_taken_out_of_lines_and_tracebacks_of_any_logger(
    environ: dict[str, str],
) -> None:
    """The filter sits on the handler: a child logger's line, an exception's text and a
    traceback are all written without the token, its half, the SMTP or database password."""
    script = """if True:
        import logging, sys
        from scheduler import logs
        from scheduler.config import load_config
        logs.configure("info", load_config())
        token = sys.argv[1]
        logging.getLogger("tenggat.child.deeper").warning("token %s half %s", token, token[7:])
        logging.getLogger("httpx").warning("POST /bot%s/getUpdates", token)
        try:
            raise RuntimeError(f"bad URL postgresql://u:{sys.argv[2]}@h/db with {token}")
        except RuntimeError:
            logging.getLogger("some.library").exception("failed")
        logging.getLogger("tenggat").info("smtp %s", sys.argv[3], stack_info=True)
    """
    url = f"postgresql+psycopg://u:{DB_PASSWORD}@127.0.0.1:1/db"
    env = environ | {"TENGGAT_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", script, TOKEN, DB_PASSWORD, PASSWORD], env=env,
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    written = done.stdout + done.stderr
    assert "token *** half ***" in written and "POST /bot***/getUpdates" in written
    assert "Traceback" in written and "RuntimeError: bad URL postgresql://u:***@h/db" in written
    assert "smtp ***" in written and "Stack (most recent call last)" in written
    for secret in (TOKEN, TOKEN.split(":")[1], PASSWORD, DB_PASSWORD):
        assert secret not in written


def test_a_fault_in_any_command_is_reported_without_a_secret(environ: dict[str, str]) -> None:
    """Not only `run` logs: every command's log and an unexpected error's traceback go
    through the same redacting handler (a library's warning, a bug whose message holds the
    token), and the command exits 1 rather than with Python's raw traceback."""
    script = """if True:
        import logging, sys
        import click
        from scheduler.cli.main import cli, main
        token = sys.argv[1]

        @cli.command()
        def boom() -> None:
            logging.getLogger("telegram.ext").warning("retrying /bot%s/getMe", token)
            raise RuntimeError(f"unexpected answer from /bot{token}/sendMessage")

        sys.argv = ["tenggat", "boom"]
        main()
    """
    done = subprocess.run(
        [sys.executable, "-c", script, TOKEN], env=environ,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "WARNING retrying /bot***/getMe" in done.stderr
    assert "CRITICAL unexpected error" in done.stderr and "Traceback" in done.stderr
    assert "RuntimeError: unexpected answer from /bot***/sendMessage" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert TOKEN.split(":")[1] not in done.stderr + done.stdout


def test_a_database_password_in_config_toml_is_taken_out_of_a_fault(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    """The database URL, password and all, comes from config.toml rather than the
    environment (the bot token is refused in a file, so it stays in the environment): the
    password is learnt when the command reads its configuration, whatever logs after."""
    url = f"postgresql+psycopg://u:{DB_PASSWORD}@127.0.0.1:1/db?password={QUERY_PASSWORD}"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    script = """if True:
        import logging, sys
        from scheduler.cli.main import cli, main
        from scheduler.cli.shared import current

        @cli.command()
        def boom() -> None:
            url = current().config.settings.database.url
            logging.getLogger("sqlalchemy").warning("connecting to %s", url)
            raise RuntimeError(f"cannot reach {url} with /bot{sys.argv[1]}/getMe")

        sys.argv = ["tenggat", "--config", sys.argv[2], "boom"]
        main()
    """
    env = {k: v for k, v in environ.items() if k != "TENGGAT_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-c", script, TOKEN, str(config)], env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    written = done.stdout + done.stderr
    assert done.returncode == 1 and "connecting to postgresql+psycopg://u:***@" in written
    assert "RuntimeError: cannot reach" in written, written
    for secret in (TOKEN, TOKEN.split(":")[1], DB_PASSWORD, QUERY_PASSWORD):
        assert secret not in written, written


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["userinfo", "query"])
def test_init_prints_the_database_url_without_its_password(
    tmp_path: Path, environ: dict[str, str], database_url: str, where: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite URL has no password")
    url = (
        with_password(database_url)
        if where == "userinfo"
        else f"{database_url}&password={QUERY_PASSWORD}"
    )
    env = environ | {"TENGGAT_DATABASE_URL": url}
    done = subprocess.run(
        [TENGGAT, "--lang", "en", "init"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "127.0.0.1" in done.stdout, done.stdout
    assert DB_PASSWORD not in done.stdout and QUERY_PASSWORD not in done.stdout, done.stdout


def test_the_channel_and_the_bot_mask_a_token_as_the_logs_do(tmp_path: Path) -> None:
    """What the bot writes to its audit trail and the channel to the outbox does not pass
    the log's filter: it is masked by the same helper, which also knows a token's secret
    half (an error may quote the token URL-encoded, or only its second part)."""
    from datetime import UTC, datetime

    from notifications.redact import secrets
    from notifications.telegram import reason
    from scheduler.bot.poller import Poller
    from scheduler.config import load_config
    from scheduler.logs import scrub, secrets_of
    from scheduler.store.db import Database

    url = f"sqlite:///{tmp_path / 's.db'}"
    environ = {"TENGGAT_DATABASE_URL": url, "TENGGAT_TELEGRAM_TOKEN": TOKEN}
    config = load_config(None, environ=environ)
    poller = Poller(config, Database(url), lambda: datetime.now(UTC))
    half = TOKEN.split(":", 1)[1]
    for quoted in (TOKEN, TOKEN.replace(":", "%3A"), half):
        error = ConnectionError(f"POST https://api.telegram.org/bot{quoted}/getUpdates failed")
        logged = scrub(f"{type(error).__name__}: {error}", secrets_of(config))
        assert half not in logged
        assert poller.reason(error) == logged
        assert reason(error, secrets([TOKEN])) == logged
