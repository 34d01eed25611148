"""The database itself refuses to change or remove evidence, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Executable, delete, text, update
from sqlalchemy.exc import DatabaseError

from controller.db.models import PlaybackEvidence
from tests.unit.controller_support import make_harness
from wardcast_protocol.messages import Kind
from wardcast_protocol.topics import DeviceChannel

pytestmark = pytest.mark.integration


def test_update_and_delete_are_refused_by_the_database(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_DATABASE_URL", database_url)
    h = make_harness(tmp_path)
    try:
        h.plan("to-1")  # evidence answers a plan
        h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
        attempts: list[Executable] = [
            update(PlaybackEvidence).values(outcome="failed"),
            delete(PlaybackEvidence),
            text("UPDATE playback_evidence SET played_duration_s = 0"),
        ]
        for statement in attempts:
            with pytest.raises(DatabaseError, match="append-only"), h.runtime.db.session() as s:
                s.execute(statement)
        if database_url.startswith("postgresql"):
            with pytest.raises(DatabaseError, match="append-only"), h.runtime.db.session() as s:
                s.execute(text("TRUNCATE playback_evidence"))
        with h.runtime.db.session() as session:
            (row,) = session.query(PlaybackEvidence).all()
            assert row.outcome == "completed" and row.played_duration_s == 12.0
    finally:
        h.runtime.stop()
