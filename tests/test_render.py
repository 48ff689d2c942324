"""Message templates: one letter per person, own items first, then the team's, worded as
an Indonesian office writes to its staff."""

from __future__ import annotations

import dataclasses
import re

import pytest

from notifications.render import HTML, TELEGRAM, TEXT, Item, Letter, render, subject
from notifications.telegram import split
from scheduler.words import LETTER, title

SKP = "Sasaran Kinerja Pegawai (SKP)"
OVERDUE = Item("overdue", SKP, "Tahun 2025", "Jumat, 28 Februari 2025", 3, "A")
SOON = Item(
    "reminder", "SPT Tahunan PPh Orang Pribadi", "Tahun Pajak 2024", "Senin, 31 Maret 2025",
    None, "A", days_left=7,
)  # fmt: skip
TODAY = Item("due_today", "Laporan P3DN", "Maret 2025", "Selasa, 25 Maret 2025", None, "A")
TEAM = Item("escalation", SKP, "Tahun 2025", "Jumat, 28 Februari 2025", 3, "YANTI HEIDA YANI")
TEAM_PK = Item("escalation", "Perjanjian Kinerja (PK)", "Tahun 2025", "Senin, 20 Januari 2025", 42,
               "YANTI HEIDA YANI")  # fmt: skip
SIGNED = "Sekretariat Badan Kesbangpol Kabupaten Kutai Kartanegara"


def letter(items: list[Item], language: str = "id", nip: str | None = None,
           name: str = "SUTRISNO") -> Letter:  # fmt: skip
    return Letter(name, title(nip, language), items, LETTER[language], SIGNED, "WITA")


@pytest.mark.parametrize(
    ("nip", "expected"),
    [
        ("197105152000121003", "Bapak"),  # the 15th digit: 1
        ("197405161994022001", "Ibu"),  # 2
        ("TMP-292cc2e443", "Bapak/Ibu"),  # a provisional key says nothing
        (None, "Bapak/Ibu"),
        ("19710515200012300", "Bapak/Ibu"),  # 17 digits: not a NIP
    ],
)
def test_a_person_is_addressed_as_bapak_or_ibu_by_the_nip(nip: str | None, expected: str) -> None:
    assert title(nip, "id") == expected
    assert render(TEXT, letter([OVERDUE], nip=nip)).startswith(f"Yth. {expected} SUTRISNO\n")


def test_indonesian_letter_lists_own_items_then_the_team_and_names_its_sender() -> None:
    text = render(TEXT, letter([TEAM, OVERDUE, SOON, TODAY, TEAM_PK], nip="197105152000121003"))
    lines = text.splitlines()
    assert lines[:3] == ["Yth. Bapak SUTRISNO", "", "Dengan hormat,"]
    own = lines.index("Bersama ini kami sampaikan kewajiban Bapak yang perlu perhatian:")
    team = lines.index("Kewajiban bawahan Bapak berikut belum disampaikan:")
    assert own < team
    assert lines[own + 1 : own + 4] == [
        "1. Sasaran Kinerja Pegawai (SKP) Tahun 2025: belum disampaikan, lewat 3 hari dari "
        "batas waktu Jumat, 28 Februari 2025.",
        "2. SPT Tahunan PPh Orang Pribadi Tahun Pajak 2024: batas waktu Senin, 31 Maret 2025 "
        "(7 hari lagi).",
        "3. Laporan P3DN Maret 2025: batas waktu hari ini, Selasa, 25 Maret 2025, sampai "
        "pukul 23.59 WITA.",
    ]
    # One person, their items under their name, and what the superior is asked to do.
    assert lines[team + 1 : team + 4] == [
        "1. YANTI HEIDA YANI",
        "   - Sasaran Kinerja Pegawai (SKP) Tahun 2025: lewat 3 hari dari batas waktu "
        "Jumat, 28 Februari 2025.",
        "   - Perjanjian Kinerja (PK) Tahun 2025: lewat 42 hari dari batas waktu Senin, "
        "20 Januari 2025.",
    ]
    assert "Mohon bantuan Bapak mengingatkan yang bersangkutan" in text
    assert "Mohon kewajiban tersebut segera diselesaikan" in text  # something is late
    assert "Atas perhatian Bapak, kami ucapkan terima kasih." in lines
    assert lines[-2:] == [SIGNED, "Pesan ini dikirim otomatis oleh Tenggat."]
    assert "Anda" not in text and "tenggat" not in text.replace("oleh Tenggat", "")


def test_a_letter_of_reminders_only_asks_for_the_deadline_not_for_haste() -> None:
    text = render(TEXT, letter([SOON]))
    assert "paling lambat pada batas waktunya" in text and "segera" not in text


def test_sections_without_items_are_left_out() -> None:
    assert "bawahan" not in render(TEXT, letter([OVERDUE]))
    text = render(TEXT, letter([TEAM]))
    assert "kewajiban Bapak/Ibu yang perlu perhatian" not in text
    assert "Mohon kewajiban tersebut" not in text  # nothing of their own to report


