"""Shared fixtures: the shipped catalog on the real Indonesian calendar, built once."""

from __future__ import annotations

from importlib import resources

import pytest

from rules.calendar import LegalCalendar
from rules.catalog import Catalog, Source, load_catalog
from rules.schedule import Schedule

CATALOG_TEXT = resources.files("rules").joinpath("catalog.toml").read_text(encoding="utf-8")


def shipped(*extra: Source) -> Catalog:
    """The shipped catalog, with further documents folded on top."""
    return load_catalog([Source("rules/catalog.toml", CATALOG_TEXT), *extra])


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return shipped()


@pytest.fixture(scope="session")
def calendar() -> LegalCalendar:
    return LegalCalendar()


@pytest.fixture(scope="session")
def schedule(catalog: Catalog, calendar: LegalCalendar) -> Schedule:
    return Schedule(catalog, calendar)


@pytest.fixture(scope="session")
def make_catalog() -> object:
    """``make_catalog(Source(...), ...)``: the shipped catalog with documents folded on top."""
    return shipped
