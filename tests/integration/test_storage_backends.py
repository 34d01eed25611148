"""The storage layer on SQLite and on a real PostgreSQL: same schema, same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from controller.composition import ControllerRuntime
from controller.db.models import PlaybackEvidence
from controller.settings import Settings
from tests.unit.controller_support import make_harness
from wardcast_protocol.messages import Kind
from wardcast_protocol.topics import DeviceChannel

pytestmark = pytest.mark.integration


def test_migrations_build_every_table_and_run_twice(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, environment="test")
    runtime = ControllerRuntime(settings)
    runtime.db.migrate()
    runtime.db.migrate()
    tables = set(inspect(runtime.db.engine).get_table_names())
    assert {
        "devices",
        "media_assets",
        "bulletins",
        "broadcasts",
        "broadcast_targets",
        "playback_evidence",
        "rejected_messages",
        "alembic_version",
    } <= tables
    runtime.db.dispose()


def test_evidence_round_trips_utc_aware_and_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_DATABASE_URL", database_url)
    hanoi = timezone(timedelta(hours=7))
    h = make_harness(tmp_path, start=datetime(2026, 11, 22, 5, 30, tzinfo=hanoi))
    try:
        event = h.event("to-1", planned_start=datetime(2026, 11, 22, 5, 29, 30, tzinfo=hanoi))
        h.plan("to-1", event.item_id, event.broadcast_id, event.planned_start)
        for _ in range(2):
            h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)
        with h.runtime.db.session() as session:
            assert session.scalar(select(func.count()).select_from(PlaybackEvidence)) == 1
            row = session.scalars(select(PlaybackEvidence)).one()
            assert row.planned_start == datetime(2026, 11, 21, 22, 29, 30, tzinfo=UTC)
            assert row.planned_start.tzinfo is UTC
            assert row.received_at.tzinfo is UTC
            assert row.signed and row.sig
        assert h.runtime.db.url == database_url
    finally:
        h.runtime.stop()
