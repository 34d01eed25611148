"""A "now"'s planned plays go in as one ``INSERT ... SELECT`` with the item's columns
bound once (``planned.record_commands``): the same rows as device by device on both
stores, PostgreSQL typing each bound column as its own (a time zone, a number, NULL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_planned_bulk import assert_bulk_is_one_by_one, place_devices


@pytest.fixture
def h(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    harness = make_harness(tmp_path, database_url=database_url)
    place_devices(harness)
    yield harness
    harness.runtime.stop()


def test_bulk_rows_and_marks_are_record_commands_device_by_device_on_each_store(
    h: Harness,
) -> None:
    assert_bulk_is_one_by_one(h)
