"""How the report writes numbers, dates, places and categories, in Vietnamese and English."""

from __future__ import annotations

from datetime import date

import pytest

from controller.domain.reports.cells import day, number, percent
from controller.domain.reports.labels import category_name, place_title
from controller.domain.reports.model import PeriodOut
from controller.domain.reports.texts import period_name


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (1234.5, None, "1.234,5", "1,234.5"),
        (1440, None, "1.440", "1,440"),
        (2.0, None, "2", "2"),
        (0.25, 2, "0,25", "0.25"),
        (4.5, 2, "4,5", "4.5"),
        (1234567.891, 2, "1.234.567,89", "1,234,567.89"),
        (-0.0, 2, "0", "0"),
    ],
)
def test_numbers_in_each_language(value: float, decimals: int | None, vi: str, en: str) -> None:
    assert number(value, "vi", decimals) == vi
    assert number(value, "en", decimals) == en


def test_a_spreadsheet_number_has_no_thousands_separator() -> None:
    assert number(1234.5, "vi", group=False) == "1234,5"
    assert number(1234.5, "en", group=False) == "1234.5"


def test_rates_and_dates() -> None:
    assert (percent(0.9259, "vi"), percent(0.9259, "en"), percent(None, "vi")) == (
        "92,6",
        "92.6",
        "",
    )
    assert (day(date(2026, 11, 3), "vi"), day(date(2026, 11, 3), "en")) == (
        "03/11/2026",
        "2026-11-03",
    )


@pytest.mark.parametrize(
    ("kind", "name", "vi", "en"),
    [
        ("ward", "Phường 1", "Phường 1", "Phường 1"),  # never "Phường/xã Phường 1"
        ("ward", "Xã Hòa Tiến", "Xã Hòa Tiến", "Xã Hòa Tiến"),
        ("ward", "Phúc Xá", "Phường/xã Phúc Xá", "Ward Phúc Xá"),
        ("group", "Tổ 2", "Tổ 2", "Tổ 2"),
        ("district", "Ba Đình", "Quận/huyện Ba Đình", "District Ba Đình"),
        ("province", "Thành phố Hà Nội", "Thành phố Hà Nội", "Thành phố Hà Nội"),
    ],
)
def test_a_place_says_its_kind_once(kind: str, name: str, vi: str, en: str) -> None:
    assert (place_title(kind, name, "vi"), place_title(kind, name, "en")) == (vi, en)


def test_categories_are_translated_both_ways_and_others_kept() -> None:
    assert category_name("health", "vi") == "Y tế"
    assert category_name("Y tế", "en") == "Health"
    assert category_name("relay", "vi") == "Tiếp sóng"
    assert category_name("Lễ hội làng", "en") == "Lễ hội làng"  # a ward's own category


@pytest.mark.parametrize(
    ("kind", "first", "last", "vi", "en"),
    [
        ("day", date(2026, 11, 22), date(2026, 11, 22), "ngày 22/11/2026", "2026-11-22"),
        ("week", date(2026, 11, 16), date(2026, 11, 22), "tuần 47/2026", "week 47 of 2026"),
        ("month", date(2026, 11, 1), date(2026, 11, 30), "tháng 11/2026", "November 2026"),
        ("quarter", date(2026, 10, 1), date(2026, 12, 31), "quý IV/2026", "Q4 2026"),
        ("year", date(2026, 1, 1), date(2026, 12, 31), "năm 2026", "2026"),
        (
            "range",
            date(2026, 11, 5),
            date(2026, 11, 9),
            "từ 05/11/2026 đến 09/11/2026",
            "2026-11-05 to 2026-11-09",
        ),
    ],
)
def test_periods_are_named_as_people_say_them(
    kind: str, first: date, last: date, vi: str, en: str
) -> None:
    period = PeriodOut(
        label="x", kind=kind, first=first, last=last, days=(last - first).days + 1, timezone="UTC"
    )
    assert (period_name(period, "vi"), period_name(period, "en")) == (vi, en)


def test_pdf_columns_are_never_narrower_than_their_longest_word() -> None:
    pytest.importorskip("fpdf")
    from fpdf import FPDF

    from controller.domain.reports.pdf import find_font
    from controller.domain.reports.pdf_layout import FONT, TABLE_SIZE, fit_widths

    regular, bold = find_font(), find_font("DejaVuSans-Bold.ttf")
    if regular is None or bold is None:
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core)")
    pdf = FPDF()
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.add_page()
    header = ["No.", "Target", "Minimum", "Result"]
    rows = [["1", "At least 2 sessions a day", "2 sessions/day", "11 of 12 days"]]
    widths = fit_widths(pdf, header, rows, (8, 50, 14, 70))  # "Minimum" wants more than 14
    pdf.set_font(FONT, "B", TABLE_SIZE)
    assert widths[2] > pdf.get_string_width("Minimum")
    pdf.set_font(FONT, "", TABLE_SIZE)
    assert widths[2] > pdf.get_string_width("sessions/day")
    assert sum(widths) == pytest.approx(pdf.epw)
