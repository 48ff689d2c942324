"""Charts drawn on the server as SVG: no script runs in the browser and nothing is fetched
from elsewhere (agency networks are often closed).  Colours come from the stylesheet's
classes, so the Content-Security-Policy needs no inline style; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from markupsafe import Markup, escape

ROW = 30  # px per bar
LABEL = 230  # px for the unit's name
BAR = 300  # px of a full (100%) bar
WIDTH = LABEL + BAR + 90  # room for the percentage after the bar


class Bar(NamedTuple):
    label: str
    percent: float | None  # None: nothing due yet
    shown: str  # the percentage as the reader writes it, or why there is none


def level(percent: float | None) -> str:
    """The colour class of a percentage against the 100% target."""
    if percent is None:
        return "none"
    if percent >= 100:
        return "met"
    return "near" if percent >= 80 else "far"


def bars(items: Sequence[Bar], title: str, target: str) -> Markup:
    """Horizontal bars, one per item, with the 100% target as a line."""
    height = ROW * len(items) + 24
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for number, item in enumerate(items):
        y = number * ROW
        label = item.label if len(item.label) <= 32 else item.label[:31] + "…"
        width = 0 if item.percent is None else round(BAR * min(item.percent, 100) / 100)
        out.append(
            f'<text class="label" x="{LABEL - 8}" y="{y + 19}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        out.append(f'<rect class="track" x="{LABEL}" y="{y + 6}" width="{BAR}" height="18"/>')
        out.append(
            f'<rect class="bar {level(item.percent)}" x="{LABEL}" y="{y + 6}" '
            f'width="{width}" height="18"><title>{escape(item.label)}: '
            f"{escape(item.shown)}</title></rect>"
        )
        out.append(
            f'<text class="value" x="{LABEL + BAR + 6}" y="{y + 19}">{escape(item.shown)}</text>'
        )
    bottom = ROW * len(items)
    out.append(
        f'<line class="target" x1="{LABEL + BAR}" y1="0" x2="{LABEL + BAR}" y2="{bottom + 4}"/>'
    )
    out.append(
        f'<text class="target-label" x="{LABEL + BAR}" y="{bottom + 18}" text-anchor="end">'
        f"{escape(target)}</text>"
    )
    out.append("</svg>")
    return Markup("".join(out))
