"""The console driven in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, through Selenium): sign in by link and press the button, see the home
with its charts, open a person, sign out; a staff member is refused another person's page.

Skipped with its reason where no Chromium is installed (a laptop); failed where CI demands
one (``TENGGAT_REQUIRE_BROWSER=1``, set by ``.ci/run``, which installs it).  With
``TENGGAT_SCREENSHOTS=DIR`` the pages are also saved there at phone and desktop widths
(docs/console/ holds a set); ``TENGGAT_CHROMIUM`` names another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_service import seed_roster
from test_web import HEAD, SECRETARY, STAFF, Console, start

from rules.calendar import WITA
from scheduler.cli.main import cli
from scheduler.store import models

CHROMIUM = Path(os.environ.get("TENGGAT_CHROMIUM", "/usr/bin/chromium"))
DRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE, DESKTOP = (390, 844), (1280, 900)


def _require() -> None:
    missing = [str(path) for path in (CHROMIUM, DRIVER) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    reason = f"no browser to drive: {', '.join(missing)} missing"
    reason += " (apt-get install chromium chromium-driver)"
    if os.environ.get("TENGGAT_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require()
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(DRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    seed_roster(url)
    found = start(url)
    yield found
    found.server.stop()
    found.db.engine.dispose()


def shoot(driver: Any, name: str) -> None:
    """Save the page at phone and desktop widths where TENGGAT_SCREENSHOTS asks for it."""
    where = os.environ.get("TENGGAT_SCREENSHOTS")
    if not where:
        return
    Path(where).mkdir(parents=True, exist_ok=True)
    for label, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(int(full) + 40, 2 * height))
        driver.save_screenshot(str(Path(where) / f"{name}-{label}.png"))
    driver.set_window_size(*DESKTOP)


def press(driver: Any, what: str, then: str) -> None:
    """Press the button or link ``what`` (a CSS selector) and wait until the page it leads
    to (another address) shows ``then``: a click returns before the answer has arrived, and
    the driver may stumble on the old page's nodes while it goes."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    before = driver.current_url
    driver.find_element(By.CSS_SELECTOR, what).click()
    wait = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
    wait.until(lambda d: d.current_url != before and d.find_elements(By.CSS_SELECTOR, then))


def sign_in(driver: Any, console: Console, nip: str, then: str) -> None:
    driver.delete_all_cookies()
    driver.get(console.link(nip))
    press(driver, "#sign-in", then)


def handed_in_on_time(console: Console, unit: str, rule: str = "SKP") -> int:
    """Every carrier of ``rule`` in ``unit`` hands this year's in on time, through the
    submissions sheet as a secretariat would; how many."""
    year = datetime.now(WITA).year
    with console.db.read() as session:
        keys = session.scalars(
            select(models.Employee.key)
            .join(models.Unit, models.Unit.id == models.Employee.unit_id)
            .join(models.Assignment, models.Assignment.employee_id == models.Employee.id)
            .where(models.Unit.name == unit, models.Assignment.rule_code == rule)
        ).all()
    sheet = Path("handed.csv")
    rows = [f"{key},{rule},{year},{year}-02-20 09:00,BKN-{n}" for n, key in enumerate(keys)]
    sheet.write_text("nip,rule,period,submitted_at,evidence\n" + "\n".join(rows) + "\n")
    done = CliRunner(env=console.environ).invoke(cli, ["submissions", "import", str(sheet)])
    assert done.exit_code == 0, done.output
    return len(keys)


