"""Secrets come from the environment and go nowhere else: not in output, logs or errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TENGGAT = str(Path(sys.executable).parent / "tenggat")
TOKEN = "123456:AAE-very-secret-bot-token"
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
