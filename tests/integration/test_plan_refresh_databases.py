"""Plans compiled together read and write planned plays as plain rows (one statement
for the rows that change, with every column bound per row): the same rows as a device
at a time, on both stores (``tests/unit/test_plan_refresh_batch.py``)."""

from __future__ import annotations

from tests.unit.controller_support import Harness
from tests.unit.test_plan_refresh_batch import (
    assert_one_row_an_item,
    assert_together_is_one_by_one,
)


def test_devices_recompiled_together_match_one_at_a_time_on_each_store(two_wards: Harness) -> None:
    assert_together_is_one_by_one(two_wards)


def test_an_item_keeps_one_row_on_each_store(two_wards: Harness) -> None:
    assert_one_row_an_item(two_wards)
