"""The report's chart: sessions by day (or week, or month) — or, for a single day, the
minutes planned and played per source level, since one pair of bars says little.

Days before the ward's programme applied are shaded and named "chưa áp dụng" (not
applicable), so an empty stretch reads as "not yet in force", not as "nothing played".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from controller.domain.reports.cells import number, short_day
from controller.domain.reports.labels import Lang, label, source_name
from controller.domain.reports.model import DayOut, Report, SourceOut
from controller.domain.reports.pdf_layout import BLUE, FONT, GREY, TEXT_GREY, ReportPdf

_SHADE = (236, 236, 242)
_HEIGHT = 44.0
_BAR = 4.5  # mm: one bar of the per-source chart
_GAP = 3.0
_SOURCE_ROW = 2 * _BAR + _GAP


@dataclass(frozen=True)
class Bucket:
    """One group of bars: its axis label, sessions planned and played, whether in force."""

    label: str
    planned: int
    played: int
    in_force: bool


def chart(pdf: ReportPdf, report: Report) -> None:
    """The chart that says most for the period's length, whole on one page."""
    # Shapes never break a page, their labels could: the room is made first, and the
    # automatic break is held while drawing, so a legend never lands on a page alone.
    margin = pdf.b_margin
    if len(report.days) <= 1:
        levels = sum(1 for s in report.sources if s.plays_planned or s.plays_played)
        pdf.heading("chart_sources", room=margin + 30 + levels * _SOURCE_ROW)
        pdf.set_auto_page_break(False)
        _sources_chart(pdf, report.sources)
    else:
        pdf.heading("chart_sessions", room=margin + _HEIGHT + 32)
        pdf.set_auto_page_break(False)
        _sessions_chart(pdf, buckets(report.days, pdf.lang))
    pdf.set_auto_page_break(True, margin=margin)


def buckets(days: Sequence[DayOut], lang: Lang = "vi") -> list[Bucket]:
    """A bucket per day for short periods, per ISO week (by its Monday) or month for long."""
    if len(days) <= 45:
        return [
            Bucket(short_day(d.date, lang), d.sessions_planned, d.sessions_played, d.in_force)
            for d in days
        ]
    grouped: dict[str, list[int]] = {}
    for d in days:
        if len(days) <= 190:
            key = short_day(d.date - timedelta(days=d.date.weekday()), lang)
        else:
            key = f"{d.date:%m/%Y}" if lang == "vi" else f"{d.date:%Y-%m}"
        sums = grouped.setdefault(key, [0, 0, 0])
        sums[0] += d.sessions_planned
        sums[1] += d.sessions_played
        sums[2] += int(d.in_force)
    return [Bucket(k, v[0], v[1], v[2] > 0) for k, v in grouped.items()]


def _axis(pdf: ReportPdf, left: float, top: float, width: float, peak: float, unit: str) -> None:
    """The value axis: a frame, gridlines at half and full (whole values only), the unit."""
    base = top + _HEIGHT
    pdf.set_draw_color(120, 120, 120)
    pdf.line(left, top, left, base)
    pdf.line(left, base, left + width, base)
    pdf.set_font(FONT, size=6.5)
    for fraction in (0.5, 1.0):
        if not (peak * fraction).is_integer():
            continue  # half a session is no tick
        y = base - _HEIGHT * fraction
        pdf.set_draw_color(215, 215, 215)
        pdf.line(left, y, left + width, y)
        pdf.set_xy(left - 11, y - 2)
        pdf.cell(10, 4, number(peak * fraction, pdf.lang), align="R")
    pdf.set_xy(left - 11, top - 6)
    pdf.cell(20, 4, unit)
    pdf.set_draw_color(0, 0, 0)


