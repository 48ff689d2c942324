"""The "Sudah lapor" button, and the callback data it sends back, made and read here alone.

A reminder carries one such button per item a person owes (the dispatcher adds them, and
imports nothing else of the bot); pressing it sends ``lapor:CODE:PERIOD`` to the bot, which
starts /lapor for that item.  Telegram allows 64 bytes of callback data, and a rule code and
a period key are short.
"""

from __future__ import annotations

from scheduler.bot.words import WORDS

Button = tuple[str, str]  # label, callback data (at most 64 bytes)
REPORT = "lapor"
NO_EVIDENCE = "lapor:-"  # the /lapor flow's "no evidence" answer


def report_data(code: str, period: str) -> str:
    """What the button that starts /lapor for one item sends back."""
    return f"{REPORT}:{code}:{period}"


def report_button(code: str, period: str, named: str, language: str = "id") -> Button:
    """The 'Sudah lapor' button of one reminder item: pressing it starts /lapor for it.
    Its label names the period in words (``named``, "Triwulan I 2025"), its data the key."""
    label = WORDS[language]["done_button"].format(code=code, period=named)
    return label, report_data(code, period)


def reported(data: str) -> tuple[str, str] | None:
    """The (rule code, period) a 'Sudah lapor' button sent, or None for other data."""
    parts = data.split(":")
    if parts[0] == REPORT and len(parts) == 3:
        return parts[1], parts[2]
    return None
