"""The admin's desk over a real uvicorn and a real database (SQLite and PostgreSQL): the
review queue and its fix in place, uploads previewed before anything is written, link-code
slips, the outbox and who cannot be reached; refused to everyone but the Secretary and the
admins, and to a form without its CSRF token, with nothing written.  The browser drives
an upload in tests/test_browser_admin.py."""

from __future__ import annotations

import re
import socket
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from test_web import HEAD, HOSTILE, SECRETARY, STAFF, Console, client, signed_in
from test_web import console as console  # the fixture

from rules.calendar import WITA
from scheduler.bot.records import hash_code
from scheduler.cli.main import cli
from scheduler.store import models
from scheduler.web.admin_review import reasons
from scheduler.web.admin_uploads import MAX_UPLOAD

SEED = Path(__file__).resolve().parents[1] / "scheduler" / "data" / "iki_2025_kesbangpol_kukar.txt"
FLAGGED = "TMP-292cc2e443"  # SALI: no NIP, no unit, a superior guessed
NEWCOMER = "199001012020121001"
HEADER = "key,nip,name,unit,superior,roles,rules\n"


def csrf(page: str) -> str:
    return re.findall(r'name="csrf" value="([^"]+)"', page)[0]


def audit(console: Console, action: str) -> list[tuple[str, int | None, str]]:
    """(detail, employee id, address) of the web audit's rows of ``action``."""
    with console.db.read() as session:
        table = models.WebAudit
        rows = session.execute(
            select(table.detail, table.employee_id, table.address).where(table.action == action)
        )
        return [(detail, who, address) for detail, who, address in rows]


def employee(console: Console, key: str) -> models.Employee | None:
    with console.db.read() as session:
        found = session.scalar(select(models.Employee).where(models.Employee.key == key))
        if found is not None:
            session.expunge(found)
        return found


def flagged(console: Console) -> int:
    with console.db.read() as session:
        table = models.Employee
        return session.scalar(select(func.count()).where(table.review != "")) or 0


def upload(browser: httpx.Client, kind: str, name: str, data: bytes) -> httpx.Response:
    token = csrf(browser.get("/admin/upload").text)
    return browser.post(f"/admin/upload/{kind}", data={"csrf": token}, files={"file": (name, data)})


def secretary_id(console: Console) -> int:
    found = employee(console, SECRETARY)
    assert found is not None
    return found.id


GETS = (
    "/admin",
    "/admin/review",
    "/admin/upload",
    "/admin/slips",
    "/admin/outbox",
    "/admin/outbox?status=dead",
    "/admin/unreachable",
    "/admin/upload/roster/some-token",
)
POSTS = (
    f"/admin/review/{FLAGGED}",
    "/admin/upload/roster",
    "/admin/upload/roster/some-token",
    "/admin/slips",
)


def test_the_desk_is_refused_to_staff_and_unit_heads_with_nothing_written(
    console: Console,
) -> None:
    before = (flagged(console), console.count(models.LinkCode), console.count(models.WebAudit))
    for nip in (STAFF, HEAD):
        browser = signed_in(console, nip)
        token = csrf(browser.get(f"/employees/{nip}").text)
        assert "/admin" not in browser.get(f"/employees/{nip}").text  # no menu entry either
        for path in GETS:
            page = browser.get(path)
            assert page.status_code == 403, (nip, path)
            assert "SALI" not in page.text
        for path in POSTS:
            form = {"csrf": token, "unit": "Sekretariat", "who": STAFF, "batch": "b1"}
            sent = browser.post(path, data=form, files={"file": ("r.csv", HEADER.encode())})
            assert sent.status_code == 403, (nip, path)
    stranger = client(console)
    assert {stranger.get(path).status_code for path in GETS} == {401}
    assert {stranger.post(path, data={"csrf": "x"}).status_code for path in POSTS} == {401}
    sign_ins = 2 * 2  # a link and a sign-in for each of the two
    after = (flagged(console), console.count(models.LinkCode), console.count(models.WebAudit))
    assert after == (before[0], before[1], before[2] + sign_ins)
    assert console.count(models.WebUpload) == 0


