"""Exports: CSV that Excel reads as UTF-8, a PDF with the font embedded, JSON that round-trips."""

from __future__ import annotations

import csv
import io
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest

from controller.domain.reports.exports import BOM, missed_csv, report_csv, report_json
from controller.domain.reports.model import (
    CategoryOut,
    CoverageOut,
    DayOut,
    DeviceOut,
    MissedList,
    MissedPlay,
    OutcomesOut,
    PeriodOut,
    PlaysOut,
    Report,
    RulesOut,
    ScopeOut,
    SessionsOut,
    SourceOut,
    TargetOut,
)

WARD_NAME = "Phường Phúc Xá"
TITLE = "Phòng chống thiên tai: ứng phó bão số 9"


def sample_report(days: int = 30) -> Report:
    first = date(2026, 11, 1)
    return Report(
        title=f"Báo cáo phát thanh: Phường/xã {WARD_NAME} — month:2026-11",
        scope=ScopeOut(kind="ward", code="00037", name=WARD_NAME, ward_code="00037", wards=1),
        period=PeriodOut(
            label="month:2026-11",
            kind="month",
            first=first,
            last=first + timedelta(days=days - 1),
            days=days,
            timezone="Asia/Ho_Chi_Minh",
        ),
        as_of=datetime(2026, 12, 2, tzinfo=UTC),
        rules=RulesOut(on_time_tolerance_s=5, missed_deadline_s=600),
        plays=PlaysOut(
            planned=120,
            withdrawn=2,
            confirmed=110,
            played=105,
            missed=10,
            pending=0,
            on_time=100,
            timed=108,
            unplanned=1,
            unplanned_played=1,
            confirmed_rate=0.9167,
            played_rate=0.875,
            on_time_rate=0.9259,
        ),
        sessions=SessionsOut(
            planned=60,
            played=58,
            played_rate=0.9667,
            device_sessions_planned=120,
            device_sessions_played=112,
        ),
        outcomes=OutcomesOut(completed=100, partial=5, failed=3, skipped=2),
        sources=[
            SourceOut(
                source_level="central",
                planned_relay_h=15,
                relayed_h=14.2,
                planned_content_h=0,
                played_content_h=0,
                plays_planned=60,
                plays_played=57,
            )
        ],
        categories=[
            CategoryOut(
                category="Y tế", bulletins=3, plays_planned=20, plays_played=18, plays_missed=2
            )
        ],
        coverage=[
            CoverageOut(
                ward_code="00037",
                bulletin_id="bul-9",
                title=TITLE,
                category="Phòng chống thiên tai",
                targeted_groups=4,
                covered_groups=3,
                share=0.75,
                uncovered=["to-4"],
            )
        ],
        devices=[
            DeviceOut(
                device_id="loa-1",
                name="Cụm loa tổ 1",
                ward_code="00037",
                group_code="to-1",
                planned=60,
                confirmed=55,
                played=52,
                missed=5,
                pending=0,
                availability=0.9167,
                on_time_rate=0.95,
                sessions_planned=30,
                sessions_played=29,
                last_played=datetime(2026, 11, 30, 10, tzinfo=UTC),
                last_seen=datetime(2026, 12, 1, 23, tzinfo=UTC),
                online=True,
            )
        ],
        days=[
            DayOut(
                date=first + timedelta(days=i),
                sessions_planned=2,
                sessions_played=2 if i % 7 else 1,
                plays_planned=4,
                plays_played=4,
                plays_missed=0,
                relay_minutes={"central": 15.0},
            )
            for i in range(days)
        ],
        compliance=[
            TargetOut(
                ward_code="00037",
                code="hai-buoi",
                description="Ít nhất 2 buổi phát mỗi ngày",
                kind="sessions_per_day",
                minimum=2,
                source_level=None,
                passed=False,
                judged=30,
                met=25,
                unit="days",
                figure="25 of 30 broadcast days had at least 2 sessions",
                failing=["2026-11-01: 1"],
            ),
            TargetOut(
                ward_code="00037",
                code="vov",
                description="Tiếp sóng thời sự VOV mỗi ngày",
                kind="relay_daily",
                minimum=14,
                source_level="central",
                passed=True,
                judged=30,
                met=30,
                unit="days",
                figure="30 of 30 broadcast days",
            ),
        ],
        notes=["10 lượt phát không được xác nhận / 10 plays missed"],
    )


