"""A chart of `notifications.charts` painted as a PNG, for the e-mail digest: mail clients
show an image attached to the message (``cid:``) but neither inline SVG nor ``data:`` URIs.

Painted with Pillow at twice the chart's size, so it stays sharp on a phone's screen, in
Pillow's own font (shipped inside the package: nothing to install on the machine).  The
shapes, their places and colours are the chart's: this module only paints them.
"""

from __future__ import annotations

import io
import itertools
import math
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from notifications.charts import PALETTE, Chart, Dot, Path, Rect, Text

SCALE = 2
_ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}  # on the baseline, as SVG's text


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size * SCALE)


def _dashes(
    start: tuple[float, float], end: tuple[float, float], dash: float = 5, gap: float = 4
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The pieces of a dashed segment, as the SVG's ``stroke-dasharray="5 4"`` draws it."""
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1)
    pieces, at = [], 0.0
    while at < length:
        upto = min(at + dash, length)
        pieces.append(
            (
                (x1 + (x2 - x1) * at / length, y1 + (y2 - y1) * at / length),
                (x1 + (x2 - x1) * upto / length, y1 + (y2 - y1) * upto / length),
            )
        )
        at = upto + gap
    return pieces


def png(chart: Chart) -> bytes:
    """The chart as PNG bytes, ``SCALE`` times its size, on white."""
    image = Image.new("RGB", (chart.width * SCALE, chart.height * SCALE), "white")
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return x * SCALE, y * SCALE

    for shape in chart.shapes:
        if isinstance(shape, Rect):
            if shape.width > 0:
                corner = at(shape.x + shape.width, shape.y + shape.height)
                draw.rectangle((at(shape.x, shape.y), corner), fill=PALETTE[shape.colour])
        elif isinstance(shape, Path):
            width = round(shape.width * SCALE)
            colour = PALETTE[shape.colour]
            points = [at(x, y) for x, y in shape.points]
            if shape.dashed:
                for start, end in itertools.pairwise(points):
                    for piece in _dashes(start, end, 5 * SCALE, 4 * SCALE):
                        draw.line(piece, fill=colour, width=width)
            else:
                draw.line(points, fill=colour, width=width, joint="curve")
        elif isinstance(shape, Dot):
            x, y, r = shape.x * SCALE, shape.y * SCALE, shape.radius * SCALE
            draw.ellipse((x - r, y - r, x + r, y + r), fill=PALETTE[shape.colour])
        else:
            _text(draw, shape)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _text(draw: ImageDraw.ImageDraw, shape: Text) -> None:
    font = _font(shape.size)
    position = (shape.x * SCALE, shape.y * SCALE)
    colour = PALETTE[shape.colour]
    anchor = _ANCHORS[shape.anchor]
    # Pillow's font has no bold face: a second pass one pixel over thickens it.
    for dx in (0, 1) if shape.bold else (0,):
        draw.text(
            (position[0] + dx, position[1]), shape.text, fill=colour, font=font, anchor=anchor
        )
