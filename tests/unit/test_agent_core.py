"""EdgeAgent on a FakeClock and a FakeBroker: timing, outcomes, evidence and its delivery."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_agent.config import AgentConfig
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from edge_agent.core import EdgeAgent
from edge_agent.fake_media import FakeMediaFetcher, FakeStreamOpener
from edge_agent.simulated_player import SimulatedPlayer
from firmware_stubs.hardware import SimulatedHardware, simulated_hardware
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.envelope import open_envelope, signed_digest
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import (
    Availability,
    DeviceState,
    Kind,
    MediaRef,
    Outcome,
    Plan,
    PlaybackEvent,
    PlayNow,
    Priority,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic

DEVICE = "to-01"


async def settle() -> None:
    """Let every ready task run (no time passes on the FakeClock)."""
    for _ in range(50):
        await asyncio.sleep(0)


@dataclass
class Rig:
    """One agent, a controller stand-in and a fake media server on one FakeBroker."""

    tmp: Path
    clock: FakeClock
    broker: FakeBroker
    fetcher: FakeMediaFetcher = field(default_factory=FakeMediaFetcher)
    device_key: SigningKey = field(default_factory=SigningKey.generate)
    agents: list[EdgeAgent] = field(default_factory=list)
    started: list[tuple[str, datetime]] = field(default_factory=list)
    hardware: SimulatedHardware | None = None
    opener: FakeStreamOpener | None = None  # the relay tests script their streams

    def __post_init__(self) -> None:
        link = self.broker.link("controller")
        link.start()
        self.ctl = ControllerStandIn(
            link,
            device_keys={DEVICE: self.device_key.public_key_b64},
            now=self.clock.now,
        )
        self.hardware = simulated_hardware(self.clock.now)
        self.media = self.fetcher.add(b"ogg-bytes-1" * 10, duration_s=30)

    def config(self, **overrides: Any) -> AgentConfig:
        values: dict[str, Any] = {
            "device_id": DEVICE,
            "controller_public_key": self.ctl.public_key,
            "data_dir": self.tmp / DEVICE,
            "media_fetch_backoff_s": 0,
            "media_fetch_attempts": 2,
        }
        values.update(overrides)
        return AgentConfig(**values)

    async def start_agent(self, settle_s: float = 0.0, **overrides: Any) -> EdgeAgent:
        agent = EdgeAgent(
            self.config(**overrides),
            transport=self.broker.link(DEVICE),
            player=SimulatedPlayer(self.clock, self.hardware, settle_s=settle_s),
            fetcher=self.fetcher,
            clock=self.clock,
            hardware=self.hardware,
            device_key=self.device_key,
            stream_opener=self.opener,
        )
        agent.on_playback_started = lambda item_id, at: self.started.append((item_id, at))
        self.agents.append(agent)
        await agent.start()
        await settle()
        return agent

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def at(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    async def tick(self, seconds: float) -> None:
        await self.clock.advance(seconds)
        await settle()

    def events(self) -> list[PlaybackEvent]:
        """Distinct events received, in arrival order (resends dropped, as the controller does)."""
        unique: dict[str, PlaybackEvent] = {}
        for event in self.ctl.received():
            unique.setdefault(event.event_id, event)
        return list(unique.values())

    def published(self, channel: DeviceChannel) -> list[bytes]:
        return [p.payload for p in self.broker.published(device_topic(DEVICE, channel))]

    def item(self, item_id: str, start_in_s: float, **kw: Any) -> Any:
        media: MediaRef = kw.pop("media", self.media)
        return plan_item(item_id, media, self.at(start_in_s), **kw)


@pytest.fixture
async def rig(tmp_path: Path, fake_clock: FakeClock, fake_broker: FakeBroker) -> AsyncIterator[Rig]:
    r = Rig(tmp_path, fake_clock, fake_broker)
    yield r
    for agent in r.agents:
        await agent.abort()


async def test_item_plays_at_planned_time_not_before(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 10)], version=1)
    await settle()
    assert agent.plan_version == 1
    planned = rig.at(10)
    await rig.tick(9.9)
    assert rig.started == []
    await rig.tick(0.1)
    assert rig.started == [("i1", planned)]
    assert rig.hardware is not None and rig.hardware.relay.is_on()
    await rig.tick(30)
    [event] = rig.events()
    assert event.outcome is Outcome.COMPLETED
    assert event.actual_start == planned
    assert event.played_duration_s == 30
    assert (event.seq, event.prev_hash, event.plan_version) == (1, "", 1)
    assert event.amplifier_on is True and event.volume == 80
    assert not rig.hardware.relay.is_on()


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


async def test_duplicate_and_expired_commands_are_ignored(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await rig.start_agent()
    item = rig.item("now-1", 0)
    rig.ctl.play_now(DEVICE, item, command_id="cmd-1")
    rig.ctl.play_now(DEVICE, item, command_id="cmd-1")  # QoS 1 redelivery
    await settle()
    assert agent.stats.duplicates_ignored == 1
    await rig.tick(30)
    stale = rig.item("now-2", 0)
    with caplog.at_level(logging.WARNING):
        rig.ctl.send_command(
            DEVICE,
            PlayNow(item=stale),
            issued_at=rig.now - timedelta(seconds=120),
            ttl_s=60,
        )
        await settle()
    assert agent.stats.expired_ignored == 1
    assert "expired" in caplog.text
    await rig.tick(60)
    assert [s[0] for s in rig.started] == ["now-1"]
    assert {e.item_id for e in rig.events()} == {"now-1"}  # resends carry the same event


async def test_seen_command_ids_survive_a_restart(rig: Rig) -> None:
    agent = await rig.start_agent()
    item = rig.item("now-1", 0)
    rig.ctl.play_now(DEVICE, item, command_id="cmd-1")
    await settle()
    await rig.tick(30)
    await agent.stop()
    again = await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-x", 0), command_id="cmd-1")
    await settle()
    assert again.stats.duplicates_ignored == 1


def _commands_on_disk(agent: EdgeAgent) -> set[str]:
    """Command ids in the agent's outbox file, read as a restart would."""
    with sqlite3.connect(agent.config.data_dir / "outbox.db") as db:
        return {str(r[0]) for r in db.execute("SELECT command_id FROM commands")}