def _legend(pdf: ReportPdf, y: float, entries: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
    x = pdf.l_margin + 12
    pdf.set_font(FONT, size=7.5)
    for text, colour in entries:
        pdf.set_fill_color(*colour)
        pdf.rect(x, y + 0.8, 3, 3, style="F")
        pdf.set_xy(x + 4, y)
        pdf.cell(0, 4.5, text)
        x += 8 + pdf.get_string_width(text)
    pdf.set_xy(pdf.l_margin, y + 7)
    pdf.set_font(FONT, size=9)
    pdf.set_fill_color(255, 255, 255)  # tables fill with the current colour


def _sessions_chart(pdf: ReportPdf, found: Sequence[Bucket]) -> None:
    """Bars of sessions planned (grey) and played (blue); days not in force shaded."""
    left, width = pdf.l_margin + 12, pdf.epw - 12
    top = pdf.get_y() + 8
    base = top + _HEIGHT
    peak = float(max([1] + [max(b.planned, b.played) for b in found]))
    slot = width / max(1, len(found))
    runs = _runs_not_in_force(found)
    for first, count in runs:
        pdf.set_fill_color(*_SHADE)
        pdf.rect(left + first * slot, top, count * slot, _HEIGHT, style="F")
    _axis(pdf, left, top, width, peak, label("chart_sessions_unit", pdf.lang))
    words = label("not_applicable", pdf.lang)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*TEXT_GREY)
    for first, count in runs:
        if pdf.get_string_width(words) + 4 < count * slot:  # named where it fits
            pdf.set_xy(left + first * slot, top + _HEIGHT * 0.3)
            pdf.cell(count * slot, 4, words, align="C")
    pdf.set_text_color(0, 0, 0)
    bar = max(0.3, slot * 0.36)
    every = max(1, -(-len(found) // 16))  # at most 16 labels under the axis
    pdf.set_font(FONT, size=6)
    for i, b in enumerate(found):
        x = left + i * slot + slot * 0.14
        for value, colour, shift in ((b.planned, GREY, 0.0), (b.played, BLUE, bar)):
            if value:
                h = _HEIGHT * value / peak
                pdf.set_fill_color(*colour)
                pdf.rect(x + shift, base - h, bar, h, style="F")
        if i % every == 0:
            pdf.set_xy(left + i * slot - 3, base + 0.8)
            pdf.cell(slot * every + 6 if every > 1 else slot + 6, 3, b.label, align="L")
    entries = [
        (label("chart_planned", pdf.lang), GREY),
        (label("chart_played", pdf.lang), BLUE),
    ]
    if any(not b.in_force for b in found):
        entries.append((label("not_applicable", pdf.lang), _SHADE))
    _legend(pdf, base + 5, entries)


def _runs_not_in_force(found: Sequence[Bucket]) -> list[tuple[int, int]]:
    """(first index, length) of each run of buckets before the programme applied."""
    runs: list[tuple[int, int]] = []
    for i, b in enumerate(found):
        if b.in_force:
            continue
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


def _sources_chart(pdf: ReportPdf, sources: Sequence[SourceOut]) -> None:
    """Per source level: minutes planned (grey) and played or relayed (blue), labelled."""
    lang = pdf.lang
    rows = [
        (
            source_name(s.source_level, lang),
            round((s.planned_relay_h + s.planned_content_h) * 60, 1),
            round((s.relayed_h + s.played_content_h) * 60, 1),
        )
        for s in sources
        if s.plays_planned or s.plays_played
    ]
    if not rows:
        pdf.paragraph(label("no_plays", lang))
        return
    minutes = label("chart_minutes", lang)
    name_w, top = 30.0, pdf.get_y() + 2
    width = pdf.epw - name_w - 28
    peak = max([1.0] + [max(p, q) for _, p, q in rows])
    bar, gap = _BAR, _GAP
    for i, (name, planned, played) in enumerate(rows):
        y = top + i * (2 * bar + gap)
        pdf.set_font(FONT, size=8)
        pdf.set_xy(pdf.l_margin, y + bar / 2)
        pdf.cell(name_w, bar, name)
        for j, (value, colour) in enumerate(((planned, GREY), (played, BLUE))):
            length = width * value / peak
            pdf.set_fill_color(*colour)
            if length > 0:
                pdf.rect(pdf.l_margin + name_w, y + j * bar, length, bar - 0.6, style="F")
            pdf.set_font(FONT, size=7)
            pdf.set_text_color(*TEXT_GREY)
            pdf.set_xy(pdf.l_margin + name_w + length + 1.5, y + j * bar - 0.2)
            pdf.cell(26, bar, f"{number(value, lang)} {minutes}")
            pdf.set_text_color(0, 0, 0)
    end = top + len(rows) * (2 * bar + gap)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin + name_w, top - 1, pdf.l_margin + name_w, end - gap + 1)
    pdf.set_draw_color(0, 0, 0)
    _legend(
        pdf,
        end + 1,
        [(label("chart_planned", lang), GREY), (label("chart_played", lang), BLUE)],
    )
