"""Bar charts drawn on the server: the geometry of planned-against-played bars, as SVG.

No chart library and no script: the report page renders ``<svg>`` from a :class:`BarChart`
(``templates/reports/_chart.html``), so it shows on a phone without JavaScript and prints.
Each group (a day, a source level) has two bars, planned and played, scaled to the
largest value; the numbers are also in a table beside the chart (screen readers, print).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_W = 10.0  # one bar's width, px of the viewBox
GAP = 2.0  # between the two bars of a group
GROUP_GAP = 8.0  # between groups
HEIGHT = 120.0  # the tallest bar
TOP = 8.0  # room above the tallest bar
AXIS = 28.0  # room under the bars for the labels
CHAR_W = 4.6  # about one character of an 8-unit label: labels must not run into each other


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its box in the viewBox, and the number it stands for."""

    x: float
    y: float
    height: float
    value: int


@dataclass(frozen=True, slots=True)
class BarGroup:
    """A group's label (drawn under it, centred at ``label_x``) and its two bars."""

    label: str
    label_x: float
    planned: Bar
    played: Bar


@dataclass(frozen=True, slots=True)
class BarChart:
    """A chart's size and groups (``base`` is the y of the axis)."""

    width: float
    height: float
    base: float
    bar_width: float
    groups: tuple[BarGroup, ...]


def bar_chart(rows: Sequence[tuple[str, int, int]]) -> BarChart:
    """Planned and played bars for ``(label, planned, played)`` rows, in order."""
    top_value = max([max(planned, played) for _, planned, played in rows] + [1])
    base = TOP + HEIGHT
    groups = []
    x = GROUP_GAP
    bars_w = 2 * BAR_W + GAP
    for label, planned, played in rows:
        # A long label (a source level's name) widens its group; the bars stay centred.
        step = max(bars_w + GROUP_GAP, CHAR_W * len(label) + 4)
        x += (step - bars_w - GROUP_GAP) / 2
        bars = []
        for offset, value in ((0.0, planned), (BAR_W + GAP, played)):
            h = round(HEIGHT * max(value, 0) / top_value, 1)
            bars.append(Bar(round(x + offset, 1), round(base - h, 1), h, value))
        groups.append(BarGroup(label, round(x + BAR_W + GAP / 2, 1), bars[0], bars[1]))
        x += bars_w + GROUP_GAP + (step - bars_w - GROUP_GAP) / 2
    return BarChart(round(max(x, 60.0), 1), base + AXIS, base, BAR_W, tuple(groups))
