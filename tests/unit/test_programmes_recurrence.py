"""When sessions air: RRULE expansion in the ward's zone, DST days, exceptions, limits."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.domain.programmes.content import ContentInfo, DictContent
from controller.domain.programmes.recurrence import (
    ANCHOR_DATE,
    CHIME_S,
    RecurrenceError,
    expand_local,
    occurrences,
    session_cap_s,
    session_length_s,
    session_span_s,
)
from controller.domain.programmes.rrules import parse_rrule
from controller.domain.programmes.schema import SessionDef, WardRules

HCM = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # Friday 07:00 in Hà Nội


def session(rrule: str = "FREQ=DAILY", start: str = "05:30", **fields: object) -> SessionDef:
    data: dict[str, object] = {
        "code": "sang",
        "name": "Buổi sáng",
        "rrule": rrule,
        "start": start,
        "rundown": [{"kind": "bulletins", "max_minutes": 10}],
    }
    data.update(fields)
    return SessionDef.model_validate(data)


def local(times: list[datetime], zone: str = HCM) -> list[str]:
    return [t.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %a %H:%M") for t in times]


def test_weekdays_in_ho_chi_minh_are_stored_as_utc() -> None:
    found = occurrences(
        session("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"), HCM, NOW, NOW + timedelta(days=7)
    )
    assert local(found) == [
        "2026-11-23 Mon 05:30",
        "2026-11-24 Tue 05:30",
        "2026-11-25 Wed 05:30",
        "2026-11-26 Thu 05:30",
        "2026-11-27 Fri 05:30",
    ]
    assert found[0] == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert all(t.tzinfo is UTC for t in found)


def test_window_is_half_open_on_the_instant() -> None:
    first = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    rule = session("FREQ=DAILY")
    assert occurrences(rule, HCM, first, first + timedelta(days=1)) == [first]
    assert occurrences(rule, HCM, first + timedelta(seconds=1), first + timedelta(days=1)) == []
    assert occurrences(rule, HCM, first, first) == []


def test_exdates_and_broadcast_days_are_skipped() -> None:
    rule = session("FREQ=DAILY", exdates=[date(2026, 11, 25)])
    found = occurrences(rule, HCM, NOW, NOW + timedelta(days=7), broadcast_days=["MO", "WE", "TH"])
    assert local(found) == ["2026-11-23 Mon 05:30", "2026-11-26 Thu 05:30"]


def test_interval_counts_weeks_from_the_anchor_monday() -> None:
    found = occurrences(
        session("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", start="08:00"),
        HCM,
        NOW,
        NOW + timedelta(days=42),
    )
    assert ANCHOR_DATE.weekday() == 0
    days = [t.astimezone(ZoneInfo(HCM)).date() for t in found]
    assert len(days) == 3
    assert all((d - date(2001, 1, 6)).days % 14 == 0 for d in days)
    assert [b - a for a, b in pairwise(days)] == [timedelta(days=14)] * 2


def test_starts_on_anchors_interval_and_count() -> None:
    every_third = session("FREQ=DAILY;INTERVAL=3", starts_on=date(2026, 11, 21))
    assert local(occurrences(every_third, HCM, NOW, NOW + timedelta(days=10))) == [
        "2026-11-21 Sat 05:30",
        "2026-11-24 Tue 05:30",
        "2026-11-27 Fri 05:30",
        "2026-11-30 Mon 05:30",
    ]
    three = session("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3", starts_on=date(2026, 11, 1))
    assert local(occurrences(three, HCM, NOW - timedelta(days=30), NOW + timedelta(days=60))) == [
        "2026-11-02 Mon 05:30",
        "2026-11-05 Thu 05:30",
        "2026-11-09 Mon 05:30",
    ]


def test_count_needs_a_first_date() -> None:
    with pytest.raises(ValueError, match="set starts_on"):
        session("FREQ=DAILY;COUNT=5")


@pytest.mark.parametrize(
    ("rrule", "last"),
    [
        ("FREQ=DAILY;UNTIL=20261125", "2026-11-25 Wed 05:30"),  # a date: inclusive
        ("FREQ=DAILY;UNTIL=20261125T053000", "2026-11-25 Wed 05:30"),  # local time
        ("FREQ=DAILY;UNTIL=20261124T223000Z", "2026-11-25 Wed 05:30"),  # UTC: 05:30 local
        ("FREQ=DAILY;UNTIL=20261124T222959Z", "2026-11-24 Tue 05:30"),
    ],
)
def test_until_is_read_in_the_wards_zone(rrule: str, last: str) -> None:
    found = occurrences(session(rrule), HCM, NOW, NOW + timedelta(days=30))
    assert local(found)[-1] == last


def test_default_weekly_monthly_yearly_follow_the_anchor() -> None:
    window = (NOW, NOW + timedelta(days=400))
    weekly = occurrences(session("FREQ=WEEKLY"), HCM, *window)
    assert {t.astimezone(ZoneInfo(HCM)).weekday() for t in weekly} == {0}
    monthly = occurrences(session("FREQ=MONTHLY"), HCM, *window)
    assert {t.astimezone(ZoneInfo(HCM)).day for t in monthly} == {1}
    yearly = occurrences(session("FREQ=YEARLY"), HCM, *window)
    assert local(yearly) == ["2027-01-01 Fri 05:30"]


def test_ordinal_weekdays_and_month_days() -> None:
    first_monday = occurrences(
        session("FREQ=MONTHLY;BYDAY=1MO"), HCM, NOW, NOW + timedelta(days=80)
    )
    assert local(first_monday) == [
        "2026-12-07 Mon 05:30",
        "2027-01-04 Mon 05:30",
        "2027-02-01 Mon 05:30",
    ]
    national_day = occurrences(
        session("FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=2"), HCM, NOW, NOW + timedelta(days=400)
    )
    assert local(national_day) == ["2027-09-02 Thu 05:30"]


def test_berlin_spring_forward_moves_a_missing_time_past_the_gap() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    found = occurrences(
        session("FREQ=DAILY", start="02:30"),
        "Europe/Berlin",
        datetime(2026, 3, 28, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
    )
    assert found == [
        datetime(2026, 3, 28, 1, 30, tzinfo=UTC),  # 02:30 CET
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST: moved by the gap
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),  # 02:30 CEST
    ]
    assert local(found, "Europe/Berlin")[1] == "2026-03-29 Sun 03:30"


def test_berlin_fall_back_airs_an_ambiguous_time_once_the_first_time() -> None:
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    found = occurrences(
        session("FREQ=DAILY", start="02:30"),
        "Europe/Berlin",
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 27, tzinfo=UTC),
    )
    assert found == [
        datetime(2026, 10, 24, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the first 02:30 (CEST), not 01:30Z too
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]


def test_berlin_ordinary_times_keep_their_wall_clock_across_transitions() -> None:
    found = occurrences(
        session("FREQ=WEEKLY;BYDAY=SU", start="06:00"),
        "Europe/Berlin",
        datetime(2026, 3, 20, tzinfo=UTC),
        datetime(2026, 4, 6, tzinfo=UTC),
    )
    assert local(found, "Europe/Berlin") == [
        "2026-03-22 Sun 06:00",
        "2026-03-29 Sun 06:00",
        "2026-04-05 Sun 06:00",
    ]
    assert [t.hour for t in found] == [5, 4, 4]


@pytest.mark.parametrize("freq", ["SECONDLY", "MINUTELY", "HOURLY"])
def test_sub_daily_rules_are_refused(freq: str) -> None:
    with pytest.raises(RecurrenceError, match="at most once a day") as caught:
        occurrences(session(f"FREQ={freq}"), HCM, NOW, NOW + timedelta(days=1))
    assert caught.value.code == "rrule_too_often"


def test_bad_zone_and_naive_instants_are_refused() -> None:
    with pytest.raises(RecurrenceError) as caught:
        occurrences(session(), "Asia/Hanoi", NOW, NOW + timedelta(days=1))
    assert caught.value.code == "bad_timezone"
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(session(), HCM, datetime(2026, 11, 20), NOW)


@pytest.mark.parametrize(
    ("rrule", "reason"),
    [
        ("", "is empty"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL: 0 is out of range"),
        ("FREQ=DAILY;BYHOUR=5,17", "BYHOUR is not allowed"),
        ("DTSTART=20260101T053000;FREQ=DAILY", "leave DTSTART out"),
        ("BYDAY=MO", "FREQ is missing"),
        ("FREQ=FORTNIGHTLY", "not one of"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a weekday"),
        ("FREQ=WEEKLY;BYDAY=1MO", "only means something with FREQ=MONTHLY"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "cannot be used with FREQ=WEEKLY"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "not both"),
        ("FREQ=DAILY;UNTIL=2027-01-01", "UNTIL"),
        ("FREQ=DAILY;UNTIL=20270230", "not a real date"),
        ("FREQ=DAILY;BYMONTH=13", "out of range"),
        ("FREQ=DAILY;FREQ=WEEKLY", "given twice"),
        ("FREQ=DAILY;BYEASTER=0", "unknown RRULE part"),
        ("FREQ=DAILY; BYDAY=MO", "no spaces"),
        ("FREQ", "not NAME=VALUE"),
    ],
)
def test_unreadable_rrules_say_which_part_is_wrong(rrule: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_rrule(rrule)


def test_rrule_prefix_and_case_are_tolerated() -> None:
    assert parse_rrule("RRULE:freq=weekly;byday=mo").byday == ((0, None),)


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # every 7 days from a Monday is never a Tuesday
        "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYSETPOS=3",
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6",
    ],
)
def test_rules_that_never_fire_return_quickly(rrule: str) -> None:
    # dateutil alone walks to the year 9999 looking for a match (seconds for DAILY).
    started = clock.perf_counter()
    assert occurrences(session(rrule), HCM, NOW, NOW + timedelta(days=366)) == []
    assert clock.perf_counter() - started < 0.5


_RULES = st.sampled_from(
    [
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL={n}",
        "FREQ=DAILY;BYMONTH=2,3;BYDAY=MO,FR",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "FREQ=WEEKLY;INTERVAL={n};BYDAY=TU,SA",
        "FREQ=WEEKLY;INTERVAL={n};BYDAY=SU;WKST=SU",
        "FREQ=WEEKLY;INTERVAL={n};BYDAY=MO,TU,WE;BYSETPOS=-1",
        "FREQ=MONTHLY;INTERVAL={n}",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;INTERVAL={n};BYDAY=2TH,-1FR",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=YEARLY;BYWEEKNO=1,20,53;BYDAY=MO",
        "FREQ=YEARLY;INTERVAL={n};BYYEARDAY=100,-1",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    template=_RULES,
    n=st.integers(1, 5),
    starts_on=st.none() | st.dates(date(2001, 1, 1), date(2026, 1, 1)),
    first=st.dates(date(2026, 1, 1), date(2060, 12, 31)),
    days=st.integers(1, 400),
)
def test_expansion_matches_dateutil_from_dtstart(
    template: str, n: int, starts_on: date | None, first: date, days: int
) -> None:
    """The moved-calendar shortcut gives exactly what dateutil gives walking from DTSTART."""
    rule = session(template.format(n=n), start="05:30", starts_on=starts_on)
    last = first + timedelta(days=days)
    zone = ZoneInfo(HCM)
    built = parse_rrule(rule.rrule).build(
        datetime.combine(starts_on or ANCHOR_DATE, rule.start), None
    )
    expected = built.between(
        datetime.combine(first, time.min), datetime.combine(last, time.max), inc=True
    )
    assert expand_local(rule, zone, first, last) == expected


def test_far_future_windows_still_work() -> None:
    start = datetime(2150, 3, 1, tzinfo=UTC)
    found = occurrences(session("FREQ=MONTHLY;BYDAY=1MO"), HCM, start, start + timedelta(days=62))
    assert local(found) == ["2150-03-02 Mon 05:30", "2150-04-06 Mon 05:30"]


def test_session_lengths() -> None:
    rundown = [
        {"kind": "chime", "which": "opening"},
        {
            "kind": "relay",
            "station": "VOV1",
            "source_level": "central",
            "url": "https://str.vov.gov.vn/live.m3u8",
            "minutes": 30,
        },
        {"kind": "bulletin", "bulletin_id": "bul-1"},
        {"kind": "bulletin", "bulletin_id": "bul-missing"},
        {"kind": "bulletins", "max_minutes": 5},
        {"kind": "chime", "which": "closing"},
    ]
    content = DictContent([ContentInfo("bul-1", "approved", None, None, 90.0)])
    fixed = session(rundown=rundown)
    assert session_length_s(fixed, content) == 2 * CHIME_S + 30 * 60 + 90 + 5 * 60
    rules = WardRules(max_session_minutes=45)
    assert session_cap_s(fixed, rules) == 45 * 60
    assert session_span_s(fixed, rules, content) == session_length_s(fixed, content)
    open_queue = session(rundown=[{"kind": "bulletins"}], max_minutes=20)
    assert session_length_s(open_queue, content) == 0
    assert session_cap_s(open_queue, rules) == 20 * 60
    assert session_span_s(open_queue, rules, content) == 20 * 60