def test_the_review_queue_says_why_and_a_fix_in_place_clears_the_flag(console: Console) -> None:
    count = flagged(console)
    browser = signed_in(console, SECRETARY)
    desk = browser.get("/admin")
    assert desk.status_code == 200 and f"{count} pegawai ditandai" in desk.text
    queue = browser.get("/admin/review").text
    assert '<h2><a href="/employees/TMP-292cc2e443">SALI</a></h2>' in queue
    assert "<li>NIP tidak ada; diberi kunci sementara (baris 588)</li>" in queue
    assert "(L588)" not in queue  # a line of the document, said as one
    assert "SUTRISNO, S.Sos, M.Si" in queue  # a superior is picked by name
    assert 'type="text" name="superior"' not in queue

    fix = {
        "csrf": csrf(queue),
        "unit": "Sekretariat",
        "superior": SECRETARY,
        "rules": ["SKP", "SPT"],
        "halaman": "0",
    }
    done = browser.post(f"/admin/review/{FLAGGED}", data=fix)
    assert done.status_code == 303 and done.headers["location"] == "/admin/review?halaman=0"
    after = browser.get(done.headers["location"]).text
    assert "Tersimpan: data SALI sudah diperiksa" in after
    assert "Tersimpan" not in browser.get("/admin/review").text  # said once

    person = employee(console, FLAGGED)
    assert person is not None and person.review == "" and person.superior_origin == "manual"
    assert person.superior_id == secretary_id(console)
    with console.db.read() as session:
        unit = session.get(models.Unit, person.unit_id)
        rules = set(
            session.scalars(
                select(models.Assignment.rule_code).where(
                    models.Assignment.employee_id == person.id
                )
            )
        )
    assert unit is not None and unit.name == "Sekretariat" and rules == {"SKP", "SPT"}
    assert flagged(console) == count - 1
    ((detail, who, address),) = audit(console, "review_fix")
    assert detail == f"{FLAGGED}: unit, rules -PK, review; superior={SECRETARY}"
    assert who == secretary_id(console) and address == "127.0.0.1"