def _count_commits(agent: EdgeAgent) -> list[str]:
    commits: list[str] = []
    agent.outbox._conn.set_trace_callback(
        lambda sql: commits.append(sql) if sql == "COMMIT" else None
    )
    return commits


async def test_a_now_starting_at_once_commits_once_before_it_sounds(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-0", 0), command_id="cmd-0")  # fetches the clip
    await settle()
    await rig.tick(31)
    commits = _count_commits(agent)
    at_start: list[int] = []
    agent.on_playback_started = lambda item_id, at: at_start.append(len(commits))
    rig.ctl.play_now(DEVICE, rig.item("now-1", 0), command_id="cmd-1")
    await settle()
    # Its command row went in with its journal row: one commit, not two, before the start.
    assert at_start == [1]
    assert _commands_on_disk(agent) == {"cmd-0", "cmd-1"}
    assert agent.outbox.held == 0


async def test_a_now_that_must_wait_is_on_disk_before_its_turn(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-0", 0), command_id="cmd-0")
    await settle()
    await rig.tick(1)
    rig.ctl.play_now(DEVICE, rig.item("now-1", 0), command_id="cmd-1")  # now-0 sounds
    await settle()
    assert [s[0] for s in rig.started] == ["now-0"]
    assert agent.outbox.held == 0 and "cmd-1" in _commands_on_disk(agent)
    assert "now-1" in {q.item_id for q in agent.outbox.queued_plays()}


async def test_a_held_command_is_written_even_if_its_journal_row_fails(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge_agent.commands.HELD_WRITE_S", 0.01)
    agent = await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-0", 0), command_id="cmd-0")
    await settle()
    await rig.tick(31)

    def full_disk(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(agent.outbox, "journal_start", full_disk)
    rig.ctl.play_now(DEVICE, rig.item("now-1", 0), command_id="cmd-1")
    await settle()
    assert [s[0] for s in rig.started] == ["now-0", "now-1"]  # it plays all the same
    await asyncio.sleep(0.05)  # the agent's timer runs on the loop's own clock
    assert _commands_on_disk(agent) == {"cmd-0", "cmd-1"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "malformed"),
        (b'{"plan": 1}', "unsigned"),
        (b"x" * (4 * 1024 * 1024 + 1), "too_large"),
    ],
)
async def test_garbage_on_the_plan_topic_is_logged_and_ignored(
    rig: Rig, caplog: pytest.LogCaptureFixture, payload: bytes, reason: str
) -> None:
    agent = await rig.start_agent()
    with caplog.at_level(logging.WARNING):
        rig.ctl.transport.publish(device_topic(DEVICE, DeviceChannel.PLAN), payload)
        await settle()
    assert agent.stats.rejected == {reason: 1}
    assert reason in caplog.text
    assert agent.plan_version is None
    # And the agent still works.
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 5)], version=1)
    await settle()
    assert agent.plan_version == 1


