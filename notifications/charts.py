"""The digest's two charts, laid out once: on-time share per unit as bars, and the year's
weekly trend as a line, both against the 100% target.

The layout is a list of shapes in one coordinate space (`Chart`); `svg` writes it for the
web console (drawn on the server: no script, nothing fetched from elsewhere) and
`notifications.picture.png` paints it for the e-mail, whose readers (Gmail, Outlook) show
neither inline SVG nor ``data:`` images.  Colours are presentation attributes from
`PALETTE`, which a Content-Security-Policy without inline styles still allows.  On time and
not on time differ in colour and in words: every bar and the trend's last point say
whether the target is met, or how many items were not on time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import escape
from typing import NamedTuple

from notifications.digest import DigestView

PALETTE = {
    "ink": "#1d2433",
    "muted": "#5b6476",
    "grid": "#d8dde6",
    "track": "#eef1f5",
    "on_time": "#1f8a4c",  # on time, the target met
    "short": "#c8372d",  # due and not on time: late, overdue
    "line": "#1b5fa8",
}
WIDTH = 480
# Bars: each unit's name on a line of its own above its bar, so the chart stays readable
# when a phone scales it down to its width; what the bar says stands after it.
ROW = 48
BAR = 250  # a full (100%) bar: the rest of the width says what it shows
LABEL_CHARS = 60  # a longer name is cut, with its whole in the bar's tooltip
# The trend's plot area.
HEIGHT = 210
LEFT, RIGHT, TOP, BOTTOM = 44, WIDTH - 10, 26, 176


class Rect(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    colour: str
    kind: str = ""  # the element's class in the page, for tests and readers
    tip: str = ""


class Path(NamedTuple):
    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 2
    dashed: bool = False
    kind: str = ""


class Dot(NamedTuple):
    x: float
    y: float
    radius: float
    colour: str
    tip: str = ""


class Text(NamedTuple):
    x: float
    y: float  # the baseline
    text: str
    colour: str = "ink"
    size: int = 13
    anchor: str = "start"  # start | middle | end
    bold: bool = False
    href: str = ""


Shape = Rect | Path | Dot | Text


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    title: str  # what the chart shows: its accessible name
    shapes: tuple[Shape, ...]
    said: str = ""  # its values in words: with the title, the picture's alt text

    @property
    def alt(self) -> str:
        return f"{self.title}: {self.said}" if self.said else self.title


def units(view: DigestView, links: Sequence[str] = ()) -> Chart:
    """A bar per unit of ``view`` (its name leading to ``links[i]`` where given) and the
    total's: the on-time share in green, what was due and not on time in red."""
    words = view.words
    rows = [*view.units, replace(view.total, name=words["chart_total"])]
    shapes: list[Shape] = []
    values = []
    for number, row in enumerate(rows):
        top = number * ROW
        label = row.name if len(row.name) <= LABEL_CHARS else row.name[: LABEL_CHARS - 1] + "…"
        href = links[number] if number < len(links) else ""
        shapes.append(Text(0, top + 15, label, bold=number == len(rows) - 1, href=href))
        shapes.append(Rect(0, top + 22, BAR, 18, "track", "track"))
        if not row.due:
            said, colour = words["chart_nothing"], "muted"
        else:
            done = BAR * row.on_time / row.due
            tip = f"{row.name}: {row.percent} ({row.on_time}/{row.due})"
            shapes.append(Rect(0, top + 22, done, 18, "on_time", "bar on_time", tip))
            if row.on_time < row.due:
                shapes.append(Rect(done, top + 22, BAR - done, 18, "short", "bar short", tip))
            short = row.due - row.on_time
            said = words["chart_met"] if not short else words["chart_short"].format(count=short)
            said, colour = f"{row.percent} · {said}", "on_time" if not short else "short"
        shapes.append(Text(BAR + 8, top + 36, said, colour, 12, bold=True))
        shapes.append(Path(((BAR, top + 19), (BAR, top + 43)), "ink", 2, True, "target"))
        values.append(f"{row.name} {said}")
    bottom = ROW * len(rows)
    shapes.append(Text(BAR, bottom + 12, words["chart_target"], "muted", 11, "end"))
    return Chart(WIDTH, bottom + 18, words["chart_units"], tuple(shapes), "; ".join(values))


