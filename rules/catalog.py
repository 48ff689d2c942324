"""The rule catalog: every time-bound IKI indicator as a declarative, validated rule.

The catalog is TOML text (``rules/catalog.toml`` ships the seed's fifteen obligations).  An
agency's configuration is a second document of the same shape folded on top: it may
override fields of a shipped rule (``[rules.CODE]``), disable one (``enabled = false``),
add its own (``[[rule]]``) or move one period's deadline by decree (``[[deadline]]``).
Loading is pure: the caller reads the files and passes their text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from rules.calendar import HolidayPolicy
from rules.errors import DefinitionError, did_you_mean, key_path, locate_key, syntax_error
from rules.periods import Granularity, parse_period, period_of

# Expanding from a fixed epoch keeps INTERVAL meaningful and results independent of "now".
RRULE_EPOCH = datetime(2000, 1, 1)
_FORBIDDEN_RRULE_PARTS = ("DTSTART", "UNTIL", "COUNT")
_SUB_DAILY = re.compile(r"FREQ\s*=\s*(HOURLY|MINUTELY|SECONDLY)")


class Kind(StrEnum):
    """A submission is a document handed in; a measure is a value recorded per period (a
    ratio such as SERAPAN) and judged against the rule's ``target``."""

    SUBMISSION = "submission"
    MEASURE = "measure"


class Scope(StrEnum):
    """Personal rules are met by each carrier; unit rules by one submission for the carriers
    of the submitter's unit (one e-Pantau per bidang); agency rules by one for all."""

    PERSONAL = "personal"
    UNIT = "unit"
    AGENCY = "agency"


class Confidence(StrEnum):
    """How firmly a deadline is known: by national regulation, local rule, or not at all."""

    NATIONAL = "national"
    LOCAL = "local"
    UNVERIFIED = "unverified"


