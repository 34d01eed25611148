"""Fixed reports for the golden pages: a ward's month and one of its days.

Phường Hàng Bạc, five residential groups, two sessions a day; its programme applied from
19 November 2026, so the eighteen days before are "chưa áp dụng". Verdicts, figures,
method text and notes are written by the report's own code (``judge``, ``texts``), so
the pages show the words an inspector would read; only the sums are fixed here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from controller.domain.programmes.schema import TargetDef
from controller.domain.reports import texts
from controller.domain.reports.compliance import Calendar, DayFigures, judge
from controller.domain.reports.labels import Lang, place_title
from controller.domain.reports.model import (
    CategoryOut,
    CoverageOut,
    DayOut,
    DeviceOut,
    OutcomesOut,
    PeriodOut,
    PlaysOut,
    Report,
    RulesOut,
    ScopeOut,
    SessionsOut,
    SourceOut,
    TargetOut,
    rate,
)

WARD, WARD_NAME = "00070", "Phường Hàng Bạc"
IN_FORCE = date(2026, 11, 19)
AS_OF = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
ZONE = "Asia/Ho_Chi_Minh"
SHORT_DAY = date(2026, 11, 25)  # the evening session was lost to a power cut
TARGETS = (
    TargetDef(
        code="hai-buoi-moi-ngay",
        description="Phát thanh 2 buổi mỗi ngày",
        kind="sessions_per_day",
        minimum=2,
    ),
    TargetDef(
        code="nam-ngay-moi-tuan",
        description="Phát thanh 5 ngày mỗi tuần",
        kind="days_per_week",
        minimum=5,
    ),
    TargetDef(
        code="tiep-song-trung-uong",
        description="Tiếp sóng Đài Tiếng nói Việt Nam ít nhất 30 phút mỗi ngày",
        kind="relay_daily",
        minimum=30,
        source_level="central",
    ),
)


def _day(d: date) -> DayOut:
    if d < IN_FORCE:
        return DayOut(
            date=d, sessions_planned=0, sessions_played=0, plays_planned=0, plays_played=0,
            plays_missed=0, in_force=False,
        )  # fmt: skip
    played = 1 if d == SHORT_DAY else 2
    return DayOut(
        date=d, sessions_planned=2, sessions_played=played, plays_planned=120,
        plays_played=120 if played == 2 else 84, plays_missed=0 if played == 2 else 36,
        relay_minutes={"central": 30.0 if played == 2 else 15.0},
    )  # fmt: skip


def _verdicts(days: list[DayOut], lang: Lang) -> list[TargetOut]:
    figures = {
        d.date: DayFigures(d.sessions_played, d.relay_minutes, d.sessions_planned)
        for d in days
        if d.in_force
    }
    judged = tuple(sorted(figures))
    calendar = Calendar(
        frozenset({"MO", "TU", "WE", "TH", "FR", "SA", "SU"}),
        frozenset(),
        judged,
        in_force_from=IN_FORCE,
        not_applicable=sum(1 for d in days if not d.in_force),
    )
    return judge(WARD, TARGETS, calendar, figures, lang)


def _period(first: date, last: date, kind: str, label: str) -> PeriodOut:
    return PeriodOut(
        label=label, kind=kind, first=first, last=last, days=(last - first).days + 1,
        timezone=ZONE,
    )  # fmt: skip


def _devices(days: int) -> list[DeviceOut]:
    found = []
    for n in range(1, 6):
        planned = 24 * days
        missed = 36 // 5 + (1 if n == 5 else 0) if days > 1 else 0
        found.append(
            DeviceOut(
                device_id=f"hb-tdp{n:02d}", name=f"Cụm loa tổ dân phố số {n}", ward_code=WARD,
                group_code=f"tdp-{n:02d}", planned=planned, confirmed=planned - missed,
                played=planned - missed, missed=missed, pending=0,
                availability=rate(planned - missed, planned),
                on_time_rate=0.9912 if n != 3 else 0.9423,
                sessions_planned=2 * days, sessions_played=2 * days - (1 if days > 1 else 0),
                last_played=AS_OF - timedelta(hours=14, minutes=n),
                last_seen=AS_OF - timedelta(minutes=2 + n), online=n != 4,
            )
        )  # fmt: skip
    return found


def _coverage() -> list[CoverageOut]:
    rows = (
        ("bul-bao-so-15", "Ứng phó bão số 15: sơ tán khu vực ven sông", "disaster", 5, None),
        ("bul-tiem-chung", "Lịch tiêm chủng mở rộng tháng 11", "health", 5, ["tdp-05"]),
        ("bul-an-ninh", "Phòng chống trộm cắp cuối năm", "security", 3, ["tdp-02", "tdp-05"]),
        ("bul-thong-bao", "Thông báo thu phí vệ sinh môi trường", "general", 5, None),
    )
    out = [
        CoverageOut(
            ward_code=WARD, bulletin_id=bid, title=title, category=category,
            targeted_groups=targeted, covered_groups=targeted - len(uncovered or []),
            share=rate(targeted - len(uncovered or []), targeted), uncovered=uncovered or [],
        )
        for bid, title, category, targeted, uncovered in rows
    ]  # fmt: skip
    return sorted(out, key=lambda c: (c.share if c.share is not None else 1.0, c.bulletin_id))


def ward_report(lang: Lang = "vi", *, one_day: date | None = None) -> Report:
    """The month of November 2026 (or ``one_day`` of it) for Phường Hàng Bạc."""
    if one_day is None:
        period = _period(date(2026, 11, 1), date(2026, 11, 30), "month", "month:2026-11")
    else:
        period = _period(one_day, one_day, "day", f"day:{one_day.isoformat()}")
    days = [_day(period.first + timedelta(days=i)) for i in range(period.days)]
    live = [d for d in days if d.in_force]
    planned, played = sum(d.plays_planned for d in days), sum(d.plays_played for d in days)
    missed = sum(d.plays_missed for d in days)
    s_planned = sum(d.sessions_planned for d in days)
    s_played = sum(d.sessions_played for d in days)
    relay_h = sum(d.relay_minutes.get("central", 0.0) for d in days) / 60
    commune_h = len(live) * 22.5 / 60  # bulletins and chimes: 22.5 minutes a day
    notes = []
    if days[0].date < IN_FORCE:
        before = sum(1 for d in days if not d.in_force)
        notes.append(texts.in_force_note(WARD, IN_FORCE, before, lang))
    if missed:
        notes.append(texts.missed_note(missed, 600, lang))
    return Report(
        title=texts.title(place_title("ward", WARD_NAME, lang), period, lang),
        lang=lang,
        scope=ScopeOut(
            kind="ward", code=WARD, name=WARD_NAME, ward_code=WARD, ward_name=WARD_NAME, wards=1
        ),
        period=period,
        as_of=AS_OF,
        rules=RulesOut(on_time_tolerance_s=5, missed_deadline_s=600, **texts.method(5, 600, lang)),
        plays=PlaysOut(
            planned=planned,
            withdrawn=12 if live else 0,
            confirmed=played,
            played=played,
            missed=missed,
            pending=0,
            on_time=played - 9 if played else 0,
            timed=played,
            unplanned=0,
            unplanned_played=0,
            confirmed_rate=rate(played, planned),
            played_rate=rate(played, planned),
            on_time_rate=rate(played - 9, played),
        ),
        sessions=SessionsOut(
            planned=s_planned,
            played=s_played,
            played_rate=rate(s_played, s_planned),
            device_sessions_planned=5 * s_planned,
            device_sessions_played=5 * s_played - 5,
        ),
        outcomes=OutcomesOut(completed=played - 7, partial=5, preempted=2, failed=0, skipped=0),
        sources=[
            SourceOut(
                source_level="central",
                planned_relay_h=round(len(live) * 0.5, 2),
                relayed_h=round(relay_h, 2),
                planned_content_h=0,
                played_content_h=0,
                plays_planned=len(live) * 5,
                plays_played=len(live) * 5 - (2 if missed else 0),
            ),
            SourceOut(
                source_level="commune",
                planned_relay_h=0,
                relayed_h=0,
                planned_content_h=round(commune_h * 1.02, 2),
                played_content_h=round(commune_h, 2),
                plays_planned=planned - len(live) * 5,
                plays_played=played - len(live) * 5 + (2 if missed else 0),
            ),
        ],
        categories=[
            CategoryOut(
                category=c, bulletins=b, plays_planned=p, plays_played=q, plays_missed=p - q
            )
            for c, b, p, q in (
                ("disaster", 2, 10, 10),
                ("general", 6, 420, 410),
                ("health", 3, 300, 290),
                ("security", 2, 230, 204),
            )
        ]
        if one_day is None
        else [],
        coverage=_coverage() if one_day is None else [],
        devices=_devices(len(live)),
        days=days,
        compliance=_verdicts(days, lang),
        notes=notes,
    )
