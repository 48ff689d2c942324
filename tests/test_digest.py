"""The weekly digest on the bundled IKI 2025 roster: the numbers (by hand), the escalation
state, the next fortnight, the change since a week ago, the words in both languages, the
CSV attachment, and `tenggat digest` on SQLite and PostgreSQL.

The scenario, at Monday 3 March 2025 07:30 WITA (a week before: Monday 24 February 07:30),
centres on the Bidang Politik Dalam Negeri (PDN), seven people:

- the APBD 2025 was adopted on 20 December 2024, so PK was due Monday 20 January;
- RINI (head) handed in PK on 15 January and SKP on 20 February; NORHAYATI PK on 16 January
  and SKP on 27 February (on time, this week); FATHURRAHMAN SKP on Saturday 1 March (late by
  a day, this week); WAHYUNI is exempt from SKP 2025; ANDRIE recorded e-Pantau 2025-02,
  verified, on 7 February (a unit rule: it serves PDN's carriers, RINI and him, and not
  the three other units that carry it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifications import digest as layout
from rules.calendar import WITA, LegalCalendar
from rules.catalog import Catalog, Source
from rules.digest import (
    Digest,
    Level,
    Line,
    Measured,
    Member,
    Rate,
    Settled,
    Upcoming,
    build_digest,
)
from rules.evaluate import Assignment, Person, Roster, Status, Submission
from rules.schedule import Event, Schedule
from scheduler.cli.main import cli
from scheduler.config import load_config
from scheduler.iki.apply import apply_import
from scheduler.iki.document import IkiImport, parse_iki
from scheduler.reports import digest as service_digest
from scheduler.store import models, records, submissions
from scheduler.store.db import Database

SEED_TEXT = (
    resources.files("scheduler")
    .joinpath("data/iki_2025_kesbangpol_kukar.txt")
    .read_text(encoding="utf-8")
)
NOW = datetime(2025, 3, 3, 7, 30, tzinfo=WITA)
PDN = "Bidang Politik Dalam Negeri"
SECRETARY = "197105152000121003"  # SUTRISNO
ARDANI = "197308132007011009"  # Kasubbag Umum, Sekretariat
RINI = "197405161994022001"  # head of PDN
ANDRIE = "197504252000121002"
FATHUR = "197711032007011019"
NORHAYATI = "197805302010012005"
WAHYU = "196804092010012001"
WAHYUNI = "198407252010012002"
MULYO = "TMP-fb7f4e98c6"
PDN_PEOPLE = [FATHUR, ANDRIE, MULYO, NORHAYATI, RINI, WAHYU, WAHYUNI]  # by name


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WITA)


# (employee, rule, period, submitted at, verified)
SUBMITTED = [
    (RINI, "PK", "2025", at("2025-01-15 10:00"), True),
    (NORHAYATI, "PK", "2025", at("2025-01-16 10:00"), True),
    (ANDRIE, "EPANTAU", "2025-02", at("2025-02-07 14:00"), True),
    (RINI, "SKP", "2025", at("2025-02-20 09:00"), True),
    (NORHAYATI, "SKP", "2025", at("2025-02-27 10:00"), True),
    (FATHUR, "SKP", "2025", at("2025-03-01 09:00"), True),
]
EXEMPT = {(WAHYUNI, "SKP"): frozenset({"2025"})}
EVENTS = [Event("APBD_ADOPTED", "2025", date(2024, 12, 20))]


@pytest.fixture(scope="module")
def seed(catalog: Catalog) -> IkiImport:
    return parse_iki(SEED_TEXT, catalog)


def pure(
    seed: IkiImport,
    schedule: Schedule,
    unit: str | None = None,
    extra: tuple[tuple[str, str, str, datetime, bool], ...] = (),
    names: dict[str, str] | None = None,
    shuffle: int | None = None,
    now: datetime = NOW,
) -> Digest:
    """The digest straight from the parsed seed, as the importer would store it (duties
    from 1 January 2025), with the scenario's records."""
    people = {e.key: Person(e.key, e.superior_key, e.unit) for e in seed.employees}
    assignments = [
        Assignment(e.key, code, EXEMPT.get((e.key, code), frozenset()), date(2025, 1, 1))
        for e in seed.employees
        for code in sorted(e.codes)
    ]
    secretary = next(e.key for e in seed.employees if "secretary" in e.roles)
    members = [Member(e.key, (names or {}).get(e.key, e.name), e.unit) for e in seed.employees]
    unit_of = {e.key: e.unit for e in seed.employees}
    submissions = [
        Submission(r, p, t, k, v, unit=unit_of[k]) for k, r, p, t, v in (*SUBMITTED, *extra)
    ]
    if shuffle is not None:
        for listed in (assignments, members, submissions):
            random.Random(shuffle).shuffle(listed)
    roster = Roster(people, assignments, secretary)
    return build_digest(schedule, roster, submissions, EVENTS, members, now, unit)


@pytest.fixture(scope="module")
def pdn(seed: IkiImport, schedule: Schedule) -> Digest:
    return pure(seed, schedule, PDN)


@pytest.fixture(scope="module")
def agency(seed: IkiImport, schedule: Schedule) -> Digest:
    return pure(seed, schedule)


# --------------------------------------------------------------------------- the numbers


def test_on_time_rates_of_a_unit_now_and_a_week_ago(pdn: Digest) -> None:
    # Due so far (now): SKP 6 (7 carriers, WAHYUNI exempt), PK 7, and the agency rules once
    # however many carry them (ANDRIE and RINI): e-Pantau 2025-01 and -02: 15 (Serapan is a
    # measured value: in ``measures``, not in the on-time rates).  On time: SKP RINI and
    # NORHAYATI, PK RINI and NORHAYATI, e-Pantau 2025-02: 5.  A week ago SKP was not due
    # yet: 9 due, 3 on time.
    assert pdn.total == Line("", Rate(5, 15), Rate(3, 9))
    assert pdn.total.now.percent == pytest.approx(33.333, abs=1e-3)
    assert pdn.total.change == pytest.approx(0)
    # what changed: 6 items reached their deadline this week (SKP), 2 on time
    assert pdn.total.newly_due == Rate(2, 6)
    assert pdn.units == (Line(PDN, Rate(5, 15), Rate(3, 9)),)
    assert pdn.rules == ("SKP", "SPT", "LHKPN", "EPANTAU", "PK", "MR", "SERAPAN")
    assert {line.name: (line.now, line.week_ago) for line in pdn.by_rule} == {
        "SKP": (Rate(2, 6), Rate(0, 0)),
        "SPT": (Rate(0, 0), Rate(0, 0)),
        "LHKPN": (Rate(0, 0), Rate(0, 0)),
        "EPANTAU": (Rate(1, 2), Rate(1, 2)),
        "PK": (Rate(2, 7), Rate(2, 7)),
        "MR": (Rate(0, 0), Rate(0, 0)),
    }
    # February's value is not recorded: the month is owed (its checkpoint has passed).
    assert pdn.measures == (
        Measured("SERAPAN", "2025-02", date(2025, 2, 28), Status.OVERDUE, None),
    )
    by_rule = {line.name: line for line in pdn.by_rule}
    assert by_rule["SKP"].change is None  # nothing was due a week ago
    assert by_rule["PK"].change == 0
    assert not pdn.total.now.met and by_rule["SPT"].now.percent is None


@pytest.mark.parametrize(
    ("rule", "due", "owed"),
    [
        ("SKP", 57, 57),  # personal: once per carrier (58 carry it, WAHYUNI exempt)
        ("PK", 58, 58),
        ("EPANTAU", 8, 16),  # unit: one per unit serves its carriers, 4 units × 2 months
        ("P3DN", 2, 2),  # one carrier: the same either way
        ("LKSKPD", 1, 1),
    ],
)
def test_an_agency_or_unit_rule_counts_once_per_occurrence_not_per_carrier(
    agency: Digest, rule: str, due: int, owed: int
) -> None:
    (line,) = [line for line in agency.by_rule if line.name == rule]
    assert line.now.due == due
    # each carrier's own score still holds it, as their IKI does
    assert sum(dict(score.rules).get(rule, Rate()).due for score in agency.people) == owed


def test_a_unit_counts_an_agency_rule_once_if_any_of_its_people_carry_it(agency: Digest) -> None:
    # e-Pantau 2025-02 handed in on time by ANDRIE serves PDN, his unit, and no other:
    # four units carry it, two months each, one of the eight on time
    epantau = {line.name: line.now for line in agency.by_rule}["EPANTAU"]
    assert epantau == Rate(1, 8)
    units = {line.name: line.now for line in agency.units}
    assert units[PDN] == Rate(5, 15)  # as the unit's own digest says
    overdue = {(o.employee, o.rule, o.period) for o in agency.overdue}
    assert (RINI, "EPANTAU", "2025-02") not in overdue  # his unit's head: served
    assert (SECRETARY, "EPANTAU", "2025-02") in overdue  # the Sekretariat's: not served


def test_overdue_deliverables_are_counted_once_per_unit_or_agency(pdn: Digest) -> None:
    # 14 entries of who owes what: PK 5, SKP 3 (new), e-Pantau January 2 (RINI and ANDRIE,
    # one bidang), Serapan January and February 2 each (agency); the things owed are 11:
    # e-Pantau once for the unit, Serapan once a month for the agency
    assert (len(pdn.overdue), len(pdn.newly_overdue)) == (14, 5)
    assert (pdn.owed, pdn.newly_owed) == (11, 4)


def test_people_and_their_iki_achievement(pdn: Digest) -> None:
    assert [m.key for m in pdn.members] == PDN_PEOPLE
    scores = {score.employee: score for score in pdn.people}
    assert [score.employee for score in pdn.people] == PDN_PEOPLE
    assert scores[RINI].now == Rate(3, 4)  # SKP, PK, e-Pantau 1 of 2 (Serapan is measured)
    assert scores[RINI].week_ago == Rate(2, 3)
    assert dict(scores[RINI].rules) == {  # Serapan's cell: months met over months checked
        "SKP": Rate(1, 1), "EPANTAU": Rate(1, 2), "PK": Rate(1, 1), "SERAPAN": Rate(0, 2),
    }  # fmt: skip
    assert scores[NORHAYATI].now.met and scores[NORHAYATI].now == Rate(2, 2)
    assert scores[FATHUR].now == Rate(0, 2)  # SKP late counts as not on time
    assert scores[WAHYUNI].now == Rate(0, 1)  # SKP exempt: only PK counts


def test_overdue_items_with_days_late_and_how_far_they_went_up(pdn: Digest) -> None:
    got = [(o.rule, o.period, o.employee, o.days_late, o.level, o.new) for o in pdn.overdue]
    secretary, employee = Level.SECRETARY, Level.EMPLOYEE
    assert got == [
        ("EPANTAU", "2025-01", ANDRIE, 52, secretary, False),
        ("EPANTAU", "2025-01", RINI, 52, secretary, False),
        ("PK", "2025", FATHUR, 42, secretary, False),
        ("PK", "2025", ANDRIE, 42, secretary, False),
        ("PK", "2025", MULYO, 42, secretary, False),
        ("PK", "2025", WAHYU, 42, secretary, False),
        ("PK", "2025", WAHYUNI, 42, secretary, False),
        ("SERAPAN", "2025-01", ANDRIE, 31, employee, False),  # its ladder is H only
        ("SERAPAN", "2025-01", RINI, 31, employee, False),
        ("SKP", "2025", ANDRIE, 3, employee, True),
        ("SKP", "2025", MULYO, 3, employee, True),
        ("SKP", "2025", WAHYU, 3, employee, True),
        ("SERAPAN", "2025-02", ANDRIE, 3, employee, True),
        ("SERAPAN", "2025-02", RINI, 3, employee, True),
    ]
    pk = pdn.overdue[2]
    assert pk.steps == ("H-7", "H-3", "H-1", "H", "H+1", "H+5")
    assert pk.told == ("employee", "superior", "secretary")
    assert (pk.next_step, pk.next_at) == (None, None)
    skp = pdn.overdue[9]
    # Friday 28 February was H; H+1 is Monday 3 March at 08:00, half an hour from now.
    assert skp.steps == ("H-7", "H-3", "H-1", "H") and skp.told == ("employee",)
    assert (skp.next_step, skp.next_at) == ("H+1", at("2025-03-03 08:00"))
    assert [(o.rule, o.employee) for o in pdn.newly_overdue] == [(o[0], o[2]) for o in got if o[5]]


def test_nobody_above_the_secretary_is_told_about_their_own_items(agency: Digest) -> None:
    epantau = {
        o.employee: o for o in agency.overdue if (o.rule, o.period) == ("EPANTAU", "2025-01")
    }
    assert len(epantau) == 8
    assert epantau[ARDANI].told == ("employee", "superior", "secretary")
    assert epantau[SECRETARY].told == ("employee",)
    assert epantau[SECRETARY].level is Level.EMPLOYEE


def test_next_fourteen_days_and_who_has_not_submitted(
    pdn: Digest, seed: IkiImport, schedule: Schedule
) -> None:
    assert pdn.upcoming == (
        Upcoming("EPANTAU", "2025-03", date(2025, 3, 10), 7, (ANDRIE, RINI), (), ()),
    )
    # Handed in but not verified: nobody still owes it, but nobody is done either.
    unverified = (RINI, "EPANTAU", "2025-03", at("2025-03-01 08:00"), False)
    handed = pure(seed, schedule, PDN, extra=(unverified,))
    assert handed.upcoming == (
        Upcoming("EPANTAU", "2025-03", date(2025, 3, 10), 7, (), (ANDRIE, RINI), ()),
    )
    verified = pure(seed, schedule, PDN, extra=((*unverified[:4], True),))
    assert verified.upcoming[0].submitted == (ANDRIE, RINI)
    assert [(s.employee, s.rule, s.status) for s in verified.newly_done][-2:] == [
        (ANDRIE, "EPANTAU", Status.ON_TIME),
        (RINI, "EPANTAU", Status.ON_TIME),
    ]


def test_handed_in_since_a_week_ago(pdn: Digest) -> None:
    assert pdn.newly_done == (
        Settled(FATHUR, "SKP", "2025", date(2025, 2, 28), Status.LATE, 1, at("2025-03-01 09:00")),
        Settled(
            NORHAYATI, "SKP", "2025", date(2025, 2, 28), Status.ON_TIME, None,
            at("2025-02-27 10:00"),
        ),
    )  # fmt: skip


def test_the_agency_sees_the_unit_as_the_unit_sees_itself(agency: Digest, pdn: Digest) -> None:
    assert agency.unit is None and len(agency.members) == 58
    lines = {line.name: line for line in agency.units}
    assert lines[PDN] == Line(PDN, pdn.total.now, pdn.total.week_ago)
    assert [line.name for line in agency.units][-1] == ""  # people without a unit come last
    # an agency rule counts once in the total however many units carry it, once in each;
    # by 3 March those due (P3DN, LK SKPD, LKjIP, SI RUP) are the Sekretariat's alone, and
    # e-Pantau counts once per unit in both, so the units' lines add up to the total
    assert agency.total.now == Rate(5, 128)
    assert sum(line.now.due for line in agency.units) == agency.total.now.due
    assert agency.total.now == Rate(
        sum(line.now.on_time for line in agency.by_rule),
        sum(line.now.due for line in agency.by_rule),
    )
    overdue = {o.employee for o in agency.overdue}
    assert NORHAYATI not in overdue and overdue >= set(PDN_PEOPLE) - {NORHAYATI}


def test_the_digest_does_not_depend_on_input_order(seed: IkiImport, schedule: Schedule) -> None:
    assert pure(seed, schedule, shuffle=1) == pure(seed, schedule, shuffle=2)


# --------------------------------------------------------------------------- words


def test_percentages_are_written_for_the_reader() -> None:
    assert service_digest.percent(200 / 3, "id") == "66,7%"
    assert service_digest.percent(200 / 3, "en") == "66.7%"
    assert service_digest.percent(99.96, "id") == "99,9%"  # short of the target: never 100%
    assert service_digest.percent(100.0, "id") == "100%"
    assert service_digest.percent(None, "id") == "–"
    assert service_digest.points(-2.198, "id") == "-2,2"
    assert service_digest.points(16.66, "en") == "+16.7"
    assert service_digest.points(0.01, "en") == "±0"
    assert service_digest.points(None, "en") == ""


def test_text_in_indonesian(pdn: Digest, catalog: Catalog) -> None:
    text = layout.render_text(service_digest.view(pdn, catalog, "id"))
    lines = text.splitlines()
    assert lines[:3] == [
        "Ringkasan mingguan kepatuhan IKI",
        PDN,
        "Senin, 3 Maret 2025, pukul 07.30 WITA",
    ]
    for expected in [
        "Tepat waktu tahun ini: 33,3% (target 100%)",
        "5 dari 15 kewajiban yang batas waktunya sudah lewat",
        "Seminggu lalu: 33,3% (±0 poin; 6 baru sampai batas waktu minggu ini, 2 di antaranya "
        "tepat waktu)",
        "Nilai yang diukur:",
        "- Serapan Anggaran terhadap SPD Februari 2025: belum diisi (target 100%)",
        "- Sasaran Kinerja Pegawai (SKP): 33,3% (2/6)",
        "- Perjanjian Kinerja (PK): 28,6% (2/7), ±0",
        "Belum sampai batas waktu tahun ini:",
        "- SPT Tahunan PPh Orang Pribadi",
        "- Dokumen Manajemen Risiko",
        "Lewat batas waktu: 11 (4 baru minggu ini)",
        "Perjanjian Kinerja (PK) Tahun 2025: lewat 42 hari",
        "batas waktu Senin, 20 Januari 2025",
        "sudah sampai Sekretaris",
        "Sasaran Kinerja Pegawai (SKP) Tahun 2025: lewat 3 hari (baru)",
        "sudah diingatkan ke pegawai; berikutnya H+1, Senin, 3 Maret 2025",
        "Input dan Verifikasi e-Pantau Maret 2025",
        "batas waktu Senin, 10 Maret 2025 (7 hari lagi)",
        "belum menyampaikan 2 dari 2:",
        "Disampaikan sejak Senin, 24 Februari 2025: 2",
        "- FATHURRAHMAN, S.Sos (Terlambat 1 hari)",
        "- NORHAYATI (Tepat waktu)",
        "Ketepatan waktu penyampaian di bawah 100%: 6 pegawai",
        "- RINI SULISTYOWATI, M.Si: 75% (3/4)",
        "1 pegawai mencapai 100%; 0 belum punya kewajiban yang batas waktunya sudah lewat.",
    ]:
        assert expected in lines, expected
    assert "Per unit:" not in lines  # one unit: its total says it all
    behind = lines[lines.index("Ketepatan waktu penyampaian di bawah 100%: 6 pegawai") + 1 :][:6]
    assert behind[0] == "- FATHURRAHMAN, S.Sos: 0% (0/2)"  # worst first
    assert behind[-1] == "- RINI SULISTYOWATI, M.Si: 75% (3/4)"


def test_text_in_english(pdn: Digest, catalog: Catalog) -> None:
    lines = layout.render_text(service_digest.view(pdn, catalog, "en")).splitlines()
    for expected in [
        "Weekly IKI compliance digest",
        "Monday, 3 March 2025, 07:30 WITA",
        "On time this year: 33.3% (target 100%)",
        "A week ago: 33.3% (±0 points; 6 newly reached their deadline this week, 2 of them on "
        "time)",
        "- Budget absorption against issued SPD February 2025: not recorded yet (target 100%)",
        "Overdue: 11 (4 new this week)",
        "Employee performance targets (SKP), year 2025: 3 day(s) overdue (new)",
        "escalated to the Secretary",
        "due Monday, 10 March 2025 (in 7 day(s))",
        "- FATHURRAHMAN, S.Sos (Late by 1 day(s))",
    ]:
        assert expected in lines, expected
    assert not any("hari" in line for line in lines)


def test_agency_text_reads_well_when_telegram_splits_it(agency: Digest, catalog: Catalog) -> None:
    text = layout.render_text(service_digest.view(agency, catalog, "id"))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    # 17 people without a unit: PK and SKP each; none on time (Serapan is a measured value)
    assert "Per unit:" in lines and "- Tanpa unit: 0% (0/34), ±0" in lines
    assert "- dan 44 lainnya" in lines  # PK overdue for 56: twelve names, then a count
    # the Secretary's own item, in a group that reached the Secretary, says so
    assert "- SUTRISNO, S.Sos, M.Si (hanya pegawai yang diingatkan)" in lines
    sections = text.split("\n\n")
    assert all(len(section) < 4096 for section in sections)
    assert len(text) > 4096  # long enough to need splitting, which blank lines make clean


def test_html_has_tables_and_escapes_hostile_names(
    seed: IkiImport, schedule: Schedule, catalog: Catalog
) -> None:
    hostile = '<script>alert("x")</script> & Co'
    built = pure(seed, schedule, PDN, names={FATHUR: hostile})
    for language in ("id", "en"):
        html = layout.render_html(service_digest.view(built, catalog, language))
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
        assert html.count("<table") == 5  # rules, overdue, upcoming, handed in, people
    assert "<th>Lewat (hari)</th>" in layout.render_html(service_digest.view(built, catalog, "id"))


def test_csv_attachment_parses_back(seed: IkiImport, schedule: Schedule, catalog: Catalog) -> None:
    tricky = 'FATHURRAHMAN, S.Sos "Fatur"'
    built = pure(seed, schedule, PDN, names={FATHUR: tricky})
    shown = service_digest.view(built, catalog, "id")
    data = service_digest.csv_text(shown).encode("utf-8")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    for row in rows:
        row["nip"] = row["nip"].replace(" ", "")  # spaced as NIPs are written, for Excel
    assert list(rows[0]) == list(layout.CSV_COLUMNS["id"])
    # one row per person and rule they carry: five staff with 3 rules, two with 6
    assert len(rows) == 5 * 3 + 2 * 6
    cell = next(r for r in rows if (r["nip"], r["kode"]) == (FATHUR, "SKP"))
    assert cell == {
        "unit": PDN, "nip": FATHUR, "nama": tricky, "kode": "SKP",
        "kewajiban": "Sasaran Kinerja Pegawai (SKP)", "periode": "2025",
        "nama_periode": "Tahun 2025", "batas_waktu": "2025-02-28",
        "kode_status": "late", "status": "Terlambat", "hari_terlambat": "1",
        "disampaikan": "2025-03-01 09:00", "tepat_waktu": "0",
        "sudah_sampai_batas_waktu": "1", "ketepatan_waktu_persen": "0,0",
    }  # fmt: skip
    rini = {r["kode"]: r for r in rows if r["nip"] == RINI}
    assert rini["EPANTAU"]["ketepatan_waktu_persen"] == "50,0"
    assert rini["LHKPN"]["kode_status"] == "upcoming"
    assert rini["LHKPN"]["ketepatan_waktu_persen"] == ""
    assert rini["LHKPN"]["batas_waktu"] == "2025-04-11"  # moved by the KPK
    assert (rini["LHKPN"]["periode"], rini["LHKPN"]["nama_periode"]) == ("2024", "Tahun 2024")
    assert layout.csv_filename(shown) == "tenggat-digest-2025-03-03-bidang-politik-dalam-negeri.csv"
    english = list(
        csv.reader(
            io.StringIO(service_digest.csv_text(service_digest.view(built, catalog, "en"))),
            delimiter=";",
        )
    )
    assert english[0][:3] == ["\ufeffunit", "nip", "name"]


# --------------------------------------------------------------------------- the database


@pytest.fixture
def loaded(
    database: Database, seed: IkiImport, catalog: Catalog, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Database]:  # fmt: skip
    """The seed and the scenario's records in a real database; the working directory and
    environment point the command line at it."""
    with database.write() as session:
        apply_import(session, seed, at("2025-03-01 09:00"))
    with database.write() as session:
        for key, rule, period, moment, verified in SUBMITTED:
            employee = records.find_employee(session, key)
            submissions.add(
                session, employee.id, rule, period, moment, NOW, "test", verified=verified
            )
        records.set_event(session, catalog, "APBD_ADOPTED", "2025", date(2024, 12, 20), NOW, "t")
        session.add(
            models.Exemption(
                employee_id=records.find_employee(session, WAHYUNI).id,
                rule_code="SKP",
                period="2025",
                reason="cuti melahirkan",
                recorded_by="test",
                recorded_at=NOW,
            )
        )
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("TENGGAT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database.url.render_as_string(hide_password=False))
    yield database


def test_build_from_the_database_is_the_pure_digest(
    loaded: Database, seed: IkiImport, schedule: Schedule, pdn: Digest, agency: Digest
) -> None:
    config = load_config()
    assert service_digest.build(config, loaded, NOW, "bidang politik DALAM negeri") == pdn
    assert service_digest.build(config, loaded, NOW) == agency
    with pytest.raises(service_digest.UnknownUnit) as refused:
        service_digest.build(config, loaded, NOW, "Bidang Politik")
    assert refused.value.text("en").endswith("did you mean Bidang Politik Dalam Negeri?")

    secretary_only = service_digest.recipients(loaded)
    assert [(r.key, r.unit) for r in secretary_only] == [(SECRETARY, None)]
    heads = service_digest.recipients(loaded, unit_heads=True)
    assert [(r.key, r.unit) for r in heads] == [
        (SECRETARY, None),  # also heads the Sekretariat: the agency's digest covers it
        ("196905221997031004", "Bidang Ideologi dan Wawasan Kebangsaan"),
        (RINI, PDN),
        (ARDANI, "Sekretariat"),
    ]
    sent = service_digest.weekly(config, loaded, NOW, unit_heads=True)
    assert [c.key for c in sent] == [
        f"digest|2025-W10|*|{SECRETARY}",
        "digest|2025-W10|Bidang Ideologi dan Wawasan Kebangsaan|196905221997031004",
        f"digest|2025-W10|{PDN}|{RINI}",
        f"digest|2025-W10|Sekretariat|{ARDANI}",
    ]
    rini = sent[2]
    assert rini.subject == (f"Ringkasan mingguan kepatuhan IKI ({PDN}) — Senin, 3 Maret 2025")
    assert "Tepat waktu tahun ini: 33,3% (target 100%)" in rini.text
    assert "<table" in rini.html and rini.csv.startswith(b"\xef\xbb\xbf")


def test_digest_command(loaded: Database) -> None:
    run = CliRunner().invoke
    base = ["digest", "--as-of", "2025-03-03 07:30", "--unit", "bidang politik dalam negeri"]

    done = run(cli, [*base, "--preview", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert (data["unit"], data["target"], data["as_of"]) == (PDN, 100, NOW.isoformat())
    assert data["total"]["on_time"] == 5 and data["total"]["due"] == 15
    assert data["total"]["percent"] == 33.3 and data["total"]["week_ago"]["percent"] == 33.3
    assert data["total"]["newly_due"] == {"on_time": 2, "due": 6, "percent": 33.3}
    assert data["measures"] == [
        {"rule": "SERAPAN", "period": "2025-02", "due": "2025-02-28", "status": "overdue",
         "value": None, "target": 100},
    ]  # fmt: skip
    assert len(data["overdue"]) == 14
    assert data["overdue"][2] | {"name": ""} == {
        "key": FATHUR, "name": "", "unit": PDN, "rule": "PK", "period": "2025",
        "due": "2025-01-20", "days_late": 42, "steps": ["H-7", "H-3", "H-1", "H", "H+1", "H+5"],
        "told": ["employee", "superior", "secretary"], "level": "secretary",
        "next_step": None, "next_at": None, "new": False,
    }  # fmt: skip
    assert data["upcoming"][0]["outstanding"] == [
        {"key": ANDRIE, "name": "M. ANDRIE WARDHANA, SE"},
        {"key": RINI, "name": "RINI SULISTYOWATI, M.Si"},
    ]

    text = run(cli, [*base, "--preview"])
    assert text.exit_code == 0, text.output
    assert "Tepat waktu tahun ini: 33,3% (target 100%)" in text.stdout
    assert "layanan" not in text.stdout  # a preview has no delivery line
    english = run(cli, [*base, "--preview", "--lang", "en"])
    assert "On time this year: 33.3% (target 100%)" in english.stdout

    html = run(cli, [*base, "--preview", "--format", "html"])
    assert html.exit_code == 0 and html.stdout.count("<table") == 5

    table = run(cli, [*base, "--preview", "--format", "csv"])
    assert len(list(csv.DictReader(io.StringIO(table.stdout), delimiter=";"))) == 27

    # Without --preview a last line says who gets it; unit digests need the setting.
    agency = run(cli, ["digest", "--as-of", "2025-03-03 07:30"])
    assert agency.exit_code == 0, agency.output
    assert agency.stdout.rstrip().splitlines()[-1] == (
        "Dikirim oleh layanan yang berjalan (`tenggat run`) setiap Senin pukul 07.30 WITA "
        "kepada: SUTRISNO, S.Sos, M.Si."
    )
    machine = run(cli, ["digest", "--as-of", "2025-03-03 07:30", "--format", "json"])
    assert json.loads(machine.stdout)["unit"] is None  # the note went to stderr
    assert "SUTRISNO" in machine.stderr
    unit = run(cli, [*base, "--lang", "en"])
    assert unit.stdout.rstrip().splitlines()[-1] == (
        "Unit digests are sent only with [digest] unit_heads = true."
    )


@pytest.mark.parametrize(
    ("unit", "hint"),
    [
        ("Sekretarit", "did you mean Sekretariat?"),
        ("Keuangan", "units: Bidang Ideologi dan Wawasan Kebangsaan, "),
    ],
)
def test_unknown_unit_is_refused_with_a_hint(loaded: Database, unit: str, hint: str) -> None:
    done = CliRunner().invoke(cli, ["--lang", "en", "digest", "--unit", unit])
    assert done.exit_code == 2
    assert f"Invalid value for --unit: unknown unit {unit!r}; {hint}" in done.output
    assert "Ringkasan" not in done.output and "Traceback" not in done.output


def test_a_ladder_without_the_employee_never_counts_them_as_told_about_themselves(
    calendar: LegalCalendar, make_catalog: Callable[..., Catalog]
) -> None:
    """Ladder superior → Secretary: the Secretary's own overdue SKP has reached nobody
    (level none), not "the Secretary", for nobody is escalated about themselves; their
    staff member's has reached the Secretary, twice over (as superior and as Secretary)."""
    ladder = '[{ at = 1, to = ["superior"] }, { at = 3, to = ["secretary"] }]'
    catalog = make_catalog(Source("c.toml", f"[rules.SKP]\nladder = {ladder}\n"))
    people = {"S": Person("S"), "K": Person("K", superior="S")}
    roster = Roster(people, [Assignment("S", "SKP"), Assignment("K", "SKP")], secretary="S")
    members = [Member("S", "Sekretaris", ""), Member("K", "Kepala", "")]
    later = datetime(2025, 3, 6, 9, tzinfo=WITA)  # SKP due Friday 28 February: past H+3
    built = build_digest(Schedule(catalog, calendar), roster, [], [], members, later)
    levels = {item.employee: (item.told, item.level) for item in built.overdue}
    assert levels == {
        "S": ((), Level.NONE),
        "K": (("superior", "secretary"), Level.SECRETARY),
    }


def test_a_record_written_later_counts_when_looking_back_not_in_a_queued_digest(
    loaded: Database, pdn: Digest
) -> None:
    """An admin who back-fills a record (dated before the digest's moment, written down a
    month later) and looks back with `digest --as-of` sees it counted; a digest queued at
    that moment (``known_at``), sent again later, reads as it did when queued."""
    config = load_config()
    with loaded.write() as session:
        submissions.add(
            session, records.find_employee(session, ANDRIE).id, "SKP", "2025",
            at("2025-02-21 10:00"), NOW + timedelta(days=30), "test", verified=True,
        )  # fmt: skip
    assert service_digest.build(config, loaded, NOW, PDN, known_at=NOW) == pdn
    done = CliRunner().invoke(
        cli, ["digest", "--as-of", "2025-03-03 07:30", "--unit", PDN, "--preview", "--format",
              "json"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    total = json.loads(done.stdout)["total"]
    assert (total["on_time"], total["due"]) == (6, 15)


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [
        (95.0, "95%, memenuhi target (target 90%)", "95%, target met (target 90%)"),
        (87.5, "87,5%, di bawah target (target 90%)", "87.5%, below target (target 90%)"),
        (None, "belum diisi (target 90%)", "not recorded yet (target 90%)"),
    ],
)
def test_a_measured_value_is_shown_against_its_target(
    calendar: object, value: float | None, indonesian: str, english: str
) -> None:
    from conftest import shipped

    from rules.catalog import Source

    catalog = shipped(Source("config.toml", "[rules.SERAPAN]\ntarget = 90\n"))
    schedule = Schedule(catalog, calendar)  # type: ignore[arg-type]
    roster = Roster({"A": Person("A")}, [Assignment("A", "SERAPAN")], None)
    records = [Submission("SERAPAN", "2025-02", at("2025-03-01 09:00"), "A", value=value)]
    digest = build_digest(schedule, roster, records, [], [Member("A", "A", "")], NOW)
    assert [line.name for line in digest.by_rule] == []  # no on-time rate for a measure
    for language, expected in (("id", indonesian), ("en", english)):
        lines = layout.render_text(service_digest.view(digest, catalog, language)).splitlines()
        rule = (
            "Serapan Anggaran terhadap SPD"
            if language == "id"
            else "Budget absorption against issued SPD"
        )
        month = "Februari" if language == "id" else "February"
        assert f"- {rule} {month} 2025: {expected}" in lines


# --------------------------------------------------------------------------- the trend


def week_end(monday: date, now: datetime) -> datetime:
    """When a week's point of the trend is read: midnight after its Sunday, or ``now``."""
    return min(datetime.combine(monday + timedelta(days=7), datetime.min.time(), WITA), now)


def test_the_weekly_trend_on_a_small_roster_by_hand(schedule: Schedule) -> None:
    # Three people in two units carry e-Pantau (a unit rule, due the 10th, verified) and SKP
    # (personal, due 28 February); C is exempt from SKP.
    A, B, C = "A", "B", "C"
    people = {A: Person(A, None, "U1"), B: Person(B, None, "U1"), C: Person(C, None, "U2")}
    exempt = {(C, "SKP"): frozenset({"2025"})}
    assignments = [
        Assignment(key, code, exempt.get((key, code), frozenset()), date(2025, 1, 1))
        for key in people
        for code in ("EPANTAU", "SKP")
    ]
    handed = [
        Submission("EPANTAU", "2025-01", at("2025-01-09 10:00"), A, unit="U1"),  # on time
        Submission("EPANTAU", "2025-02", at("2025-02-12 10:00"), B, unit="U1"),  # late
        Submission("EPANTAU", "2025-02", at("2025-02-07 10:00"), C, unit="U2"),  # on time
        Submission("EPANTAU", "2025-03", at("2025-03-05 10:00"), A, unit="U1"),  # on time
        # U2's March is handed in and never verified
        Submission("EPANTAU", "2025-03", at("2025-03-06 10:00"), C, False, unit="U2"),
        Submission("SKP", "2025", at("2025-02-20 10:00"), A),  # on time
        Submission("SKP", "2025", at("2025-03-03 10:00"), B),  # late
    ]
    members = [Member(A, "A", "U1"), Member(B, "B", "U1"), Member(C, "C", "U2")]
    roster = Roster(people, assignments)
    now = at("2025-04-01 09:00")
    found = build_digest(schedule, roster, handed, [], members, now)
    # e-Pantau counts once per unit and month: U2's January is missing, U1's February late,
    # U2's March never verified; SKP falls due in the week of 24 February (C exempt).
    expected = {
        date(2024, 12, 30): Rate(0, 0),
        date(2025, 1, 6): Rate(1, 2),
        date(2025, 2, 10): Rate(2, 4),
        date(2025, 2, 24): Rate(3, 6),
        date(2025, 3, 10): Rate(4, 8),
        date(2025, 3, 31): Rate(4, 8),
    }
    trend = dict(found.trend)
    assert len(found.trend) == 14 and list(trend) == sorted(trend)
    assert {monday: trend[monday] for monday in expected} == expected
    assert trend[date(2025, 2, 17)] == Rate(2, 4)  # a week with nothing due keeps its share
    assert found.trend[-1].rate == found.total.now  # the line ends where the bars stand
    # and each point is what the digest said at the end of its week, evaluated then
    for monday, rate in found.trend:
        then = build_digest(schedule, roster, handed, [], members, week_end(monday, now))
        assert then.total.now == rate, monday


def test_the_trend_is_the_total_as_each_week_ended_on_the_seed(
    seed: IkiImport, schedule: Schedule, agency: Digest, pdn: Digest
) -> None:
    # 1 January 2025 is a Wednesday: the first week starts on Monday 30 December 2024,
    # and Monday 3 March, today, is the tenth.
    assert [week.monday for week in agency.trend] == [
        date(2024, 12, 30) + timedelta(weeks=n) for n in range(10)
    ]
    assert agency.trend[-1].rate == agency.total.now
    assert pdn.trend[-1].rate == pdn.total.now == Rate(5, 15)
    for found, unit in ((agency, None), (pdn, PDN)):
        for monday, rate in found.trend[:-1]:
            then = pure(seed, schedule, unit, now=week_end(monday, NOW))
            assert then.total.now == rate, (unit, monday)