def test_english_is_available() -> None:
    english = letter([OVERDUE, TEAM], "en", nip="197405161994022001")
    text = render(TEXT, english)
    assert text.startswith("Dear Ms SUTRISNO,")
    assert "Your obligations that need attention:" in text
    assert "Obligations of your staff not yet submitted:" in text
    assert "3 day(s) past the deadline of Jumat, 28 Februari 2025" in text
    assert subject(english) == "2 IKI obligation(s) need attention"


def test_the_subject_counts_the_obligations() -> None:
    assert subject(letter([OVERDUE, SOON, TEAM])) == "3 kewajiban IKI perlu perhatian"


def test_html_escapes_every_value_but_keeps_its_own_markup() -> None:
    hostile = Item("overdue", "R<script>", "2025", "d & e", 1, "<b>x</b>")
    html = render(HTML, letter([hostile], name="A & <B>"))
    assert "<p>Yth. Bapak/Ibu A &amp; &lt;B&gt;</p>" in html
    assert "R&lt;script&gt;" in html and "<script>" not in html
    assert "<li>R&lt;script&gt; 2025: belum disampaikan, lewat 1 hari dari batas " \
        "waktu d &amp; e.</li>" in html  # fmt: skip
    assert "<p><strong>Bersama ini kami sampaikan" in html


def test_telegram_html_uses_only_telegram_tags_and_escapes_values() -> None:
    hostile = Item("escalation", "R&D <laporan>", "2025", "d", 2, "<i>Budi</i>")
    html = render(TELEGRAM, letter([OVERDUE, hostile]))
    assert set(re.findall(r"</?([a-z]+)", html)) <= {"b", "i"}
    assert "<b>Bersama ini kami sampaikan kewajiban Bapak/Ibu yang perlu perhatian:</b>" in html
    assert "1. <b>&lt;i&gt;Budi&lt;/i&gt;</b>" in html
    assert "• R&amp;D &lt;laporan&gt; 2025" in html


def test_contact_problems_go_to_their_own_section() -> None:
    broken = Item("contact", "", "", "", None, "BUDI", "1990", "Forbidden: bot was blocked")
    text = render(TEXT, letter([broken]))
    assert "Kontak yang perlu diperbarui:" in text
    assert (
        "1. BUDI (1990): Telegram tidak dapat menjangkau chat-nya (Forbidden: bot was blocked)"
        in text
    )
    assert "tenggat contact 1990 --telegram CHAT_ID" in text


def test_an_item_awaiting_verification_asks_its_verifier_to_verify() -> None:
    """Handed in but not verified by the batas waktu: the superior is asked to verify it,
    in a section of its own, never told it was not submitted."""
    waiting = Item("verify", "Input dan Verifikasi e-Pantau", "Februari 2025",
                   "Senin, 10 Februari 2025", 1, "H. ABDUL HARIS, S.Sos")  # fmt: skip
    text = render(TEXT, letter([waiting, TEAM], nip="196905221997031004"))
    assert (
        "Berikut yang sudah diinput dan menunggu verifikasi Bapak:\n"
        "1. H. ABDUL HARIS, S.Sos, Input dan Verifikasi e-Pantau Februari 2025: sudah diinput, "
        "belum diverifikasi, lewat 1 hari dari batas waktu Senin, 10 Februari 2025."
    ) in text
    assert "Mohon Bapak segera memverifikasinya" in text
    assert text.index("menunggu verifikasi") < text.index("Kewajiban bawahan Bapak")
    assert "e-Pantau Februari 2025: lewat" not in text  # not an overdue submission
    english = render(TEXT, letter([waiting], "en"))
    assert "Handed in and awaiting your verification:" in english
    assert "handed in, not verified, 1 day(s) past the deadline" in english


SERAPAN = "Serapan Anggaran terhadap SPD"


@pytest.mark.parametrize(
    ("kind", "days", "indonesian", "english"),
    [
        (
            "reminder",
            3,
            f"1. {SERAPAN} Februari 2025: mohon isi nilainya paling lambat Jumat, 28 Februari"
            " 2025 (3 hari lagi).",
            "please record its value by Jumat, 28 Februari 2025 (in 3 day(s)).",
        ),
        (
            "due_today",
            None,
            f"1. {SERAPAN} Februari 2025: mohon isi nilainya hari ini, Jumat, 28 Februari 2025,"
            " sampai pukul 23.59 WITA.",
            "please record its value today",
        ),
        (
            "overdue",
            3,
            f"1. {SERAPAN} Februari 2025: nilainya belum diisi, lewat 3 hari dari batas waktu"
            " Jumat, 28 Februari 2025; mohon segera isi nilainya.",
            "value not recorded, 3 day(s) past the deadline",
        ),
    ],
)
def test_a_measure_letter_asks_for_the_value_not_a_document(
    kind: str, days: int | None, indonesian: str, english: str
) -> None:
    item = Item(kind, SERAPAN, "Februari 2025", "Jumat, 28 Februari 2025", days, "A",
                days_left=days, measured=True)  # fmt: skip
    text = render(TEXT, letter([item]))
    assert indonesian in text.splitlines()
    assert "belum disampaikan" not in text
    assert english in render(TEXT, letter([item], "en"))


