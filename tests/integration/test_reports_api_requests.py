"""Reports end to end on SQLite and PostgreSQL: how a report is asked for.

The ward of ``test_reports_support.py`` downloaded in every format (CSV, ZIP, XLSX,
PDF), and every bad request refused with a clear status and reason.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.integration.test_reports_support import PERIOD, Site, get, site

pytestmark = pytest.mark.integration

__all__ = ["site"]  # the fixture, imported for pytest


def test_csv_zip_xlsx_and_pdf_downloads(site: Site) -> None:
    csv = get(site, ward="00037", period=PERIOD, format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert (
        'filename="wardcast-report-00037-2026-11-18..2026-11-20-summary.csv"'
        in csv.headers["content-disposition"]
    )
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert "Phúc Xá" in csv.content.decode("utf-8-sig")
    days = get(site, ward="00037", period=PERIOD, format="csv", table="days", sep="comma")
    lines = days.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Ngày,Chương trình áp dụng,")
    assert lines[2].startswith("19/11/2026,Có,1,1,8,4,4,")
    archive = get(site, ward="00037", period=PERIOD, format="zip")
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as tables:
        assert len(tables.namelist()) == 8  # every table but the per-ward one
    pytest.importorskip("openpyxl")
    xlsx = get(site, ward="00037", period=PERIOD, format="xlsx", lang="en")
    assert xlsx.content.startswith(b"PK")  # a zip of sheets
    assert (
        'filename="wardcast-report-00037-2026-11-18..2026-11-20.xlsx"'
        in (xlsx.headers["content-disposition"])
    )
    pytest.importorskip("fpdf")
    pdf = get(site, ward="00037", period="week:2026-W47", format="pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    province_csv = get(site, province="01", period=PERIOD, format="csv", table="wards").content
    assert "Mã phường/xã;Tên" in province_csv.decode("utf-8-sig")
    assert "00037;Phúc Xá;2" in province_csv.decode("utf-8-sig")
    assert get(site, province="01", period=PERIOD, format="pdf").content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"ward": "99999", "period": PERIOD}, 404, "no ward '99999'"),
        ({"ward": "00037", "group": "to-9", "period": PERIOD}, 404, "no residential group"),
        ({"device": "nope", "period": PERIOD}, 404, "no device"),
        ({"province": "77", "period": PERIOD}, 404, "no province"),
        ({"ward": "00037", "period": "2026-11-20..2026-11-18"}, 422, "ends before it starts"),
        ({"ward": "00037", "period": "month:2026-13"}, 422, "months are 01 to 12"),
        ({"group": "to-1", "period": PERIOD}, 422, "give the ward too"),
        ({"ward": "00037", "province": "01", "period": PERIOD}, 422, "name one scope"),
        ({"period": PERIOD}, 422, "name what to report on"),
    ],
)
def test_bad_requests_are_refused_clearly(
    site: Site, params: dict[str, str], status: int, says: str
) -> None:
    response = site.client.get("/api/v1/reports", params=params)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
