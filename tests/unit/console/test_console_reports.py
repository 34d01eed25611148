"""The report page: evaluators of their wards only, inline errors, SVG charts, the files."""

from __future__ import annotations

from itertools import pairwise

import pytest
from fastapi.testclient import TestClient

from controller.console.charts import CHAR_W, bar_chart
from controller.domain.reports.exports import CSV_MEDIA_TYPE, PDF_MEDIA_TYPE, XLSX_MEDIA_TYPE
from tests.support.console import WARD_A, WARD_B, sign_in

PERIOD = "2026-11-20..2026-11-22"


def test_bars_are_scaled_to_the_largest_value_and_keep_their_numbers() -> None:
    chart = bar_chart([("20/11", 10, 5), ("21/11", 4, 4), ("22/11", 0, 0)])
    first, second, empty = chart.groups
    assert first.planned.height == 120.0 and first.played.height == 60.0
    assert first.planned.y + first.planned.height == chart.base
    assert second.planned.value == 4 and second.played.value == 4
    assert empty.planned.height == 0.0
    assert first.played.x > first.planned.x and second.planned.x > first.played.x
    assert bar_chart([]).groups == () and bar_chart([]).width > 0


def test_long_labels_widen_their_groups_so_they_do_not_overlap() -> None:
    labels = ["Trung ương", "Tỉnh", "Huyện / quận", "Xã / phường"]
    groups = bar_chart([(label, 3, 2) for label in labels]).groups
    for left, right in pairwise(groups):
        room = CHAR_W * (len(left.label) + len(right.label)) / 2
        assert right.label_x - left.label_x >= room


def test_an_evaluator_reads_their_wards_report_with_charts(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/reports", params={"ward": WARD_A, "period": PERIOD})
    assert page.status_code == 200, page.text
    assert page.text.count("<svg") == 2 and 'role="img"' in page.text
    assert "Kế hoạch và đã phát theo ngày" in page.text and "20/11" in page.text
    for output in ("csv", "zip", "xlsx", "pdf", "json"):
        assert f"format={output}" in page.text
    assert 'name="period"' in page.text and 'id="f-ward"' in page.text


def test_the_form_opens_on_this_month_and_english_is_one_switch_away(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/reports")
    assert page.status_code == 200 and 'value="month:2026-11"' in page.text
    client.get("/lang/en")
    assert "Planned and played, by day" in client.get("/reports").text


def test_another_ward_and_a_bad_period_are_refused_inline(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    other = client.get("/reports", params={"ward": WARD_B, "period": PERIOD})
    assert other.status_code == 422 and "Hãy chọn một phường của bạn." in other.text
    assert "<svg" not in other.text
    bad = client.get("/reports", params={"ward": WARD_A, "period": "tháng 11"})
    # The domain's period.invalid code, in Vietnamese, beside the field (not its English).
    assert bad.status_code == 422 and "không phải là một kỳ báo cáo hợp lệ" in bad.text
    assert "is not a period" not in bad.text and 'id="e-period"' in bad.text
    assert 'value="tháng 11"' in bad.text and 'aria-invalid="true"' in bad.text
    refused = client.get("/reports/export", params={"ward": WARD_B, "period": PERIOD})
    assert refused.status_code == 422 and "content-disposition" not in refused.headers


@pytest.mark.parametrize(
    ("output", "media_type", "suffix"),
    [
        ("csv", CSV_MEDIA_TYPE, ".csv"),
        ("xlsx", XLSX_MEDIA_TYPE, ".xlsx"),
        ("pdf", PDF_MEDIA_TYPE, ".pdf"),
        ("zip", "application/zip", ".zip"),
        ("json", "application/json", ".json"),
    ],
)
def test_exports_are_served_with_the_cookie_session(
    client: TestClient, output: str, media_type: str, suffix: str
) -> None:
    sign_in(client, "evaluator", [WARD_A])
    answer = client.get(
        "/reports/export", params={"ward": WARD_A, "period": PERIOD, "format": output}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type.split(";")[0]
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'{suffix}"')
    assert len(answer.content) > 0


def test_signed_out_the_export_goes_to_sign_in_and_back(client: TestClient) -> None:
    answer = client.get("/reports/export", params={"ward": WARD_A, "format": "pdf"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
