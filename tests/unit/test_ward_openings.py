"""A fleet opens a ward's command once for its agents; each agent still decides alone.

``inbox.WardOpenings``: the simulator's agents share the result of opening one payload
(JSON, signature, schema), never the decision whether the command is theirs to act on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge_agent import inbox
from edge_agent.inbox import WardOpenings, open_inbound
from tests.unit.test_agent_support import DEVICE, Rig, settle
from tests.unit.test_ward_fanout import WARD, _agent_in_ward, rig
from wardcast_protocol.envelope import CONTROLLER_SENDER, RejectedMessage, open_envelope, seal
from wardcast_protocol.messages import Command, Kind, PlayNow, StopItem
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import ward_topic

__all__ = ["rig"]  # the fixture, imported for pytest

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TOPIC = ward_topic(WARD)


def _wire(key: SigningKey, devices: tuple[str, ...], now: datetime, expires_s: float = 60) -> bytes:
    command = Command(
        command_id=uuid.uuid4().hex,
        device_ids=devices,
        issued_at=now,
        expires_at=now + timedelta(seconds=expires_s),
        order=StopItem(item_id="item-1", reason="test"),
    )
    return seal(Kind.COMMAND, command, CONTROLLER_SENDER, key, now)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every payload the inbox really opened (checked and parsed)."""
    calls: list[bytes] = []
    real = open_envelope

    def counting(payload: bytes, *args: Any, **kwargs: Any) -> Any:
        calls.append(payload)
        return real(payload, *args, **kwargs)

    monkeypatch.setattr(inbox, "open_envelope", counting)
    return calls


def test_a_ward_command_is_opened_once_for_the_fleet_as_one_agent_opens_it(
    opened: list[bytes],
) -> None:
    key = SigningKey.generate()
    wire = _wire(key, ("to-1", "to-2"), NOW)
    shared = WardOpenings()
    first = open_inbound(TOPIC, wire, "to-1", key.public_key_b64, ward_code=WARD, shared=shared)
    second = open_inbound(TOPIC, wire, "to-2", key.public_key_b64, ward_code=WARD, shared=shared)
    alone = open_inbound(TOPIC, wire, "to-3", key.public_key_b64, ward_code=WARD)
    assert second is first and first == alone
    assert len(opened) == 2  # once for the fleet, once for the agent on its own


def test_what_is_refused_is_never_remembered_and_the_key_is_part_of_the_question(
    opened: list[bytes],
) -> None:
    key, forger = SigningKey.generate(), SigningKey.generate()
    forged = _wire(forger, ("to-1",), NOW)
    shared = WardOpenings()
    for device in ("to-1", "to-2"):
        with pytest.raises(RejectedMessage) as refused:
            open_inbound(TOPIC, forged, device, key.public_key_b64, ward_code=WARD, shared=shared)
        assert refused.value.reason == "bad_signature"
    assert len(opened) == 2  # each agent checked it, and refused it
    # Opened under the forger's key (a device provisioned with it), it is valid there;
    # under the real key it is still refused, whatever was opened before.
    open_inbound(TOPIC, forged, "to-1", forger.public_key_b64, ward_code=WARD, shared=shared)
    with pytest.raises(RejectedMessage):
        open_inbound(TOPIC, forged, "to-1", key.public_key_b64, ward_code=WARD, shared=shared)


def test_only_the_latest_few_commands_are_kept(opened: list[bytes]) -> None:
    key = SigningKey.generate()
    shared = WardOpenings(size=2)
    wires = [_wire(key, ("to-1",), NOW) for _ in range(3)]
    for wire in (*wires, wires[0]):
        open_inbound(TOPIC, wire, "to-1", key.public_key_b64, ward_code=WARD, shared=shared)
    assert opened == [*wires, wires[0]]  # the first was let go, and opened again


async def test_an_agent_of_a_fleet_still_checks_the_command_is_for_it_now_and_once(
    rig: Rig,
) -> None:
    await _agent_in_ward(rig)
    agent = rig.agents[-1]
    shared = agent.ward_openings = WardOpenings()
    key = rig.ctl.key

    def deliver(wire: bytes) -> None:
        rig.broker.route("controller", TOPIC, wire, False, None)

    def neighbour_opens(wire: bytes) -> None:
        shared.open(wire, Kind.COMMAND, key.public_key_b64)

    # Opened by a neighbour first: for the neighbours only, ignored quietly here.
    for_others = _wire(key, ("to-98",), rig.now)
    neighbour_opens(for_others)
    deliver(for_others)
    # Opened by a neighbour, then expired before it reached this agent: refused.
    stale = _wire(key, (DEVICE, "to-98"), rig.now, expires_s=5)
    neighbour_opens(stale)
    await rig.tick(10)
    deliver(stale)
    # Named and fresh: played once; the same bytes again are a replay.
    item = rig.item("now-shared", 0)
    command = Command(
        command_id="c-shared",
        device_ids=("to-98", DEVICE),
        issued_at=rig.now,
        expires_at=rig.now + timedelta(seconds=60),
        order=PlayNow(item=item),
    )
    fresh = seal(Kind.COMMAND, command, CONTROLLER_SENDER, key, rig.now)
    neighbour_opens(fresh)
    deliver(fresh)
    deliver(fresh)
    await settle()
    await rig.tick(1)
    assert [s[0] for s in rig.started] == ["now-shared"]
    assert sorted(e.reason for e in agent.security.entries()) == ["expired", "replayed"]
