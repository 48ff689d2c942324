"""Every word exists in both languages and takes the same parameters in each: the catalogs
(scheduler/locale/{id,en}/LC_MESSAGES/tenggat.po) hold every entry in both, click's frames
in Indonesian keep click's placeholders, and every command's help has its Indonesian."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from scheduler.catalog import LANGUAGES, LOCALE, po_path
from scheduler.catalog_tool import compiled, help_texts
from scheduler.messages import HEADINGS, MESSAGES, say


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def catalog(language: str, domain: str = "tenggat") -> Catalog:
    with po_path(language, domain).open("rb") as file:
        return read_po(file, locale=language)


def entries(language: str) -> dict[tuple[str | None, str], str]:
    return {(m.context, m.id): m.string for m in catalog(language) if m.id}


def test_every_entry_exists_in_both_languages_with_the_same_parameters() -> None:
    indonesian, english = entries("id"), entries("en")
    assert indonesian.keys() == english.keys()
    for (context, key), text in indonesian.items():
        if context == "help":
            continue  # English in the code; the English catalog may leave it empty
        assert text and english[context, key], (context, key)
        # A letter addresses its reader in Indonesian by title ("kewajiban Bapak"), in
        # English by "your": only there may one language leave the title out.
        optional = {"title"} if context in ("letter", "link") else set()
        assert fields(text) - optional == fields(english[context, key]) - optional, key


def test_every_message_exists_in_both_languages_with_the_same_parameters() -> None:
    assert MESSAGES["id"].keys() == MESSAGES["en"].keys()
    for key, text in MESSAGES["id"].items():
        assert fields(text) == fields(MESSAGES["en"][key]), key


def test_every_heading_exists_in_both_languages() -> None:
    assert HEADINGS["id"].keys() == HEADINGS["en"].keys()


@pytest.mark.parametrize("text", list(help_texts()))
def test_every_help_has_its_indonesian(text: str) -> None:
    found = {m.id: m.string for m in catalog("id") if m.context == "help"}
    assert found.get(text), f"run `python3 dev.py words help` and translate {text!r}"


def test_clicks_frames_keep_their_placeholders_in_indonesian() -> None:
    for entry in catalog("id", "click"):
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        texts = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(texts), ids
        for source, text in zip(ids, texts, strict=True):
            assert fields(text) <= fields(" ".join(ids)), (source, text)


@pytest.mark.parametrize("po", sorted(LOCALE.glob("*/LC_MESSAGES/*.po")), ids=str)
def test_each_compiled_catalog_matches_its_source(po: Path) -> None:
    """Tenggat reads the committed .mo; it must say what the .po says."""
    assert po.with_suffix(".mo").read_bytes() == compiled(po), (
        f"{po.with_suffix('.mo')} is stale: run `python3 dev.py words compile`"
    )


def test_a_message_is_worded_in_the_language_asked_for() -> None:
    counts = {"sent": "1", "total": "2"}
    assert say("links_mailed", "id", **counts) == "1 dari 2 kode tautan terkirim lewat e-mail"
    assert say("links_mailed", "en", **counts) == "1 of 2 link codes e-mailed"
    assert set(LANGUAGES) == {"id", "en"}
