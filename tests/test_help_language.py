"""Every command's help and click's own frames speak the language asked for: ``--lang id``
Indonesian throughout (no "Usage:" around Indonesian text), ``--lang en`` English, and
without ``--lang`` the configured language.  The commands are found by walking the click
tree, so a command added later is held to this without touching this file."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scheduler.catalog import help_text
from scheduler.cli.language import written
from scheduler.cli.main import cli

ENGLISH_FRAMES = ("Usage:", "Options:", "Commands:", "Show this message and exit.")
INDONESIAN_FRAMES = ("Penggunaan:", "Opsi:", "Tampilkan pesan ini lalu keluar.")


def command_tree(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under ``group``, with the path that names it."""
    context = click.Context(group, info_name="tenggat")
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += command_tree(command, (*prefix, name))
    return found


TREE = [((), cli), *command_tree(cli)]
IDS = [" ".join(path) or "tenggat" for path, _ in TREE]


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), prog_name="tenggat")


def helps(command: click.Command) -> list[str]:
    """The command's own help and its options' help, English as written in the code."""
    things = [command, *(p for p in command.params if isinstance(p, click.Option))]
    return [text for text in map(written, things) if text]


@pytest.mark.parametrize(("path", "command"), TREE, ids=IDS)
def test_help_in_indonesian(path: tuple[str, ...], command: click.Command) -> None:
    done = invoke("--lang", "id", *path, "--help")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Penggunaan: tenggat {' '.join(path)}".rstrip())
    for frame in ENGLISH_FRAMES:
        assert frame not in done.output
    assert "Opsi:" in done.output and "[OPSI]" in done.output.splitlines()[0]
    for text in helps(command):
        translated = help_text(text, "id")
        assert translated != text, f"no Indonesian for {text!r}"
        first_words = " ".join(translated.split()[:3])
        assert first_words in " ".join(done.output.split()), first_words


@pytest.mark.parametrize(("path", "command"), TREE, ids=IDS)
def test_help_in_english(path: tuple[str, ...], command: click.Command) -> None:
    done = invoke("--lang", "en", *path, "--help")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Usage: tenggat {' '.join(path)}".rstrip())
    assert "Options:" in done.output and "[OPTIONS]" in done.output.splitlines()[0]
    for frame in INDONESIAN_FRAMES:
        assert frame not in done.output
    for text in helps(command):
        first_words = " ".join(text.split()[:3])
        assert first_words in " ".join(done.output.split()), first_words


@pytest.mark.parametrize(("path", "command"), TREE, ids=IDS)
def test_an_unknown_option_is_refused_in_the_language_asked_for(
    path: tuple[str, ...], command: click.Command
) -> None:
    indonesian = invoke("--lang", "id", *path, "--no-such-thing")
    assert indonesian.exit_code == 2
    assert "Kesalahan: Tidak ada opsi '--no-such-thing'." in indonesian.output
    assert "Penggunaan:" in indonesian.output and "Usage:" not in indonesian.output
    english = invoke("--lang", "en", *path, "--no-such-thing")
    assert english.exit_code == 2
    assert "Error: No such option '--no-such-thing'." in english.output


def test_an_invalid_value_is_refused_in_the_language_asked_for() -> None:
    indonesian = invoke("--lang", "id", "rules", "list", "--as-of", "kemarin")
    assert "Kesalahan: Nilai tidak sah untuk '--as-of':" in indonesian.output
    assert "'kemarin' tidak terbaca sebagai tanggal; tulis seperti 2025-02-20" in indonesian.output
    english = invoke("--lang", "en", "rules", "list", "--as-of", "kemarin")
    assert "Error: Invalid value for '--as-of':" in english.output
    assert "'kemarin' is not a date this command reads; write it like 2025-02-20" in english.output
    missing = invoke("--lang", "id", "rules", "due", "SKP")
    assert "Kesalahan: Opsi wajib belum diisi: '--from'." in missing.output


def test_without_lang_the_configured_language_speaks(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[service]\nlanguage = "en"\n', encoding="utf-8")
    english = invoke("--config", str(config), "status", "--help")
    assert english.output.startswith("Usage: tenggat status")
    config.write_text('[service]\nlanguage = "id"\n', encoding="utf-8")
    indonesian = invoke("--config", str(config), "status", "--help")
    assert indonesian.output.startswith("Penggunaan: tenggat status")
