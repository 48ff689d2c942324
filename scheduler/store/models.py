"""Database tables: the roster, who carries which rule, and the records that satisfy them.

Submissions are never updated or deleted: a correction is a new row and the newest row of an
(employee or agency, rule, period) is the one that counts, so the table is its own audit trail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Evidence and reasons are free text (TEXT in the schema) but bounded on input: a receipt
# number, a link or a decree's number and date fit in far less.
NOTE_CHARS = 2_000


class Instant(TypeDecorator[datetime]):
    """A moment in time, stored as UTC and read back timezone-aware on every backend
    (SQLite keeps no offset, so a naive value would silently change meaning)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: Instant}


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Employee(Base):
    """A person on the roster.  ``key`` is the NIP, or a provisional ``TMP-…`` key for an
    employee whose NIP the import could not read; ``review`` says what an admin should check."""

    __tablename__ = "employees"
    # One chat speaks for one employee (NULL, no chat, as often as needed).
    __table_args__ = (Index("uq_employees_telegram_chat_id", "telegram_chat_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    # The provisional key an employee had before their NIP was known, so that importing the
    # same IKI again finds them instead of creating the provisional person anew.
    former_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    nip: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(300), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    superior_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    # "iki" while inferred by the importer; "manual" once an admin set it, so that a
    # re-import never overwrites a correction.
    superior_origin: Mapped[str] = mapped_column(String(16), default="iki")
    roles: Mapped[str] = mapped_column(String(100), default="")  # space-separated
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    # Why Telegram cannot reach this chat (bot blocked, chat not found), set by the
    # dispatcher; messages go by e-mail until an admin sets the contact again.
    telegram_unreachable: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    review: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column()

    unit: Mapped[Unit | None] = relationship()
    superior: Mapped[Employee | None] = relationship(remote_side=[id])


class Assignment(Base):
    """An employee carries a rule, from the IKI import or added by hand."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("employee_id", "rule_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))  # "iki" | "manual"
    # Occurrences due before this day are not owed (the IKI's year starts it).
    starts_on: Mapped[date | None] = mapped_column(Date)
    review: Mapped[str] = mapped_column(Text, default="")


class Exemption(Base):
    """An employee excused from one period of a rule (leave, transfer), with the reason."""

    __tablename__ = "exemptions"
    __table_args__ = (UniqueConstraint("employee_id", "rule_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    rule_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, info={"length": NOTE_CHARS})
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column()


class Submission(Base):
    """A record that a rule's period was handed in; ``employee_id`` is None for the agency."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_rule_period", "rule_code", "period", "employee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    rule_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column()
    evidence: Mapped[str] = mapped_column(Text, default="", info={"length": NOTE_CHARS})
    source: Mapped[str] = mapped_column(String(16))  # "cli" | "import" | "telegram"
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float)  # a measured rule's value, e.g. 87.5 (%)


class Event(Base):
    """A dated fact that anchors deadlines, e.g. APBD 2025 adopted on 2024-12-20."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("code", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column()


class RecordChange(Base):
    """One change to the records, written by database triggers (migration 0012), not by us:
    every writer (the IKI import, sheets, the bot, the CLI, the web console, a hand-typed
    SQL statement) is seen without having to remember to say so.  ``id`` only grows and is
    never reused, even once old rows are pruned, so the newest id is a revision of the
    records (`scheduler.store.changes`).

    ``source`` names the table; for employees it is ``employee_details`` when only what
    planning does not read changed (a name, a contact, a chat found unreachable).
    ``employee_id`` and ``rule_code`` say whose submission or exemption changed (None
    for the agency's submissions and for every other table, which concern the roster).
    PostgreSQL writes one row per statement for the roster's tables."""

    __tablename__ = "record_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(32))
    employee_id: Mapped[int | None] = mapped_column(Integer)  # no key: a deleted one stays
    rule_code: Mapped[str | None] = mapped_column(String(32))


class Outbox(Base):
    """A notice that should be delivered, once: the plan writes it, a dispatcher claims it.

    ``key`` is the notice's idempotency key and UNIQUE, so planning the same notice again
    (every tick, after a restart, from a second instance) adds nothing.  A dispatcher takes
    rows with a conditional UPDATE of ``state`` and ``claimed_at``; a claim older than the
    lease is taken over, so a process killed mid-batch loses nothing.

    ``delivered_parts`` holds the fingerprints (comma-separated) of the parts of a long
    Telegram message that reached the recipient before a later part failed: the retry
    skips them, so nobody reads a part twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(32))  # employee key
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    employee: Mapped[str] = mapped_column(String(32))  # whose obligation it is
    rule_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(8))
    due: Mapped[date] = mapped_column(Date)
    days_late: Mapped[int | None] = mapped_column(Integer)
    planned_at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|claimed|sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    channel: Mapped[str | None] = mapped_column(String(16))
    receipt: Mapped[str | None] = mapped_column(String(200))
    delivered_parts: Mapped[str] = mapped_column(Text, default="", server_default="")


class Delivery(Base):
    """One attempt to deliver one outbox row: the audit of what was sent, when and how."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))  # sent | transient | permanent
    detail: Mapped[str] = mapped_column(Text, default="")


class ServiceState(Base):
    """Small facts the service keeps about itself (last tick, last error, who schedules),
    one row per name, read by `tenggat health`."""

    __tablename__ = "service_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()


class LinkCode(Base):
    """A one-time code that binds a Telegram chat to an employee (``/start CODE``).  Only
    the SHA-256 of the code is kept: the database alone cannot be used to link a chat."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    used_chat: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(100))


class BotChat(Base):
    """Where a chat is in a conversation with the bot (e.g. a report waiting for its
    evidence), as JSON; no row means nothing is under way."""

    __tablename__ = "bot_chats"

    chat_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column()


class BotAudit(Base):
    """Everything the bot did or refused, one row per update (and per CLI link action)."""

    __tablename__ = "bot_audit"
    __table_args__ = (Index("ix_bot_audit_chat_at", "chat_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[str | None] = mapped_column(String(32))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class WebLogin(Base):
    """A one-time sign-in link for the web console (``tenggat login NIP``).  Only the
    SHA-256 of its token is kept; it works once (``used_at``) and until ``expires_at``."""

    __tablename__ = "web_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(100))


class WebSession(Base):
    """A signed-in browser: the cookie carries the token, the table its SHA-256, so that
    every instance on one database knows the session and the database alone opens none.
    ``csrf`` is the token its forms carry; ``ended_at`` is set by signing out."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    address: Mapped[str] = mapped_column(String(64), default="")


class WebAudit(Base):
    """Every write through the web console and its sign-ins: who, when, from where."""

    __tablename__ = "web_audit"
    __table_args__ = (Index("ix_web_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class WebUpload(Base):
    """A file an admin uploaded to the console, kept between its preview and the admin's
    confirmation: bound to the session that sent it, named by the SHA-256 of a random
    token the preview's form carries (never a path), and gone once confirmed or old."""

    __tablename__ = "web_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("web_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # iki | roster | submissions
    name: Mapped[str] = mapped_column(String(200))  # the file's name, as shown back
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column()


class EvidenceFile(Base):
    """A file handed in as a submission's evidence through the console, kept in the
    database itself so that every instance on one PostgreSQL serves it.  Its type is the one
    its content was checked to be (`scheduler.store.evidence`), never the one its name or
    the browser claimed; ``submission_id`` is the row it came with."""

    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_files_owner", "employee_id", "rule_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    rule_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column()
