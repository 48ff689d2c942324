"""Charts drawn on the server as SVG: no script runs in the browser and nothing is fetched
from elsewhere (agency networks are often closed).  Colours come from the stylesheet's
classes, so the Content-Security-Policy needs no inline style; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from markupsafe import Markup, escape

# Each unit's name stands above its bar, so the chart stays readable when a phone scales it
# down to its width.
ROW = 46  # px per unit: its name, then its bar
BAR = 330  # px of a full (100%) bar
WIDTH = BAR + 70  # room for the percentage after the bar
LABEL_CHARS = 56  # a longer name is cut, with its whole in the bar's tooltip


class Bar(NamedTuple):
    label: str
    percent: float | None  # None: nothing due yet
    shown: str  # the percentage as the reader writes it, or why there is none
    href: str = ""  # where the label leads (a unit's page), if anywhere


def level(percent: float | None) -> str:
    """The colour class of a percentage against the 100% target."""
    if percent is None:
        return "none"
    if percent >= 100:
        return "met"
    return "near" if percent >= 80 else "far"


def bars(items: Sequence[Bar], title: str, target: str) -> Markup:
    """Horizontal bars, one per item, with the 100% target as a line."""
    height = ROW * len(items) + 22
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for number, item in enumerate(items):
        y = number * ROW
        label = item.label
        if len(label) > LABEL_CHARS:
            label = label[: LABEL_CHARS - 1] + "…"
        width = 0 if item.percent is None else round(BAR * min(item.percent, 100) / 100)
        text = f'<text class="label" x="0" y="{y + 14}">{escape(label)}</text>'
        out.append(f'<a href="{escape(item.href)}">{text}</a>' if item.href else text)
        out.append(f'<rect class="track" x="0" y="{y + 20}" width="{BAR}" height="18"/>')
        out.append(
            f'<rect class="bar {level(item.percent)}" x="0" y="{y + 20}" width="{width}" '
            f'height="18"><title>{escape(item.label)}: {escape(item.shown)}</title></rect>'
        )
        out.append(f'<text class="value" x="{BAR + 6}" y="{y + 34}">{escape(item.shown)}</text>')
    bottom = ROW * len(items)
    out.append(f'<line class="target" x1="{BAR}" y1="16" x2="{BAR}" y2="{bottom + 2}"/>')
    out.append(
        f'<text class="target-label" x="{BAR}" y="{bottom + 16}" text-anchor="end">'
        f"{escape(target)}</text>"
    )
    out.append("</svg>")
    return Markup("".join(out))
