"""Bundles and archives on both databases the controller supports (SQLite, PostgreSQL).

The queries behind a bundle (spans by GROUP BY, anchors, NOT EXISTS for missed plays)
and the archive record must give the same verified result on each.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from controller.db.models import PlaybackEvidence
from controller.domain.actors import SYSTEM
from controller.domain.evidence.archives import archive_period, list_archives
from controller.domain.evidence.bundles.verify import EXIT_FAULTS, EXIT_OK, run
from tests.unit.controller_support import make_harness
from tests.unit.test_bundles_support import (
    DAY_END,
    DAY_START,
    WARD_A,
    Scene,
    bundle_of,
    populate,
    setup_places,
    write,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def scene_db(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    monkeypatch.setenv("WARDCAST_DATABASE_URL", database_url)
    h = make_harness(tmp_path / "controller", start=DAY_START - timedelta(hours=3))
    try:
        setup_places(h)
        yield h, populate(h)
    finally:
        h.runtime.stop()


def verify(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    return run(path, out=out, err=out), out.getvalue()


def test_a_bundle_verifies_and_its_gaps_show_on_each_database(
    scene_db: Scene, tmp_path: Path
) -> None:
    h, chains = scene_db
    code, out = verify(write(tmp_path / "b.json", bundle_of(h)))
    assert code == EXIT_OK, out
    assert "verified: 8 valid, 0 faults" in out
    assert "planned plays due: 1, without evidence: 1" in out
    chains.make("to-2", DAY_START + timedelta(hours=9))  # lost
    chains.send("to-2", DAY_START + timedelta(hours=10))
    code, out = verify(write(tmp_path / "b.json", bundle_of(h)))
    assert code == EXIT_FAULTS
    assert "missing [5]" in out and "the controller declares it never received" in out


def test_an_archive_is_recorded_and_no_row_removed_on_each_database(scene_db: Scene) -> None:
    h, _ = scene_db
    with h.runtime.db.session() as session:
        before = session.scalar(select(func.count()).select_from(PlaybackEvidence))
        record = archive_period(session, WARD_A, DAY_START, DAY_END, SYSTEM, h.runtime)
    with h.runtime.db.session() as session:
        (stored,) = list_archives(session, WARD_A)
        assert stored.path == record.path == "archives/26734/2026-03-02.json"
        assert stored.period_from == DAY_START and stored.verified_at.tzinfo is not None
        assert session.scalar(select(func.count()).select_from(PlaybackEvidence)) == before
    code, out = verify(h.runtime.settings.data_dir / stored.path)
    assert code == EXIT_OK, out


def test_migration_0006_builds_the_archive_table_the_model_describes(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from controller.db.models import Base
    from controller.db.models.archives import EvidenceArchive
    from controller.db.session import make_engine, migrate

    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        ours = [d for d in diffs if EvidenceArchive.__tablename__ in repr(d)]
        assert ours == []
    finally:
        engine.dispose()
