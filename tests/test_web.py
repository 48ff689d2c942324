"""The web console over a real uvicorn on 127.0.0.1 and a real database (SQLite and
PostgreSQL): signing in by a one-time link (used only by the button), sessions, signing out,
CSRF, who sees what, the home's charts and a person's page, and the headers that keep
scripts out.  The browser drives the same pages in tests/test_browser.py."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import free_port
from fake_telegram import FakeBotAPI, text_message
from sqlalchemy import func, select
from test_bot import Harness, api, seeded_file  # noqa: F401 (fixtures)
from test_service import seed_roster

from rules.calendar import WITA
from scheduler.cli.main import cli
from scheduler.config import Config, load_config
from scheduler.store import models, signin
from scheduler.store.db import Database
from scheduler.web import views
from scheduler.web.app import POLICY, build
from scheduler.web.server import Serving, serve

SECRETARY = "197105152000121003"  # SUTRISNO: secretary (and head of the Sekretariat)
HEAD = "196905221997031004"  # Drs. ZUKIPLI: head of Bidang Ideologi dan Wawasan Kebangsaan
STAFF = "197110122007012026"  # YANTI HEIDA YANI
HOSTILE = '<script>alert("x")</script> & <b>Budi</b>'


@dataclass
class Console:
    """A seeded database served as `tenggat web` serves it."""

    url: str
    db: Database
    config: Config
    server: Serving
    environ: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.address[1]}"

    def link(self, nip: str, *more: str) -> str:
        """`tenggat login NIP`'s link, as the admin copies it from the terminal."""
        done = CliRunner(env=self.environ).invoke(cli, ["login", nip, *more])
        assert done.exit_code == 0, done.output
        (found,) = re.findall(r"https?://\S+", done.output)
        return found.replace(f"http://127.0.0.1:{self.config.settings.web.port}", self.base)

    def count(self, table: type[models.Base]) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)


def start(url: str, as_of: datetime | None = None, **settings: str) -> Console:
    port = free_port()
    environ = {"TENGGAT_DATABASE_URL": url, "TENGGAT_WEB_PORT": str(port)} | settings
    config = load_config(None, environ=environ)
    db = Database(url)
    app = build(db, config, as_of=as_of)
    return Console(url, db, config, serve(app, "127.0.0.1", port), environ)


@pytest.fixture
def console(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Console]:
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    found = start(database_url)
    yield found
    found.server.stop()
    found.db.engine.dispose()


def client(console: Console) -> httpx.Client:
    return httpx.Client(base_url=console.base, follow_redirects=False, timeout=30)


def form_token(page: str) -> str:
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', page)
    return token


def signed_in(console: Console, nip: str) -> httpx.Client:
    """A browser signed in as ``nip`` through the link and its button."""
    browser = client(console)
    link = console.link(nip)
    page = browser.get(link)
    assert page.status_code == 200, page.text
    pressed = browser.post(link, data={"csrf": form_token(page.text)})
    assert pressed.status_code == 303 and pressed.headers["location"] == "/"
    return browser


def test_a_link_signs_in_once_and_only_when_its_button_is_pressed(console: Console) -> None:
    link = console.link(SECRETARY)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 random bits
    with console.db.read() as session:
        stored = session.scalars(select(models.WebLogin.token_hash)).all()
    assert stored and token not in stored  # kept as a hash only

    preview = client(console)  # a chat app or a mail scanner opening it, twice
    for _ in range(2):
        page = preview.get(link)
        assert page.status_code == 200 and "SUTRISNO, S.Sos, M.Si" in page.text
    assert console.count(models.WebSession) == 0

    browser = client(console)
    page = browser.get(link)
    refused = browser.post(link, data={"csrf": "forged"})  # the form without its token
    assert refused.status_code == 403 and "Tidak ada yang dicatat" in refused.text
    assert console.count(models.WebSession) == 0

    pressed = browser.post(link, data={"csrf": form_token(page.text)})
    assert pressed.status_code == 303
    cookie = pressed.headers["set-cookie"]
    assert "tenggat_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on 127.0.0.1; see the HTTPS test below
    assert browser.get("/").status_code == 200

    again = client(console)
    used = again.get(link)
    assert used.status_code == 404 and "sudah dipakai" in used.text
    assert "SUTRISNO" not in used.text
    assert again.post(link, data={"csrf": "x"}).status_code == 404
    assert client(console).get("/masuk/no-such-link").status_code == 404
    assert console.count(models.WebSession) == 1


