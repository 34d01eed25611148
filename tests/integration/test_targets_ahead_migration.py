"""Migration 0022 on both stores: each target of a scheduled broadcast gets its time, a
"now"'s targets none, and the partial index (device, time) is there as modelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, inspect, select, table

from controller.db.models import Base, BroadcastTarget
from controller.db.session import Database
from tests.support.migrations import two_broadcasts, upgrade_to

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


def test_targets_of_scheduled_broadcasts_get_their_time(database_url: str) -> None:
    db = Database(database_url)
    later = AT + timedelta(hours=2)
    targets = table("broadcast_targets", column("broadcast_id"), column("device_id"))
    try:
        upgrade_to(db, "0021")  # the migration before: every table but the targets as modelled
        with db.engine.begin() as conn:
            two_broadcasts(conn, AT, later)
            conn.execute(insert(targets), [
                {"broadcast_id": b, "device_id": d} for b in ("later", "now") for d in ("d1", "d2")
            ])  # fmt: skip
        db.migrate()
        t = BroadcastTarget
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "broadcast_targets" in repr(d)] == []
            names = {i["name"] for i in inspect(conn).get_indexes("broadcast_targets")}
            assert "ix_broadcast_targets_device_ahead" in names
            kept = conn.execute(select(t.broadcast_id, t.device_id, t.planned_start)).all()
        assert sorted(kept) == [
            ("later", "d1", later), ("later", "d2", later), ("now", "d1", None), ("now", "d2", None)
        ]  # fmt: skip
    finally:
        db.dispose()
