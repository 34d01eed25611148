"""Commands are bound to their devices: the model insists, every controller sender names them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from controller.domain.broadcasts.service import BroadcastRequest
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal_signed
from wardcast_protocol.messages import Command, Kind, PlayNow, ResendEvents
from wardcast_protocol.topics import DeviceChannel, device_topic, parse


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _command(**fields: Any) -> dict[str, Any]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "command_id": "c1",
        "device_ids": ["to-1"],
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(minutes=5)).isoformat(),
        "order": {"action": "stop", "item_id": "it-1"},
    } | fields


@pytest.mark.parametrize(
    "device_ids",
    [None, [], ["to-1", "+"], ["#"], ["a/b"], ["-lead"], ["x" * 65], ["to 1"]],
    ids=["missing", "empty", "plus", "hash", "slash", "lead-dash", "too-long", "space"],
)
def test_a_command_must_name_valid_devices(device_ids: list[str] | None) -> None:
    body = _command(device_ids=device_ids)
    if device_ids is None:
        del body["device_ids"]
    with pytest.raises(ValidationError):
        Command.model_validate(body)


def test_one_command_may_name_many_devices() -> None:
    command = Command.model_validate(_command(device_ids=["to-1", "to-2", "tdp.03_b"]))
    assert command.device_ids == ("to-1", "to-2", "tdp.03_b")


def _commands_sent(h: Harness) -> list[tuple[str, Command]]:
    """Every command the controller published, with the device whose topic carried it."""
    out = []
    for published in h.broker.published():
        parsed = parse(published.topic)
        if parsed is None or parsed.channel is not DeviceChannel.COMMAND:
            continue
        body = h.open(published.payload, Kind.COMMAND).body
        assert isinstance(body, Command)
        out.append((parsed.device_id, body))
    return out


def test_a_broadcast_now_names_each_device_in_its_own_command(h: Harness) -> None:
    h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], None))
    sent = _commands_sent(h)
    assert sorted(device for device, _ in sent) == ["to-1", "to-2"]
    for device_id, command in sent:
        assert command.device_ids == (device_id,)
        assert isinstance(command.order, PlayNow)
    assert len({c.command_id for _, c in sent}) == 2  # one id per command, never shared


def test_a_gap_request_names_the_device_it_asks(h: Harness) -> None:
    for seq in (1, 3):
        event = h.event("to-2", event_id=f"ev-{seq}", seq=seq, item_id=f"it-{seq}")
        h.plan("to-2", f"it-{seq}")
        wire, _ = seal_signed(Kind.EVENT, event, "to-2", h.device_keys["to-2"], h.clock.now())
        h.broker.route("to-2", device_topic("to-2", DeviceChannel.EVENT), wire, False, None)
    assert h.runtime.gaps.request() == 1
    ((device_id, command),) = _commands_sent(h)
    assert device_id == "to-2" and command.device_ids == ("to-2",)
    assert isinstance(command.order, ResendEvents)
