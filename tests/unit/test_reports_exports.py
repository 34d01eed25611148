"""Exports: CSV tables Excel reads as UTF-8 (one table each), XLSX sheets with typed cells, a
PDF with the font embedded, JSON that round-trips."""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest

from controller.domain.reports.exports import (
    BOM,
    missed_csv,
    report_csv,
    report_csv_zip,
    report_json,
)
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
from controller.domain.reports.tables import TABLE_KEYS

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


def read_csv(data: bytes, sep: str = ";") -> list[list[str]]:
    assert data.startswith(BOM.encode("utf-8"))  # what makes Excel read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=sep))


def test_each_csv_is_one_table_with_a_bom_semicolons_and_vietnamese_letters() -> None:
    report = sample_report()
    data = report_csv(report, "summary")
    assert b"\r\n" in data  # Excel's line ends
    rows = read_csv(data)
    assert rows[0] == ["Chỉ số", "Số liệu"]
    assert all(len(row) == 2 for row in rows)  # one table, no stacked sections
    summary = dict(rows[1:])
    assert summary["Báo cáo"].startswith("Báo cáo phát thanh: Phường/xã Phường Phúc Xá")
    assert summary["Kỳ báo cáo"] == "tháng 11/2026"
    assert (summary["Từ ngày"], summary["Đến ngày"]) == ("01/11/2026", "30/11/2026")
    flat = "\n".join(
        ";".join(row) for key in TABLE_KEYS for row in read_csv(report_csv(report, key))
    )
    for words in (TITLE, "Đánh giá", "Không đạt", "Đạt", "Trung ương", "Y tế", "Phương pháp tính"):
        assert words in flat, words


def test_csv_tables_carry_the_figures_with_the_separators_decimal_mark() -> None:
    report = sample_report()
    summary = dict(read_csv(report_csv(report, "summary"))[1:])
    assert summary["Lượt bị bỏ lỡ"] == "10"
    assert summary["Tỷ lệ phát đúng giờ (%)"] == "92,6"  # decimal comma beside ";"
    comma = dict(read_csv(report_csv(report, "summary", sep="comma"), ",")[1:])
    assert comma["Tỷ lệ phát đúng giờ (%)"] == "92.6"  # decimal point beside ","
    device = next(row for row in read_csv(report_csv(report, "devices")) if row[0] == "loa-1")
    assert device[9] == "91,7"  # availability, per cent
    assert device[13] == "30/11/2026 17:00"  # last played, in the ward's zone
    targets = read_csv(report_csv(report, "targets"))
    assert targets[0][:3] == ["Mã phường/xã", "Mã chỉ tiêu", "Chỉ tiêu"]
    assert targets[1][2] == "Ít nhất 2 buổi phát mỗi ngày phát thanh"


def test_the_english_version_translates_headers_categories_and_dates() -> None:
    report = sample_report().model_copy(update={"lang": "en"})
    summary = dict(read_csv(report_csv(report, "summary", sep="comma"), ",")[1:])
    assert summary["Plays missed"] == "10"
    assert summary["From"] == "2026-11-01"
    categories = read_csv(report_csv(report, "categories", sep="comma"), ",")
    assert categories[0][0] == "Category"
    assert categories[1][0] == "Health"  # "Y tế", translated
    coverage = read_csv(report_csv(report, "coverage", sep="comma"), ",")
    assert coverage[1][3] == "Disaster prevention"


def test_the_zip_holds_every_table_as_its_own_csv() -> None:
    data = report_csv_zip(sample_report(), "bao-cao")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        days = archive.read("bao-cao-days.csv")
    assert names == [f"bao-cao-{key}.csv" for key in TABLE_KEYS if key != "wards"]
    assert len(read_csv(days)) == 1 + 30
    assert report_csv_zip(sample_report(), "bao-cao") == data  # the same report, the same bytes


def test_xlsx_has_a_sheet_per_table_with_typed_cells() -> None:
    pytest.importorskip("openpyxl")
    from openpyxl import load_workbook

    from controller.domain.reports.xlsx import report_xlsx

    book = load_workbook(io.BytesIO(report_xlsx(sample_report())))
    assert book.sheetnames[:3] == ["Tổng hợp", "Đánh giá chỉ tiêu", "Theo ngày"]
    assert len(book.sheetnames) == len(TABLE_KEYS) - 1  # no per-ward sheet for one ward
    devices = book["Cụm loa"]
    assert devices["A1"].value == "Cụm loa"
    assert devices["J2"].value == 0.9167 and devices["J2"].number_format == "0.0%"
    assert devices["N2"].value == datetime(2026, 11, 30, 17, 0)  # local, in the ward's zone
    assert devices["N2"].number_format == "dd/mm/yyyy hh:mm"
    days = book["Theo ngày"]
    assert days["A2"].value == datetime(2026, 11, 1) and days["C2"].value == 2


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
    data = missed_csv(missed, lang="en", sep="comma")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "2026-11-03 05:30" in text
    assert "Commune" in text and "Disaster prevention" in text
    rows = read_csv(missed_csv(missed))
    assert rows[1][2] == "03/11/2026 05:30"
    assert "Xã/phường" in rows[1] and "Phòng chống thiên tai" in rows[1]


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
