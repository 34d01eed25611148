"""Targets judged on small daily figures: broadcast days, holidays, cut weeks, no data yet,
and days before the programme applied (not applicable, never failed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from controller.domain.programmes.schema import ProgrammeDoc, TargetDef
from controller.domain.reports.compliance import Calendar, DayFigures, calendar_of, judge
from controller.domain.reports.targets import first_whole_day

MONDAY = date(2026, 11, 16)  # ISO week 47
WEEKDAYS = frozenset({"MO", "TU", "WE", "TH", "FR"})


def target(kind: str, minimum: float, source_level: str | None = None) -> TargetDef:
    return TargetDef(
        code=f"t-{kind.replace('_', '-')}",
        description="Ít nhất như vậy",
        kind=kind,
        minimum=minimum,
        source_level=source_level,
    )


def days(first: date, count: int) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range(count))


def test_sessions_per_day_counts_only_broadcast_days() -> None:
    week = days(MONDAY, 7)
    figures = {d: DayFigures(sessions_played=2) for d in week[:5]}  # nothing at the weekend
    calendar = Calendar(WEEKDAYS, frozenset(), week)
    [verdict] = judge("00037", [target("sessions_per_day", 2)], calendar, figures, lang="en")
    assert verdict.passed is True
    assert (verdict.judged, verdict.met, verdict.unit) == (5, 5, "days")
    assert "5 of 5 broadcast days" in verdict.figure


def test_one_short_day_fails_and_is_named() -> None:
    week = days(MONDAY, 5)
    figures = {d: DayFigures(sessions_played=2) for d in week}
    figures[MONDAY + timedelta(days=2)] = DayFigures(sessions_played=1)
    [verdict] = judge(
        "00037",
        [target("sessions_per_day", 2)],
        Calendar(WEEKDAYS, frozenset(), week),
        figures,
        lang="en",
    )
    assert verdict.passed is False
    assert (verdict.judged, verdict.met) == (5, 4)
    assert verdict.failing == ["2026-11-18: 1"]


def test_a_holiday_of_every_session_is_not_judged() -> None:
    week = days(MONDAY, 5)
    holiday = MONDAY + timedelta(days=1)
    figures = {d: DayFigures(sessions_played=2) for d in week if d != holiday}
    calendar = Calendar(WEEKDAYS, frozenset({holiday}), week)
    [verdict] = judge("00037", [target("sessions_per_day", 2)], calendar, figures)
    assert verdict.passed is True
    assert verdict.judged == 4


def test_relay_daily_reads_its_source_level_only() -> None:
    week = days(MONDAY, 3)
    figures = {
        week[0]: DayFigures(2, {"central": 15.0, "provincial": 10.0}),
        week[1]: DayFigures(2, {"central": 12.5}),
        week[2]: DayFigures(2, {"provincial": 30.0}),
    }
    calendar = Calendar(WEEKDAYS, frozenset(), week)
    central, any_level = judge(
        "00037",
        [target("relay_daily", 14, "central"), target("relay_daily", 14)],
        calendar,
        figures,
        lang="en",
    )
    assert central.passed is False
    assert central.failing == ["2026-11-17: 12.5", "2026-11-18: 0"]
    assert any_level.passed is False  # 12.5 minutes on the 17th, whatever the level
    assert any_level.met == 2


def test_days_per_week_asks_a_cut_week_only_for_what_it_could_reach() -> None:
    # Thursday to Sunday of week 47, then all of week 48: the first week lost 3 days.
    judged = days(MONDAY + timedelta(days=3), 11)
    played = {d: DayFigures(sessions_played=1) for d in judged if d.weekday() < 5}
    calendar = Calendar(WEEKDAYS, frozenset(), judged)
    [verdict] = judge("00037", [target("days_per_week", 5)], calendar, played)
    assert verdict.passed is True  # 2 of the 2 days week 47 still needed; 5 of 5 in week 48
    assert (verdict.judged, verdict.met, verdict.unit) == (2, 2, "weeks")
    del played[MONDAY + timedelta(days=8)]  # Tuesday of week 48
    [verdict] = judge("00037", [target("days_per_week", 5)], calendar, played, lang="en")
    assert verdict.passed is False
    assert verdict.failing == ["2026-W48: 4 of 5 days"]


def test_nothing_ended_yet_is_not_judged() -> None:
    calendar = Calendar(WEEKDAYS, frozenset(), ())
    verdicts = judge(
        "00037", [target("sessions_per_day", 2), target("days_per_week", 5)], calendar, {}
    )
    assert [v.passed for v in verdicts] == [None, None]
    assert all(v.judged == 0 for v in verdicts)


def test_calendar_of_a_programme_takes_its_days_and_shared_exdates() -> None:
    doc = ProgrammeDoc.model_validate(
        {
            "ward": "00037",
            "name": "Chương trình phường Phúc Xá",
            "rules": {"broadcast_days": ["MO", "TU", "WE", "TH", "FR"]},
            "sessions": [
                {
                    "code": code,
                    "name": name,
                    "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                    "start": start,
                    "exdates": exdates,
                    "rundown": [{"kind": "bulletins"}],
                }
                for code, name, start, exdates in (
                    ("sang", "Buổi sáng", "05:30", ["2026-09-02", "2026-11-20"]),
                    ("chieu", "Buổi chiều", "17:00", ["2026-09-02"]),
                )
            ],
        }
    )
    calendar = calendar_of(doc, [MONDAY])
    assert calendar.broadcast_days == WEEKDAYS
    assert calendar.holidays == frozenset({date(2026, 9, 2)})  # only the day both skip
    assert calendar.judged == (MONDAY,)


EVERY_DAY = frozenset({"MO", "TU", "WE", "TH", "FR", "SA", "SU"})


def test_days_before_the_programme_are_not_applicable_not_failed() -> None:
    week = days(MONDAY, 7)
    start = MONDAY + timedelta(days=3)  # the programme applied from Thursday
    judged = tuple(d for d in week if d >= start)
    figures = {d: DayFigures(sessions_played=2) for d in judged}
    calendar = Calendar(EVERY_DAY, frozenset(), judged, in_force_from=start, not_applicable=3)
    daily, weekly = judge(
        "00037", [target("sessions_per_day", 2), target("days_per_week", 5)], calendar, figures
    )
    assert (daily.status, daily.passed, daily.judged, daily.not_applicable) == (
        "passed",
        True,
        4,
        3,
    )
    assert daily.in_force_from == start
    assert daily.figure.startswith("4/4 ngày phát thanh đạt ít nhất 2 buổi")
    assert daily.figure.endswith("; 3 ngày trước 19/11/2026 chưa áp dụng")
    # Monday to Wednesday were lost to the week: 2 days still needed, 4 played.
    assert (weekly.status, weekly.judged, weekly.met) == ("passed", 1, 1)


def test_a_period_wholly_before_the_programme_is_not_applicable() -> None:
    later = MONDAY + timedelta(days=14)
    calendar = Calendar(WEEKDAYS, frozenset(), (), in_force_from=later, not_applicable=7)
    verdicts = judge(
        "00037", [target("sessions_per_day", 2), target("days_per_week", 5)], calendar, {}
    )
    assert [(v.status, v.passed, v.judged) for v in verdicts] == [("not_applicable", None, 0)] * 2
    assert verdicts[0].figure == "chương trình áp dụng từ ngày 30/11/2026, sau kỳ báo cáo"
    # Days in force but not over yet: not judged yet, rather than not applicable.
    waiting = Calendar(WEEKDAYS, frozenset(), (), later, not_applicable=7, awaiting=2)
    [verdict] = judge("00037", [target("sessions_per_day", 2)], waiting, {})
    assert verdict.status == "unjudged"


def test_vietnamese_figures_use_vietnamese_numbers_and_dates() -> None:
    week = days(MONDAY, 2)
    figures = {week[0]: DayFigures(2, {"central": 15.0}), week[1]: DayFigures(2, {"central": 12.5})}
    calendar = Calendar(WEEKDAYS, frozenset(), week)
    [verdict] = judge("00037", [target("relay_daily", 14, "central")], calendar, figures)
    assert verdict.failing == ["17/11/2026: 12,5"]
    assert verdict.figure == (
        "1/2 ngày phát thanh đạt ít nhất 14 phút tiếp sóng (thấp nhất 12,5, trung bình 13,8)"
    )


@pytest.mark.parametrize(
    ("instant", "first"),
    [
        (datetime(2026, 11, 18, 7, 0, tzinfo=UTC), date(2026, 11, 19)),  # 14:00 in Hà Nội
        (datetime(2026, 11, 17, 17, 0, tzinfo=UTC), date(2026, 11, 18)),  # local midnight
    ],
)
def test_a_programme_applies_from_its_first_whole_local_day(instant: datetime, first: date) -> None:
    assert first_whole_day(instant, "Asia/Ho_Chi_Minh") == first
