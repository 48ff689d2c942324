"""The admin's desk on a person's page, over a real uvicorn and a real database (SQLite and
PostgreSQL): recording a submission with an evidence file, a measure's value and its
verification, exempting, setting an event; each write audited, shown in `tenggat
submissions list` as the command line's are, and refused with nothing written for a visitor
who does not record, a form without its CSRF token, or a file too big or of another kind.
The browser records one in tests/test_browser.py."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from test_web import HEAD, HOSTILE, SECRETARY, STAFF, Console, console, form_token, signed_in

from rules.calendar import WITA
from scheduler.cli.main import cli
from scheduler.store import evidence, models
from scheduler.store.db import Database
from scheduler.store.records import RecordError
from scheduler.web.views import evidence_shown

__all__ = ["console"]  # the fixture, from test_web

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
YEAR = str(datetime.now(WITA).year)  # the page offers this year's and last year's items
WRITTEN = (models.Submission, models.EvidenceFile, models.Exemption, models.Event)


def written(console: Console) -> dict[str, int]:
    """How many rows each table a desk writes holds, and how many desk writes are audited."""
    counts = {table.__tablename__: console.count(table) for table in WRITTEN}
    with console.db.read() as session:
        audit = models.WebAudit
        desk = audit.action.in_(("record_submission", "exempt", "set_event"))
        counts["audit"] = int(session.scalar(select(func.count()).where(desk)) or 0)
    return counts


def token_of(page: str) -> str:
    """The session's form token: every form of a page (the desk's, sign-out's) has it."""
    (token,) = set(re.findall(r'name="csrf" value="([^"]+)"', page))
    return token


def csrf_of(browser: httpx.Client, key: str) -> str:
    return token_of(browser.get(f"/employees/{key}").text)


def record(
    browser: httpx.Client, key: str, file: tuple[str, bytes] | None = None, **fields: str
) -> httpx.Response:
    data = {"csrf": csrf_of(browser, key), "item": f"SKP {YEAR}"} | fields
    files = {"file": (file[0], file[1], "application/octet-stream")} if file else None
    return browser.post(f"/employees/{key}/submissions", data=data, files=files)


def history(console: Console, nip: str) -> list[dict[str, Any]]:
    """`tenggat submissions list --nip NIP --json`, as an admin reads it."""
    done = CliRunner(env=console.environ).invoke(
        cli, ["submissions", "list", "--nip", nip, "--json"]
    )
    assert done.exit_code == 0, done.output
    found: list[dict[str, Any]] = json.loads(done.output)
    return found


def line_of(page: str, code: str) -> str:
    """The row of a person's page that lists ``code`` of this year."""
    rows = re.findall(r"<tr[^>]*><td>(.*?)</tr>", page, re.S)
    return next(row for row in rows if row.startswith(f"{code}:") and f"{YEAR}" in row)


def badge(line: str) -> str:
    (found,) = re.findall(r'class="badge (\w+)"', line)
    return found


