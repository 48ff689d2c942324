"""Load-time errors that point at the file, the key and the line a person has to fix."""

from __future__ import annotations

import re
from collections.abc import Sequence


class DefinitionError(ValueError):
    """A catalog or configuration entry that cannot be used, with where to find it."""

    def __init__(self, source: str, key: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        self.line = line
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {key}: {reason}")


_AT_LINE = re.compile(r"at line (\d+)")


def syntax_error(source: str, exc: ValueError) -> DefinitionError:
    """A TOML syntax error as a DefinitionError with its line (tomllib puts it in the text)."""
    found = _AT_LINE.search(str(exc))
    return DefinitionError(source, "(syntax)", str(exc), int(found.group(1)) if found else None)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+?)\s*=")


def _plain(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


def locate_key(text: str, path: Sequence[str | int]) -> int | None:
    """The 1-based line where a key path such as ``("rule", 3, "rrule")`` is written.

    A best effort over TOML's common shapes (tables, arrays of tables, plain and dotted
    keys); when the key itself is not found it answers with the line of its table, and
    None when even that is absent, e.g. for a value set by an environment variable.
    """
    names = [str(p) for p in path if not isinstance(p, int)]
    indexes = [p for p in path if isinstance(p, int)]
    best: int | None = None
    seen_arrays: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _plain(header.group(2))
            if header.group(1) == "[[":
                seen_arrays[table] = seen_arrays.get(table, -1) + 1
                if indexes and seen_arrays[table] != indexes[0]:
                    table = "\0"  # another element of the array: not ours
            if table == ".".join(names[: len(table.split("."))]) and best is None:
                best = number
            continue
        assign = _ASSIGN.match(line)
        if assign is None or table == "\0":
            continue
        full = ".".join(filter(None, (table, _plain(assign.group(1)))))
        wanted = ".".join(names)
        if full == wanted:
            return number
        if wanted.startswith(full + ".") and best is None:
            best = number  # an inline table holding the key
    return best