def test_csv_starts_with_a_bom_and_keeps_vietnamese_letters() -> None:
    data = report_csv(sample_report())
    assert data.startswith(BOM.encode("utf-8"))  # what makes Excel read UTF-8
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0].startswith("Báo cáo phát thanh: Phường/xã Phường Phúc Xá")
    flat = "\n".join(",".join(row) for row in rows)
    for words in (TITLE, "Đánh giá chỉ tiêu (Targets)", "Không đạt", "Đạt", "Trung ương", "Y tế"):
        assert words in flat
    assert "\r\n" in text  # Excel's line ends


def test_csv_sections_carry_the_figures() -> None:
    rows = list(csv.reader(io.StringIO(report_csv(sample_report()).decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows if len(row) == 2}
    assert summary["Lượt bị bỏ lỡ (Plays missed)"] == "10"
    assert summary["Tỷ lệ phát đúng giờ (On-time rate) %"] == "92.6"
    device = next(row for row in rows if row and row[0] == "loa-1")
    assert device[9] == "91.7"  # availability, per cent
    assert device[13] == "2026-11-30 17:00"  # last played, in the ward's zone


def test_missed_list_csv_is_utf8_with_bom() -> None:
    missed = MissedList(
        ward_code="00037",
        period=sample_report().period,
        as_of=datetime(2026, 12, 2, tzinfo=UTC),
        missed_deadline_s=600,
        total=1,
        items=[
            MissedPlay(
                device_id="loa-2",
                ward_code="00037",
                group_code="to-2",
                item_id="p-1",
                broadcast_id="prog",
                bulletin_id="bul-9",
                session_key="00037:sang:2026-11-03",
                kind="media",
                category="Phòng chống thiên tai",
                source_level="commune",
                priority="normal",
                trigger="programme",
                planned_start=datetime(2026, 11, 2, 22, 30, tzinfo=UTC),
                planned_duration_s=60,
            )
        ],
    )
    data = missed_csv(missed)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "2026-11-03 05:30" in text
    assert "Xã/phường" in text and "Phòng chống thiên tai" in text


def test_json_round_trips_with_letters_not_escapes() -> None:
    report = sample_report()
    data = report_json(report)
    assert WARD_NAME.encode("utf-8") in data
    assert Report.model_validate_json(data) == report


def _font_names(pdf: bytes) -> set[bytes]:
    names = set()
    for marker in (b"/BaseFont /", b"/FontName /"):
        start = 0
        while (at := pdf.find(marker, start)) != -1:
            end = pdf.find(b"/", at + len(marker))
            names.add(pdf[at + len(marker) : end].split()[0])
            start = at + 1
    return names


def test_pdf_embeds_dejavu_and_draws_a_chart() -> None:
    pytest.importorskip("fpdf")
    from controller.domain.reports.pdf import find_font, report_pdf

    if find_font() is None:
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core)")
    pdf = report_pdf(sample_report())
    assert pdf.startswith(b"%PDF")
    assert any(b"DejaVuSans" in name for name in _font_names(pdf))
    assert b"/FontFile2" in pdf  # the TrueType program itself is inside, not just named
    # The sessions chart: filled bars in the page content (streams are deflated).
    contents = b""
    for chunk in pdf.split(b"stream\n")[1:]:
        try:
            contents += zlib.decompress(chunk.split(b"\nendstream")[0])
        except zlib.error:
            continue
    assert contents.count(b" re f") >= 30  # 30 days x (planned, played), a few zero