def test_a_refused_fix_keeps_what_was_typed_and_writes_nothing(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    page = browser.get("/admin/review").text
    before = employee(console, FLAGGED)
    assert before is not None
    loop = {  # the person as their own superior
        "csrf": csrf(page),
        "unit": "Bidang Politik Dalam Negeri",
        "superior": FLAGGED,
        "rules": ["SKP"],
    }
    refused = browser.post(f"/admin/review/{FLAGGED}", data=loop)
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert "<option selected>Bidang Politik Dalam Negeri</option>" in refused.text  # as typed
    no_token = browser.post(f"/admin/review/{FLAGGED}", data={**loop, "csrf": "", "superior": ""})
    assert no_token.status_code == 403
    after = employee(console, FLAGGED)
    assert after is not None
    assert (after.review, after.unit_id, after.superior_id) == (
        before.review,
        before.unit_id,
        before.superior_id,
    )
    assert audit(console, "review_fix") == []


def test_a_superior_is_found_by_name_and_names_read_by_ocr_are_escaped(console: Console) -> None:
    with console.db.write() as session:
        table = models.Employee
        session.scalars(select(table).where(table.key == FLAGGED)).one().name = HOSTILE
    browser = signed_in(console, SECRETARY)
    queue = browser.get("/admin/review").text
    assert "<script" not in queue and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in queue
    page = browser.get("/admin/review", params={"cari": "yanti", "untuk": FLAGGED}).text
    assert "Hasil pencarian" in page and f'<option value="{STAFF}">YANTI HEIDA YANI' in page
    nobody = browser.get("/admin/review", params={"cari": "%_", "untuk": FLAGGED}).text
    assert "Tidak ada pegawai aktif bernama" in nobody  # wildcards are letters


def roster_sheet(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def test_a_roster_sheet_is_previewed_and_written_only_on_confirmation(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    sheet = roster_sheet(
        f"{NEWCOMER},{NEWCOMER},{HOSTILE},Sekretariat,{SECRETARY},,SKP",
        f",199202022021022002,SITI BARU,Sekretariat,{SECRETARY},,SKP",
    )
    sent = upload(browser, "roster", "pegawai.csv", sheet)
    assert sent.status_code == 303
    preview = browser.get(sent.headers["location"])
    assert preview.status_code == 200 and "2 pegawai baru" in preview.text
    assert "SITI BARU" in preview.text and "&lt;script&gt;" in preview.text
    assert "<script" not in preview.text
    assert employee(console, NEWCOMER) is None  # a preview writes nothing
    assert browser.get(sent.headers["location"]).status_code == 200  # nor twice

    target = sent.headers["location"]
    assert browser.post(target, data={}).status_code == 403  # no CSRF token
    assert employee(console, NEWCOMER) is None
    done = browser.post(target, data={"csrf": csrf(preview.text)})
    assert done.status_code == 303 and done.headers["location"] == "/admin/upload"
    said = browser.get("/admin/upload").text
    assert "Lembar pegawai pegawai.csv ditulis: 2 pegawai baru" in said
    person = employee(console, NEWCOMER)
    assert person is not None and person.name == HOSTILE
    assert employee(console, "199202022021022002") is not None
    assert browser.get(target).status_code == 404  # the upload is gone once written
    assert console.count(models.WebUpload) == 0
    ((detail, _, _),) = audit(console, "upload_roster")
    assert detail.startswith("pegawai.csv: created=2")


def test_a_bad_sheet_is_previewed_with_its_errors_by_row_and_nothing_is_written(
    console: Console,
) -> None:
    browser = signed_in(console, SECRETARY)
    sheet = roster_sheet(
        f"{NEWCOMER},{NEWCOMER},GOOD ROW,Sekretariat,{SECRETARY},,SKP",
        "19900101,19900101,BAD NIP,Sekretariat,,,SKP",
        f"199303032022031003,199303032022031003,BAD RULE,Sekretariat,{SECRETARY},,NOPE",
    )
    sent = upload(browser, "roster", "salah.csv", sheet)
    preview = browser.get(sent.headers["location"])
    assert preview.status_code == 200
    assert "Baris 3" in preview.text and "Baris 4" in preview.text and "NOPE" in preview.text
    assert 'id="confirm"' not in preview.text and "Tidak ada yang ditulis" in preview.text
    confirm = browser.post(sent.headers["location"], data={"csrf": csrf(preview.text)})
    assert confirm.status_code == 409
    assert employee(console, NEWCOMER) is None and audit(console, "upload_roster") == []

    unreadable = upload(browser, "roster", "rusak.xlsx", b"PK\x03\x04 not a workbook")
    page = browser.get(unreadable.headers["location"]).text
    assert 'id="refused"' in page and "rusak.xlsx" in page and "/tmp" not in page


def test_an_upload_too_large_or_of_another_kind_is_refused_unread(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    token = csrf(browser.get("/admin/upload").text)
    wrong = browser.post(
        "/admin/upload/roster", data={"csrf": token}, files={"file": ("x.exe", b"MZ...")}
    )
    assert wrong.status_code == 400 and ".csv, .xlsx" in wrong.text
    no_token = browser.post("/admin/upload/roster", files={"file": ("r.csv", b"key\n")})
    assert no_token.status_code == 403
    # A broken form, or one holding a NUL (which PostgreSQL refuses), is a sentence: not
    # the parser's bare text, not a 500.
    broken = browser.post(
        "/admin/upload/roster",
        content=b"--zz\r\nnot a part",
        headers={"content-type": "multipart/form-data; boundary=zz"},
    )
    assert broken.status_code == 400 and "tidak dapat dibaca" in broken.text
    nul = browser.post("/admin/slips", data={"csrf": token, "who": "1\x00", "batch": "b"})
    assert nul.status_code == 400 and "tidak dapat dibaca" in nul.text
    assert audit(console, "link_slips") == []

    # A body said to be larger than the limit is refused on its length, before it is sent.
    cookie = browser.cookies["tenggat_session"]
    port = int(console.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            b"POST /admin/upload/roster HTTP/1.1\r\nHost: x\r\n"
            + f"Cookie: tenggat_session={cookie}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {MAX_UPLOAD + 2**20}\r\n\r\n".encode()
            + b"--b\r\n"
        )
        answer = raw.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413")
    assert console.count(models.WebUpload) == 0


def test_a_submissions_sheet_is_recorded_as_the_command_records_it(console: Console) -> None:
    year = datetime.now(WITA).year
    browser = signed_in(console, SECRETARY)
    sheet = f"nip,rule,period,submitted_at,evidence\n{STAFF},SKP,{year},{year}-01-20,BKN-9\n"
    sent = upload(browser, "submissions", "serah.csv", sheet.encode())
    preview = browser.get(sent.headers["location"])
    assert "1 penyerahan dicatat" in preview.text and "YANTI HEIDA YANI" in preview.text
    assert f"{year}-01-20 12:00 WITA" in preview.text
    assert console.count(models.Submission) == 0
    browser.post(sent.headers["location"], data={"csrf": csrf(preview.text)})
    assert console.count(models.Submission) == 1
    listed = CliRunner(env=console.environ).invoke(
        cli, ["submissions", "list", "--nip", STAFF, "--json"]
    )
    assert listed.exit_code == 0, listed.output
    assert f'"recorded_by": "web:{SECRETARY}"' in listed.output and "BKN-9" in listed.output


def test_an_iki_document_is_previewed_and_a_file_that_is_none_refused(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    sent = upload(browser, "iki", "iki.txt", SEED.read_bytes())
    preview = browser.get(sent.headers["location"]).text
    assert "0 pegawai baru" in preview and "blok IKI dibaca" in preview
    assert "perlu diperiksa" in preview and 'id="confirm"' in preview
    nonsense = upload(browser, "iki", "catatan.txt", b"just a shopping list\n")
    refused = browser.get(nonsense.headers["location"]).text
    assert 'id="refused"' in refused and 'id="confirm"' not in refused


def test_link_code_slips_print_once_for_the_chosen_people(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    with console.db.write() as session:
        person = session.scalars(select(models.Employee).where(models.Employee.key == HEAD)).one()
        person.name = HOSTILE
        assert person.unit is not None
        unit = person.unit.name
    choose = browser.get("/admin/slips", params={"unit": unit}).text
    assert "&lt;script&gt;" in choose and "<script" not in choose
    people = re.findall(r'name="who" value="([^"]+)"', choose)
    assert HEAD in people and len(people) > 2
    batch = re.findall(r'name="batch" value="([^"]+)"', choose)[0]
    chosen = [HEAD, next(key for key in people if key != HEAD)]
    form = {"csrf": csrf(choose), "unit": unit, "batch": batch, "who": chosen}
    printed = browser.post("/admin/slips", data=form)
    assert printed.status_code == 200 and printed.text.count('class="slip"') == 2
    assert "@media print" in browser.get("/static/admin.css").text
    assert "<script" not in printed.text and "WITA" in printed.text
    codes = re.findall(r"/start ([A-Za-z0-9_-]{20,})", printed.text)
    assert len(codes) == 2
    with console.db.read() as session:
        stored = set(session.scalars(select(models.LinkCode.code_hash)))
    assert {hash_code(code) for code in codes} == stored  # the slips' codes are the live ones
    again = browser.post("/admin/slips", data=form)  # the browser's reload
    assert again.status_code == 400 and "sudah dibuat" in again.text
    assert console.count(models.LinkCode) == 2
    ((detail, _, _),) = audit(console, "link_slips")
    assert "2 codes" in detail


def test_the_outbox_dead_letters_and_the_unreached_are_paged(console: Console) -> None:
    now = datetime(2025, 3, 3, 1, 0, tzinfo=WITA)
    with console.db.write() as session:
        for n in range(105):
            session.add(
                models.Outbox(
                    key=f"k{n}",
                    recipient=STAFF,
                    role="employee",
                    kind="reminder",
                    employee=STAFF,
                    rule_code="SKP",
                    period="2025",
                    step="H-7",
                    due=now.date(),
                    planned_at=now + timedelta(minutes=n),
                    state="dead" if n % 2 else "sent",
                    next_attempt_at=now,
                    receipt="chat not found" if n % 2 else "ok",
                )
            )
    browser = signed_in(console, SECRETARY)
    page = browser.get("/admin/outbox").text
    assert "gagal (52)" in page and "terkirim (53)" in page
    assert page.count("<tr>") == 101 and 'id="older"' in page  # a page and a header
    assert "2025-03-03 02:44 WITA" in page and "YANTI HEIDA YANI" in page
    dead = browser.get("/admin/outbox?status=dead").text
    assert "chat not found" in dead and "terkirim (" in dead and 'id="older"' not in dead
    older = re.findall(r'href="(/admin/outbox\?sebelum=\d+)"', page)[0]
    assert browser.get(older).text.count("<tr>") == 6

    unreached = browser.get("/admin/unreachable")
    assert unreached.status_code == 200 and "tanpa chat Telegram dan e-mail" in unreached.text
    total = int(re.findall(r"(\d+) pegawai aktif hanya terjangkau", unreached.text)[0])
    assert total == employee_count(console) > 0  # the seed has no contacts
    assert unreached.text.count("<tr>") == 1 + min(total, 100)
    with console.db.write() as session:
        person = session.scalars(select(models.Employee).where(models.Employee.key == STAFF)).one()
        person.email = "yanti@example.go.id"  # no SMTP set up: e-mail reaches her not
        person.telegram_chat_id, person.telegram_unreachable = "42", "bot was blocked"
    again = browser.get("/admin/unreachable").text
    assert "chat Telegram tidak dapat dijangkau: bot was blocked" in again


def employee_count(console: Console) -> int:
    with console.db.read() as session:
        table = models.Employee
        return session.scalar(select(func.count()).where(table.active.is_(True))) or 0


@pytest.mark.parametrize("language", ["en"])
def test_the_desk_speaks_english_too(console: Console, language: str) -> None:
    browser = signed_in(console, SECRETARY)
    browser.get(f"/bahasa/{language}")
    assert "employees flagged for review" in browser.get("/admin").text
    assert "Why it was flagged" in browser.get("/admin/review").text


def test_slips_reach_the_people_without_a_unit_and_print_no_provisional_key(
    console: Console,
) -> None:
    browser = signed_in(console, SECRETARY)
    desk = browser.get("/admin").text
    assert "<h1>Meja admin</h1>" in desk  # its heading, and no trail that leads to itself
    assert '<p class="note no-print"><a href="/admin">' not in desk
    chooser = browser.get("/admin/slips").text
    assert '<option value="-">(tanpa unit)</option>' in chooser
    assert "seperti tenggat" not in chooser.lower()  # said in the admin's terms, not a command
    choose = browser.get("/admin/slips", params={"unit": "-"}).text
    people = re.findall(r'name="who" value="([^"]+)"', choose)
    assert FLAGGED in people and SECRETARY not in people
    batch = re.findall(r'name="batch" value="([^"]+)"', choose)[0]
    form = {"csrf": csrf(choose), "unit": "-", "batch": batch, "who": [FLAGGED]}
    printed = browser.post("/admin/slips", data=form).text
    assert "Slip kode tautan bot: (tanpa unit)" in printed
    assert "NIP belum terbaca · (tanpa unit)" in printed and "TMP-" not in printed
    (until,) = re.findall(r"Berlaku sampai (.*?), sekali pakai", printed)
    # a long date and its time with the zone, as the other pages write a moment
    assert re.fullmatch(r"\w+, \d{1,2} \w+ \d{4} \d\d\.\d\d WITA", until), until


def test_a_reason_is_split_between_reasons_only() -> None:
    review = (
        "unit tidak diketahui (tanpa judul JABATAN/FUNGSI); blok di sekitarnya ada di "
        "Sekretariat (L12); NIP tidak ada; diberi kunci sementara (hal. 2 tabel 1 baris 3)"
    )
    assert reasons(review, "baris {line}") == (
        "unit tidak diketahui (tanpa judul JABATAN/FUNGSI); blok di sekitarnya ada di "
        "Sekretariat (baris 12)",
        "NIP tidak ada; diberi kunci sementara (hal. 2 tabel 1 baris 3)",
    )


def test_a_refusal_leads_home_and_one_row_is_not_counted(console: Console) -> None:
    browser = signed_in(console, STAFF)
    refused = browser.get("/admin")
    assert refused.status_code == 403 and '<a href="/" id="back-home">' in refused.text
    admin = signed_in(console, SECRETARY)
    year = datetime.now(WITA).year
    sheet = f"nip,rule,period,submitted_at\n{STAFF},SKP,{year},{year}-01-20\n"
    sent = upload(admin, "submissions", "one.csv", sheet.encode())
    assert sent.status_code == 303, sent.text
    preview = admin.get(sent.headers["location"]).text
    assert "Baris pertama" in preview and "1 baris pertama" not in preview