def test_the_secretary_records_a_submission_with_its_file_as_the_cli_records_one(
    console: Console,
) -> None:
    browser = signed_in(console, SECRETARY)
    before = browser.get(f"/employees/{STAFF}").text
    assert 'id="record"' in before and 'enctype="multipart/form-data"' in before
    assert f'<option value="SKP {YEAR}"' in before  # chosen from what they owe
    assert "BKN-9" not in before

    done = record(
        browser,
        STAFF,
        ("SKP 2026 Yanti.pdf", PDF),
        note="BKN-9",
        submitted_at=f"{YEAR}-01-15T09:30",
    )
    assert done.status_code == 303, done.text
    assert re.fullmatch(rf"/employees/{STAFF}\?recorded=\d+#notice", done.headers["location"])
    page = browser.get(done.headers["location"]).text
    (notice,) = re.findall(r'<p class="notice" id="notice" role="status">(.*?)</p>', page)
    assert "Tercatat: SKP" in notice and "YANTI HEIDA YANI" in notice and "09.30 WITA" in notice
    line = line_of(page, "SKP")
    # who recorded it by name, and the file by its name: no NIP, no ``file:`` mark
    assert "SKP 2026 Yanti.pdf — BKN-9" in line and "SUTRISNO, S.Sos, M.Si (web)" in line
    assert f"web:{SECRETARY}" not in line and "file:" not in line
    assert badge(line_of(before, "SKP")) in {"upcoming", "due_soon", "due_today", "overdue"}
    assert badge(line) in {"on_time", "late"}  # counted: no longer owed

    (row,) = history(console, STAFF)
    assert row["source"] == "web" and row["recorded_by"] == f"web:{SECRETARY}"
    assert row["rule"] == "SKP" and row["period"] == YEAR and row["current"]
    assert row["evidence"] == "file:SKP 2026 Yanti.pdf — BKN-9"
    assert row["submitted_at"] == f"{YEAR}-01-15 01:30:00+00:00"  # 09:30 WITA, stored UTC

    (href,) = re.findall(rf'href="(/employees/{STAFF}/files/\d+)"', page)
    got = browser.get(href)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"SKP_2026_Yanti.pdf\"; filename*=UTF-8''SKP%202026%20Yanti.pdf"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in got.headers["cache-control"]

    with console.db.read() as session:
        audit = session.execute(
            select(models.WebAudit, models.Employee.key)
            .join(models.Employee, models.Employee.id == models.WebAudit.employee_id)
            .where(models.WebAudit.action == "record_submission")
        ).one()
    assert audit[1] == SECRETARY and audit[0].address == "127.0.0.1"
    assert audit[0].detail.startswith(f"submission {row['id']}: {STAFF} SKP {YEAR}, file ")


def test_who_may_fetch_an_evidence_file(console: Console) -> None:
    secretary = signed_in(console, SECRETARY)
    assert record(secretary, STAFF, ("bukti.png", PNG)).status_code == 303
    (href,) = re.findall(
        rf'href="(/employees/{STAFF}/files/\d+)"', secretary.get(f"/employees/{STAFF}").text
    )
    own = signed_in(console, STAFF).get(href)  # their own evidence
    assert own.status_code == 200 and own.headers["content-type"] == "image/png"
    head = signed_in(console, HEAD)  # the head of another unit
    refused = head.get(href)
    assert refused.status_code == 403 and "YANTI" not in refused.text and PNG not in refused.content
    file_id = href.rsplit("/", 1)[1]
    assert secretary.get(f"/employees/{SECRETARY}/files/{file_id}").status_code == 404  # not theirs
    assert secretary.get(f"/employees/{STAFF}/files/x").status_code == 404
    assert httpx.get(console.base + href).status_code == 401  # not signed in


def test_staff_and_a_unit_head_see_no_desk_and_are_refused_with_nothing_written(
    console: Console,
) -> None:
    before = written(console)
    staff = signed_in(console, STAFF)
    own = staff.get(f"/employees/{STAFF}").text
    assert 'id="record"' not in own and "/submissions" not in own and 'id="events-link"' not in own
    token = form_token(own)  # their sign-out form's: a real token of their session
    for path in ("submissions", "exemptions"):
        fields = {"csrf": token, "item": f"SKP {YEAR}", "reason": "cuti"}
        refused = staff.post(
            f"/employees/{STAFF}/{path}", data=fields, files={"file": ("a.pdf", PDF)}
        )
        assert refused.status_code == 403 and "Tidak diizinkan" in refused.text
    assert staff.get("/events").status_code == 403
    assert staff.post("/events", data={"csrf": token, "code": "APBD_ADOPTED"}).status_code == 403

    head = signed_in(console, HEAD)
    page = head.get(f"/employees/{HEAD}").text
    assert 'id="record"' not in page
    fields = {"csrf": form_token(page), "item": f"SKP {YEAR}"}
    assert head.post(f"/employees/{HEAD}/submissions", data=fields).status_code == 403
    assert written(console) == before


