"""The device registry tells the key cache about every key it writes, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.db.session import Database
from controller.domain.devices.registry import DeviceRegistry
from controller.domain.devices.service import get_device
from controller.domain.errors import Conflict
from tests.support.auth import auth_headers
from tests.unit.controller_support import make_harness
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.messages import DeviceState, Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'wardcast.db'}")
    database.migrate()
    return database


def test_a_new_key_is_reported_and_a_repeat_is_not(db: Database) -> None:
    written: list[str] = []
    registry = DeviceRegistry(FakeClock(), on_key_written=written.append)
    key = SigningKey.generate().public_key_b64
    with db.session() as session:
        device, created = registry.register(session, "to-9", "Tổ 9", key)
    assert created and device.id == "to-9" and written == ["to-9"]
    with db.session() as session:
        _, created = registry.register(session, "to-9", "Tổ 9", key)
    assert not created and written == ["to-9"]


def test_a_refused_registration_reports_nothing(db: Database) -> None:
    written: list[str] = []
    registry = DeviceRegistry(FakeClock(), on_key_written=written.append)
    with db.session() as session:
        registry.register(session, "to-9", "", SigningKey.generate().public_key_b64)
    written.clear()
    with db.session() as session, pytest.raises(Conflict):
        registry.register(session, "to-9", "", SigningKey.generate().public_key_b64)
    assert written == []


def test_a_key_registered_over_http_replaces_a_cached_one(tmp_path: Path) -> None:
    # The runtime wires the registry to the bridge's key cache. A device deleted by hand
    # and registered again with a new key must be heard with the new key at once, not
    # refused for a signature that matches the old, cached one.
    h = make_harness(tmp_path)
    old, new = SigningKey.generate(), SigningKey.generate()

    def register(key: SigningKey) -> int:
        body = {"device_id": "to-9", "name": "Tổ 9", "public_key": key.public_key_b64}
        status: int = api.post("/api/v1/devices", json=body).status_code
        return status

    def state(key: SigningKey, version: int) -> int | None:
        body = DeviceState(plan_version=version, device_time=h.clock.now())
        h.device_sends("to-9", DeviceChannel.STATE, Kind.STATE, body, key=key)
        with h.runtime.db.session() as session:
            return get_device(session, "to-9").reported_plan_version

    try:
        with TestClient(create_app(runtime=h.runtime)) as api:
            api.headers.update(auth_headers(h.runtime))  # creating devices: administrators
            assert register(old) == 201
            assert state(old, 1) == 1  # the bridge now holds the old key
            with h.runtime.db.session() as session:
                session.delete(get_device(session, "to-9"))
            assert register(new) == 201
            assert state(new, 2) == 2
            assert h.runtime.bridge.rejected == 0
    finally:
        h.runtime.stop()
