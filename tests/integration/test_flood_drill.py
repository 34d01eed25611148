"""Drill: 10,000 malformed payloads from one enrolled device, against the closed broker.

The device uses its own login, so the broker's ACLs let it publish on its own uplink
topics (availability, state, event, security): the flood reaches the controller. It
sends garbage bytes, broken JSON, well-formed JSON of no known shape, envelopes signed
with another key and payloads over the channel's size limit, mixed over the four
channels; then one valid signed event for an item planned for it. The controller must
stay up and answering, store that event as evidence, keep at most its per-source quota
of refused messages as rows, and count every other one as dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.db.models import PlaybackEvidence, RejectedMessageLog
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.rejections import DEFAULT_LIMITS
from tests.support.auth import auth_headers
from tests.support.drills import evidence_of, seed_approved_bulletin, wait_for
from tests.support.enrolled import EnrolledDevice, enrol, link
from wardcast_protocol.channels import CONTROLLER_INBOUND, MAX_PAYLOAD_BYTES
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import DeviceState, Kind, Outcome, PlaybackEvent, Trigger
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import device_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DEVICE = "to-flood"
FLOOD = 10_000
SHA = "cd" * 32


def _wait(predicate: Callable[[], bool], timeout_s: float) -> bool:
    return wait_for(predicate, timeout_s, poll_s=0.1)


def _seed(runtime: ControllerRuntime) -> None:
    """An approved bulletin with its (stand-in) audio, ready to broadcast."""
    seed_approved_bulletin(runtime, "bul-flood", SHA, "Cắt điện", "Ngày mai cắt điện.")


def _malformed(i: int, stranger: SigningKey) -> tuple[Kind, bytes]:
    """The i-th junk payload: its channel, and bytes the controller must refuse.

    Five kinds of junk, each sent on all four uplink channels in turn; never empty
    (an empty payload on a retained topic is a cleared topic, not a message).
    """
    channel = CONTROLLER_INBOUND[(i // 5) % len(CONTROLLER_INBOUND)]
    variant = i % 5
    if variant == 0:
        return channel, b"\xff" + os.urandom(63)  # garbage bytes
    if variant == 1:
        return channel, b'{"v": 1, "kind": "' + str(i).encode()  # JSON cut short
    if variant == 2:
        return channel, json.dumps({"hello": i, "kind": channel.value}).encode()
    if variant == 3:
        # A state message signed with a key that is not the device's.
        body = DeviceState(plan_version=i, device_time=datetime.now(UTC), pending_events=0)
        return channel, seal(Kind.STATE, body, DEVICE, stranger, datetime.now(UTC))
    # Over the channel's own limit (well within mosquitto's).
    return channel, b"{" + b" " * (MAX_PAYLOAD_BYTES[channel] + i % 7)


def _valid_event(device: EnrolledDevice, broadcast_id: str, planned: datetime) -> bytes:
    now = datetime.now(UTC)
    event = PlaybackEvent(
        event_id="ev-flood-1",
        device_id=DEVICE,
        seq=1,
        prev_hash="",
        item_id=broadcast_id,
        broadcast_id=broadcast_id,
        trigger=Trigger.MANUAL,
        planned_start=planned,
        planned_duration_s=12.0,
        actual_start=planned + timedelta(milliseconds=50),
        played_duration_s=12.0,
        outcome=Outcome.COMPLETED,
        recorded_at=now,
    )
    return seal(Kind.EVENT, event, DEVICE, device.key, now)


def _evidence(runtime: ControllerRuntime) -> list[PlaybackEvidence]:
    return evidence_of(runtime, DEVICE)


def _kept_rows(runtime: ControllerRuntime) -> int:
    with runtime.db.session() as session:
        query = select(func.count()).where(RejectedMessageLog.device_id == DEVICE)
        return int(session.scalar(query) or 0)


def test_ten_thousand_malformed_payloads_from_an_enrolled_device_are_counted_not_kept(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    runtime = closed_controller
    device = enrol(runtime, DEVICE, tmp_path / DEVICE)
    _seed(runtime)
    broadcast = runtime.broadcasts.schedule(BroadcastRequest("bul-flood", [DEVICE], None))
    rejected_before = runtime.bridge.rejected
    sender = link(device.address(), DEVICE)
    assert sender.wait_connected(5)
    stranger = SigningKey.load_or_create(tmp_path / "stranger" / "device.key")
    try:
        for i in range(FLOOD):
            channel, payload = _malformed(i, stranger)
            sender.publish(device_topic(DEVICE, channel), payload)
        assert _wait(lambda: runtime.bridge.rejected - rejected_before >= FLOOD, 45), (
            f"only {runtime.bridge.rejected - rejected_before} of {FLOOD} refusals seen"
        )
        sender.publish(
            device_topic(DEVICE, Kind.EVENT),
            _valid_event(device, broadcast.id, broadcast.planned_start),
        )
        assert _wait(lambda: len(_evidence(runtime)) == 1, 15), "the valid event was lost"
    finally:
        sender.stop()

    assert runtime.bridge.rejected - rejected_before == FLOOD  # nothing else refused
    (stored,) = _evidence(runtime)
    assert (stored.event_id, stored.broadcast_id) == ("ev-flood-1", broadcast.id)
    # Two hours at most if the flood crossed the hour: never more than the quota of each.
    assert 0 < _kept_rows(runtime) <= 2 * DEFAULT_LIMITS.per_source_per_hour

    with TestClient(create_app(runtime=runtime)) as client:
        health = client.get("/api/v1/health")
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        assert health.json()["broker_connected"] is True
        assert health.json()["broker_restarts"] == 0  # mosquitto did not fall over either
        answer = client.get(
            "/api/v1/rejected-messages/counters", headers=auth_headers(runtime, "admin")
        )
    assert answer.status_code == 200, answer.text
    mine = [c for c in answer.json() if c["source"] == DEVICE]
    received = sum(c["received"] for c in mine)
    kept = sum(c["stored"] for c in mine)
    dropped = sum(c["dropped"] for c in mine)
    assert received == FLOOD
    assert kept == _kept_rows(runtime)
    assert dropped == FLOOD - kept
