"""How a figure is written in a cell, the same in the CSV and the PDF.

Rates are per cent with one decimal (empty when there is nothing to rate), verdicts
are in Vietnamese, instants are shown in the report's time zone to the minute.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from controller.domain.reports.labels import vi
from controller.domain.reports.model import Report

Cell = str | int | float | None


def percent(value: float | None) -> str:
    """A 0..1 rate as ``95.2`` (per cent, one decimal), or empty when there is none."""
    return "" if value is None else f"{value * 100:.1f}"


def verdict(passed: bool | None) -> str:
    """Đạt / Không đạt / Chưa đánh giá."""
    if passed is None:
        return vi("unjudged")
    return vi("passed") if passed else vi("failed_target")


def local_time(value: datetime | None, zone: str) -> str:
    """An instant in the report's zone, to the minute (UTC when zones differ)."""
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def report_zone(report: Report) -> str:
    """The zone a report's instants are shown in: its wards' zone, or UTC when they differ."""
    return report.period.timezone if report.period.timezone != "per ward" else "UTC"
