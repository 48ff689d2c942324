"""The admin's desk in a real headless Chromium (as tests/test_browser.py drives the
console): the Secretary uploads a roster sheet, sees its preview, confirms it and finds
the new people; the preview alone wrote nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from test_browser import browser as browser  # the module's Chromium
from test_browser import console as console  # a seeded SQLite console
from test_browser import press, shoot, sign_in
from test_web import SECRETARY, Console

from scheduler.store import models

NEWCOMERS = {"199001012020121001": "RINA PRATIWI", "199202022021022002": "BUDI SANTOSO"}


def test_the_secretary_uploads_a_roster_sheet_previews_it_and_confirms(
    browser: Any, console: Console, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    sheet = tmp_path / "pegawai-baru.csv"
    rows = [f"{nip},{nip},{name},Sekretariat,{SECRETARY},,SKP" for nip, name in NEWCOMERS.items()]
    sheet.write_text("key,nip,name,unit,superior,roles,rules\n" + "\n".join(rows) + "\n")

    sign_in(driver, console, SECRETARY, "#on-time svg.chart")
    press(driver, "#desk", "#to-upload")
    press(driver, "#to-upload", "#upload-roster")
    driver.find_element(By.CSS_SELECTOR, "#upload-roster input[type=file]").send_keys(str(sheet))
    press(driver, "#upload-roster button[type=submit]", "#would")
    would = driver.find_element(By.ID, "would").text
    assert "2 pegawai baru" in would
    shown = driver.find_element(By.ID, "first-rows").text
    assert all(name in shown for name in NEWCOMERS.values())
    shoot(driver, "admin-preview")
    with console.db.read() as session:  # the preview wrote nothing
        table = models.Employee
        assert session.scalars(select(table.key).where(table.key.in_(NEWCOMERS))).all() == []

    press(driver, "#confirm", "#done")
    assert "pegawai-baru.csv ditulis: 2 pegawai baru" in driver.find_element(By.ID, "done").text
    for nip, name in NEWCOMERS.items():
        driver.get(f"{console.base}/employees/{nip}")
        assert driver.find_element(By.ID, "person-name").text == name
    driver.get(f"{console.base}/admin/review")
    assert driver.find_elements(By.CSS_SELECTOR, "section.flagged ul.reasons li")
    shoot(driver, "admin-review")
    refused = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []
