"""Bad catalog input is refused at load, naming the file, the key, the line and the reason."""

from __future__ import annotations

import time as time_module
from collections.abc import Callable
from datetime import date, time

import pytest

from rules.catalog import Catalog, Source, load_catalog
from rules.errors import DefinitionError

MakeCatalog = Callable[..., Catalog]
FILE = "agency.toml"

# A valid agency rule; every key sits on a known line (1 = the [[rule]] header).
GEMA = """\
[[rule]]
code = "GEMA"
name = "Laporan Gerakan Etam Mengaji"
rrule = "FREQ=MONTHLY;BYMONTHDAY=5"
period = "month"
scope = "agency"
source = "Surat Edaran Bupati"
confidence = "local"
"""
GEMA_LINES = 8
LADDER = 'default_ladder = [{ at = 0, to = ["employee"] }]\n'


def gema(**fields: str | None) -> str:
    """GEMA with keys replaced in place (same line), removed (None) or appended (line 9+)."""
    lines = GEMA.splitlines()
    for key, value in fields.items():
        index = next((i for i, line in enumerate(lines) if line.startswith(f"{key} =")), None)
        if value is None:
            assert index is not None
            del lines[index]
        elif index is None:
            lines.append(f"{key} = {value}")
        else:
            lines[index] = f"{key} = {value}"
    return "\n".join(lines) + "\n"


def refused(load: Callable[[], object]) -> DefinitionError:
    """The DefinitionError ``load`` raises; its text is always "file[:line]: key: reason"."""
    with pytest.raises(DefinitionError) as caught:
        load()
    err = caught.value
    where = f"{err.source}:{err.line}" if err.line is not None else err.source
    assert str(err) == f"{where}: {err.key}: {err.reason}"
    return err


def refused_on_top(make_catalog: MakeCatalog, text: str) -> DefinitionError:
    return refused(lambda: make_catalog(Source(FILE, text)))


def refused_alone(text: str, name: str = "alone.toml") -> DefinitionError:
    return refused(lambda: load_catalog([Source(name, LADDER + text)]))


# --- RRULE ------------------------------------------------------------------------------------

BAD_RRULES = [
    pytest.param("FREQ=SOMETIMES", "month", "invalid RRULE 'FREQ=SOMETIMES'", id="garbage"),
    pytest.param("FREQ=YEARLY;BYMONTH=13", "year", "gives no date at all", id="no-date"),
    pytest.param(
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;COUNT=3",
        "year",
        "COUNT is not allowed",
        id="count",
    ),
    pytest.param(
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31;UNTIL=20300101",
        "year",
        "UNTIL is not allowed",
        id="until",
    ),
    pytest.param(
        "FREQ=MONTHLY;BYMONTHDAY=10,20",
        "month",
        "gives more than one date in period 2024-01",
        id="two-per-period",
    ),
    pytest.param("", "year", "invalid RRULE ''", id="empty"),
]


@pytest.mark.parametrize(("rrule", "period", "reason"), BAD_RRULES)
def test_bad_rrule_in_new_rule_is_refused_at_its_line(
    make_catalog: MakeCatalog, rrule: str, period: str, reason: str
) -> None:
    err = refused_on_top(make_catalog, gema(rrule=f'"{rrule}"', period=f'"{period}"'))
    assert (err.source, err.key, err.line) == (FILE, "rule[0].rrule", 4)
    assert reason in err.reason
    assert str(err).startswith(f"{FILE}:4: rule[0].rrule: ")


@pytest.mark.parametrize(("rrule", "period", "reason"), BAD_RRULES)
def test_bad_rrule_in_standalone_document(rrule: str, period: str, reason: str) -> None:
    err = refused_alone(gema(rrule=f'"{rrule}"', period=f'"{period}"'))
    assert (err.source, err.key, err.line) == ("alone.toml", "rule[0].rrule", 5)
    assert reason in err.reason


def test_rrule_override_with_two_dates_per_period_is_refused(make_catalog: MakeCatalog) -> None:
    text = '# agency\n[rules.EPANTAU]\nrrule = "FREQ=MONTHLY;BYMONTHDAY=10,20"\n'
    err = refused_on_top(make_catalog, text)
    assert (err.key, err.line) == ("rules.EPANTAU.rrule", 3)
    assert "more than one date in period" in err.reason


def test_period_override_that_breaks_the_rrule_points_at_the_table(
    make_catalog: MakeCatalog,
) -> None:
    # SKM_RTL is due end of June and end of October: two dates in one "year".
    err = refused_on_top(make_catalog, '\n[rules.SKM_RTL]\nperiod = "year"\n')
    assert (err.key, err.line) == ("rules.SKM_RTL.rrule", 2)
    assert "use a shorter period than 'year'" in err.reason


def test_biennial_rule_is_accepted(make_catalog: MakeCatalog) -> None:
    text = gema(rrule='"FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYMONTHDAY=31"', period='"year"')
    rule = make_catalog(Source(FILE, text)).get("GEMA")
    assert [rule.nominal_dates(y) for y in (2024, 2025)] == [[date(2024, 3, 31)], []]


def test_sub_daily_rrule_is_refused_quickly(make_catalog: MakeCatalog) -> None:
    started = time_module.process_time()
    make_catalog(Source(FILE, GEMA))
    normal = time_module.process_time() - started
    started = time_module.process_time()
    err = refused_on_top(make_catalog, gema(rrule='"FREQ=HOURLY"'))
    spent = time_module.process_time() - started
    assert err.key == "rule[0].rrule"
    assert spent < 4 * normal + 0.05


# --- holiday policy ---------------------------------------------------------------------------

ALLOWED_POLICIES = ("'fixed'", "'previous_working_day'", "'next_working_day'")


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        pytest.param(gema(holiday_policy='"sometimes"'), "rule[0].holiday_policy", 9, id="rule"),
        pytest.param(
            '[rules.SPT]\nnote = "x"\nholiday_policy = "sometimes"\n',
            "rules.SPT.holiday_policy",
            3,
            id="override",
        ),
    ],
)
def test_unknown_holiday_policy_lists_the_allowed_values(
    make_catalog: MakeCatalog, text: str, key: str, line: int
) -> None:
    err = refused_on_top(make_catalog, text)
    assert (err.source, err.key, err.line) == (FILE, key, line)
    assert err.reason.startswith("'sometimes' is not one of")
    assert all(value in err.reason for value in ALLOWED_POLICIES)


# --- codes, overrides and deadlines -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "line", "reason"),
    [
        pytest.param(
            gema(code='"SKP"'), "rule[0].code", 2, "duplicate rule code 'SKP'", id="dup-shipped"
        ),
        pytest.param(
            GEMA + GEMA, "rule[1].code", 2 + GEMA_LINES, "duplicate rule code 'GEMA'", id="dup-own"
        ),
        pytest.param(
            "# local changes\n\n[rules.SKPP]\nenabled = false\n",
            "rules.SKPP",
            3,
            "unknown rule 'SKPP' (did you mean SPP?)",
            id="override-unknown",
        ),
        pytest.param(
            '[rules.SKP]\nnote = "x"\ncode = "SKP2"\n',
            "rules.SKP.code",
            3,
            "a rule's code cannot be changed",
            id="override-code",
        ),
        pytest.param(
            '[[deadline]]\nrule = "SPTT"\nperiod = "2025"\ndue = 2025-04-30\nreference = "KEP"\n',
            "deadline[0].rule",
            2,
            "unknown rule 'SPTT' (did you mean SPT?)",
            id="deadline-unknown-rule",
        ),
        pytest.param(
            '[[deadline]]\nrule = "SPT"\nperiod = "2025-13"\ndue = 2025-04-30\nreference = "K"\n',
            "deadline[0].period",
            3,
            "period '2025-13' is not a year key (expected e.g. 2025)",
            id="deadline-bad-period",
        ),
        pytest.param(
            '[[deadline]]\nrule = "SPT"\nperiod = "2025"\ndue = 2025-04-30\n',
            "deadline[0].reference",
            1,
            "Field required",
            id="deadline-no-reference",
        ),
        pytest.param(  # the year the deadline falls in, for the year the LHKPN reports on
            '[[deadline]]\nrule = "LHKPN"\nperiod = "2025"\ndue = 2025-04-11\nreference = "K"\n',
            "deadline[0].period",
            3,
            "LHKPN 2025 is due 2026-03-31, far from 2025-04-11; did you mean period 2024?",
            id="deadline-far-from-its-period",
        ),
    ],
)
def test_codes_overrides_and_deadlines(
    make_catalog: MakeCatalog, text: str, key: str, line: int, reason: str
) -> None:
    err = refused_on_top(make_catalog, text)
    assert (err.source, err.key, err.line) == (FILE, key, line)
    assert reason in err.reason


def test_override_of_a_rule_unknown_in_a_standalone_document() -> None:
    err = refused_alone("[rules.SKP]\nenabled = false\n")
    assert (err.source, err.key, err.line) == ("alone.toml", "rules.SKP", 2)
    assert "add a new rule with [[rule]]" in err.reason


