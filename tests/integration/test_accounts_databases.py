"""Accounts on both databases: the migration matches the models, and sign-in works on each."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from controller.db.models import ApiToken, Base, User
from controller.db.session import Database
from controller.domain.accounts.service import AccountService
from wardcast_protocol.clock import FakeClock

pytestmark = pytest.mark.integration


def test_the_migration_creates_the_account_tables_as_modelled(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        ours = [d for d in diffs if any(t in repr(d) for t in ("'users'", "'api_tokens'"))]
        assert ours == []
        assert {User.__tablename__, ApiToken.__tablename__} <= set(Base.metadata.tables)
    finally:
        db.dispose()


def test_sign_in_and_token_lookup_on_each_database(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        service = AccountService(db, FakeClock())
        service.create_admin("quan-tri", "mot-mat-khau-dai")
        issued = service.login("quan-tri", "mot-mat-khau-dai")
        actor, token_id = service.actor_for(issued.secret)
        assert (actor.name, actor.is_admin, token_id) == ("quan-tri", True, issued.token.id)
    finally:
        db.dispose()
