"""Hostile command lines around the language: a bad, missing or repeated ``--lang``, a
configuration that does not load, options in odd places.  Each answers in one language,
in one clear sentence or the help, never a traceback and never English frames around
Indonesian text.  Inputs are data: extend the lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.cli.main import cli

BROKEN = "[service]\nlanguage = 'klingon'\n[[[\n"

# (argv, what the output must contain)
HOSTILE = [
    (["--lang", "xx", "status", "--help"], "Kesalahan: Nilai tidak sah untuk '--lang'"),
    (["--lang=xx", "--help"], "Penggunaan: tenggat"),  # --help comes first, as in click
    (["--lang"], "Kesalahan: Opsi '--lang' memerlukan satu nilai."),
    (["--lang", "ID", "status"], "Kesalahan: Nilai tidak sah untuk '--lang'"),
    (["--lang=en", "--lang=id", "status", "--help"], "Penggunaan: tenggat status"),
    (["--lang", "en", "--lang", "id", "--help"], "Penggunaan: tenggat"),
    (["--lang=en", "rules", "due"], "Error: Missing argument 'CODE'."),
    (["--lang", "id", "rules", "due"], "Kesalahan: Argumen wajib belum diisi: 'CODE'."),
    (["--lang", "id", "no-such-command"], "Kesalahan: Tidak ada perintah 'no-such-command'."),
    (["--lang", "en", "no-such-command"], "Error: No such command 'no-such-command'."),
    (["--lang", "id", "status", "--lang", "en"], "Kesalahan: Tidak ada opsi '--lang'."),
    (["--lang", "id", "rules", "list", "--json", "--json", "--bogus=1"], "Tidak ada opsi"),
    (["--lang", "id", "digest", "--format", "pdf"], "'pdf' bukan salah satu dari"),
    (["--lang", "id", "--", "--help"], "Penggunaan: tenggat"),
    (["--config", "--lang", "--lang", "en", "--help"], "Usage: tenggat"),
]


@pytest.mark.parametrize(("argv", "says"), HOSTILE, ids=[" ".join(a) for a, _ in HOSTILE])
def test_a_hostile_command_line_answers_in_one_language(argv: list[str], says: str) -> None:
    done = CliRunner().invoke(cli, argv, prog_name="tenggat")
    assert done.exit_code in (0, 2), done.output
    assert "Traceback" not in done.output
    assert says in done.output, done.output
    indonesian = "Penggunaan:" in done.output or "Kesalahan:" in done.output
    english = "Usage:" in done.output or "Error:" in done.output
    assert indonesian != english, done.output  # one language, not both


@pytest.mark.parametrize("config", [BROKEN, "", "\x00\xff", "[service]\nlanguage = 'en'\n"])
def test_help_helps_even_when_the_configuration_does_not_load(tmp_path: Path, config: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8", errors="surrogateescape")
    done = CliRunner().invoke(cli, ["--config", str(path), "status", "--help"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith(("Penggunaan: ", "Usage: "))


def test_a_missing_configuration_still_gives_help(tmp_path: Path) -> None:
    done = CliRunner().invoke(cli, ["--config", str(tmp_path / "none.toml"), "--help"])
    assert done.exit_code == 0 and "Penggunaan:" in done.output