def staff(count: int, items: tuple[Item, ...] = (TEAM, TEAM_PK)) -> list[Item]:
    """``items`` owed by ``count`` subordinates, P01 … (a superior's or the Secretary's)."""
    return [
        dataclasses.replace(item, subject=f"P{n:02d}", subject_key=f"K{n:02d}")
        for n in range(1, count + 1)
        for item in items
    ]


@pytest.mark.parametrize(
    ("people", "heading", "first"),
    [
        # up to a screen of staff: each person with their items, as a superior reads them
        (1, "Kewajiban bawahan Bapak/Ibu berikut belum disampaikan:", "1. P01"),
        (8, "Kewajiban bawahan Bapak/Ibu berikut belum disampaikan:", "1. P01"),
        # more: one line per obligation with how many owe it and at most eight names
        (
            9,
            "Kewajiban bawahan Bapak/Ibu yang belum disampaikan, per kewajiban:",
            "1. Sasaran Kinerja Pegawai (SKP) Tahun 2025: 9 orang belum menyampaikan, "
            "lewat 3 hari dari batas waktu Jumat, 28 Februari 2025.",
        ),
    ],
)
def test_many_staff_are_told_by_obligation_not_by_person(
    people: int, heading: str, first: str
) -> None:
    lines = render(TEXT, letter([OVERDUE, *staff(people)])).splitlines()
    team = lines.index(heading)
    assert lines[team + 1] == first
    numbered = [line for line in lines[team:] if re.match(r"\d+\. ", line)]
    assert len(numbered) == (people if people <= 8 else 2)  # people, or SKP and PK


def test_an_obligation_names_eight_people_and_sends_to_the_digest_for_the_rest() -> None:
    text = render(TEXT, letter(staff(57, (TEAM_PK,))))
    lines = text.splitlines()
    assert "1. Perjanjian Kinerja (PK) Tahun 2025: 57 orang belum menyampaikan, lewat 42 " \
        "hari dari batas waktu Senin, 20 Januari 2025." in lines  # fmt: skip
    assert (
        "   - P01; P02; P03; P04; P05; P06; P07; P08; dan 49 lainnya: lihat ringkasan mingguan"
        in lines
    )
    assert "P09" not in text and len(text) < 1200
    english = render(TEXT, letter(staff(57, (TEAM_PK,)), "en"))
    assert "P08; and 49 more: see the weekly digest" in english


def test_two_people_of_one_name_are_not_merged() -> None:
    unread = dataclasses.replace(TEAM_PK, subject="(nama tidak terbaca)")
    items = [dataclasses.replace(unread, subject_key=key) for key in ("K1", "K2")]
    lines = render(TEXT, letter(items)).splitlines()
    assert lines.count("1. (nama tidak terbaca)") == lines.count("2. (nama tidak terbaca)") == 1


@pytest.mark.parametrize("people", [100, 5_000])
def test_a_letter_stays_one_message_however_much_is_owed(people: int) -> None:
    """A Secretary owed every escalation of a big agency (several obligations and periods),
    their own obligations, items to verify and contacts to fix: each section lists its
    first lines and says how many more there are and where they are listed, so the letter
    is the same size whatever the count, in every format: with all four sections full, two
    Telegram parts; the Secretary's usual letter (the staff's obligations) fits in one."""
    periods = [f"Bulan {n}" for n in range(20)]
    team = [dataclasses.replace(TEAM, period=p) for p in periods]
    own = [dataclasses.replace(OVERDUE, period=p) for p in periods]
    verify = [dataclasses.replace(TEAM, kind="verify", subject=f"V{n}") for n in range(people)]
    contacts = [
        Item("contact", "", "telegram", "", None, f"C{n}", f"K{n}", "Forbidden")
        for n in range(people)
    ]
    items = [*own, *staff(people, tuple(team)), *verify, *contacts]
    text = render(TEXT, letter(items))
    lines = text.splitlines()
    assert "Dan 12 kewajiban lainnya: lihat /status di Telegram." in lines
    assert "Dan 12 kewajiban lainnya: lihat ringkasan mingguan." in lines
    assert f"Dan {people - 8} lainnya menunggu verifikasi: lihat ringkasan mingguan." in lines
    assert f"Dan {people - 8} kontak lainnya: lihat tenggat doctor." in lines
    counted = f"Sasaran Kinerja Pegawai (SKP) Bulan 0: {people} orang belum menyampaikan"
    assert any(counted in line for line in lines)
    assert "P09" not in text and "V8" not in text and "C8" not in text
    numbered = [line for line in lines if re.match(r"\d+\. ", line)]
    assert len(numbered) == 4 * 8
    assert len(split(render(TELEGRAM, letter(items)))) == 2
    assert len(split(render(TELEGRAM, letter(staff(people, tuple(team)))))) == 1
    assert len(render(HTML, letter(items))) < 8000
    english = render(TEXT, letter(items, "en"))
    assert f"And {people - 8} more contacts: see tenggat doctor." in english
