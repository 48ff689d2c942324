"""Shared fixtures: the shipped catalog on the real Indonesian calendar, built once."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, MetaData, select

from rules.calendar import LegalCalendar
from rules.catalog import Catalog, Source, load_catalog
from rules.schedule import Schedule
from scheduler.store.db import Database

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


POSTGRES_URL = os.environ.get(
    "TENGGAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema on the test server for one test, dropped afterwards.  Skips where no
    server answers (a laptop), fails where CI demands one (TENGGAT_REQUIRE_POSTGRES=1)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("TENGGAT_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind: a real SQLite file, and a real PostgreSQL
    schema where a server is reachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tenggat.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database of each kind."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.engine.dispose()


def dump_tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (Alembic's included), in primary-key order: two dumps are
    equal exactly when a command changed nothing."""
    meta = MetaData()
    meta.reflect(bind=engine)
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*(list(table.primary_key.columns) or table.columns))
                )
            ]
            for table in meta.sorted_tables
        }


# ---- a real SMTP server on 127.0.0.1 -------------------------------------------------

PASSWORD = "s3cret-Passw0rd"  # the SMTP login's


class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses one address."""

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        return AuthResult(success=data.password.decode() == PASSWORD)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (until a test binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox(refuse="refused@kesbangpol.go.id")
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="localhost",
        authenticator=handler, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield handler, port
    controller.stop()
