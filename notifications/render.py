"""Messages from templates: what a person is owed, in one message, in their language.

The caller passes plain, already-worded items (dates written as people write them, rule
names in the person's language), so templates only lay them out.  Templates live in
``notifications/templates/<language>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Item:
    """One obligation in a message: whose, what, when, and how it stands."""

    kind: str  # reminder | due_today | overdue | escalation
    rule: str  # the rule's name
    period: str
    due: str  # e.g. "Jumat, 28 Februari 2025"
    days_late: int | None
    subject: str  # whose obligation it is


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        undefined=StrictUndefined,  # a misspelt field fails loudly, not as an empty line
        # "message.html.j2" ends in .j2, so the HTML suffix must be listed with it: a plain
        # ["html"] never matched and left HTML unescaped.
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


SUBJECT = {
    "id": "Tenggat: {count} kewajiban perlu perhatian",
    "en": "Tenggat: {count} obligation(s) need attention",
}


def _render(name: str, recipient: str, items: list[Item], language: str) -> str:
    own = [item for item in items if item.kind != "escalation"]
    team = [item for item in items if item.kind == "escalation"]
    template = _environment().get_template(f"{language}/{name}")
    return template.render(recipient=recipient, own=own, team=team).strip()


def render_text(recipient: str, items: list[Item], language: str) -> str:
    """The plain-text message for ``recipient``: their own items, then their team's."""
    return _render("message.txt.j2", recipient, items, language)


def render_html(recipient: str, items: list[Item], language: str) -> str:
    """The same message as HTML, from the same items, every value escaped."""
    return _render("message.html.j2", recipient, items, language)


def subject(items: list[Item], language: str) -> str:
    return SUBJECT[language].format(count=len(items))
