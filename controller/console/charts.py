"""Bar charts drawn on the server: the geometry of planned-against-played bars, as SVG.

No chart library and no script: the report page renders ``<svg>`` from a :class:`BarChart`
(``templates/reports/_chart.html``), so it shows on a phone without JavaScript and prints.
Each group (a day, a source level) has two bars, planned and played, scaled to the
largest value; the numbers are also in a table beside the chart (screen readers, print).

Every chart has the same box (``WIDTH`` x ``HEIGHT + TOP + AXIS``) whatever it holds — a
month of days or four source levels — so two charts on a page have the same scale and
their labels the same size. The groups share the width; when a label is wider than its
group only every Nth one is written (a month: every third day), never squeezed smaller.
The page shows the box between ``MIN_PX`` and ``MAX_PX`` wide (scrolling sideways below),
so a 13-unit label is 11 to 16 px on screen, at 390 px as at 1280.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

WIDTH = 600.0  # the viewBox's width, the same for every chart
HEIGHT = 120.0  # the tallest bar
TOP = 8.0  # room above the tallest bar
AXIS = 24.0  # room under the bars for the labels
FONT = 13.0  # a label's size, units of the viewBox
CHAR_W = 7.2  # about one character of a FONT-unit label: labels must not run into each other
PAD = 20.0  # left and right: room for half of the first and last label
MAX_BAR = 36.0  # a bar stays a bar when there are only a few groups
MIN_PX, MAX_PX = 520, 720  # the chart's shown width (px): labels 11-16 px


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its box in the viewBox, and the number it stands for."""

    x: float
    y: float
    height: float
    value: int


@dataclass(frozen=True, slots=True)
class BarGroup:
    """A group's label (drawn under it, centred at ``label_x``, when ``labelled``) and its
    two bars; an unlabelled group still names itself in its bars' tooltips and the table."""

    label: str
    label_x: float
    planned: Bar
    played: Bar
    labelled: bool = True


@dataclass(frozen=True, slots=True)
class BarChart:
    """A chart's size and groups (``base`` is the y of the axis)."""

    width: float
    height: float
    base: float
    bar_width: float
    groups: tuple[BarGroup, ...]
    font_size: float = FONT
    min_px: int = MIN_PX
    max_px: int = MAX_PX


def bar_chart(rows: Sequence[tuple[str, int, int]]) -> BarChart:
    """Planned and played bars for ``(label, planned, played)`` rows, in order."""
    top_value = max([max(planned, played) for _, planned, played in rows] + [1])
    base = TOP + HEIGHT
    step = (WIDTH - 2 * PAD) / max(len(rows), 1)
    bar_w = round(min(MAX_BAR, step * 0.4), 2)  # two bars fill 80 % of their group
    gap = min(2.0, step * 0.05)
    widest = max([CHAR_W * len(label) + 8 for label, _, _ in rows] + [1.0])
    every = max(1, ceil(widest / step))  # write every Nth label so none overlaps
    groups = []
    for index, (label, planned, played) in enumerate(rows):
        centre = PAD + step * (index + 0.5)
        bars = []
        for x, value in ((centre - gap / 2 - bar_w, planned), (centre + gap / 2, played)):
            h = round(HEIGHT * max(value, 0) / top_value, 1)
            bars.append(Bar(round(x, 2), round(base - h, 1), h, value))
        groups.append(BarGroup(label, round(centre, 2), bars[0], bars[1], index % every == 0))
    return BarChart(WIDTH, base + AXIS, base, bar_w, tuple(groups))
