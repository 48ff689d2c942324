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
    """One line of a message: whose obligation, what, when, and how it stands."""

    kind: str  # reminder | due_today | overdue | escalation | contact
    rule: str  # the rule's name
    period: str
    due: str  # e.g. "Jumat, 28 Februari 2025"
    days_late: int | None
    subject: str  # whose obligation (or contact) it is
    subject_key: str = ""  # their NIP or provisional key
    detail: str = ""  # for a contact: why it failed


@cache
def templates() -> Environment:
    """The one Jinja2 environment of every message and digest, built once per process."""
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
TEXT, HTML, TELEGRAM = "message.txt.j2", "message.html.j2", "message.telegram.html.j2"
# Sections in the order a recipient reads them: their own, their team's, contacts to fix.
SECTIONS = {"own": None, "team": "escalation", "contact": "contact"}


def render(template: str, recipient: str, items: list[Item], language: str) -> str:
    """``message.txt.j2`` (plain text), ``message.html.j2`` (e-mail) or
    ``message.telegram.html.j2`` for ``recipient``, the sentences in ``language``."""
    kinds = {kind for kind in SECTIONS.values() if kind}
    grouped = {
        name: [i for i in items if (i.kind == kind if kind else i.kind not in kinds)]
        for name, kind in SECTIONS.items()
    }
    sections = [(name, group) for name, group in grouped.items() if group]
    page = templates().get_template(template)
    return page.render(recipient=recipient, sections=sections, language=language).strip()


def subject(items: list[Item], language: str) -> str:
    return SUBJECT[language].format(count=len(items))