async def test_plan_signed_by_another_key_is_refused(rig: Rig) -> None:
    agent = await rig.start_agent()
    impostor = ControllerStandIn(rig.broker.link("impostor"), now=rig.clock.now)
    impostor.transport.start()
    impostor.send_plan(DEVICE, [rig.item("evil", 1)], version=99)
    await settle()
    assert agent.stats.rejected == {"bad_signature": 1}
    assert agent.plan_version is None


async def test_plan_for_another_device_is_refused(rig: Rig) -> None:
    agent = await rig.start_agent()
    plan = Plan(device_id="other", version=1, generated_at=rig.now, items=())
    rig.ctl.publish(DEVICE, DeviceChannel.PLAN, Kind.PLAN, plan)
    await settle()
    assert agent.stats.rejected == {"wrong_device": 1}


async def test_older_and_equal_plan_versions_are_ignored(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i5", 50)], version=5)
    await settle()
    rig.ctl.send_plan(DEVICE, [rig.item("i4", 10)], version=4)
    rig.ctl.send_plan(DEVICE, [rig.item("i5b", 10)], version=5)
    await settle()
    assert agent.plan_version == 5
    assert [p.item_id for p in agent.queue] == ["i5"]
    saved = agent.plans.load()
    assert saved is not None and saved.version == 5


async def test_late_item_within_grace_plays_beyond_it_is_skipped(rig: Rig) -> None:
    await rig.start_agent(late_start_grace_s=30)
    rig.ctl.send_plan(DEVICE, [rig.item("late-ok", -20), rig.item("too-late", -45)], version=1)
    await settle()
    assert [s[0] for s in rig.started] == ["late-ok"]
    skipped = [e for e in rig.events() if e.item_id == "too-late"]
    assert skipped[0].outcome is Outcome.SKIPPED
    assert skipped[0].reason == "missed start: agent learnt of it 45 s late"
    assert skipped[0].actual_start is None and skipped[0].played_duration_s == 0


async def test_agent_down_at_planned_start_is_recorded_as_such(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 10)], version=1)
    await settle()
    await agent.stop()
    await rig.tick(100)
    await rig.start_agent()
    [event] = rig.events()
    assert event.outcome is Outcome.SKIPPED
    assert event.reason == "agent was down at planned start"


async def test_emergency_preempts_normal_which_is_not_resumed(rig: Rig) -> None:
    await rig.start_agent()
    alarm = rig.fetcher.add(b"flood warning", duration_s=10)
    rig.ctl.send_plan(DEVICE, [rig.item("normal", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(12)
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(10)
    await rig.tick(60)
    normal, flood = rig.events()
    assert (normal.item_id, normal.outcome) == ("normal", Outcome.PREEMPTED)
    assert normal.played_duration_s == 12
    assert normal.reason == "preempted by emergency item flood"
    assert (flood.item_id, flood.outcome, flood.played_duration_s) == (
        "flood",
        Outcome.COMPLETED,
        10,
    )
    assert [s[0] for s in rig.started] == ["normal", "flood"]


async def test_planned_emergency_preempts_at_its_planned_start(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.send_plan(
        DEVICE,
        [rig.item("normal", 1), rig.item("drill", 6, priority=Priority.EMERGENCY)],
        version=1,
    )
    await settle()
    await rig.tick(1)
    await rig.tick(5)
    assert [s[0] for s in rig.started] == ["normal", "drill"]
    await rig.tick(30)
    normal, drill = rig.events()
    assert (normal.outcome, normal.played_duration_s) == (Outcome.PREEMPTED, 5)
    assert drill.outcome is Outcome.COMPLETED


async def test_normal_items_wait_their_turn_in_planned_order(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("b", 10), rig.item("a", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)  # "a" ends at +31; "b" was due at +10 and waited its turn
    assert [s[0] for s in rig.started] == ["a", "b"]
    await rig.tick(30)
    a, b = rig.events()
    assert (a.outcome, b.outcome) == (Outcome.COMPLETED, Outcome.COMPLETED)
    assert b.actual_start is not None
    assert (b.actual_start - b.planned_start).total_seconds() == 21


async def test_stop_command_ends_the_playing_item_as_partial(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1), rig.item("i2", 100)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(7)
    rig.ctl.stop_item(DEVICE, "i1", "wrong file")
    rig.ctl.stop_item(DEVICE, "i2")
    await settle()
    by_item = {e.item_id: e for e in rig.events()}
    i1, i2 = by_item["i1"], by_item["i2"]
    assert (i1.outcome, i1.played_duration_s) == (Outcome.PARTIAL, 7)
    assert i1.reason == "stopped by controller: wrong file"
    assert (i2.outcome, i2.reason) == (Outcome.SKIPPED, "stopped by controller before start")
    assert len(agent.queue) == 0


async def test_an_item_is_never_played_twice(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    rig.ctl.send_plan(DEVICE, [plan_item("i1", rig.media, rig.at(5))], version=2)
    rig.ctl.play_now(DEVICE, rig.item("i1", 0))
    await settle()
    await agent.stop()
    await rig.tick(10)
    await rig.start_agent()
    await rig.tick(60)
    assert [s[0] for s in rig.started] == ["i1"]


async def test_media_with_wrong_sha256_is_refused(rig: Rig) -> None:
    agent = await rig.start_agent()
    good = rig.fetcher.add(b"the real bulletin", duration_s=5)
    rig.fetcher.files[good.url] = b"the fake bulletin"  # same size, other bytes
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1, media=good)], version=1)
    await settle()
    await rig.tick(1)
    [event] = rig.events()
    assert event.outcome is Outcome.FAILED
    assert event.reason is not None and "sha256" in event.reason
    assert rig.started == []
    assert not agent.media.has(good)
    assert list(agent.media.directory.iterdir()) == []


async def test_media_is_prefetched_and_unneeded_files_evicted(rig: Rig) -> None:
    agent = await rig.start_agent()
    other = rig.fetcher.add(b"other", duration_s=5)
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 100), rig.item("i2", 200, media=other)], version=1)
    await settle()
    assert agent.media.has(rig.media) and agent.media.has(other)
    rig.ctl.send_plan(DEVICE, [rig.item("i2", 200, media=other)], version=2)
    await settle()
    assert not agent.media.has(rig.media) and agent.media.has(other)


