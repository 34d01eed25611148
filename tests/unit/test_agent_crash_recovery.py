"""A play cut by a crash is reported with the seconds it really played.

It used to be "failed, played 0.0 s" although eight seconds had sounded: the journal
knew only that the play began. Now the row carries its first sample's instant and a
tick a second while it sounds. A crash stays a FAILED play (the device failed, and
the ticks prove what sounded before it, not that the rest did), with those seconds.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.evidence import PlayFacts, facts_from_json, facts_to_json
from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import JournalRow
from edge_agent.play_journal import RESTART_REASON, interrupted_play_facts
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.messages import Outcome, RelayStats

__all__ = ["rig"]  # the fixture, used by name below

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


async def test_a_crash_eight_seconds_in_reports_eight_seconds(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 2)], version=1)
    await settle()
    await rig.tick(2)
    await rig.tick(8.4)
    await agent.abort()
    await rig.tick(30)
    await rig.start_agent()
    [event] = rig.events()
    assert (event.outcome, event.reason) == (Outcome.FAILED, RESTART_REASON)
    assert event.played_duration_s == pytest.approx(8.4, abs=1)
    assert event.actual_start == rig.at(-38.4)


async def test_a_crash_before_the_first_sample_is_failed_with_nothing_played(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 5)], version=1)
    await settle()
    await rig.tick(4.5)  # prepared and journaled, waiting for its instant
    assert [row.item_id for row in agent.outbox.journal()] == ["i1"]
    await agent.abort()
    await rig.start_agent()
    [event] = rig.events()
    assert (event.outcome, event.played_duration_s) == (Outcome.FAILED, 0.0)


async def test_a_play_that_ends_leaves_no_journal_row(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(40)
    [event] = rig.events()
    assert event.outcome is Outcome.COMPLETED
    assert agent.outbox.journal() == []


def test_the_journal_keeps_the_first_sample_and_the_last_tick(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", durable=False)
    outbox.journal_start("i1", NOW, "{}", 3)
    outbox.journal_progress("i1", NOW + timedelta(seconds=1))  # not sounding yet: ignored
    assert outbox.journal()[0].played_s == 0.0
    outbox.journal_sounding("i1", NOW + timedelta(seconds=0.2))
    outbox.journal_progress("i1", NOW + timedelta(seconds=7.2))
    [row] = outbox.journal()
    assert row.sounding_at == NOW + timedelta(seconds=0.2)
    assert row.played_s == pytest.approx(7.0)
    facts = interrupted_play_facts(row)
    assert (facts.outcome, facts.played_s, facts.actual_start) == (
        Outcome.FAILED,
        7.0,
        NOW + timedelta(seconds=0.2),
    )
    outbox.close()


def test_an_old_journal_is_upgraded_and_its_rows_still_recover(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE journal (item_id TEXT PRIMARY KEY, started_at TEXT NOT NULL,"
        " item_json TEXT NOT NULL, plan_version INTEGER);"
        "INSERT INTO journal VALUES ('i0', '2026-11-22T05:00:00.000000+00:00', '{}', 2);"
    )
    old.commit()
    old.close()
    outbox = Outbox(path, durable=False)
    [row] = outbox.journal()
    assert row == JournalRow("i0", NOW, "{}", 2)
    facts = interrupted_play_facts(row)
    assert (facts.outcome, facts.played_s, facts.actual_start) == (Outcome.FAILED, 0.0, NOW)
    outbox.close()


async def test_a_crash_after_the_end_before_its_event_reports_the_real_outcome(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The event of a play that ended is signed and stored off the timing path; a crash
    # in between finds the journal row, which now says how the play ended.
    agent = await rig.start_agent()
    monkeypatch.setattr(agent.recorder, "write_event", lambda item, facts: None)  # "crashes" first
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(31)
    [row] = agent.outbox.journal()
    assert row.ended_json is not None
    await agent.abort()
    await rig.start_agent()
    [event] = rig.events()
    assert (event.outcome, event.played_duration_s) == (Outcome.COMPLETED, 30)
    assert event.actual_start == rig.at(-31)


def test_ended_facts_round_trip_and_a_torn_note_falls_back_to_a_cut(tmp_path: Path) -> None:
    relay = RelayStats(stream_url="http://radio.example/vov1", relayed_s=58.5, gap_count=1)
    facts = PlayFacts(
        Outcome.PARTIAL,
        "stream ended early",
        actual_start=NOW,
        played_s=58.5,
        plan_version=4,
        amplifier_on=True,
        volume=70,
        relay=relay,
    )
    assert facts_from_json(facts_to_json(facts)) == facts
    outbox = Outbox(tmp_path / "outbox.db", durable=False)
    outbox.journal_start("i1", NOW, "{}", 4)
    outbox.journal_end("i1", '{"outcome": "no-such-outcome"}')
    [row] = outbox.journal()
    assert interrupted_play_facts(row).outcome is Outcome.FAILED  # unreadable: as a cut
    outbox.close()
