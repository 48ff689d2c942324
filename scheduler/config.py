"""Configuration: ``config.toml`` plus ``TENGGAT_<SECTION>_<KEY>`` environment variables.

Validated at load, because a typo found at 07:30 on a Monday is a digest nobody gets: every
error names the file or variable, the key, the line where possible and what was expected.
Secrets (bot token, SMTP password) are read from the environment only and never printed.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from rules.calendar import DayOverride, LegalCalendar, SendingWindow
from rules.catalog import CATALOG_KEYS, Catalog, Source, load_catalog
from rules.errors import DefinitionError, did_you_mean, key_path, locate_key, syntax_error
from rules.schedule import Schedule
from scheduler.configfile import ENV_PREFIX, config_path
from scheduler.logs import SECRETS


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSettings(_Section):
    timezone: str = "Asia/Makassar"
    language: Literal["id", "en"] = "id"
    tick_minutes: int = Field(default=15, ge=1, le=1440)  # how often the service looks
    # Who signs the reminders and escalations: people answer an office, not a program.
    signature: str = Field(default="Sekretariat", min_length=1, max_length=200)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Makassar)") from None
        return value


class DatabaseSettings(_Section):
    url: str = "sqlite:///tenggat.db"


class TelegramSettings(_Section):
    api_url: str = "https://api.telegram.org/bot"
    token: SecretStr | None = None
    # Telegram allows about 30 messages a second overall and one a second per chat.
    rate: float = Field(default=29.0, gt=0)
    per_chat_seconds: float = Field(default=1.0, ge=0)


class DeliverySettings(_Section):
    """When people may be messaged (local time); outside it messages wait, never drop."""

    start: time = time(7, 30)
    end: time = time(17, 0)
    working_days_only: bool = True

    @model_validator(mode="after")
    def _start_before_end(self) -> DeliverySettings:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class SmtpSettings(_Section):
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    sender: str = "tenggat@localhost"
    password: SecretStr | None = None


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HARI = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")


class DigestConfig(_Section):
    """When the Secretary's weekly digest goes out, and whether unit heads get theirs."""

    weekday: str = "monday"  # English or Indonesian day name
    time: dt.time = dt.time(7, 30)  # the key is `time`, so the type is spelt dt.time
    unit_heads: bool = False

    @field_validator("weekday")
    @classmethod
    def _known_day(cls, value: str) -> str:
        day = value.strip().lower()
        if day not in WEEKDAYS and day not in HARI:
            raise ValueError(f"unknown day {value!r} (e.g. monday or senin)")
        return day

    @property
    def day_number(self) -> int:
        """0 = Monday."""
        days = WEEKDAYS if self.weekday in WEEKDAYS else HARI
        return days.index(self.weekday)


class BotConfig(_Section):
    """The Telegram bot that answers /status, /lapor, /rekap (runs inside `tenggat run`)."""

    link_hours: int = Field(default=72, ge=1)  # how long a link code is valid
    groups: tuple[str, ...] = ()  # group chat ids the bot answers; others are ignored
    flood_count: int = Field(default=20, ge=1)  # updates a chat may send within flood_seconds
    flood_seconds: int = Field(default=60, ge=1)
    poll_seconds: int = Field(default=10, ge=0, le=50)  # long-polling timeout of getUpdates
    # Characters of a text given as evidence (the bot keeps within what the column takes).
    max_evidence: int = Field(default=1000, ge=1)
    # Webhook instead of long polling: the public HTTPS address Telegram posts updates to
    # (a reverse proxy forwards it to [web] listen:port, path /telegram).  Empty: polling.
    webhook_url: str = Field(default="", pattern=r"^(https://\S+)?$")


class WebSettings(_Section):
    """The one HTTP surface of `tenggat run` and `tenggat web`: the health endpoint, the
    bot's webhook and the console, on one address."""

    listen: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0 = off
    # The address people open (behind a reverse proxy: its HTTPS address); sign-in links
    # are made with it.  Empty: http://listen:port.
    public_url: str = Field(default="", pattern=r"^(https?://[^\s?#]+)?$")
    login_minutes: int = Field(default=15, ge=1, le=24 * 60)  # how long a sign-in link works
    session_hours: int = Field(default=12, ge=1, le=24 * 30)  # how long a sign-in lasts


class OverrideSettings(_Section):
    date: date
    working: bool = False
    name: str = Field(min_length=1)
    reference: str = Field(min_length=1)


class CalendarSettings(_Section):
    override: tuple[OverrideSettings, ...] = ()


class Settings(_Section):
    service: ServiceSettings = ServiceSettings()
    database: DatabaseSettings = DatabaseSettings()
    telegram: TelegramSettings = TelegramSettings()
    smtp: SmtpSettings = SmtpSettings()
    delivery: DeliverySettings = DeliverySettings()
    digest: DigestConfig = DigestConfig()
    bot: BotConfig = BotConfig()
    web: WebSettings = WebSettings()
    calendar: CalendarSettings = CalendarSettings()

    @model_validator(mode="after")
    def _webhook_needs_the_web(self) -> Settings:
        if self.bot.webhook_url and not self.web.port:
            raise ValueError("bot.webhook_url needs [web] port: the webhook is served there")
        return self