def test_an_expired_link_and_an_expired_session_sign_no_one_in(console: Console) -> None:
    link = console.link(STAFF, "--minutes", "1")
    with console.db.write() as session:
        for link_row in session.scalars(select(models.WebLogin)):
            link_row.expires_at = link_row.created_at
    expired = client(console).get(link)
    assert expired.status_code == 404 and "kedaluwarsa" in expired.text

    browser = signed_in(console, STAFF)
    assert browser.get(f"/employees/{STAFF}").status_code == 200
    with console.db.write() as session:
        for row in session.scalars(select(models.WebSession)):
            row.expires_at = row.created_at
    gone = browser.get(f"/employees/{STAFF}")
    assert gone.status_code == 401 and "YANTI" not in gone.text


def test_signing_out_needs_the_form_token_and_ends_the_session(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    home = browser.get("/")
    assert browser.post("/keluar", data={}).status_code == 403
    assert browser.get("/").status_code == 200  # still signed in: nothing was written
    out = browser.post("/keluar", data={"csrf": form_token(home.text)})
    assert out.status_code == 200 and "sudah keluar" in out.text
    assert browser.get("/").status_code == 401
    with console.db.read() as session:
        actions = session.scalars(select(models.WebAudit.action).order_by(models.WebAudit.id))
        trail = list(actions)
        addresses = set(
            session.scalars(
                select(models.WebAudit.address).where(models.WebAudit.action != "login_link")
            )
        )
    assert trail == ["login_link", "sign_in", "sign_out"]
    assert addresses == {"127.0.0.1"}


def test_the_secretary_sees_the_agency_a_head_their_unit_and_staff_themselves(
    console: Console,
) -> None:
    with console.db.read() as session:
        unit_of = dict(
            session.execute(
                select(models.Employee.key, models.Unit.name).join(
                    models.Unit, models.Unit.id == models.Employee.unit_id
                )
            ).all()
        )
        names = dict(session.execute(select(models.Employee.key, models.Employee.name)).all())
    colleague = next(k for k, u in unit_of.items() if u == unit_of[HEAD] and k != HEAD)
    outsider = next(k for k, u in unit_of.items() if u != unit_of[HEAD])

    secretary = signed_in(console, SECRETARY)
    for key in (STAFF, colleague, outsider, HEAD):
        assert secretary.get(f"/employees/{key}").status_code == 200
    assert secretary.get("/employees/000000000000000000").status_code == 404

    head = signed_in(console, HEAD)
    home = head.get("/")
    assert home.status_code == 200 and unit_of[HEAD] in home.text
    assert names[outsider] not in home.text  # the unit's grid only
    assert head.get(f"/employees/{colleague}").status_code == 200
    refused = head.get(f"/employees/{outsider}")
    assert refused.status_code == 403 and names[outsider] not in refused.text

    assert head.get(f"/units/{unit_of[HEAD]}").status_code == 200
    assert head.get(f"/units/{unit_of[outsider]}").status_code == 403
    assert secretary.get(f"/units/{unit_of[outsider]}").status_code == 200
    assert secretary.get("/units/Bidang Tidak Ada").status_code == 404

    staff = signed_in(console, STAFF)
    assert staff.get(f"/units/{unit_of[HEAD]}").status_code == 403
    own = staff.get("/")
    assert own.status_code == 303 and own.headers["location"] == f"/employees/{STAFF}"
    assert staff.get(f"/employees/{STAFF}").status_code == 200
    for key in (SECRETARY, HEAD, outsider, "000000000000000000"):
        refused = staff.get(f"/employees/{key}")
        assert refused.status_code == 403, key  # a missing person looks like a forbidden one
        assert names.get(key, key) not in refused.text and key not in refused.text


def test_the_home_draws_its_charts_on_the_server_and_escapes_every_name(
    console: Console,
) -> None:
    with console.db.write() as session:
        person = session.scalar(select(models.Employee).where(models.Employee.key == STAFF))
        assert person is not None
        person.name = HOSTILE
    browser = signed_in(console, SECRETARY)
    home = browser.get("/")
    assert home.status_code == 200
    page = home.text
    assert page.count("<svg") == 2 and page.count('class="bar on_time"') >= 4  # a bar per unit
    # what was due and not on time is a red bar and says so in words, not only in colour
    assert 'class="bar short"' in page and "tidak tepat waktu" in page
    assert page.count('class="trend"') == 1 and 'class="point"' in page  # the weekly line
    assert "target 100%" in page and "Bidang Politik Dalam Negeri" in page
    assert 'class="grid"' in page and f"/employees/{STAFF}" in page
    assert '<a href="/units/Bidang%20Politik%20Dalam%20Negeri">' in page
    assert "<script" not in page and "&lt;script&gt;" in page
    for answer in (home, browser.get(f"/employees/{STAFF}")):
        assert answer.headers["content-security-policy"] == POLICY
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert "<script" not in answer.text
    css = browser.get("/static/tenggat.css")
    assert css.status_code == 200 and "svg.chart" in css.text

    english = browser.get("/bahasa/en")
    assert english.status_code == 303
    assert "On time, per unit" in browser.get("/").text


def test_a_person_page_lists_their_obligations_with_status(console: Console) -> None:
    year = str(datetime.now(WITA).year)  # the page shows this year and last, by the clock
    runner = CliRunner(env=console.environ)
    done = runner.invoke(cli, ["submit", STAFF, "SKP", year, "--evidence", "BKN-7"])
    assert done.exit_code == 0, done.output
    browser = signed_in(console, STAFF)
    page = browser.get(f"/employees/{STAFF}").text
    assert "YANTI HEIDA YANI" in page and "Sasaran Kinerja Pegawai" in page
    assert "BKN-7" in page and "(cli)" in page and f"Jatuh tempo tahun {year}" in page
    assert "<th>Hari terlambat</th>" in page and "Capaian IKI per indikator" in page
    assert f'<tr id="SKP-{year}">' in page  # where the home's grid leads a tap on its cell


def test_a_grid_cell_opens_its_item_on_the_persons_page_and_names_its_columns(
    console: Console,
) -> None:
    browser = signed_in(console, SECRETARY)
    home = browser.get("/").text
    cells = re.findall(r'<td class="cell (\w+)"[^>]*><a href="/employees/(\d+)#([\w-]+)"', home)
    assert len(cells) > 100  # every cell leads to its own item, not the page's top
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", anchor) for _, _, anchor in cells)
    status, key, anchor = next(cell for cell in cells if cell[1] == STAFF)
    person = browser.get(f"/employees/{key}").text
    (row,) = re.findall(rf'<tr id="{anchor}">(.*?)</tr>', person, re.S)
    assert f'class="badge {status}"' in row  # the row the cell stands for, as coloured
    assert "ketuk atau klik sel" in home and "arahkan" not in home
    assert 'id="grid-hint"' in home  # shown on a phone, where the grid scrolls sideways
    # each column's code has its name, and a key under the grid says them all
    assert '<abbr title="Sasaran Kinerja Pegawai (SKP)">SKP</abbr>' in home
    (codes,) = re.findall(r'<dl class="codes" id="grid-codes">(.*?)</dl>', home, re.S)
    assert "<dt>LKSKPD</dt>" in codes and codes.count("<dt>") == home.count(
        '<th scope="col" class="code">'
    )
    css = browser.get("/static/tenggat.css").text
    assert "tr:target" in css and "position: sticky" in css
    browser.get("/bahasa/en")
    assert "tap or click a cell" in browser.get("/").text


def test_sessions_are_shared_by_two_servers_on_one_database(console: Console) -> None:
    """Two instances behind one reverse proxy: a session opened on one works on the
    other, and signing out on one ends it on both."""
    other = start(console.url)
    try:
        browser = signed_in(console, SECRETARY)
        token = browser.cookies["tenggat_session"]
        there = httpx.Client(base_url=other.base, cookies={"tenggat_session": token})
        home = there.get("/")
        assert home.status_code == 200
        assert there.post("/keluar", data={"csrf": form_token(home.text)}).status_code == 200
        assert browser.get("/").status_code == 401
    finally:
        other.server.stop()
        other.db.engine.dispose()


def test_behind_https_the_cookie_is_secure(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    secure = start(database_url, TENGGAT_WEB_PUBLIC_URL="https://tenggat.example.go.id")
    try:
        link = secure.link(SECRETARY)
        assert link.startswith("https://tenggat.example.go.id/masuk/")
        local = link.replace("https://tenggat.example.go.id", secure.base)
        browser = client(secure)
        page = browser.get(local)
        assert "Secure" in page.headers["set-cookie"]
        # A browser sends a Secure cookie over HTTPS only: the proxy's side, here by hand.
        (form,) = re.findall(r"tenggat_form=([^;]+)", page.headers["set-cookie"])
        browser.cookies.set("tenggat_form", form)
        pressed = browser.post(local, data={"csrf": form_token(page.text)})
        assert pressed.status_code == 303 and "Secure" in pressed.headers["set-cookie"]
    finally:
        secure.server.stop()
        secure.db.engine.dispose()


def test_a_form_too_big_or_without_its_length_is_not_read(console: Console) -> None:
    browser = signed_in(console, SECRETARY)
    csrf = form_token(browser.get("/").text)
    big = browser.post("/keluar", data={"csrf": csrf, "pad": "x" * 70_000})
    assert big.status_code == 413
    chunked = browser.post("/keluar", content=iter([f"csrf={csrf}".encode()]))  # no length
    assert chunked.status_code == 413 and "terlalu besar" in chunked.text
    assert browser.get("/").status_code == 200  # still signed in: nothing was done


def test_sign_in_attempts_are_limited_per_address(console: Console) -> None:
    browser = client(console)
    answers = [browser.post(f"/masuk/guess-{n}", data={"csrf": "x"}).status_code for n in range(25)]
    assert answers[:20] == [404] * 20 and set(answers[20:]) == {429}


def test_the_bots_masuk_sends_a_linked_chat_its_own_sign_in_link(
    tmp_path: Path,
    seeded_file: Path,  # noqa: F811
    api: FakeBotAPI,  # noqa: F811
) -> None:
    copy = tmp_path / "tenggat.db"
    shutil.copyfile(seeded_file, copy)
    public = "https://tenggat.example.go.id"
    h = Harness(f"sqlite:///{copy}", api, TENGGAT_WEB_PUBLIC_URL=public)
    try:
        h.send(text_message(601, "/masuk"))  # a stranger's chat: how to link, no link
        assert "/masuk/" not in h.texts(601)[-1]
        h.link(STAFF, 600)
        h.send(text_message(600, "/bantuan"))
        assert "/masuk" in h.texts(600)[-1]
        h.send(text_message(600, "/masuk"))
        (url,) = re.findall(rf"{public}/masuk/(\S+)", h.texts(600)[-1])
        with h.db.read() as session:
            link = signin.usable_link(session, url, h.now)
            assert link is not None
            owner = session.get(models.Employee, link.employee_id)
            assert owner is not None and owner.key == STAFF
        assert all(url not in detail for _, _, detail in h.audit())
    finally:
        h.close()
    off = Harness(f"sqlite:///{copy}", api)  # no public address: no link to give
    try:
        off.send(text_message(600, "/masuk"))
        assert "belum tersedia" in off.texts(600)[-1]
    finally:
        off.close()


def test_a_person_no_longer_active_is_not_found_not_an_error(console: Console) -> None:
    with console.db.write() as session:
        row = session.scalars(select(models.Employee).where(models.Employee.key == STAFF)).one()
        row.active = False
    page = signed_in(console, SECRETARY).get(f"/employees/{STAFF}")
    assert page.status_code == 404 and "YANTI" not in page.text


def test_a_unit_typed_in_another_case_shows_its_people(console: Console) -> None:
    secretary = signed_in(console, SECRETARY)
    exact = secretary.get("/units/Bidang Ideologi dan Wawasan Kebangsaan")
    typed = secretary.get("/units/bidang ideologi dan wawasan kebangsaan")
    assert exact.status_code == typed.status_code == 200
    for page in (exact, typed):  # the grid names the unit's head, the heading its name
        assert "ZUKIPLI" in page.text and "Bidang Ideologi dan Wawasan Kebangsaan" in page.text
        assert page.text.count('href="/employees/') > 3


def test_a_person_page_in_december_lists_last_years_obligations_in_full(
    console: Console,
) -> None:
    """Evaluation's own window keeps only the last quarter of last year in view; a person's
    page promises this year and last: SKP 2025 (due 28 February 2025) is there in December
    2026, overdue, under 2025."""
    december = datetime(2026, 12, 8, 9, tzinfo=WITA)
    shown = views.person(console.config, console.db, december, STAFF, "id")
    years = dict(shown.years)
    last = [(line.code, line.period_key, line.status) for line in years[2025]]
    assert ("SKP", "2025", "overdue") in last and ("SPT", "2024", "overdue") in last
    assert ("SKP", "2026", "overdue") in [(x.code, x.period_key, x.status) for x in years[2026]]


def test_a_console_shown_as_at_a_moment_counts_then_and_records_at_the_real_time(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`tenggat web --as-of`: the demo's IKI 2025 as on the morning of 3 March 2025."""
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    shown = start(database_url, as_of=datetime(2025, 3, 3, 9, 0, tzinfo=WITA))
    try:
        browser = signed_in(shown, SECRETARY)  # the link and the session run on the clock
        home = browser.get("/").text
        assert "Keadaan Senin, 3 Maret 2025 pukul 09.00 WITA" in home
        assert "Tampilan per Senin, 3 Maret 2025 09.00 WITA (peragaan)" in home
        page = browser.get(f"/employees/{STAFF}").text
        assert "Jatuh tempo tahun 2025" in page and "Jatuh tempo tahun 2024" in page
        (skp,) = re.findall(r'<tr id="SKP-2025">(.*?)</tr>', page, re.S)
        assert 'class="badge overdue"' in skp and ">3, terus bertambah<" in skp
        assert 'value="2025-03-03T09:00"' in page  # the desk's form offers the shown moment
        (token,) = set(re.findall(r'name="csrf" value="([^"]+)"', page))
        data = {"csrf": token, "item": "SKP 2025", "submitted_at": "2025-03-03T09:00"}
        done = browser.post(f"/employees/{STAFF}/submissions", data=data)
        assert done.status_code == 303, done.text
        with shown.db.read() as session:
            row = session.scalars(select(models.Submission)).one()
            audited = session.scalars(select(models.WebAudit.at)).all()
        assert row.submitted_at.replace(tzinfo=None) == datetime(2025, 3, 3, 1, 0)  # UTC
        now = datetime.now(WITA).year
        assert row.recorded_at.year == now and all(at.year == now for at in audited)
        (skp,) = re.findall(
            r'<tr id="SKP-2025">(.*?)</tr>', browser.get(f"/employees/{STAFF}").text, re.S
        )
        assert 'class="badge late"' in skp and '<td data-label="Hari terlambat">3</td>' in skp
    finally:
        shown.server.stop()
        shown.db.engine.dispose()
    helped = CliRunner().invoke(cli, ["web", "--help"])
    assert "--as-of" in helped.output
    refused = CliRunner().invoke(cli, ["web", "--as-of", "kemarin"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