def test_the_secretary_signs_in_sees_the_charts_opens_a_person_and_signs_out(
    browser: Any, console: Console
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    assert handed_in_on_time(console, "Bidang Politik Dalam Negeri") > 3
    link = console.link(SECRETARY)
    driver.delete_all_cookies()
    driver.get(link)
    assert "SUTRISNO" in driver.find_element(By.TAG_NAME, "main").text
    shoot(driver, "sign-in")
    press(driver, "#sign-in", "#on-time svg.chart")

    assert driver.current_url == f"{console.base}/"
    chart = driver.find_element(By.CSS_SELECTOR, "#on-time svg.chart")
    assert chart.is_displayed() and chart.size["width"] > 200
    bars = chart.find_elements(By.CSS_SELECTOR, "rect.bar.on_time")
    assert len(bars) >= 4
    counted = [bar for bar in bars if "Politik" in bar.get_attribute("textContent")]
    assert len(counted) == 1 and float(counted[0].get_attribute("width")) > 0  # counted
    short = chart.find_elements(By.CSS_SELECTOR, "rect.bar.short")
    fills = {bar.value_of_css_property("fill") for bar in (bars[0], short[0])}
    assert fills == {"rgb(31, 138, 76)", "rgb(200, 55, 45)"}  # on time green, short red
    trend = driver.find_element(By.CSS_SELECTOR, "#trend svg.chart")
    assert trend.is_displayed() and trend.size["width"] > 200
    weeks = trend.find_elements(By.CSS_SELECTOR, "circle.point")
    line = trend.find_element(By.CSS_SELECTOR, "polyline.trend").get_attribute("points")
    assert len(weeks) == len(line.split()) >= 1  # a point per week with something due
    cells = driver.find_elements(By.CSS_SELECTOR, "#grid td.cell:not(.empty)")
    assert len(cells) > 50 and cells[0].get_attribute("title")
    assert driver.find_element(By.ID, "overdue").is_displayed()
    refused = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []  # the page needs nothing the policy forbids
    shoot(driver, "home")

    press(driver, f'#grid th a[href="/employees/{STAFF}"]', "#person-name")
    assert driver.current_url.endswith(f"/employees/{STAFF}")
    assert driver.find_element(By.ID, "person-name").text == "YANTI HEIDA YANI"
    shoot(driver, "person")

    press(driver, "#sign-out", "section.message")
    assert "keluar" in driver.find_element(By.TAG_NAME, "h1").text
    driver.get(f"{console.base}/")
    assert "Silakan masuk" in driver.find_element(By.TAG_NAME, "h1").text
    driver.get(link)  # used: a clear page, nothing else
    assert "tidak dapat dipakai" in driver.find_element(By.TAG_NAME, "h1").text


def test_a_staff_member_is_refused_another_persons_page(browser: Any, console: Console) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    sign_in(driver, console, STAFF, "#person-name")
    assert driver.current_url.endswith(f"/employees/{STAFF}")
    driver.get(f"{console.base}/employees/{HEAD}")
    main = driver.find_element(By.TAG_NAME, "main").text
    assert "Tidak diizinkan" in main
    assert "ZUKIPLI" not in driver.page_source and HEAD not in driver.page_source


def skp_cell(driver: Any, key: str) -> str:
    """The colour (status) of this year's SKP cell of ``key``'s row in the home's grid."""
    from selenium.webdriver.common.by import By

    year = datetime.now(WITA).year
    row = driver.find_element(
        By.XPATH, f'//table[@class="grid"]//tr[th/a[@href="/employees/{key}"]]'
    )
    for cell in row.find_elements(By.CSS_SELECTOR, "td.cell:not(.empty)"):
        if cell.get_attribute("title").startswith(f"Sasaran Kinerja Pegawai (SKP) Tahun {year}"):
            return str(cell.get_attribute("class")).split()[-1]
    raise AssertionError("no SKP cell")


def test_the_secretary_records_a_submission_with_a_file_and_sees_it_counted(
    browser: Any, console: Console, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver = browser
    year = datetime.now(WITA).year
    receipt = tmp_path / "Tanda terima SKP.pdf"
    receipt.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    sign_in(driver, console, SECRETARY, "#on-time svg.chart")
    owed = skp_cell(driver, STAFF)
    assert owed in {"upcoming", "due_soon", "due_today", "overdue"}

    press(driver, f'#grid th a[href="/employees/{STAFF}"]', "#record form")
    Select(driver.find_element(By.ID, "record_submission-item")).select_by_value(f"SKP {year}")
    driver.find_element(By.ID, "note").send_keys("BKN-2026-77")
    driver.find_element(By.ID, "file").send_keys(str(receipt))
    press(driver, "#record-submit", "#notice")

    notice = driver.find_element(By.ID, "notice").text
    assert notice.startswith("Tercatat: SKP") and "YANTI HEIDA YANI" in notice and "WITA" in notice
    row = driver.find_element(By.XPATH, '//table[@class="list"]//tr[td[starts-with(., "SKP:")]]')
    assert row.find_element(By.CSS_SELECTOR, ".badge").get_attribute("class").split()[-1] in {
        "on_time",
        "late",
    }  # counted on the person's page
    link = row.find_element(By.CSS_SELECTOR, "a.file")
    assert link.text == "Tanda terima SKP.pdf" and "BKN-2026-77" in row.text
    shoot(driver, "person-recorded")

    driver.get(f"{console.base}/")
    assert skp_cell(driver, STAFF) in {"on_time", "late"}  # and on the home
    refused = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []
    press(driver, "#sign-out", "section.message")
    assert "keluar" in driver.find_element(By.TAG_NAME, "h1").text
