"""What the admin's commands say, in Indonesian and English: table headings and messages.

The words are in the catalogs (`scheduler.catalog`); this module names its two tables and
says a message.  It imports nothing else of the project: every command module reads it at
start-up, and `tenggat --help` must not pay for the rule engine that `scheduler.words`
(rules, dates and statuses in words) brings with it.

A new message goes into both ``.po`` files under ``msgctxt "message"`` (then ``python3
dev.py words compile``), or, written as a dict ``{"id": {...}, "en": {...}}``, is moved
there with ``python3 dev.py words table MODULE:NAME message``.
"""

from __future__ import annotations

from scheduler.catalog import Words

# Both tables live in the catalogs (scheduler/locale/*/LC_MESSAGES/tenggat.po), read as
# ``HEADINGS[language][key]`` and ``MESSAGES[language][key]`` as before.
HEADINGS = Words("heading")
MESSAGES = Words("message")


def say(message: str, language: str, **params: str) -> str:
    """A message in ``language``; a non-empty ``hints`` parameter adds "did you mean …?".

    Messages are named, not written inline, so that every one exists in both languages."""
    texts = MESSAGES[language]
    text = texts[message].format(**params)
    if params.get("hints"):
        text += "; " + texts["hint"].format(hints=params["hints"])
    elif message == "no_employee":
        text += "; " + texts["hint_roster"]
    return text


class Said(Exception):
    """An error that says itself in the admin's language: ``message`` names a text in
    `MESSAGES` and ``params`` fill it in; ``str()`` gives the English."""

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(self.text("en"))

    def text(self, language: str) -> str:
        return say(self.message, language, **self.params)