def test_lower_case_override_hints_the_code(make_catalog: MakeCatalog) -> None:
    err = refused_on_top(make_catalog, "[rules.skp]\nenabled = false\n")
    assert "did you mean SKP" in err.reason


# --- the shape of a rule ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "period", "source", "confidence"])
def test_missing_required_field_points_at_the_rule(make_catalog: MakeCatalog, field: str) -> None:
    err = refused_on_top(make_catalog, gema(**{field: None}))
    assert (err.key, err.line, err.reason) == (f"rule[0].{field}", 1, "Field required")


@pytest.mark.parametrize(
    ("text", "key", "line", "reason"),
    [
        pytest.param(
            GEMA.replace("rrule =", "rrrule ="), "rule[0].rrrule", 4, "unknown key", id="typo"
        ),
        pytest.param(
            gema(anchor='{ event = "APBD_ADOPTED", months = 1 }'),
            "rule[0]",
            1,
            "give either rrule or anchor, not both",
            id="rrule-and-anchor",
        ),
        pytest.param(
            gema(code='"gema"'), "rule[0].code", 2, "String should match pattern", id="lower-code"
        ),
        pytest.param(
            gema(period_lag="99"), "rule[0].period_lag", 9, "less than or equal to 12", id="lag"
        ),
        pytest.param(
            '[rules.SKP]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1"\nrrrule = "x"\n',
            "rules.SKP.rrrule",
            3,
            "unknown key",
            id="override-typo",
        ),
    ],
)
def test_malformed_rule(
    make_catalog: MakeCatalog, text: str, key: str, line: int, reason: str
) -> None:
    err = refused_on_top(make_catalog, text)
    assert (err.source, err.key, err.line) == (FILE, key, line)
    assert reason in err.reason


@pytest.mark.parametrize(
    ("key", "value", "where", "reason"),
    [
        pytest.param(
            "ladder", '[{ at = 0, to = ["boss"] }]', "ladder[0].to[0]", "'secretary'", id="ladder"
        ),
        pytest.param(
            "anchor",
            '{ event = "APBD_ADOPTED", months = 99 }',
            "anchor.months",
            "equal to 24",
            id="anchor",
        ),
    ],
)
def test_error_inside_an_inline_value_points_at_its_line(
    make_catalog: MakeCatalog, key: str, value: str, where: str, reason: str
) -> None:
    err = refused_on_top(make_catalog, gema(rrule=None, **{key: value}))
    assert (err.key, reason in err.reason) == (f"rule[0].{where}", True)
    assert err.line == GEMA_LINES  # appended after the 7 remaining lines


def test_standalone_document_needs_a_default_ladder() -> None:
    err = refused(lambda: load_catalog([Source("alone.toml", GEMA)]))
    assert (err.source, err.key, err.line, err.reason) == (
        "alone.toml",
        "default_ladder",
        None,
        "missing",
    )
    assert str(err) == "alone.toml: default_ladder: missing"


# --- TOML syntax and line numbers -------------------------------------------------------------

BROKEN = '# agency settings\n[rules.SKP]\nname = "SKP\nenabled = true\n'  # line 3 unterminated


def test_syntax_error_names_its_line(make_catalog: MakeCatalog) -> None:
    err = refused_on_top(make_catalog, BROKEN)
    assert (err.source, err.key, err.line) == (FILE, "(syntax)", 3)
    assert str(err).startswith(f"{FILE}:3: (syntax): ")


def test_syntax_error_in_standalone_document() -> None:
    err = refused(lambda: load_catalog([Source("alone.toml", BROKEN)]))
    assert (err.source, err.key, err.line) == ("alone.toml", "(syntax)", 3)


def test_syntax_error_at_end_of_document_has_a_line(make_catalog: MakeCatalog) -> None:
    err = refused_on_top(make_catalog, "[rules.SKP]\nladder = [\n")
    assert err.line is not None


DEEP = """\
reminder_time = 07:30:00

[rules.P3DN]
enabled = false

# e-Pantau is verified by the Kabid
[rules.EPANTAU]
note = "verified by the Kabid"
period_lag = 99
"""


def test_line_points_at_the_offending_key_after_other_tables(make_catalog: MakeCatalog) -> None:
    err = refused_on_top(make_catalog, DEEP)
    assert (err.key, err.line) == ("rules.EPANTAU.period_lag", 9)


