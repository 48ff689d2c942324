"""Every word Tenggat says to people, read from gettext catalogs (``scheduler/locale``).

One catalog per language and domain: ``tenggat`` holds the project's words, each named by
a context (the table it belongs to: ``message``, ``heading``, ``bot``, …) and a stable key,
plus the commands' help with the English text as its id; ``click`` translates click's own
frames ("Usage:", "Error:").  The ``.po`` files are the source; the ``.mo`` beside each is
committed with it, so a fresh checkout needs no build step, and tests/test_words.py fails
when a ``.mo`` does not match its ``.po`` (``python3 dev.py words compile`` makes them).
Read with the standard library's gettext: a few milliseconds, where parsing the ``.po``
with babel at start-up cost about 150 ms on every command.

Imports nothing of the project: `tenggat --help` stays fast.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("id", "en")
DOMAIN = "tenggat"
_CONTEXT = "\x04"  # how a .mo file joins a context to its key


def po_path(language: str, domain: str = DOMAIN) -> Path:
    """Where the catalog of ``language`` for ``domain`` lives (its .mo: ``.with_suffix``)."""
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


@cache
def translations(language: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The compiled catalog of ``domain`` in ``language``; none (the ids themselves) when the
    language has no such catalog, as click's strings in English."""
    path = po_path(language, domain).with_suffix(".mo")
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as file:
        return gettext.GNUTranslations(file)


@cache
def _table(language: str, context: str) -> dict[str, str]:
    """The entries of one context, key -> text.  The standard library's translations keep
    their entries in ``_catalog`` (keys ``context\x04id``) and offer no way to list them."""
    entries: dict[object, str] = getattr(translations(language), "_catalog", {})
    prefix = context + _CONTEXT
    return {
        key[len(prefix) :]: text
        for key, text in entries.items()
        if isinstance(key, str) and key.startswith(prefix)
    }


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
    return translations(language).pgettext("help", text)
