"""Plans compiled together read and write planned plays as plain rows (one statement
for the rows that change, with every column bound per row): the same rows as a device
at a time, on both stores (``tests/unit/test_plan_refresh_batch.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_plan_refresh_batch import (
    assert_one_row_an_item,
    assert_together_is_one_by_one,
    place_wards,
)


@pytest.fixture
def h(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    harness = make_harness(tmp_path, database_url=database_url)
    place_wards(harness)
    yield harness
    harness.runtime.stop()


def test_devices_recompiled_together_match_one_at_a_time_on_each_store(h: Harness) -> None:
    assert_together_is_one_by_one(h)


def test_an_item_keeps_one_row_on_each_store(h: Harness) -> None:
    assert_one_row_an_item(h)
