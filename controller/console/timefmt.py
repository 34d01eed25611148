"""Every time the console shows is in the ward's own time zone, never the server's.

The database stores UTC; a ward has its ``timezone`` (Asia/Ho_Chi_Minh by default). A
page sets the zone it speaks in (``Page.tz``: the actor's first ward, or the one the
page is about), and templates write ``{{ when(x) }}`` or ``{{ x | when }}``; a row of
another ward passes its own: ``{{ x | when(tz=row.ward_tz) }}``. The zone's name is
shown once in the page footer, so "05:30" is never ambiguous.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
FORMATS = {
    "datetime": "%d/%m/%Y %H:%M",
    "date": "%d/%m/%Y",
    "time": "%H:%M",
    "seconds": "%H:%M:%S",
    "iso": "%Y-%m-%dT%H:%M",  # for <input type="datetime-local"> values
}


def zone(name: str | None) -> ZoneInfo:
    """The zone by name; the default zone for a missing or unknown name."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def to_local(instant: datetime, tz: str | None) -> datetime:
    """``instant`` in zone ``tz``; a naive instant is taken as UTC (how SQLite returns it)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone(tz))


def format_local(instant: datetime | None, tz: str | None, style: str = "datetime") -> str:
    """An instant as the ward reads it (day/month/year, 24 h); "—" for none."""
    if instant is None:
        return "—"
    return to_local(instant, tz).strftime(FORMATS.get(style, FORMATS["datetime"]))


def from_local(text: str, tz: str | None) -> datetime:
    """A ``datetime-local`` field's value (the ward's wall clock) as a UTC instant.

    Raises ValueError for text that is not a date and time (the form shows it inline).
    """
    naive = datetime.fromisoformat(text.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=zone(tz)).astimezone(UTC)


def utc_offset_label(tz: str | None, at: datetime) -> str:
    """``Asia/Ho_Chi_Minh (UTC+07:00)``: the footer's statement of the zone in use."""
    local = to_local(at, tz)
    offset = local.strftime("%z")
    return f"{zone(tz).key} (UTC{offset[:3]}:{offset[3:]})"