def trend(view: DigestView) -> Chart:
    """The year's on-time share at the end of each week so far, over the whole year's weeks,
    with the 100% target and the last point's value in words."""
    words, line = view.words, view.trend
    step = (RIGHT - LEFT) / max(line.slots, 1)

    def y(percent: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * percent / 100

    shapes: list[Shape] = []
    for level in (0, 25, 50, 75):
        shapes.append(Path(((LEFT, y(level)), (RIGHT, y(level))), "grid", 1))
    for level in (0, 50, 100):
        shapes.append(Text(LEFT - 6, y(level) + 4, f"{level}%", "muted", 11, "end"))
    shapes.append(Path(((LEFT, y(100)), (RIGHT, y(100))), "ink", 2, True, "target"))
    shapes.append(Text(RIGHT, y(100) - 6, words["chart_target"], "muted", 11, "end"))
    for weeks, month in line.ticks:
        shapes.append(Text(LEFT + weeks * step, BOTTOM + 16, month, "muted", 11, "start"))
    known = [
        (LEFT + (slot + 0.5) * step, y(point.percent), point)
        for slot, point in enumerate(line.points)
        if point.percent is not None
    ]
    if not known:
        nothing = words["chart_nothing"]
        shapes.append(Text((LEFT + RIGHT) / 2, y(50), nothing, "muted", 12, "middle"))
        return Chart(WIDTH, HEIGHT, words["chart_trend"], tuple(shapes), nothing)
    shapes.append(Path(tuple((x, top) for x, top, _ in known), "line", 2.5, kind="trend"))
    for x, top, point in known:
        colour = "on_time" if point.met else "short"
        shapes.append(Dot(x, top, 3.5, colour, f"{point.label}: {point.shown}"))
    x, top, last = known[-1]
    said = words["chart_met"] if last.met else words["chart_below"]
    anchor = "end" if x > (LEFT + RIGHT) / 2 else "start"
    shift = -8 if anchor == "end" else 8
    below = top < TOP + 30  # near the target line: write under the point
    text = f"{last.shown} · {said}"
    shapes.append(
        Text(x + shift, top + (18 if below else -10), text, "on_time" if last.met else "short",
             12, anchor, True)
    )  # fmt: skip
    shapes.append(Text(LEFT, HEIGHT - 6, words["chart_weeks"], "muted", 11))
    return Chart(WIDTH, HEIGHT, words["chart_trend"], tuple(shapes), f"{last.label} {text}")


def svg(chart: Chart) -> str:
    """The chart as an SVG element, every text escaped."""
    out = [
        f'<svg class="chart" viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            tip = f"<title>{escape(shape.tip)}</title>" if shape.tip else ""
            out.append(
                f'<rect class="{shape.kind}" x="{shape.x:.1f}" y="{shape.y:.1f}" '
                f'width="{shape.width:.1f}" height="{shape.height:.1f}" '
                f'fill="{PALETTE[shape.colour]}">{tip}</rect>'
            )
        elif isinstance(shape, Path):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
            dash = ' stroke-dasharray="5 4"' if shape.dashed else ""
            out.append(
                f'<polyline class="{shape.kind}" points="{points}" fill="none" '
                f'stroke="{PALETTE[shape.colour]}" stroke-width="{shape.width}"{dash} '
                'stroke-linejoin="round"/>'
            )
        elif isinstance(shape, Dot):
            out.append(
                f'<circle class="point" cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.radius}" '
                f'fill="{PALETTE[shape.colour]}"><title>{escape(shape.tip)}</title></circle>'
            )
        else:
            weight = ' font-weight="bold"' if shape.bold else ""
            text = (
                f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size}" '
                f'text-anchor="{shape.anchor}" fill="{PALETTE[shape.colour]}"{weight}>'
                f"{escape(shape.text)}</text>"
            )
            out.append(f'<a href="{escape(shape.href)}">{text}</a>' if shape.href else text)
    out.append("</svg>")
    return "".join(out)
