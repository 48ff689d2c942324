"""Who is asking, and what they may see.

A visitor is the employee whose live session the cookie names (`scheduler.store.signin`).
The Secretary and the ``admin`` role see the whole agency; a unit head sees their unit;
anyone else sees only themselves.  `Visitor.may_see` is asked by every route that shows a
person, before anything of that person is read, so a refusal tells nothing of them.
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from sqlalchemy.orm import Session

from scheduler.store import models, signin

SESSION_COOKIE = "tenggat_session"
FORM_COOKIE = "tenggat_form"  # the sign-in page's own CSRF token, before there is a session
LANGUAGE_COOKIE = "tenggat_lang"
AGENCY_ROLES = frozenset({"secretary", "admin"})


@dataclass(frozen=True)
class Visitor:
    session_id: int
    employee_id: int
    key: str
    name: str
    unit: str | None
    roles: frozenset[str]
    csrf: str

    @property
    def agency(self) -> bool:
        """Sees the whole agency: the Secretary and the admins."""
        return bool(AGENCY_ROLES & self.roles)

    @property
    def heads(self) -> str | None:
        """The unit this visitor sees as its head, if any."""
        return self.unit if "unit_head" in self.roles and self.unit else None

    @property
    def by(self) -> str:
        """Who recorded what this visitor writes, as `tenggat submissions list` shows it
        beside a command's user."""
        return f"web:{self.key}"

    def may_see(self, key: str, unit: str | None) -> bool:
        """Whether this visitor may see the person ``key`` of ``unit``."""
        if self.agency or key == self.key:
            return True
        return self.heads is not None and unit == self.heads

    def may_see_unit(self, unit: str) -> bool:
        return self.agency or unit == self.heads

    def form_ok(self, given: str) -> bool:
        """Whether a form carried this session's CSRF token (in constant time)."""
        return hmac.compare_digest(given.encode(), self.csrf.encode())


def visitor(session: Session, token: str, now: datetime) -> Visitor | None:
    """The visitor the session cookie ``token`` names, or None."""
    if not token:
        return None
    row = signin.current(session, token, now)
    if row is None:
        return None
    person = session.get(models.Employee, row.employee_id)
    if person is None or not person.active:
        return None
    unit = person.unit.name if person.unit else None
    roles = frozenset(person.roles.split())
    return Visitor(row.id, person.id, person.key, person.name, unit, roles, row.csrf)


class Attempts:
    """Sign-in attempts per address within a sliding minute: at most ``limit``, so a
    guesser gets nowhere (a token has 256 bits) and a flood costs the database nothing."""

    def __init__(self, limit: int = 20, seconds: float = 60.0) -> None:
        self.limit, self.seconds = limit, seconds
        self._seen: dict[str, deque[float]] = {}
        self._guard = Lock()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._guard:
            if len(self._seen) > 10_000:  # forget the quiet ones: bounded memory
                self._seen = {
                    a: q for a, q in self._seen.items() if q and q[-1] > now - self.seconds
                }
            seen = self._seen.setdefault(address, deque())
            while seen and seen[0] <= now - self.seconds:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True