def test_a_form_without_its_csrf_token_is_refused_with_nothing_written(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    before = written(console)
    for token in ("", "forged"):
        fields = {"item": f"SKP {YEAR}", "reason": "cuti", "code": "APBD_ADOPTED"}
        fields |= {"key": YEAR, "day": f"{YEAR}-01-05"} | ({"csrf": token} if token else {})
        for path in (
            f"/employees/{STAFF}/submissions",
            f"/employees/{STAFF}/exemptions",
            "/events",
        ):
            refused = browser.post(path, data=fields)
            assert refused.status_code == 403 and "Tidak ada yang dicatat" in refused.text, path
        refused = browser.post(
            f"/employees/{STAFF}/submissions", data=fields, files={"file": ("a.pdf", PDF)}
        )
        assert refused.status_code == 403
    assert written(console) == before


def test_a_file_too_big_or_of_another_kind_is_refused_with_a_sentence(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    before = written(console)
    cases = [
        (("skp.pdf", PNG), "Isi berkas skp.pdf bukan PDF"),
        (("skp.exe", PDF), "tidak diterima sebagai bukti; yang diterima: PDF, JPG"),
        (("kosong.pdf", b""), "Berkas kosong.pdf kosong"),
        (("besar.pdf", PDF + b"\0" * evidence.MAX_BYTES), "paling besar 10 MB"),
    ]
    for file, said in cases:
        refused = record(browser, STAFF, file, note=HOSTILE)
        assert refused.status_code == 400, file[0]
        (error,) = re.findall(r'id="record_submission-error" role="alert">(.*?)</p>', refused.text)
        assert said in error, error
        assert (
            'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Budi&lt;/b&gt;"'
            in (refused.text)
        )  # what was typed stays, escaped
        assert f'<option value="SKP {YEAR}" selected>' in refused.text
    huge = record(browser, STAFF, ("huge.pdf", PDF + b"\0" * (evidence.MAX_BYTES + 100_000)))
    assert huge.status_code == 413 and "paling besar 10 MB" in huge.text
    assert written(console) == before


def test_an_item_not_owed_a_bad_moment_and_a_bad_value_are_refused(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    before = written(console)
    refusals = [
        (STAFF, {"item": "SKP 1999"}, "SKP 1999 bukan kewajiban YANTI HEIDA YANI"),
        (STAFF, {"item": f"SERAPAN {YEAR}-01"}, "bukan kewajiban"),  # carried by others only
        (STAFF, {"submitted_at": "kemarin"}, "Waktu “kemarin” tidak terbaca"),
        (STAFF, {"value": "12"}, "SKP"),  # a document takes no value
        (SECRETARY, {"item": f"SERAPAN {YEAR}-01", "value": "banyak"}, "banyak"),
        (SECRETARY, {"item": f"SERAPAN {YEAR}-01"}, "SERAPAN"),  # a measure needs its value
        # A year that is a typo: the periods around it are not dates (was a 500).
        (STAFF, {"submitted_at": "0001-01-01T00:00"}, "0001-01-01 bukan waktu penyampaian"),
        (STAFF, {"submitted_at": "9999-12-31T23:59"}, "tahun antara 1900 dan 2999"),
    ]
    for key, fields, said in refusals:
        refused = record(browser, key, **fields)
        assert refused.status_code == 400, fields
        (error,) = re.findall(r'id="record_submission-error" role="alert">(.*?)</p>', refused.text)
        assert said in error, (fields, error)
    assert written(console) == before


def test_a_nul_character_or_a_broken_form_is_refused_with_a_sentence(console: Console) -> None:
    """PostgreSQL holds no NUL in text, and refuses one as a query's parameter: a form or an
    address with one is a sentence (400), not a 500, on either database."""
    browser = signed_in(console, SECRETARY)
    before = written(console)
    nul = record(browser, STAFF, note="BKN\x009")
    assert nul.status_code == 400 and "tidak dapat dibaca" in nul.text
    token = csrf_of(browser, STAFF)
    reason = {"csrf": token, "item": f"SKP {YEAR}", "reason": "cuti\x00"}
    assert browser.post(f"/employees/{STAFF}/exemptions", data=reason).status_code == 400
    broken = browser.post(
        f"/employees/{STAFF}/exemptions",
        content=b"--zz\r\nnot a part",
        headers={"content-type": "multipart/form-data; boundary=zz"},
    )
    assert broken.status_code == 400 and "tidak dapat dibaca" in broken.text
    for address in (f"/employees/{STAFF}%00", "/admin/review?cari=a%00b"):
        assert browser.get(address).status_code == 400, address
    assert written(console) == before


def test_a_measure_takes_its_value_and_verification_is_recorded(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    done = record(browser, SECRETARY, item=f"SERAPAN {YEAR}-01", value="87,5")
    assert done.status_code == 303
    assert "87,5%: Di bawah target" in browser.get(done.headers["location"]).text
    done = record(browser, SECRETARY, item=f"EPANTAU {YEAR}-01", note="input", verified="1")
    assert done.status_code == 303
    rows = {row["rule"]: row for row in history(console, SECRETARY)}
    assert rows["SERAPAN"]["value"] == 87.5 and rows["SERAPAN"]["source"] == "web"
    assert rows["EPANTAU"]["verified_by"] == f"web:{SECRETARY}"
    assert rows["EPANTAU"]["verified_at"] == rows["EPANTAU"]["submitted_at"]


def test_exempting_needs_a_reason_and_shows_on_the_page(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    token = csrf_of(browser, STAFF)
    empty = browser.post(
        f"/employees/{STAFF}/exemptions", data={"csrf": token, "item": f"SKP {YEAR}"}
    )
    assert empty.status_code == 400 and "Tulis alasan pembebasannya" in empty.text
    assert console.count(models.Exemption) == 0
    fields = {"csrf": token, "item": f"SKP {YEAR}", "reason": f"Cuti besar {HOSTILE}"}
    done = browser.post(f"/employees/{STAFF}/exemptions", data=fields)
    assert done.status_code == 303 and "?exempted=" in done.headers["location"]
    page = browser.get(done.headers["location"]).text
    assert "Dibebaskan: YANTI HEIDA YANI dari SKP" in page and "<b>Budi" not in page
    assert badge(line_of(page, "SKP")) == "exempt"
    with console.db.read() as session:
        row = session.scalars(select(models.Exemption)).one()
        assert row.recorded_by == f"web:{SECRETARY}" and row.reason.startswith("Cuti besar")
        actions = session.scalars(select(models.WebAudit.action)).all()
    assert "exempt" in actions


def test_the_apbd_adopted_is_set_on_the_events_page(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    assert 'id="events-link"' in browser.get("/").text
    page = browser.get("/events")
    assert page.status_code == 200 and '<option value="APBD_ADOPTED">penetapan APBD<' in page.text
    token = token_of(page.text)
    bad = browser.post(
        "/events", data={"csrf": token, "code": "APBD_ADOPTED", "key": YEAR, "day": "20/12"}
    )
    assert bad.status_code == 400 and "Tanggal “20/12” tidak terbaca" in bad.text
    assert f'value="{YEAR}"' in bad.text  # what was typed stays
    wrong = browser.post(
        "/events",
        data={"csrf": token, "code": "APBD_ADOPTED", "key": "20x5", "day": f"{YEAR}-01-05"},
    )
    assert wrong.status_code == 400 and "20x5" in wrong.text
    # 9999-12-31 would anchor every deadline past what a date can hold (was every page's 500).
    far = browser.post(
        "/events", data={"csrf": token, "code": "APBD_ADOPTED", "key": YEAR, "day": "9999-12-31"}
    )
    assert far.status_code == 400 and f"dalam setahun dari tahun anggaran {YEAR}" in far.text
    assert console.count(models.Event) == 0

    before = line_of(browser.get(f"/employees/{STAFF}").text, "PK")
    assert badge(before) == "waiting"
    fields = {"csrf": token, "code": "APBD_ADOPTED", "key": YEAR, "day": f"{YEAR}-01-05"}
    done = browser.post("/events", data=fields)
    assert done.status_code == 303
    shown = browser.get(done.headers["location"]).text
    (notice,) = re.findall(r'id="notice" role="status">(.*?)</p>', shown)
    assert notice.startswith(f"Tercatat: penetapan APBD {YEAR} pada ")
    assert f"5 Januari {YEAR}" in notice
    # the list names the event and who recorded it, not a code and a NIP
    assert "<td>penetapan APBD</td>" in shown and "SUTRISNO, S.Sos, M.Si<br>" in shown
    assert f"web:{SECRETARY}" not in shown and ">APBD_ADOPTED<" not in shown
    after = line_of(browser.get(f"/employees/{STAFF}").text, "PK")
    assert badge(after) != "waiting"  # the deadline is known now
    listed = CliRunner(env=console.environ).invoke(cli, ["event", "list", "--json"])
    (event,) = json.loads(listed.output)
    assert event["recorded_by"] == f"web:{SECRETARY}" and event["day"] == f"{YEAR}-01-05"


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("a.PNG", PNG, "image/png"),
        ("foto.jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (
            "C:\\Users\\tu\\Surat.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 20,
            "application/msword",
        ),
    ],
)
def test_a_file_is_the_kind_its_name_and_content_agree_on(
    name: str, data: bytes, kind: str
) -> None:
    assert evidence.check(name, data) == kind


def _zip(*names: str, first: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1])  # stored, as ODF asks
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_office_documents_are_told_by_their_parts() -> None:
    docx = _zip("[Content_Types].xml", "word/document.xml")
    assert evidence.check("lapor.docx", docx).endswith("wordprocessingml.document")
    assert evidence.check("rekap.xlsx", _zip("[Content_Types].xml", "xl/workbook.xml")).endswith(
        "spreadsheetml.sheet"
    )
    ods = _zip("content.xml", first=("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"))
    assert evidence.check("rekap.ods", ods) == "application/vnd.oasis.opendocument.spreadsheet"
    for name, data in (
        ("rekap.xlsx", docx),
        ("lapor.docx", b"PK\x03\x04broken"),
        ("rekap.odt", ods),
    ):
        with pytest.raises(RecordError) as refused:
            evidence.check(name, data)
        assert refused.value.message == "evidence_content"


def test_a_stored_name_is_its_last_part_without_controls() -> None:
    assert evidence.clean_name('..\\..\\C:/x/"bukti"\r\n.pdf') == '"bukti".pdf'
    assert len(evidence.clean_name("a" * 300 + ".pdf")) == evidence.NAME_CHARS


def test_migration_0014_adds_the_evidence_table_as_the_model_has_it_and_goes_back(
    database_url: str,
) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    db = Database(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        assert "evidence_files" in inspect(connection).get_table_names()
        changes = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)
    assert [c for c in changes if "evidence_files" in repr(c)] == []
    command.downgrade(db._alembic(), "-1")
    with db.engine.connect() as connection:
        assert "evidence_files" not in inspect(connection).get_table_names()
    db.engine.dispose()


def test_evidence_reads_as_words_on_a_page() -> None:
    assert evidence_shown("file:SKP.pdf — BKN-9", "id") == "SKP.pdf — BKN-9"
    assert evidence_shown("telegram-document:BQAC123 SKP 2025.pdf", "id") == "dokumen SKP 2025.pdf"
    assert evidence_shown("telegram-photo:AgAD9 tanda terima", "en") == "photo — tanda terima"
    assert evidence_shown("telegram-photo:AgAD9", "id") == "foto"
    assert evidence_shown("BKN-9", "id") == "BKN-9"
