"""Migration 0023 on both stores: a "now"'s planned plays are marked as commanded, and
the index by (device, time) holds the others alone, which a compile's read of the plays
ahead of its devices can use (the figures are in the migration and docs/scale.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, false, insert, select, table, text

from controller.db.among import among
from controller.db.models import Base, PlannedPlay
from controller.db.session import Database
from tests.support.migrations import two_broadcasts, upgrade_to

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
PLAY_COLUMNS = (
    "device_id", "item_id", "ward_code", "broadcast_id", "kind", "source_level", "priority",
    "trigger", "planned_start", "planned_duration_s", "first_planned_at",
)  # fmt: skip


def test_a_nows_plays_are_marked_and_left_out_of_the_index_by_device(database_url: str) -> None:
    db = Database(database_url)
    plays = table("planned_plays", *(column(name) for name in PLAY_COLUMNS))
    later = AT + timedelta(hours=2)
    try:
        upgrade_to(db, "0022")  # the migration before: every table but the plays as modelled
        with db.engine.begin() as conn:
            two_broadcasts(conn, AT, later)
            conn.execute(insert(plays), [
                {"device_id": d, "item_id": item, "ward_code": "w", "broadcast_id": broadcast,
                 "kind": "media", "source_level": "ward", "priority": "normal",
                 "trigger": "manual", "planned_start": start, "planned_duration_s": 30.0,
                 "first_planned_at": AT}
                for d in ("d1", "d2")
                for item, broadcast, start in (
                    ("later", "later", later), ("now", "now", AT), ("prog-1", "prog-1", later)
                )
            ])  # fmt: skip
        db.migrate()
        p = PlannedPlay
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "planned_plays" in repr(d)] == []
            marked = conn.execute(select(p.item_id, p.commanded).distinct()).all()
        assert sorted(marked) == [("later", False), ("now", True), ("prog-1", False)]
        with db.session() as session:
            # A compile's read of the plays ahead (planned.record_plans) is one the
            # partial index answers: with scans off and the index by time alone dropped
            # (in this transaction, rolled back), the planner must take it.
            ahead = select(p.device_id, p.item_id).where(
                among(session, p.device_id, ["d1", "d2"]),
                p.planned_start >= AT,
                p.commanded == false(),
            )
            if db.engine.dialect.name == "postgresql":
                session.execute(text("SET LOCAL enable_seqscan = off"))
                session.execute(text("DROP INDEX ix_planned_start"))
                compiled = ahead.compile(db.engine)
                plan = session.connection().exec_driver_sql(
                    "EXPLAIN " + str(compiled), compiled.params
                )
            else:
                compiled = ahead.compile(db.engine, compile_kwargs={"literal_binds": True})
                plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            assert "ix_planned_device_start" in " ".join(str(row[-1]) for row in plan)
            assert sorted(session.execute(ahead).all()) == [
                (d, item) for d in ("d1", "d2") for item in ("later", "prog-1")
            ]
            session.rollback()
    finally:
        db.dispose()
