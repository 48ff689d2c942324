"""Every word Tenggat says to people, read from gettext catalogs (``scheduler/locale``).

One ``.po`` per language and domain: ``tenggat.po`` holds the project's words, each named
by a context (the table it belongs to: ``message``, ``heading``, ``bot``, …) and a stable
key, plus the commands' help with the English text as its id; ``click.po`` translates
click's own frames ("Usage:", "Error:").  The ``.po`` files are read at first use and
cached, so there is no compile step that a fresh checkout or CI could miss.

Imports nothing of the project, and babel only when a catalog is first read: `tenggat
--help` stays fast.  ``python3 dev.py words`` keeps the catalogs up to date (see
`scheduler.catalog_tool`).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("id", "en")
DOMAIN = "tenggat"


def po_path(language: str, domain: str = DOMAIN) -> Path:
    """Where the catalog of ``language`` for ``domain`` lives."""
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


@cache
def _entries(language: str) -> dict[tuple[str | None, str], str]:
    """The project's catalog in ``language`` as (context, id) -> text; an untranslated
    entry (empty text) says its id, as gettext does."""
    from babel.messages.pofile import read_po

    with po_path(language).open("rb") as file:
        catalog = read_po(file, locale=language)
    return {
        (entry.context, entry.id): entry.string or entry.id
        for entry in catalog
        if entry.id and isinstance(entry.id, str) and isinstance(entry.string, str)
    }


@cache
def _table(language: str, context: str) -> dict[str, str]:
    return {key: text for (ctx, key), text in _entries(language).items() if ctx == context}


class Words(Mapping[str, Mapping[str, str]]):
    """One table of words, ``WORDS[language][key]``: the shape the dicts it replaced had,
    so that their call sites stay as they were.  ``context`` names the table in the
    catalogs."""

    def __init__(self, context: str) -> None:
        self.context = context

    def __getitem__(self, language: str) -> Mapping[str, str]:
        if language not in LANGUAGES:
            raise KeyError(language)
        return _table(language, self.context)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


def help_text(text: str, language: str) -> str:
    """A command's help (docstring or option help, English in the code) in ``language``."""
    return _entries(language).get(("help", text), text)


@cache
def translations(language: str, domain: str) -> gettext.NullTranslations:
    """A gettext translation of ``domain`` (e.g. click's strings) read from its ``.po``;
    none (the English ids) when the language has no such catalog."""
    path = po_path(language, domain)
    if not path.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        catalog = read_po(file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
