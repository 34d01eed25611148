"""EdgeAgent on a FakeClock and a FakeBroker: its evidence, and its delivery.

An event is in the outbox before it is published; an ack deletes it, a reconnect and
the periodic resend send only the unacknowledged, a resend request exactly the held
events asked for; seq and prev_hash chain across restarts and acks; a full disk does
not stop playback, its events are written (then published) once space is freed; on
connect the agent publishes its signed availability and retained state.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
from typing import Any

import pytest

from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.envelope import open_envelope, signed_digest
from wardcast_protocol.messages import Availability, DeviceState, Kind
from wardcast_protocol.topics import DeviceChannel, device_topic

__all__ = ["rig"]  # the fixture, used by name below


async def test_event_is_in_the_outbox_before_it_is_published(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await rig.start_agent()
    seen_in_outbox: list[bool] = []
    transport = agent.transport
    original = transport.publish

    def spying_publish(topic: str, payload: bytes, **kw: Any) -> None:
        if topic == device_topic(DEVICE, DeviceChannel.EVENT):
            stored = {e.wire for e in agent.pending_events()}
            seen_in_outbox.append(payload in stored)
        original(topic, payload, **kw)

    monkeypatch.setattr(transport, "publish", spying_publish)
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    assert seen_in_outbox == [True]


async def test_ack_deletes_and_reconnect_resends_only_unacked(rig: Rig) -> None:
    agent = await rig.start_agent()
    acked: list[str] = []
    agent.on_event_acked = acked.append
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1), rig.item("i2", 40)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    await rig.tick(9)
    await rig.tick(30)
    first, second = rig.events()
    rig.ctl.ack(DEVICE, [first.event_id])
    await settle()
    assert acked == [first.event_id]
    assert [e.event_id for e in agent.pending_events()] == [second.event_id]

    link = rig.broker.links[-1]
    link.go_offline()
    await settle()
    link.go_online()
    await settle()
    resent = rig.ctl.received()[2:]
    assert {e.event_id for e in resent} == {second.event_id}
    rig.ctl.ack(DEVICE, [second.event_id])
    await settle()
    assert agent.pending_events() == []


async def test_periodic_resend_of_events_unacked_for_too_long(rig: Rig) -> None:
    await rig.start_agent(resend_interval_s=30)
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    assert len(rig.events()) == 1
    for _ in range(4):
        await rig.tick(15)
    sent = rig.ctl.received()
    assert len(sent) >= 2 and {e.event_id for e in sent} == {sent[0].event_id}


async def test_connect_publishes_signed_availability_and_state(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 100)], version=3)
    await settle()
    keys = {DEVICE: rig.device_key.public_key_b64}.get
    avail = open_envelope(rig.published(DeviceChannel.AVAILABILITY)[0], Kind.AVAILABILITY, keys)
    assert avail.body == Availability(state="online")
    states = [open_envelope(p, Kind.STATE, keys).body for p in rig.published(DeviceChannel.STATE)]
    assert all(isinstance(s, DeviceState) for s in states)
    assert isinstance(states[-1], DeviceState) and states[-1].plan_version == 3
    retained = [p.retain for p in rig.broker.published(device_topic(DEVICE, DeviceChannel.STATE))]
    assert all(retained)


async def test_seq_and_prev_hash_chain_across_restarts_and_acks(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.auto_ack = True
    rig.ctl.send_plan(DEVICE, [rig.item(f"i{n}", 1 + 40 * n) for n in range(3)], version=1)
    await settle()
    for _ in range(3):
        await rig.tick(10)
        await rig.tick(30)
    await agent.stop()
    rig.ctl.send_plan(DEVICE, [rig.item("j", 10)], version=2)
    await rig.start_agent()
    await rig.tick(10)
    await rig.tick(30)
    verified = rig.ctl.events
    assert [v.body.seq for v in verified] == [1, 2, 3, 4]
    assert verified[0].body.prev_hash == ""
    for before, after in itertools.pairwise(verified):
        assert after.body.prev_hash == signed_digest(before.signed)


class FullDisk:
    """Stands in for the outbox's connection: every write fails as on a full SD card."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real
        self.full = True

    def execute(self, sql: str, *args: Any) -> Any:
        if self.full and sql.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_full_disk_does_not_stop_playback_and_events_are_written_later(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1), rig.item("i2", 40)], version=1)
    await settle()
    disk = FullDisk(agent.outbox._conn)
    monkeypatch.setattr(agent.outbox, "_conn", disk)
    with caplog.at_level(logging.ERROR):
        await rig.tick(1)
        await rig.tick(30)
        await rig.tick(9)
        await rig.tick(30)
    assert [s[0] for s in rig.started] == ["i1", "i2"]
    assert "database or disk is full" in caplog.text
    assert rig.events() == []  # nothing published before it is on disk
    assert agent.evidence.unwritten == 2
    disk.full = False  # space freed
    await rig.tick(30)  # housekeeping retries the write, then publishes
    assert [(e.item_id, e.seq) for e in rig.events()] == [("i1", 1), ("i2", 2)]
    assert agent.evidence.unwritten == 0


async def test_a_resend_request_republishes_exactly_the_held_events_asked_for(rig: Rig) -> None:
    from wardcast_protocol.messages import ResendEvents

    await rig.start_agent()
    rig.ctl.send_plan(
        DEVICE, [rig.item("i1", 1), rig.item("i2", 40), rig.item("i3", 80)], version=1
    )
    await settle()
    for _ in range(4):
        await rig.tick(30)
    events = rig.events()
    assert [e.seq for e in events] == [1, 2, 3]
    rig.ctl.ack(DEVICE, [events[0].event_id])
    await settle()
    before = len(rig.ctl.received())
    rig.ctl.send_command(DEVICE, ResendEvents(from_seq=1, to_seq=2))
    await settle()
    again = rig.ctl.received()[before:]
    # seq 1 was acknowledged (gone from the outbox); seq 2 is held and asked for; 3 not asked.
    assert [e.seq for e in again] == [2]
