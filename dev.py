#!/usr/bin/env python3
"""Developer entry point: one command that works on a fresh machine with only Python >= 3.11.

    python3 dev.py run [ARGS...]      set up .venv if needed, then `tenggat run ARGS...`
    python3 dev.py tenggat [ARGS...]  set up .venv if needed, then `tenggat ARGS...`
    python3 dev.py test [ARGS...]     set up .venv if needed, then `python -m pytest ARGS...`
    python3 dev.py lint               set up .venv if needed, then ruff check,
                                      ruff format --check, mypy and lint-imports
    python3 dev.py words [ARGS...]    keep the gettext catalogs (scheduler/locale) up to date:
                                      `words help` adds new help texts, `words table
                                      MODULE:NAME CONTEXT` moves a dict of words in,
                                      `words compile` writes the .mo after a .po edit

Stdlib only, because it has to run before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYPROJECT = ROOT / "pyproject.toml"
# Holds the sha256 of pyproject.toml at the last successful install, so that the
# (slow) pip step only runs again when dependencies or entry points may have changed.
STAMP = VENV / ".tenggat-stamp"


def venv_bin(name: str) -> Path:
    """Path of an executable inside .venv (Windows venvs use Scripts/ and .exe)."""
    if os.name == "nt":
        return VENV / "Scripts" / f"{name}.exe"
    return VENV / "bin" / name


def run(cmd: Sequence[str | Path]) -> int:
    """Run a command from the repository root and return its exit code (no exception)."""
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False).returncode


def hand_over(cmd: Sequence[str | Path]) -> int:
    """Replace this process with cmd on POSIX, so the service receives SIGINT/SIGTERM itself
    and can shut down gracefully (a wrapping subprocess would be killed 0.25 s after Ctrl-C).
    Windows has no real exec, so there the command runs as a child."""
    args = [str(c) for c in cmd]
    if os.name == "nt":
        return run(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(ROOT)
    os.execv(args[0], args)


def pyproject_hash() -> str:
    """Fingerprint of pyproject.toml; a change means the install may be stale."""
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def ensure_venv() -> Path:
    """Create .venv and install the project editable with the dev extra, only when needed.

    Returns the venv's python. pip is upgraded on creation because the pip bundled with
    an older Python may mishandle PEP 660 editable installs.
    """
    python = venv_bin("python")
    if not python.exists():
        print("setting up .venv (first run only)…", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
            cwd=ROOT,
            check=True,
        )
    digest = pyproject_hash()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        print("installing tenggat with dev dependencies into .venv…", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", ".[dev]"],
            cwd=ROOT,
            check=True,
        )
        STAMP.write_text(digest + "\n")
    return python


def cmd_tenggat(args: list[str]) -> int:
    """Run the installed `tenggat` console script with the given arguments."""
    ensure_venv()
    return hand_over([venv_bin("tenggat"), *args])


def cmd_test(args: list[str]) -> int:
    """Run pytest from the venv; its exit code (5 = nothing collected included) is ours."""
    python = ensure_venv()
    return hand_over([python, "-m", "pytest", *args])


def cmd_lint(args: list[str]) -> int:
    """Run every check even if an earlier one fails, so one run shows all problems."""
    python = ensure_venv()
    checks: list[list[str | Path]] = [
        [python, "-m", "ruff", "check", ".", *args],
        [python, "-m", "ruff", "format", "--check", "."],
        [python, "-m", "mypy"],
        [venv_bin("lint-imports")],  # the layers and their arrows ([tool.importlinter])
    ]
    failed = 0
    for check in checks:
        print("lint:", " ".join(str(c) for c in check[2:] or check[:1]), flush=True)
        if run(check) != 0:
            failed += 1
    return 1 if failed else 0


def cmd_words(args: list[str]) -> int:
    """Run the catalog tool (scheduler/catalog_tool.py) from the venv."""
    python = ensure_venv()
    return run([python, "-m", "scheduler.catalog_tool", *args])


def main(argv: list[str]) -> int:
    """Dispatch the subcommand; usage goes to stderr with exit code 2 on a bad call."""
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "run":
            return cmd_tenggat(["run", *rest])
        if command == "tenggat":
            return cmd_tenggat(rest)
        if command == "test":
            return cmd_test(rest)
        if command == "lint":
            return cmd_lint(rest)
        if command == "words":
            return cmd_words(rest)
    except subprocess.CalledProcessError as exc:
        print(f"dev.py: setup step failed (exit {exc.returncode}): {exc.cmd}", file=sys.stderr)
        return exc.returncode or 1
    except KeyboardInterrupt:
        return 130
    print(f"dev.py: unknown command {command!r}\n\n{__doc__.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