async def test_flaky_download_is_retried(rig: Rig) -> None:
    agent = await rig.start_agent(media_fetch_attempts=3)
    rig.fetcher.fail_next[rig.media.url] = 2
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 100)], version=1)
    await settle()
    assert agent.media.has(rig.media)
    assert rig.fetcher.calls.count(rig.media.url) == 3


async def test_restart_during_playback_becomes_a_failed_event(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(10)
    await agent.abort()  # power cut: nothing recorded, nothing said
    assert rig.events() == []
    await rig.tick(5)
    again = await rig.start_agent()
    [event] = rig.events()
    assert event.outcome is Outcome.FAILED
    # With the seconds it really sounded, as the journal's ticks prove (it said 0.0 s).
    assert event.played_duration_s == pytest.approx(10, abs=1)
    assert event.reason == "agent restarted during playback"
    assert event.actual_start == rig.at(-15)
    await rig.tick(60)
    assert [s[0] for s in rig.started] == ["i1"]  # not replayed
    assert again.outbox.journal() == []


async def test_clean_shutdown_during_playback_records_partial(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(4)
    await agent.stop()
    [event] = rig.events()
    assert (event.outcome, event.played_duration_s) == (Outcome.PARTIAL, 4)
    assert event.reason == "agent shut down during playback"


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


async def test_missing_media_url_fails_without_crashing(rig: Rig) -> None:
    agent = await rig.start_agent()
    ghost = MediaRef(sha256="0" * 64, url="http://media.test/ghost", duration_s=5, size_bytes=3)
    rig.ctl.send_plan(DEVICE, [rig.item("ghost", 1, media=ghost), rig.item("ok", 2)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(1)
    await rig.tick(30)
    ghost_event, ok_event = rig.events()
    assert ghost_event.outcome is Outcome.FAILED
    assert ghost_event.reason is not None and ghost_event.reason.startswith("media unavailable")
    assert ok_event.outcome is Outcome.COMPLETED
    assert agent.stats.plays_started == 1


async def test_watchdog_is_kicked(rig: Rig) -> None:
    await rig.start_agent()
    assert rig.hardware is not None
    for _ in range(10):
        await rig.tick(20)
    assert not rig.hardware.watchdog.expired()
    assert len(rig.hardware.watchdog.kicks) >= 10


async def test_wait_for_start_resolves_when_sound_starts(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 3)], version=1)
    waiter = asyncio.ensure_future(agent.wait_for_start("i1"))
    await settle()
    assert not waiter.done()
    await rig.tick(3)
    assert waiter.result() == rig.now
    assert await agent.wait_for_start("i1") == rig.now


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
