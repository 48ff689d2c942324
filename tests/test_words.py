"""The admin's messages exist in both languages and take the same parameters in each."""

from __future__ import annotations

import string

from scheduler.messages import HEADINGS, MESSAGES, say


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_exists_in_both_languages_with_the_same_parameters() -> None:
    assert MESSAGES["id"].keys() == MESSAGES["en"].keys()
    for key, text in MESSAGES["id"].items():
        assert fields(text) == fields(MESSAGES["en"][key]), key


def test_every_heading_exists_in_both_languages() -> None:
    assert HEADINGS["id"].keys() == HEADINGS["en"].keys()


def test_a_message_is_worded_in_the_language_asked_for() -> None:
    counts = {"sent": "1", "total": "2"}
    assert say("links_mailed", "id", **counts) == "1 dari 2 kode tautan terkirim lewat e-mail"
    assert say("links_mailed", "en", **counts) == "1 of 2 link codes e-mailed"
