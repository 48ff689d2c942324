"""What the bot says, in Bahasa Indonesia and English: ``WORDS[language][key]``, read from
the catalogs (msgctxt "bot" in scheduler/locale/{id,en}/LC_MESSAGES/tenggat.po)."""

from __future__ import annotations

from scheduler.catalog import Words

WORDS = Words("bot")
