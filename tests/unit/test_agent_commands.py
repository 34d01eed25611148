"""EdgeAgent on a FakeClock and a FakeBroker: what reaches it, plans and commands.

Duplicate and expired commands are ignored, and the ids seen survive a restart; a
play-now command is on disk before it sounds (one commit when it starts at once, held
and written later if its journal row fails); garbage, foreign signatures, another
device's plan and stale plan versions are refused and logged, and the agent works on;
a stop command ends the playing item as partial and skips the waiting one.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta

import pytest

from edge_agent.controller_stand_in import ControllerStandIn
from edge_agent.core import EdgeAgent
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.messages import Kind, Outcome, Plan, PlayNow
from wardcast_protocol.topics import DeviceChannel, device_topic

__all__ = ["rig"]  # the fixture, used by name below


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
