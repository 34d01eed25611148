"""Report periods: calendar days, weeks, months, quarters and years in a ward's zone.

A period is written ``day:2026-11-22``, ``week:2026-W47`` (ISO week), ``month:2026-11``,
``quarter:2026-Q4``, ``year:2026`` or ``2026-11-01..2026-11-30`` (both dates
included). It is a run of *local* dates; :meth:`Period.utc_bounds` turns it into the
UTC instants a query needs, in the zone of the ward being reported on, so "November"
means November where the loudspeakers are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from controller.domain.errors import InvalidInput

# Five years of days: enough for any evaluation, small enough to refuse a typo
# such as 0026 that would make the controller sum two thousand years.
MAX_DAYS = 5 * 366
EXAMPLES = (
    "day:2026-11-22, week:2026-W47, month:2026-11, quarter:2026-Q4, year:2026, "
    "or 2026-11-01..2026-11-30"
)

_YEAR = r"(?P<year>\d{4})"
_FORMS: dict[str, re.Pattern[str]] = {
    "day": re.compile(rf"{_YEAR}-(?P<month>\d{{2}})-(?P<day>\d{{2}})"),
    "week": re.compile(rf"{_YEAR}-W(?P<week>\d{{1,2}})", re.IGNORECASE),
    "month": re.compile(rf"{_YEAR}-(?P<month>\d{{1,2}})"),
    "quarter": re.compile(rf"{_YEAR}-Q(?P<quarter>\d)", re.IGNORECASE),
    "year": re.compile(_YEAR),
}


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` to ``last``, both included, and how the period was named."""

    kind: str  # day | week | month | quarter | year | range
    label: str
    first: date
    last: date

    @property
    def days(self) -> int:
        """How many local days the period has."""
        return (self.last - self.first).days + 1

    def dates(self) -> Iterator[date]:
        """Every local date of the period, in order."""
        for offset in range(self.days):
            yield self.first + timedelta(days=offset)

    def utc_bounds(self, zone: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of ``first`` to local midnight after ``last``."""
        return day_start_utc(self.first, zone), day_start_utc(self.last + timedelta(days=1), zone)


def day_start_utc(day: date, zone: str) -> datetime:
    """The UTC instant at which local ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_date(instant: datetime, zone: str) -> date:
    """The local date in ``zone`` of an aware instant."""
    return instant.astimezone(ZoneInfo(zone)).date()


def offset_segments(
    zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where ``zone``'s UTC offset changes: (from, to, offset seconds).

    Within a segment the local date is the UTC instant plus a fixed offset, which
    both databases can compute; most zones (Asia/Ho_Chi_Minh) give one segment.
    """
    tz = ZoneInfo(zone)

    def offset(at: int) -> int:
        delta = datetime.fromtimestamp(at, UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    # Whole seconds: zone transitions happen on them, and so does local midnight.
    first, last = int(start.timestamp()), int(end.timestamp())
    segments: list[tuple[datetime, datetime, int]] = []
    seg_start, current, probe = first, offset(first), first
    while probe < last:
        step = min(probe + 12 * 3600, last)
        if offset(step) != current:
            low, high = probe, step  # offset(low) is current, offset(high) is not
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if offset(mid) == current else (low, mid)
            if high < last:
                segments.append((_utc(seg_start), _utc(high), current))
                seg_start = high
            current = offset(high)
        probe = step
    segments.append((_utc(seg_start), end, current))
    return segments


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def parse_period(text: str) -> Period:
    """Read a period as written by an officer or an evaluator; InvalidInput if it is not one."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(
            f"no period given: write one of {EXAMPLES}", code="period.missing", field="period"
        )
    if ".." in raw:
        return _explicit(raw)
    kind, sep, value = raw.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in _FORMS:
        raise InvalidInput(
            f"{raw!r} is not a period: write one of {EXAMPLES}",
            code="period.invalid",
            params={"period": raw},
            field="period",
        )
    value = value.strip()
    match = _FORMS[kind].fullmatch(value)
    if match is None:
        raise InvalidInput(
            f"{raw!r}: {kind} is written like {_example(kind)}",
            code="period.invalid",
            params={"period": raw},
            field="period",
        )
    first, last = _bounds(kind, match, raw)
    return _checked(
        Period(kind, f"{kind}:{value.upper() if kind != 'day' else value}", first, last)
    )


def _example(kind: str) -> str:
    return {
        "day": "day:2026-11-22",
        "week": "week:2026-W47",
        "month": "month:2026-11",
        "quarter": "quarter:2026-Q4",
        "year": "year:2026",
    }[kind]


def _bounds(kind: str, match: re.Match[str], raw: str) -> tuple[date, date]:
    year = int(match["year"])
    if year < 1:
        raise InvalidInput(
            f"{raw!r}: there is no year 0",
            code="period.invalid",
            params={"period": raw},
            field="period",
        )
    try:
        if kind == "day":
            day = date(year, int(match["month"]), int(match["day"]))
            return day, day
        if kind == "week":
            week = int(match["week"])
            weeks_in_year = date(year, 12, 28).isocalendar().week
            if not 1 <= week <= weeks_in_year:
                raise InvalidInput(
                    f"{raw!r}: {year} has ISO weeks 1 to {weeks_in_year}",
                    code="period.invalid",
                    params={"period": raw},
                    field="period",
                )
            monday = date.fromisocalendar(year, week, 1)
            return monday, monday + timedelta(days=6)
        if kind == "month":
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise InvalidInput(
                    f"{raw!r}: months are 01 to 12",
                    code="period.invalid",
                    params={"period": raw},
                    field="period",
                )
            return date(year, month, 1), _month_end(year, month)
        if kind == "quarter":
            quarter = int(match["quarter"])
            if not 1 <= quarter <= 4:
                raise InvalidInput(
                    f"{raw!r}: quarters are Q1 to Q4",
                    code="period.invalid",
                    params={"period": raw},
                    field="period",
                )
            return date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError as exc:
        raise InvalidInput(
            f"{raw!r} is not a real date ({exc})",
            code="period.invalid",
            params={"period": raw},
            field="period",
        ) from None


def _month_end(year: int, month: int) -> date:
    after = date(year + month // 12, month % 12 + 1, 1)
    return after - timedelta(days=1)


def _explicit(raw: str) -> Period:
    start_text, _, end_text = (part.strip() for part in raw.partition(".."))
    days: list[date] = []
    for text in (start_text, end_text):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise InvalidInput(
                f"{raw!r}: {text!r} is not a date; write dates as 2026-11-01..2026-11-30",
                code="period.invalid",
                params={"period": raw},
                field="period",
            ) from None
    first, last = days
    if last < first:
        raise InvalidInput(
            f"the period {raw!r} ends before it starts: write the earlier date first",
            code="period.backwards",
            field="period",
        )
    return _checked(Period("range", f"{first.isoformat()}..{last.isoformat()}", first, last))


def _checked(period: Period) -> Period:
    if period.days > MAX_DAYS:
        raise InvalidInput(
            f"the period {period.label} has {period.days} days; reports cover at most "
            f"{MAX_DAYS} days (five years)",
            code="period.too_long",
            params={"days": period.days, "max": MAX_DAYS},
            field="period",
        )
    return period
