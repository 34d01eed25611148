"""Report periods: every written form, the ward's zone, and clear refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from controller.domain.errors import InvalidInput
from controller.domain.reports.periods import offset_segments, parse_period


@pytest.mark.parametrize(
    ("text", "first", "last", "label"),
    [
        ("day:2026-11-22", date(2026, 11, 22), date(2026, 11, 22), "day:2026-11-22"),
        ("week:2026-W47", date(2026, 11, 16), date(2026, 11, 22), "week:2026-W47"),
        ("week:2026-w53", date(2026, 12, 28), date(2027, 1, 3), "week:2026-W53"),
        ("month:2026-11", date(2026, 11, 1), date(2026, 11, 30), "month:2026-11"),
        ("month:2024-2", date(2024, 2, 1), date(2024, 2, 29), "month:2024-2"),
        ("quarter:2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "quarter:2026-Q4"),
        ("year:2026", date(2026, 1, 1), date(2026, 12, 31), "year:2026"),
        (" 2026-11-01..2026-11-30 ", date(2026, 11, 1), date(2026, 11, 30), None),
        ("2026-11-05..2026-11-05", date(2026, 11, 5), date(2026, 11, 5), None),
    ],
)
def test_every_form_reads_as_local_dates(
    text: str, first: date, last: date, label: str | None
) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)
    assert period.days == (last - first).days + 1
    if label:
        assert period.label == label


def test_a_period_is_cut_at_the_wards_midnight_not_utcs() -> None:
    start, end = parse_period("day:2026-11-22").utc_bounds("Asia/Ho_Chi_Minh")
    assert start == datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no period"),
        ("last month", "not a period"),
        ("fortnight:2026-11", "not a period"),
        ("month:2026-13", "months are 01 to 12"),
        ("month:November", "month is written like month:2026-11"),
        ("day:2026-02-30", "not a real date"),
        ("week:2025-W53", "ISO weeks 1 to 52"),
        ("quarter:2026-Q5", "Q1 to Q4"),
        ("2026-11-30..2026-11-01", "ends before it starts"),
        ("2026-11-01..soon", "is not a date"),
        ("2000-01-01..2026-01-01", "at most"),
    ],
)
def test_nonsense_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(text)
    assert says in refused.value.message
    assert refused.value.status == 422


def test_daylight_saving_zones_are_cut_where_their_offset_changes() -> None:
    segments = offset_segments(
        "Europe/Berlin", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [(a, off) for a, _, off in segments] == [
        (datetime(2026, 1, 1, tzinfo=UTC), 3600),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
    ]
    assert segments[-1][1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_zone_without_changes_is_one_segment() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert offset_segments("Asia/Ho_Chi_Minh", start, end) == [(start, end, 7 * 3600)]
