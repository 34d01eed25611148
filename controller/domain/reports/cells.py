"""How a figure is written, the same in the CSV, the XLSX and the PDF, per language.

Vietnamese writes 1.234,5 (thousands ".", decimals ","), dates 30/11/2026 and instants
30/11/2026 17:00; English writes 1,234.5, 2026-11-30 and 2026-11-30 17:00. Rates are
per cent with one decimal. Instants are shown in the report's zone, to the minute.

A table cell is a plain value whose type says how it is written: ``int``, ``float``,
:class:`Pct` (a 0..1 rate shown as per cent), ``date``, ``datetime`` (an instant),
``str`` or None (empty). The PDF writes them for reading (thousands separated), the
CSV for a spreadsheet to read back (no thousands separator), the XLSX as typed cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from controller.domain.reports.labels import Lang, label
from controller.domain.reports.model import Report, TargetOut


@dataclass(frozen=True)
class Pct:
    """A rate 0..1 (or None: nothing to rate), written as per cent."""

    value: float | None


Cell = str | int | float | Pct | date | datetime | None


def number(value: float, lang: Lang, decimals: int | None = None, *, group: bool = True) -> str:
    """``1.234,5`` (vi) or ``1,234.5`` (en); up to ``decimals`` places, trailing zeros cut.

    With ``decimals`` None, whole numbers have none and others one. ``group`` False
    leaves out the thousands separator (what a spreadsheet reads back as a number).
    """
    places = decimals if decimals is not None else (0 if float(value).is_integer() else 1)
    text = f"{value:,.{places}f}" if group else f"{value:.{places}f}"
    if places and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if lang == "vi":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def percent(rate: float | None, lang: Lang) -> str:
    """A 0..1 rate as ``95,2`` (vi) or ``95.2`` (en), per cent with one decimal; "" for none."""
    if rate is None:
        return ""
    text = f"{rate * 100:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


def day(value: date, lang: Lang) -> str:
    """``30/11/2026`` (vi) or ``2026-11-30`` (en)."""
    return value.strftime("%d/%m/%Y") if lang == "vi" else value.isoformat()


def short_day(value: date, lang: Lang) -> str:
    """``30/11`` (vi) or ``11-30`` (en): a chart's axis."""
    return value.strftime("%d/%m") if lang == "vi" else value.strftime("%m-%d")


def local_time(value: datetime | None, zone: str, lang: Lang = "en") -> str:
    """An instant in ``zone``, to the minute; UTC (and said so) when the zone is unknown."""
    if value is None:
        return ""
    pattern = "%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M"
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        return value.strftime(pattern + " UTC")
    return value.astimezone(tz).strftime(pattern)


def report_zone(report: Report) -> str:
    """The zone a report's instants are shown in: its wards' zone, or UTC when they differ."""
    return report.period.timezone if report.period.timezone != "per ward" else "UTC"


def status_of(target: TargetOut) -> str:
    """passed | failed | unjudged | not_applicable: the label key of a target's verdict."""
    return "failed_target" if target.status == "failed" else target.status


def verdict(target: TargetOut, lang: Lang) -> str:
    """Đạt / Không đạt / Chưa đánh giá / Chưa áp dụng (or the English)."""
    return label(status_of(target), lang)


def text(value: Cell, lang: Lang, zone: str, *, group: bool = True) -> str:
    """A cell written for reading (``group``) or for a spreadsheet's CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return label("yes" if value else "no", lang)
    if isinstance(value, Pct):
        return percent(value.value, lang)
    if isinstance(value, int):
        return number(value, lang, group=group)
    if isinstance(value, float):
        return number(value, lang, 2, group=group)
    if isinstance(value, datetime):
        return local_time(value, zone, lang)
    if isinstance(value, date):
        return day(value, lang)
    return value
