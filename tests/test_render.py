"""Message templates: one message per person, own items first, then the team's."""

from __future__ import annotations

import re

import pytest

from notifications.render import HTML, TELEGRAM, TEXT, Item, render

SKP = "Sasaran Kinerja Pegawai (SKP)"
OVERDUE = Item("overdue", SKP, "2025", "Jumat, 28 Februari 2025", 3, "A")
SOON = Item("reminder", "SPT Tahunan PPh Orang Pribadi", "2025", "Senin, 31 Maret 2025", None, "A")
TODAY = Item("due_today", "Laporan P3DN", "2025-03", "Selasa, 25 Maret 2025", None, "A")
TEAM = Item("escalation", SKP, "2025", "Jumat, 28 Februari 2025", 3, "YANTI HEIDA YANI")


def test_indonesian_message_lists_own_items_then_the_team() -> None:
    text = render(TEXT, "SUTRISNO", [TEAM, OVERDUE, SOON, TODAY], "id")
    lines = text.splitlines()
    assert lines[0] == "Yth. SUTRISNO,"
    own = lines.index("Kewajiban Anda:")
    team = lines.index("Belum disampaikan oleh bawahan Anda:")
    assert own < team
    assert lines[own + 1] == (
        "- Sasaran Kinerja Pegawai (SKP) periode 2025: lewat tenggat 3 hari "
        "(batas Jumat, 28 Februari 2025). Mohon segera disampaikan."
    )
    assert (
        "- SPT Tahunan PPh Orang Pribadi periode 2025: jatuh tempo Senin, 31 Maret 2025." in lines
    )
    assert "- Laporan P3DN periode 2025-03: batas waktu hari ini, Selasa, 25 Maret 2025." in lines
    assert lines[team + 1].startswith("- YANTI HEIDA YANI: Sasaran Kinerja Pegawai (SKP)")
    assert lines[-1] == "— Tenggat"


def test_sections_without_items_are_left_out() -> None:
    assert "Belum disampaikan" not in render(TEXT, "A", [OVERDUE], "id")
    assert "Kewajiban Anda" not in render(TEXT, "B", [TEAM], "id")


def test_english_is_available() -> None:
    text = render(TEXT, "SUTRISNO", [OVERDUE, TEAM], "en")
    assert text.startswith("Dear SUTRISNO,")
    assert "Your obligations:" in text and "Not yet submitted by your team:" in text
    assert "3 day(s) overdue" in text


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(Exception, match="fr/words"):
        render(TEXT, "A", [OVERDUE], "fr")


def test_html_escapes_every_value_but_keeps_its_own_markup() -> None:
    hostile = Item("overdue", "R<script>", "2025", "d & e", 1, "<b>x</b>")
    html = render(HTML, "A & <B>", [hostile], "id")
    assert "Yth. A &amp; &lt;B&gt;," in html
    assert "R&lt;script&gt;" in html and "<script>" not in html
    assert "d &amp; e" in html
    assert "<li>R&lt;script&gt; periode 2025: lewat tenggat 1 hari (batas d &amp; e)." in html
    assert "<p><strong>Kewajiban Anda:</strong></p>" in html


def test_telegram_html_uses_only_telegram_tags_and_escapes_values() -> None:
    hostile = Item("escalation", "R&D <laporan>", "2025", "d", 2, "<i>Budi</i>")
    html = render(TELEGRAM, "SUTRISNO", [OVERDUE, hostile], "id")
    assert set(re.findall(r"</?([a-z]+)", html)) == {"b"}
    assert "<b>Kewajiban Anda:</b>" in html
    assert "• &lt;i&gt;Budi&lt;/i&gt;: R&amp;D &lt;laporan&gt; periode 2025" in html


def test_contact_problems_go_to_their_own_section() -> None:
    broken = Item("contact", "", "", "", None, "BUDI", "1990", "Forbidden: bot was blocked")
    text = render(TEXT, "ADMIN", [broken], "id")
    assert "Kontak yang perlu diperbarui:" in text
    assert (
        "- BUDI (1990): Telegram tidak dapat menjangkau chat-nya (Forbidden: bot was blocked)"
        in text
    )
    assert "tenggat contact 1990 --telegram CHAT_ID" in text
