"""``WARDCAST_INGEST_WORKERS``: worker processes on PostgreSQL only, each device to one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.messaging.ingest_workers import worker_of
from controller.settings import Settings

PG = "postgresql+psycopg://wardcast@127.0.0.1:5432/wardcast"


def test_two_workers_by_default_on_postgresql_none_on_sqlite(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, database_url=PG).resolved_ingest_workers == 2
    assert Settings(data_dir=tmp_path).resolved_ingest_workers == 0
    assert (
        Settings(data_dir=tmp_path, database_url=PG, ingest_workers=0).resolved_ingest_workers == 0
    )
    assert Settings(data_dir=tmp_path, ingest_workers=0).resolved_ingest_workers == 0


def test_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="needs PostgreSQL: SQLite has one writer"):
        Settings(data_dir=tmp_path, ingest_workers=2)


def test_a_devices_events_always_go_to_the_same_worker() -> None:
    devices = [f"dev-{n}" for n in range(200)]
    first = [worker_of(d, 3) for d in devices]
    assert first == [worker_of(d, 3) for d in devices]  # stable (not Python's salted hash)
    assert set(first) == {0, 1, 2}
