"""Fixtures shared by the integration tier's own files (the suite's are in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_postgres import LocalPostgres
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_evidence_batch import START, WARDS, _setup
from tests.unit.test_plan_refresh_batch import place_wards
from wardcast_protocol.signing import SigningKey


@pytest.fixture
def batch_on_postgres(
    tmp_path: Path, postgres: LocalPostgres
) -> Iterator[tuple[Harness, dict[str, SigningKey]]]:
    """The evidence-batch harness (``tests/unit/test_evidence_batch.py``: two wards, a
    device in each, its plays planned) on a fresh database of the run's PostgreSQL,
    for the races between replicas; each device's signing key beside it.

    Its databases were numbered per process (``wardcast_batch_0``, ``_1``, …) until a
    fresh-clone ``make test`` on two workers failed all four setups at once: on the
    worker running both files, each name already existed on the cluster it reached.
    Two runs of the same files on two workers did not repeat it; the names are unique
    now whatever the cause."""
    keys = {d: SigningKey.generate() for d in WARDS}
    # A name no other test can have made: in one two-worker run the first of these
    # found "wardcast_batch_0" already there (cause not found; see the fixture's note).
    url = postgres.create_database(f"wardcast_batch_{uuid.uuid4().hex[:16]}")
    h = make_harness(tmp_path / "h", START, database_url=url)
    _setup(h, keys)
    yield h, keys
    h.runtime.stop()


@pytest.fixture
def two_wards(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    """A controller on each store with two wards of twenty devices (``place_wards``)."""
    harness = make_harness(tmp_path, database_url=database_url)
    place_wards(harness)
    yield harness
    harness.runtime.stop()
