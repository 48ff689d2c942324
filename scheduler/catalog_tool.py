"""Keeping the catalogs (``scheduler/locale``) up to date; for developers, not run by Tenggat.

    python -m scheduler.catalog_tool table MODULE:NAME CONTEXT
        moves a dict of words ``{"id": {key: text}, "en": {key: text}}`` into both catalogs
        under CONTEXT (an entry already there with the same key is replaced); then replace
        the dict in the code with ``catalog.Words(CONTEXT)``.  MODULE is a dotted module or
        a file, e.g. an old messages.py: ``table /tmp/old_messages.py:MESSAGES message``.
    python -m scheduler.catalog_tool help
        adds every command's help that the catalogs lack (English id, empty Indonesian
        text to fill in) and lists the help still untranslated.
    python -m scheduler.catalog_tool compile
        writes the .mo beside every .po (the other two do it too): run it after editing a
        .po by hand.

``python3 dev.py words ...`` runs it.  ``pybabel extract -F babel.cfg -o tenggat.pot .``
gives the standard template of the help (through `extract_help`).
"""

from __future__ import annotations

import importlib
import io
import runpy
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from scheduler.catalog import LANGUAGES, LOCALE, po_path


def _read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain="tenggat", project="tenggat", fuzzy=False)
    with path.open("rb") as file:
        return read_po(file, locale=language)


def _write(language: str, catalog: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=0, omit_header=False, sort_output=False)
    compile_all()


def compiled(po: Path) -> bytes:
    """The .mo that a .po compiles to (what tests/test_words.py compares)."""
    language = po.parent.parent.name
    with po.open("rb") as file:
        catalog = read_po(file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_all() -> None:
    """Write the .mo beside every .po of the catalogs."""
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        po.with_suffix(".mo").write_bytes(compiled(po))


def _key(key: Any) -> str:
    """A dict's key as a msgid: an enum by its value."""
    return str(getattr(key, "value", key))


def add_table(where: str, context: str) -> None:
    """Move the dict named ``module:NAME`` into both catalogs under ``context``."""
    module, name = where.rsplit(":", 1)
    if module.endswith(".py"):
        found = runpy.run_path(module)
    else:
        found = vars(importlib.import_module(module))
    table: Mapping[str, Mapping[Any, str]] = found[name]
    for language in LANGUAGES:
        catalog = _read(language)
        for key, text in table[language].items():
            catalog.add(_key(key), text, context=context)
        _write(language, catalog)


def help_texts() -> Iterator[str]:
    """Every command's and option's help in the command tree, English as written."""
    import click

    from scheduler.cli.language import written
    from scheduler.cli.main import cli

    def walk(command: click.Command) -> Iterator[str]:
        things: list[click.Command | click.Option] = [command]
        things += [p for p in command.params if isinstance(p, click.Option)]
        for thing in things:
            text = written(thing)
            if text:
                yield text
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub)

    seen: set[str] = set()
    for text in walk(cli):
        if text not in seen:
            seen.add(text)
            yield text


def extract_help(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """A babel extraction method (babel.cfg) yielding the command tree's help texts, as
    if each were written ``pgettext("help", text)``."""
    for text in help_texts():
        yield 0, "pgettext", ("help", text), []


def add_help() -> list[str]:
    """Add help the catalogs lack; return the help with no Indonesian yet."""
    for language in LANGUAGES:
        catalog = _read(language)
        for text in help_texts():
            if catalog.get(text, context="help") is None:
                catalog.add(text, "", context="help")
        _write(language, catalog)
    indonesian = _read("id")
    return [text for text in help_texts() if not _string(indonesian, text, "help")]


def _string(catalog: Catalog, key: str, context: str) -> str:
    """The text of an entry; empty when it has none (or is missing)."""
    entry = catalog.get(key, context=context)
    return entry.string if entry is not None and isinstance(entry.string, str) else ""


def main(argv: list[str]) -> int:
    if argv[:1] == ["table"] and len(argv) == 3:
        add_table(argv[1], argv[2])
        return 0
    if argv == ["compile"]:
        compile_all()
        return 0
    if argv == ["help"]:
        missing = add_help()
        for text in missing:
            print(f"untranslated: {text!r}")
        return 1 if missing else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