def test_line_points_into_the_right_array_element(make_catalog: MakeCatalog) -> None:
    second = gema(code='"GEMB"', rrule='"FREQ=NOPE"')
    err = refused_on_top(make_catalog, GEMA + "\n" + second)
    assert (err.key, err.line) == ("rule[1].rrule", GEMA_LINES + 1 + 4)


def test_line_points_into_the_right_anchor_subtable(make_catalog: MakeCatalog) -> None:
    def anchored(code: str, months: int) -> str:
        return (
            gema(code=f'"{code}"', rrule=None, period='"year"')
            + f'[rule.anchor]\nevent = "APBD_ADOPTED"\nmonths = {months}\n'
        )

    first, second = anchored("GEMA", 1), anchored("GEMB", 99)
    err = refused_on_top(make_catalog, first + second)
    assert err.key == "rule[1].anchor.months"
    assert err.line == first.count("\n") + second.count("\n")  # the last line


# --- what configuration may do ----------------------------------------------------------------


def test_config_can_disable_a_rule(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(Source(FILE, "[rules.P3DN]\nenabled = false\n"))
    assert "P3DN" in catalog.rules
    assert [rule.code for rule in catalog.active] == [c for c in catalog.rules if c != "P3DN"]


def test_config_can_add_a_rule(make_catalog: MakeCatalog, catalog: Catalog) -> None:
    extended = make_catalog(Source(FILE, GEMA))
    rule = extended.get("gema")
    assert rule in extended.active
    assert rule.source == "Surat Edaran Bupati"
    assert rule.nominal_dates(2025) == [date(2025, month, 5) for month in range(1, 13)]
    assert list(extended.rules) == [*catalog.rules, "GEMA"]


def test_config_can_schedule_rkbm(make_catalog: MakeCatalog) -> None:
    text = '[rules.RKBM]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31"\nsource = "Surat Bupati"\n'
    rule = make_catalog(Source(FILE, text)).get("RKBM")
    assert rule.scheduled
    assert rule.nominal_dates(2025) == [date(2025, 3, 31)]
    assert rule.confidence.value == "unverified"  # untouched fields keep the shipped value


def test_config_can_override_reminder_time_and_default_ladder(make_catalog: MakeCatalog) -> None:
    text = 'reminder_time = 07:30:00\ndefault_ladder = [{ at = -2, to = ["employee"] }]\n'
    catalog = make_catalog(Source(FILE, text))
    assert catalog.reminder_time == time(7, 30)
    assert [step.label for step in catalog.ladder(catalog.get("SKP"))] == ["H-2"]
    # a rule with a ladder of its own keeps it
    assert [step.label for step in catalog.ladder(catalog.get("SERAPAN"))] == ["H"]


def test_standalone_document_defaults_reminder_time() -> None:
    catalog = load_catalog([Source("alone.toml", LADDER + GEMA)])
    assert list(catalog.rules) == ["GEMA"]
    assert catalog.reminder_time == time(8, 0)


def test_integer_reminder_time_is_refused(make_catalog: MakeCatalog) -> None:
    err = refused_on_top(make_catalog, "reminder_time = 8\n")
    assert (err.key, err.line) == ("reminder_time", 1)


def test_empty_default_ladder_is_refused_or_applied(make_catalog: MakeCatalog) -> None:
    try:
        catalog = make_catalog(Source(FILE, "default_ladder = []\n"))
    except DefinitionError as err:
        assert err.key == "default_ladder"
    else:
        assert catalog.default_ladder == ()


# --- measures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[rules.SERAPAN]\nkind = "submission"\n', id="submission-with-target"),
        pytest.param("[rules.SKP]\ntarget = 90\n", id="target-on-a-submission"),
        pytest.param('[rules.SKP]\nkind = "measure"\n', id="measure-without-target"),
    ],
)
def test_a_target_goes_with_a_measure_and_only_with_one(
    make_catalog: MakeCatalog, text: str
) -> None:
    err = refused_on_top(make_catalog, text)
    assert 'a rule of kind "measure" needs a target' in err.reason


def test_a_negative_target_is_refused(make_catalog: MakeCatalog) -> None:
    err = refused_on_top(make_catalog, "[rules.SERAPAN]\ntarget = -5\n")
    assert err.key == "rules.SERAPAN.target"


def test_config_sets_the_serapan_target(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(Source(FILE, "[rules.SERAPAN]\ntarget = 90\n"))
    serapan = catalog.get("SERAPAN")
    assert (serapan.measured, serapan.target, serapan.unit) == (True, 90, "%")
