"""Security records on both database backends: the migration builds what the model says."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_migration_0007_builds_the_security_table_the_model_describes(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from controller.db.models import Base, SecurityRecord
    from controller.db.session import make_engine, migrate

    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        ours = [d for d in diffs if SecurityRecord.__tablename__ in repr(d)]
        assert ours == []
    finally:
        engine.dispose()
