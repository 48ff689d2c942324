"""Who may write what: commands only call the rooms below them, and each table has one
builder of its rows.  Read from the source's syntax tree, so a copy that drifts back in (a
query in a command, a second place that makes a Submission or an outbox row) fails here
rather than in review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SCHEDULER = Path(__file__).resolve().parent.parent / "scheduler"

# Calls that run SQL or build a statement; a command asks a function of the store instead.
SQL_CALLS = frozenset({"select", "insert", "update", "delete", "execute", "scalar", "scalars"})


def _modules(folder: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(folder.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _called(node: ast.Call) -> str | None:
    """The name a call is made by: ``f(...)`` or ``x.f(...)``."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(SCHEDULER.parent)}:{getattr(node, 'lineno', '?')}"


def test_commands_run_no_sql() -> None:
    """A command parses, calls one function below and prints: no statement of its own."""
    found = [
        _where(path, node)
        for path, tree in _modules(SCHEDULER / "cli")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called(node) in SQL_CALLS
    ]
    assert found == []


def _builds(model: str) -> list[str]:
    """Where a row of ``models.<model>`` is made."""
    return [
        _where(path, node)
        for path, tree in _modules(SCHEDULER)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == model
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "models"
    ]


def test_one_builder_of_submission_rows() -> None:
    """Submissions (the command line, the bot's /lapor and /verifikasi, the sheet import)
    are all made by one function of the store."""
    assert [place.rsplit(":", 1)[0] for place in _builds("Submission")] == [
        "scheduler/store/submissions.py"
    ]


def test_one_builder_of_outbox_rows() -> None:
    """Outbox rows (notices, digests, contact warnings) are all made in the store's outbox
    module: a dict with the outbox's columns anywhere else is a second builder."""
    columns = {"recipient", "days_late"}
    found = [
        _where(path, node)
        for path, tree in _modules(SCHEDULER)
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        and columns <= {key.value for key in node.keys if isinstance(key, ast.Constant)}
        and path != SCHEDULER / "store" / "outbox.py"
    ]
    assert found == [] and _builds("Outbox") == []
