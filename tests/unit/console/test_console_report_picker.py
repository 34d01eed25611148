"""The report page in a ward officer's words: a period picker, rates and charts as read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.console.charts import bar_chart
from controller.console.period_picker import period_of, pick
from controller.domain.reports.periods import parse_period
from tests.support.console import WARD_A, add_two_wards, console_client, sign_in
from tests.unit.controller_support import Harness, make_harness


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    harness: Harness = make_harness(tmp_path)
    add_two_wards(harness.runtime)
    with console_client(harness.runtime) as c:
        yield c
    harness.runtime.stop()


@pytest.mark.parametrize(
    ("kind", "day", "period"),
    [
        ("day", date(2026, 12, 5), "day:2026-12-05"),
        ("week", date(2026, 12, 31), "week:2026-W53"),
        ("week", date(2027, 1, 1), "week:2026-W53"),  # the ISO year, not the calendar's
        ("month", date(2026, 12, 5), "month:2026-12"),
        ("quarter", date(2026, 11, 30), "quarter:2026-Q4"),
        ("year", date(2026, 2, 1), "year:2026"),
    ],
)
def test_the_picker_builds_the_domains_period_strings(kind: str, day: date, period: str) -> None:
    assert period_of(kind, day) == period
    assert day in set(parse_period(period).dates())


def test_the_text_field_wins_only_when_typed_over() -> None:
    default = "month:2026-11"
    assert pick("month", "2026-12-05", "month:2026-11", "month:2026-11", default).period == (
        "month:2026-12"
    )  # the picker changed, the text left as shown
    typed = pick("month", "2026-12-05", "2026-11-01..2026-11-03", "month:2026-11", default)
    assert typed.period == "2026-11-01..2026-11-03" and typed.kind == ""
    linked = pick("", "", "week:2026-W47", "", default)  # a link with period= only
    assert (linked.period, linked.kind, linked.on) == ("week:2026-W47", "week", "2026-11-16")
    assert pick("day", "hôm qua", "", "", default).on_bad


def test_every_chart_has_the_same_box_and_a_months_labels_do_not_overlap() -> None:
    month = bar_chart([(f"{d:02d}/12", d, d) for d in range(1, 32)])
    levels = bar_chart([(name, 3, 2) for name in ("Trung ương", "Tỉnh", "Xã / phường")])
    assert (month.width, month.height) == (levels.width, levels.height)
    assert month.font_size >= 12 and month.min_px * month.font_size / month.width >= 11
    shown = [g for g in month.groups if g.labelled]
    assert 5 <= len(shown) < 31 and month.groups[0].labelled
    for left, right in pairwise(shown):
        assert right.label_x - left.label_x >= 7.2 * 5  # five characters of room
    assert all(g.labelled for g in levels.groups)


def test_the_page_offers_the_picker_and_writes_the_rate_in_vietnamese(
    client: TestClient,
) -> None:
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/reports")
    assert 'id="f-kind"' in page.text and 'type="date"' in page.text
    assert 'value="2026-11-01"' in page.text and 'id="f-period"' in page.text
    picked = client.get(
        "/reports",
        params={"ward": WARD_A, "kind": "day", "on": "2026-11-20", "shown": "month:2026-11",
                "period": "month:2026-11"},
    )  # fmt: skip
    assert picked.status_code == 200 and 'value="day:2026-11-20"' in picked.text
    assert "period=day%3A2026-11-20" in picked.text  # the downloads use the built period
    bad = client.get("/reports", params={"ward": WARD_A, "kind": "day", "on": "x"})
    assert bad.status_code == 422 and 'id="e-on"' in bad.text
