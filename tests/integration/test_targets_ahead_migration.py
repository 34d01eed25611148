"""Migration 0022 on both stores: each target of a scheduled broadcast gets its time, a
"now"'s targets none, and the partial index (device, time) is there as modelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Table, column, insert, inspect, select, table

from controller.db.models import Base, Broadcast, BroadcastTarget, Bulletin, Device, MediaAsset
from controller.db.session import MIGRATIONS, Database

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


def test_targets_of_scheduled_broadcasts_get_their_time(database_url: str) -> None:
    db = Database(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # 0021 is the migration before: every table but the targets is as modelled.
    devices, media, bulletins, broadcasts = (
        cast(Table, m.__table__) for m in (Device, MediaAsset, Bulletin, Broadcast)
    )
    targets = table("broadcast_targets", column("broadcast_id"), column("device_id"))
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0021")
        with db.engine.begin() as conn:
            conn.execute(insert(devices), [
                {"id": d, "name": d, "public_key": "k", "registered_at": AT}
                for d in ("d1", "d2")
            ])  # fmt: skip
            conn.execute(insert(media), [{
                "sha256": "a" * 64, "size_bytes": 1, "duration_s": 1.0,
                "content_type": "audio/ogg", "extension": "ogg", "created_at": AT,
            }])  # fmt: skip
            conn.execute(insert(bulletins), [{
                "id": "bul", "title": "t", "origin": "text", "media_sha256": "a" * 64,
                "created_at": AT, "status": "approved",
            }])  # fmt: skip
            later = AT + timedelta(hours=2)
            conn.execute(insert(broadcasts), [
                {"id": bid, "bulletin_id": "bul", "trigger": "manual", "priority": "normal",
                 "planned_start": start, "immediate": now, "status": "sent", "created_at": AT}
                for bid, start, now in (("later", later, False), ("now", AT, True))
            ])  # fmt: skip
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
