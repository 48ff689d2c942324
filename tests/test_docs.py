"""The README documents every command, and documents no command that does not exist.

The commands are found by walking the click group, so a command added later is checked
without touching this file (the check sqlite-utils runs on its docs).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scheduler.cli.main import cli

README = Path(__file__).resolve().parents[1] / "README.md"
TENGGAT = Path(sys.executable).parent / "tenggat"


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every visible command and subcommand, groups included, e.g. ("rules", "list")."""
    context = click.Context(group, info_name="tenggat")
    found: list[tuple[str, ...]] = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found += command_paths(command, path)
    return found


def commands_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Commands\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Commands' section"
    return match.group(1)


PATHS = command_paths(cli)


def test_the_walk_finds_the_known_commands() -> None:
    assert {("rules", "list"), ("event", "set"), ("roster", "list"), ("status",)} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_command_is_documented(path: tuple[str, ...]) -> None:
    wanted = re.compile(rf"`tenggat {re.escape(' '.join(path))}[ `]")
    assert wanted.search(commands_section()), (
        f"README.md '## Commands' lacks `tenggat {' '.join(path)}`"
    )


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_command_help_works(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, ["--lang", "en", *path, "--help"], prog_name="tenggat")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: tenggat {' '.join(path)}")


def test_documented_commands_exist() -> None:
    """Each row of the table names a real command (its leading lower-case words)."""
    documented = re.findall(r"^\| `tenggat ([^`]*)`", commands_section(), re.MULTILINE)
    assert documented
    known = set(PATHS)
    for usage in documented:
        words = tuple(re.findall(r"^(?:[a-z][a-z-]*(?: |$))*", usage)[0].split())
        assert words in known, f"README.md documents `tenggat {usage}`: no such command"


def test_top_level_help_lists_every_command() -> None:
    done = subprocess.run(
        [str(TENGGAT), "--lang", "en", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  (\S+)", done.stdout.split("Commands:", 1)[1], re.MULTILINE)
    assert sorted(listed) == sorted(path[0] for path in PATHS if len(path) == 1)
