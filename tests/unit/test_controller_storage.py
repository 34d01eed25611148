"""Storage: timestamps come back UTC-aware whatever the database; settings refuse unsafe set-ups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import StatementError

from controller.db.models import Device
from controller.db.session import Database
from controller.settings import Settings


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 't.db'}")
    database.migrate()
    database.migrate()  # idempotent
    yield database
    database.dispose()


def test_aware_times_in_any_zone_come_back_as_utc(db: Database) -> None:
    hanoi = timezone(timedelta(hours=7))
    at = datetime(2026, 11, 22, 5, 30, tzinfo=hanoi)
    with db.session() as session:
        session.add(Device(id="d1", public_key="k", registered_at=at))
    with db.session() as session:
        device = session.get(Device, "d1")
        assert device is not None
        assert device.registered_at == at
        assert device.registered_at.tzinfo is UTC
        assert device.registered_at.hour == 22 and device.registered_at.day == 21


def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.session() as session:
        session.add(Device(id="d2", public_key="k", registered_at=datetime(2026, 1, 1)))
        session.flush()


def test_production_refuses_a_bootstrap_password(tmp_path: Path) -> None:
    # No default password in production: the first administrator comes from the CLI
    # (accounts live in the database; there are no tokens in the settings any more).
    with pytest.raises(ValidationError, match="WARDCAST_BOOTSTRAP_ADMIN_PASSWORD"):
        Settings(environment="production", data_dir=tmp_path, bootstrap_admin_password="s3cret")
    assert Settings(environment="production", data_dir=tmp_path)
    assert Settings(environment="development", bootstrap_admin_password="s3cret-dev-only")


def test_media_links_must_outlive_a_plan(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="plan horizon plus history"):
        Settings(data_dir=tmp_path, media_url_ttl_s=3600)


def test_settings_default_to_a_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'wardcast.db'}"
    assert settings.resolved_public_base_url == "http://127.0.0.1:8000"