Audience = Literal["employee", "superior", "secretary"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One rung of a reminder ladder: ``at`` working days from the due day (H-n, H, H+n)."""

    at: int = Field(ge=-60, le=60)
    to: tuple[Audience, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        return "H" if self.at == 0 else f"H{self.at:+d}"


def _distinct_steps(ladder: tuple[Step, ...] | None) -> tuple[Step, ...] | None:
    """Two steps on one day would race for the same notice: list both audiences in one."""
    if ladder is not None:
        days = [step.at for step in ladder]
        for at in days:
            if days.count(at) > 1:
                raise ValueError(f"two steps at {at}: put all recipients of a day in one step")
    return ladder


class Anchor(_Strict):
    """An occurrence due a fixed time after a recorded event, e.g. one month after APBD."""

    event: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    months: int = Field(default=0, ge=0, le=24)
    days: int = Field(default=0, ge=0, le=366)


class Rule(_Strict):
    """A time-bound obligation; see ``rules/catalog.toml`` for the meaning of each field."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=32)
    name: str = Field(min_length=1)
    name_en: str = ""
    wording: str = ""
    kind: Kind = Kind.SUBMISSION
    target: float | None = Field(default=None, ge=0)  # a measure's value to reach (>=)
    unit: str = ""  # a measure's unit, shown after its values, e.g. "%"
    scope: Scope = Scope.PERSONAL
    rrule: str | None = None
    anchor: Anchor | None = None
    period: Granularity
    period_lag: int = Field(default=0, ge=-12, le=12)
    period_name: str = Field(default="", pattern=r"^$|\{year\}")
    period_name_en: str = Field(default="", pattern=r"^$|\{year\}")
    holiday_policy: HolidayPolicy = HolidayPolicy.FIXED
    holiday_basis: str = ""
    ladder: tuple[Step, ...] | None = None
    verification: bool = False
    source: str = Field(min_length=1)
    confidence: Confidence
    note: str = ""
    patterns: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()
    enabled: bool = True

    _rrule: RRule | None = PrivateAttr(default=None)

    _ladder = field_validator("ladder")(_distinct_steps)

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        upper = value.upper()
        for part in _FORBIDDEN_RRULE_PARTS:
            if part in upper:
                raise ValueError(f"{part} is not allowed: a rule recurs without end")
        if _SUB_DAILY.search(upper):
            raise ValueError("deadlines are whole days: use FREQ=DAILY or longer")
        try:
            rrulestr(value, dtstart=RRULE_EPOCH)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid RRULE {value!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _yearly_name(self) -> Rule:
        """A period name says "{year}" only: a month or quarter is named by its words."""
        if (self.period_name or self.period_name_en) and self.period is not Granularity.YEAR:
            raise ValueError("period_name is for yearly rules only")
        return self

    @model_validator(mode="after")
    def _compile(self) -> Rule:
        if (self.kind is Kind.MEASURE) != (self.target is not None):
            raise ValueError('a rule of kind "measure" needs a target, and only such a rule')
        if self.rrule is not None and self.anchor is not None:
            raise ValueError("give either rrule or anchor, not both")
        if self.rrule is not None:
            # cache=True: every year's expansion walks from the epoch; the cache walks once.
            compiled = rrulestr(self.rrule, dtstart=RRULE_EPOCH, cache=True)
            if not isinstance(compiled, RRule):
                raise ValueError("give one RRULE, not a set")
            self._rrule = compiled
        return self

    @property
    def measured(self) -> bool:
        """True for a value recorded per period against a target, not a document."""
        return self.kind is Kind.MEASURE

    @property
    def scheduled(self) -> bool:
        """False for a rule whose date nobody has configured yet (e.g. RKBM)."""
        return self.rrule is not None or self.anchor is not None

    def nominal_dates(self, year: int) -> list[date]:
        """The RRULE's dates in ``year``, before holiday policy and overrides."""
        if self._rrule is None:
            return []
        start = datetime(year, 1, 1)
        end = datetime(year, 12, 31, 23, 59, 59)
        return [moment.date() for moment in self._rrule.between(start, end, inc=True)]


class Deadline(_Strict):
    """One period's deadline moved by decree, with the decree as reference."""

    rule: str
    period: str
    due: date
    reference: str = Field(min_length=1)
    reason: str = ""


class _Document(_Strict):
    reminder_time: Annotated[time, Field(strict=True)] | None = None  # 8 is not 08:00
    default_ladder: tuple[Step, ...] | None = Field(default=None, min_length=1)
    rule: tuple[dict[str, Any], ...] = ()
    rules: dict[str, dict[str, Any]] = {}
    deadline: tuple[dict[str, Any], ...] = ()

    _ladder = field_validator("default_ladder")(_distinct_steps)


CATALOG_KEYS = frozenset(_Document.model_fields)


@dataclass(frozen=True)
class Source:
    """A TOML document's name (a path, for messages) and its text (for line numbers)."""

    name: str
    text: str
    data: Mapping[str, Any] | None = None  # already-parsed content, when the caller has it

    def parsed(self) -> Mapping[str, Any]:
        if self.data is not None:
            return self.data
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise syntax_error(self.name, exc, self.text) from None

    def error(self, path: Sequence[str | int], reason: str) -> DefinitionError:
        return DefinitionError(self.name, key_path(path), reason, locate_key(self.text, path))


def _reason(error: ValidationError) -> tuple[tuple[str | int, ...], str]:
    first = error.errors(include_url=False)[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "enum":
        message = f"{first['input']!r} is not one of {first['ctx']['expected']}"
    elif first["type"] == "extra_forbidden":
        message = "unknown key"
    return tuple(first["loc"]), message


@dataclass(frozen=True)
class Catalog:
    """The loaded rules, the default ladder, the reminder time and the deadline overrides."""

    rules: Mapping[str, Rule]
    default_ladder: tuple[Step, ...]
    reminder_time: time
    deadlines: Mapping[tuple[str, str], Deadline] = field(default_factory=dict)

    def get(self, code: str) -> Rule:
        """The rule for ``code``; a KeyError names the closest known code."""
        rule = self.rules.get(code.upper())
        if rule is None:
            raise KeyError(f"unknown rule {code!r}{did_you_mean(code.upper(), self.rules)}")
        return rule

    def ladder(self, rule: Rule) -> tuple[Step, ...]:
        return rule.ladder if rule.ladder is not None else self.default_ladder

    @property
    def active(self) -> list[Rule]:
        return [rule for rule in self.rules.values() if rule.enabled]

    @property
    def measured(self) -> frozenset[str]:
        """The codes of the measured rules: met or not by a value, never on time or late,
        so every on-time percentage leaves them out."""
        return frozenset(code for code, rule in self.rules.items() if rule.measured)


def load_catalog(sources: Sequence[Source]) -> Catalog:
    """Fold catalog documents in order (shipped catalog first, then configuration).

    Any entry that cannot be used raises DefinitionError naming its file, key and line.
    """
    rules: dict[str, Rule] = {}
    deadlines: dict[tuple[str, str], Deadline] = {}
    ladder: tuple[Step, ...] | None = None
    reminder_time: time | None = None
    for source in sources:
        raw = {key: value for key, value in source.parsed().items() if key in CATALOG_KEYS}
        try:
            document = _Document.model_validate(raw)
        except ValidationError as exc:
            path, reason = _reason(exc)
            raise source.error(path, reason) from None
        if document.default_ladder is not None:
            ladder = document.default_ladder
        if document.reminder_time is not None:
            reminder_time = document.reminder_time
        for index, entry in enumerate(document.rule):
            rule = _validate(source, ("rule", index), entry)
            if rule.code in rules:
                raise source.error(("rule", index, "code"), f"duplicate rule code {rule.code!r}")
            rules[rule.code] = rule
        for code, changes in document.rules.items():
            if code not in rules:
                raise source.error(
                    ("rules", code),
                    f"unknown rule {code!r}{did_you_mean(code.upper(), rules)}; "
                    "add a new rule with [[rule]]",
                )
            if "code" in changes:
                raise source.error(("rules", code, "code"), "a rule's code cannot be changed")
            merged = {**rules[code].model_dump(exclude_defaults=True), **changes}
            for replaced, dropped in (("rrule", "anchor"), ("anchor", "rrule")):
                if replaced in changes and dropped not in changes:
                    merged.pop(dropped, None)  # a new kind of date replaces the old one
            rules[code] = _validate(source, ("rules", code), merged)
        for index, entry in enumerate(document.deadline):
            deadline = _deadline(source, index, entry, rules)
            deadlines[(deadline.rule, deadline.period)] = deadline
    if ladder is None:
        raise DefinitionError(
            sources[-1].name if sources else "(none)", "default_ladder", "missing"
        )
    return Catalog(rules, ladder, reminder_time or time(8, 0), deadlines)


def _validate(source: Source, where: tuple[str | int, ...], entry: Mapping[str, Any]) -> Rule:
    try:
        rule = Rule.model_validate(entry)
    except ValidationError as exc:
        path, reason = _reason(exc)
        raise source.error((*where, *path), reason) from None
    _check_one_per_period(source, where, rule)
    return rule


def _check_one_per_period(source: Source, where: tuple[str | int, ...], rule: Rule) -> None:
    """Refuse a recurrence that never fires, or puts two deadlines in one period (the period
    key is an occurrence's identity).  Four sample years let a biennial rule pass."""
    sample = range(2024, 2028)
    if rule.rrule is not None and not any(rule.nominal_dates(year) for year in sample):
        raise source.error((*where, "rrule"), f"gives no date at all in {sample[0]}-{sample[-1]}")
    for year in sample:
        seen: set[str] = set()
        for day in rule.nominal_dates(year):
            key = period_of(day, rule.period, rule.period_lag)
            if key in seen:
                raise source.error(
                    (*where, "rrule"),
                    f"gives more than one date in period {key}; use a shorter period "
                    f"than {rule.period.value!r} or fewer dates",
                )
            seen.add(key)


def _deadline(
    source: Source, index: int, entry: Mapping[str, Any], rules: Mapping[str, Rule]
) -> Deadline:
    where: tuple[str | int, ...] = ("deadline", index)
    try:
        deadline = Deadline.model_validate(entry)
    except ValidationError as exc:
        path, reason = _reason(exc)
        raise source.error((*where, *path), reason) from None
    rule = rules.get(deadline.rule)
    if rule is None:
        raise source.error(
            (*where, "rule"), f"unknown rule {deadline.rule!r}{did_you_mean(deadline.rule, rules)}"
        )
    try:
        parse_period(deadline.period, rule.period)
    except ValueError as exc:
        raise source.error((*where, "period"), str(exc)) from None
    return deadline
