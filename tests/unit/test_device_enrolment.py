"""Enrolment: one-time codes (hashed, single use, expiring), broker logins, revocation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.db.models import Device, DeviceEnrolment
from controller.domain.actors import SYSTEM, Actor, Forbidden, Role
from controller.domain.devices import service as devices
from controller.domain.devices.enrolment import (
    EnrolmentRefused,
    code_digest,
    enrolment_line,
    new_code,
    normalise_code,
)
from controller.domain.errors import Conflict, NotFound
from controller.messaging.broker_accounts import CONTROLLER_USERNAME, mosquitto_hash_matches
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.signing import SigningKey


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _logins(h: Harness) -> dict[str, str]:
    text = h.runtime.broker.accounts.password_file.read_text()
    return dict(line.split(":", 1) for line in text.splitlines())


def test_codes_are_random_readable_and_stored_only_as_a_digest() -> None:
    code = new_code()
    assert len(code) == 19 and code.count("-") == 3
    assert new_code() != code
    assert code_digest(code.lower().replace("-", " ")) == code_digest(code)
    assert normalise_code(code) not in code_digest(code)
    line = enrolment_line("http://c:8000/", "to-9", code)
    assert line == f"wardcast-enrol:http://c:8000|to-9|{code}"


def test_a_device_enrols_once_with_its_code_and_gets_a_login(h: Harness) -> None:
    issued, created = h.runtime.enrolment.create_device(SYSTEM, "to-9", "Tổ 9", None)
    assert created and issued.code is not None and not issued.registered
    with h.runtime.db.session() as session:
        row = session.get(DeviceEnrolment, "to-9")
        assert row is not None and row.code_sha256 == code_digest(issued.code)
        assert issued.code not in repr(row.__dict__)
        assert session.get(Device, "to-9") is None  # no key yet: registered at enrolment
    key = SigningKey.generate()
    given = h.runtime.enrolment.enrol("to-9", issued.code, key.public_key_b64)
    assert (given.username, given.controller_public_key) == ("to-9", h.runtime.key.public_key_b64)
    logins = _logins(h)
    assert mosquitto_hash_matches(given.password, logins["to-9"])
    assert CONTROLLER_USERNAME in logins
    with h.runtime.db.session() as session:
        device = session.get(Device, "to-9")
        assert device is not None and device.public_key == key.public_key_b64
    # Single use: the same code again is refused, whoever presents it.
    with pytest.raises(EnrolmentRefused):
        h.runtime.enrolment.enrol("to-9", issued.code, key.public_key_b64)


def test_a_code_expires(h: Harness) -> None:
    issued, _ = h.runtime.enrolment.create_device(SYSTEM, "to-9", "", None)
    assert issued.code is not None and issued.expires_at is not None
    asyncio.run(h.clock.advance(7 * 86400 + 1))
    with pytest.raises(EnrolmentRefused):
        h.runtime.enrolment.enrol("to-9", issued.code, SigningKey.generate().public_key_b64)


def test_wrong_code_and_unknown_device_get_the_same_refusal(h: Harness) -> None:
    h.runtime.enrolment.create_device(SYSTEM, "to-9", "", None)
    key = SigningKey.generate().public_key_b64
    for device_id, code in (("to-9", new_code()), ("nobody", new_code())):
        with pytest.raises(EnrolmentRefused, match="invalid, used or expired"):
            h.runtime.enrolment.enrol(device_id, code, key)


def test_a_known_key_must_match_and_a_mismatch_does_not_spend_the_code(h: Harness) -> None:
    issued = h.runtime.enrolment.issue_code(SYSTEM, "to-1")  # registered with a key already
    assert issued.code is not None and issued.registered
    with pytest.raises(Conflict):
        h.runtime.enrolment.enrol("to-1", issued.code, SigningKey.generate().public_key_b64)
    given = h.runtime.enrolment.enrol("to-1", issued.code, h.device_keys["to-1"].public_key_b64)
    assert given.device_id == "to-1"


def test_a_new_code_replaces_the_unused_one(h: Harness) -> None:
    first, _ = h.runtime.enrolment.create_device(SYSTEM, "to-9", "", None)
    second = h.runtime.enrolment.issue_code(SYSTEM, "to-9")
    assert first.code is not None and second.code is not None
    key = SigningKey.generate().public_key_b64
    with pytest.raises(EnrolmentRefused):
        h.runtime.enrolment.enrol("to-9", first.code, key)
    h.runtime.enrolment.enrol("to-9", second.code, key)


def test_creating_again_is_idempotent_and_gives_no_new_code(h: Harness) -> None:
    h.runtime.enrolment.create_device(SYSTEM, "to-9", "Tổ 9", None)
    again, created = h.runtime.enrolment.create_device(SYSTEM, "to-9", "Tổ 9", None)
    assert not created and again.code is None


def test_revocation_removes_the_login_and_refuses_the_devices_messages(h: Harness) -> None:
    issued = h.runtime.enrolment.issue_code(SYSTEM, "to-1")
    assert issued.code is not None
    h.runtime.enrolment.enrol("to-1", issued.code, h.device_keys["to-1"].public_key_b64)
    assert "to-1" in _logins(h)
    h.runtime.enrolment.revoke(SYSTEM, "to-1")
    assert "to-1" not in _logins(h)
    with h.runtime.db.session() as session:
        row = session.get(DeviceEnrolment, "to-1")
        assert row is not None and row.revoked_at is not None and row.revoked_by == "system"
    # The bridge no longer knows its key: whatever it still manages to send is rejected.
    assert h.runtime.bridge._key_of("to-1") is None
    with pytest.raises(NotFound):
        h.runtime.enrolment.revoke(SYSTEM, "nobody")
    # A new code brings it back.
    again = h.runtime.enrolment.issue_code(SYSTEM, "to-1")
    assert again.code is not None
    h.runtime.enrolment.enrol("to-1", again.code, h.device_keys["to-1"].public_key_b64)
    assert "to-1" in _logins(h)


def test_only_administrators_create_issue_and_revoke(h: Harness) -> None:
    officer = Actor("officer", frozenset({Role.OFFICER}))
    with pytest.raises(Forbidden):
        h.runtime.enrolment.create_device(officer, "to-9", "", None)
    with pytest.raises(Forbidden):
        h.runtime.enrolment.issue_code(officer, "to-1")
    with pytest.raises(Forbidden):
        h.runtime.enrolment.revoke(officer, "to-1")


def test_the_api_creates_enrols_once_and_revokes(h: Harness) -> None:
    app = create_app(runtime=h.runtime)
    with TestClient(app) as api:
        admin = auth_headers(h.runtime)
        made = api.post(
            "/api/v1/devices", json={"device_id": "to-9", "name": "Tổ 9"}, headers=admin
        )
        assert made.status_code == 201, made.text
        code = made.json()["enrolment_code"]
        assert made.json()["enrolment_line"].endswith(f"|to-9|{code}")
        again = api.post("/api/v1/devices", json={"device_id": "to-9"}, headers=admin)
        assert again.status_code == 200 and again.json()["enrolment_code"] is None
        key = SigningKey.generate().public_key_b64
        body = {"device_id": "to-9", "code": code, "public_key": key}
        enrolled = api.post("/api/v1/enrolment", json=body)  # no sign-in: the code is the key
        assert enrolled.status_code == 200, enrolled.text
        assert enrolled.json()["username"] == "to-9" and enrolled.json()["password"]
        assert api.post("/api/v1/enrolment", json=body).status_code == 403
        device = api.get("/api/v1/devices/to-9", headers=admin).json()
        assert device["enrolled_at"] is not None and device["revoked_at"] is None
        revoked = api.post("/api/v1/devices/to-9/revoke", headers=admin)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        fresh = api.post("/api/v1/devices/to-9/enrolment-code", headers=admin)
        assert fresh.status_code == 201 and fresh.json()["enrolment_code"]
        # Unsigned, nobody creates a device or revokes one.
        assert api.post("/api/v1/devices", json={"device_id": "x-1"}).status_code == 401
        assert api.post("/api/v1/devices/to-9/revoke").status_code == 401


def test_an_ingest_batch_reads_the_keys_of_known_unrevoked_devices_at_once(h: Harness) -> None:
    issued = h.runtime.enrolment.issue_code(SYSTEM, "to-1")
    assert issued.code is not None
    h.runtime.enrolment.enrol("to-1", issued.code, h.device_keys["to-1"].public_key_b64)
    h.runtime.enrolment.revoke(SYSTEM, "to-1")
    others = sorted(set(h.device_keys) - {"to-1"})
    assert others
    with h.runtime.db.session() as session:
        # As public_key_of, one device at a time: the revoked and the unknown left out.
        keys = devices.public_keys_of(session, [*h.device_keys, "nobody"])
        assert keys == {d: devices.public_key_of(session, d) for d in others}
        assert devices.public_keys_of(session, []) == {}