SECTIONS: dict[str, type[_Section]] = {
    "service": ServiceSettings,
    "database": DatabaseSettings,
    "telegram": TelegramSettings,
    "smtp": SmtpSettings,
    "delivery": DeliverySettings,
    "digest": DigestConfig,
    "bot": BotConfig,
    "web": WebSettings,
    "calendar": CalendarSettings,
}

# Keys that moved when the health endpoint and the webhook joined the console on one
# address: an old file is told where, not only that the key is unknown.
MOVED = {
    ("service", "health_port"): "web.port",
    ("bot", "webhook_port"): "web.port",
    ("bot", "webhook_listen"): "web.listen",
}


def _unknown(section: str, key: str, otherwise: str) -> str:
    """Why ``section.key`` is refused: where it moved, or ``otherwise``."""
    moved = MOVED.get((section, key))
    if moved is None:
        return otherwise
    return f"moved to {moved} (one address serves /health, /telegram and the console)"


@dataclass(frozen=True)
class Config:
    """Validated settings plus what the rule engine needs, built once per process."""

    path: Path | None
    settings: Settings
    catalog: Catalog

    def calendar(self) -> LegalCalendar:
        overrides = [
            DayOverride(o.date, o.working, o.name, o.reference)
            for o in self.settings.calendar.override
        ]
        return LegalCalendar(overrides, ZoneInfo(self.settings.service.timezone))

    def window(self) -> SendingWindow:
        delivery = self.settings.delivery
        return SendingWindow(delivery.start, delivery.end, delivery.working_days_only)

    def schedule(self) -> Schedule:
        """The catalog on this calendar, one per configuration, so its holiday tables and
        occurrences are computed once per process, whoever asks (a command, the bot)."""
        return self._schedule

    @cached_property
    def _schedule(self) -> Schedule:
        return Schedule(self.catalog, self.calendar())


class ConfigError(DefinitionError):
    """A configuration problem, phrased for the admin who has to fix it."""


def _from_environment(
    data: dict[str, Any], environ: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """Apply TENGGAT_<SECTION>_<KEY> variables to ``data``; return where each came from."""
    applied: dict[tuple[str, str], str] = {}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        section, _, key = variable[len(ENV_PREFIX) :].lower().partition("_")
        model = SECTIONS.get(section)
        if model is None or not key:
            continue  # TENGGAT_CONFIG and the test suite's own variables
        known = model.model_fields
        if key not in known:
            spell = ENV_PREFIX + section.upper() + "_{}"
            hint = did_you_mean(key.upper(), [name.upper() for name in known], spell)
            raise ConfigError(
                variable, f"{section}.{key}", _unknown(section, key, f"unknown setting{hint}")
            )
        if key == "override":
            raise ConfigError(variable, f"{section}.{key}", "set overrides in config.toml")
        data.setdefault(section, {})[key] = value
        applied[(section, key)] = variable
    return applied


def load_config(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration and the rule catalog, or raise ConfigError."""
    environ = os.environ if environ is None else environ
    path = config_path(explicit, environ)
    name = str(path) if path else "(embedded defaults)"
    if path is not None and not path.is_file():
        raise ConfigError(name, "(file)", "no such configuration file")
    try:
        text = path.read_text(encoding="utf-8-sig") if path else ""
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start}): save it as UTF-8"
        raise ConfigError(name, "(file)", reason) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        error = syntax_error(name, exc, text)
        raise ConfigError(error.source, error.key, error.reason, error.line) from None
    for section in SECTIONS:
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(
                name, section, f"must be a table: write [{section}]", locate_key(text, (section,))
            )
    for (section, key), variable in SECRETS.items():
        if key in data.get(section, {}):
            raise ConfigError(
                name,
                f"{section}.{key}",
                f"secrets are not read from files: set the environment variable {variable}",
                locate_key(text, (section, key)),
            )
    settings_data = {k: v for k, v in data.items() if k not in CATALOG_KEYS}
    unknown = sorted(set(settings_data) - set(SECTIONS))
    if unknown:
        hint = did_you_mean(unknown[0], [*SECTIONS, *CATALOG_KEYS])
        raise ConfigError(
            name, unknown[0], f"unknown section{hint}", locate_key(text, (unknown[0],))
        )
    from_env = _from_environment(settings_data, environ)
    for (section, key), variable in SECRETS.items():
        if variable in environ:
            from_env[(section, key)] = variable
    try:
        settings = Settings.model_validate(settings_data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        key = key_path(loc)
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden" and len(loc) == 2:
            reason = _unknown(str(loc[0]), str(loc[1]), "unknown key")
        elif first["type"] == "extra_forbidden":
            reason = "unknown key"
        source = from_env.get((str(loc[0]), str(loc[1]))) if len(loc) > 1 else None
        if source:
            raise ConfigError(source, key, reason) from None
        raise ConfigError(name, key, reason, locate_key(text, loc)) from None
    catalog_text = resources.files("rules").joinpath("catalog.toml").read_text(encoding="utf-8")
    try:
        catalog = load_catalog(
            [Source("rules/catalog.toml", catalog_text), Source(name, text, data)]
        )
    except DefinitionError as exc:
        raise ConfigError(exc.source, exc.key, exc.reason, exc.line) from None
    return Config(path, settings, catalog)
