"""Fixtures shared by the integration tier's own files (the suite's are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_postgres import LocalPostgres
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_evidence_batch import START, WARDS, _setup
from wardcast_protocol.signing import SigningKey

_databases = iter(range(1_000_000))


@pytest.fixture
def batch_on_postgres(
    tmp_path: Path, postgres: LocalPostgres
) -> Iterator[tuple[Harness, dict[str, SigningKey]]]:
    """The evidence-batch harness (``tests/unit/test_evidence_batch.py``: two wards, a
    device in each, its plays planned) on a fresh database of the run's PostgreSQL,
    for the races between replicas; each device's signing key beside it."""
    keys = {d: SigningKey.generate() for d in WARDS}
    url = postgres.create_database(f"wardcast_batch_{next(_databases)}")
    h = make_harness(tmp_path / "h", START, database_url=url)
    _setup(h, keys)
    yield h, keys
    h.runtime.stop()
