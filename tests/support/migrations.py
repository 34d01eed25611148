"""What the migration tests share: a database brought to a revision, and the rows of two
broadcasts (one for later, one "now") written as the tables stood there.

The devices, media, bulletins and broadcasts are written through the models' tables:
valid for any revision from which those tables have not changed (0021 on).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Table, insert

from controller.db.models import Broadcast, Bulletin, Device, MediaAsset
from controller.db.session import MIGRATIONS, Database


def upgrade_to(db: Database, revision: str) -> None:
    """Bring ``db`` to ``revision`` (not the newest: ``db.migrate()`` does that)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def two_broadcasts(conn: Connection, at: datetime, later: datetime) -> None:
    """Devices d1 and d2, a bulletin, and two broadcasts of it: "later" (scheduled at
    ``later``) and "now" (immediate, at ``at``)."""
    devices, media, bulletins, broadcasts = (
        cast(Table, m.__table__) for m in (Device, MediaAsset, Bulletin, Broadcast)
    )
    conn.execute(insert(devices), [
        {"id": d, "name": d, "public_key": "k", "registered_at": at} for d in ("d1", "d2")
    ])  # fmt: skip
    conn.execute(insert(media), [{
        "sha256": "a" * 64, "size_bytes": 1, "duration_s": 1.0,
        "content_type": "audio/ogg", "extension": "ogg", "created_at": at,
    }])  # fmt: skip
    conn.execute(insert(bulletins), [{
        "id": "bul", "title": "t", "origin": "text", "media_sha256": "a" * 64,
        "created_at": at, "status": "approved",
    }])  # fmt: skip
    conn.execute(insert(broadcasts), [
        {"id": bid, "bulletin_id": "bul", "trigger": "manual", "priority": "normal",
         "planned_start": start, "immediate": now, "status": "sent", "created_at": at}
        for bid, start, now in (("later", later, False), ("now", at, True))
    ])  # fmt: skip
