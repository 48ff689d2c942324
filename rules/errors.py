"""Load-time errors that point at the file, the key and the line a person has to fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence


class DefinitionError(ValueError):
    """A catalog or configuration entry that cannot be used, with where to find it."""

    def __init__(self, source: str, key: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        self.line = line
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {key}: {reason}")


def did_you_mean(word: str, known: Iterable[str], spell: str = "{}") -> str:
    """ " (did you mean X?)" for the closest known word, or "" when none is close; ``spell``
    writes the suggestion as the reader would type it (e.g. as an environment variable)."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {spell.format(close[0])}?)" if close else ""


def key_path(path: Sequence[str | int]) -> str:
    """A key path as people read it in TOML: ``("rule", 3, "rrule")`` → ``rule[3].rrule``."""
    text = ".".join(part if isinstance(part, str) else f"[{part}]" for part in path)
    return text.replace(".[", "[") or "(top)"


_AT_LINE = re.compile(r"at line (\d+)")


def syntax_error(source: str, exc: ValueError, text: str = "") -> DefinitionError:
    """A TOML syntax error as a DefinitionError with its line: tomllib puts "at line N" in
    its message, or "at end of document", which is the last line of ``text``."""
    found = _AT_LINE.search(str(exc))
    if found:
        line: int | None = int(found.group(1))
    else:
        line = (text.count("\n") + (not text.endswith("\n"))) or None
    return DefinitionError(source, "(syntax)", str(exc), line)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+?)\s*=")


def _plain(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


def locate_key(text: str, path: Sequence[str | int]) -> int | None:
    """The 1-based line where a key path such as ``("rule", 3, "rrule")`` is written.

    A best effort over TOML's common shapes (tables, arrays of tables and their sub-tables,
    plain, dotted and inline keys): the exact key's line, else the line of the deepest
    table or inline value that holds it, else None (e.g. a value set by an environment
    variable).
    """
    wanted = ".".join(str(p) for p in path if not isinstance(p, int))
    first = next((i for i, p in enumerate(path) if isinstance(p, int)), None)
    array = ".".join(str(p) for p in path[:first]) if first is not None else None
    index = path[first] if first is not None else None
    counts: dict[str, int] = {}
    table, ours = "", True
    best, best_depth = None, 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _plain(header.group(2))
            if header.group(1) == "[[":
                counts[table] = counts.get(table, -1) + 1
            inside = array is not None and (table == array or table.startswith(array + "."))
            ours = not inside or counts.get(array or "", -1) == index
            candidate = table
        else:
            assign = _ASSIGN.match(line)
            if assign is None:
                continue
            candidate = ".".join(filter(None, (table, _plain(assign.group(1)))))
        if not ours:
            continue
        if candidate == wanted:
            return number
        depth = candidate.count(".") + 1
        if wanted.startswith(candidate + ".") and depth > best_depth:
            best, best_depth = number, depth
    return best
