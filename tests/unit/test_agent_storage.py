"""The agent's durable state: outbox (events, chain, journal, commands) and plan.json."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.controller_stand_in import plan_item
from edge_agent.fake_media import FakeMediaFetcher
from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import QueuedPlay, StoredEvent
from edge_agent.plan_store import PlanStore
from wardcast_protocol.messages import Plan

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


def _event(seq: int) -> StoredEvent:
    return StoredEvent(seq, f"e{seq}", f"wire-{seq}".encode(), f"{seq:064x}")


def test_outbox_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    assert outbox._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_append_is_one_transaction_with_chain_done_item_and_journal(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    assert outbox.chain_head() == (0, "")
    outbox.journal_start("i1", NOW, "{}", 3)
    assert [r.item_id for r in outbox.journal()] == ["i1"]
    outbox.append(_event(1), "i1", NOW)
    assert outbox.chain_head() == (1, f"{1:064x}")
    assert outbox.done_item_ids() == {"i1"}
    assert outbox.journal() == []
    # A second event with the same seq is refused and nothing of it is kept.
    outbox.journal_start("i2", NOW, "{}", 3)
    with pytest.raises(sqlite3.IntegrityError):
        outbox.append(StoredEvent(1, "other", b"x", "d" * 64), "i2", NOW)
    assert outbox.chain_head() == (1, f"{1:064x}")
    assert "i2" not in outbox.done_item_ids()
    assert [r.item_id for r in outbox.journal()] == ["i2"]


def test_acknowledge_deletes_only_pending_ids_and_keeps_the_chain(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    for seq in (1, 2, 3):
        outbox.append(_event(seq), f"i{seq}", NOW)
    assert outbox.acknowledge(["e2", "e2", "nope"]) == ["e2"]
    assert [e.seq for e in outbox.unacked()] == [1, 3]
    outbox.acknowledge(["e1", "e3"])
    assert outbox.pending_count() == 0
    assert outbox.chain_head()[0] == 3
    outbox.close()
    again = Outbox(tmp_path / "outbox.db")
    assert again.chain_head()[0] == 3


def test_commands_are_remembered_once_and_queued_plays_survive(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    queued = QueuedPlay("now-1", '{"x": 1}', NOW)
    assert outbox.remember_command("c1", NOW + timedelta(minutes=1), queued)
    assert not outbox.remember_command("c1", NOW + timedelta(minutes=1), queued)
    assert [q.item_id for q in outbox.queued_plays()] == ["now-1"]
    outbox.append(_event(1), "now-1", NOW)
    assert outbox.queued_plays() == []
    assert outbox.forget_expired_commands(NOW + timedelta(minutes=2)) == 1
    assert outbox.remember_command("c1", NOW + timedelta(minutes=3))


def test_plan_store_round_trips_and_replaces_atomically(tmp_path: Path) -> None:
    store = PlanStore(tmp_path)
    assert store.load() is None
    media = FakeMediaFetcher().add(b"abc")
    plan = Plan(device_id="d1", version=2, generated_at=NOW, items=(plan_item("i", media, NOW),))
    store.save(plan)
    assert store.load() == plan
    assert not list(tmp_path.glob("*.tmp"))


def test_unreadable_plan_file_is_treated_as_no_plan(tmp_path: Path) -> None:
    store = PlanStore(tmp_path)
    store.path.write_text("{half a plan", encoding="utf-8")
    assert store.load() is None


def _commands(path: Path) -> set[str]:
    """Command ids on disk, read through a connection of its own (what a restart sees)."""
    with sqlite3.connect(path) as db:
        return {str(r[0]) for r in db.execute("SELECT command_id FROM commands")}


def test_a_held_command_goes_to_disk_with_the_next_write_in_its_transaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    queued = QueuedPlay("now-1", '{"x": 1}', NOW)
    assert outbox.remember_command("c1", NOW + timedelta(minutes=1), queued, with_next_write=True)
    assert outbox.held == 1 and _commands(path) == set()
    # Seen already, though not yet on disk: held or stored, a duplicate is refused.
    assert not outbox.remember_command("c1", NOW + timedelta(minutes=1), queued)
    assert not outbox.remember_command("c1", NOW, queued, with_next_write=True)
    commits: list[str] = []
    outbox._conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    outbox.journal_start("now-1", NOW, '{"x": 1}', None)
    assert commits == ["COMMIT"]  # the journal row and the command row: one commit
    assert outbox.held == 0 and _commands(path) == {"c1"}
    assert [q.item_id for q in outbox.queued_plays()] == ["now-1"]
    assert not outbox.remember_command("c1", NOW, queued, with_next_write=True)


def test_a_held_command_is_written_on_demand_and_lost_by_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    outbox.remember_command("c1", NOW, with_next_write=True)
    outbox.write_held()
    outbox.write_held()  # nothing held: no empty transaction, no error
    assert _commands(path) == {"c1"}
    outbox.remember_command("c2", NOW, with_next_write=True)
    outbox.close()  # as a crash: the broker had delivered it, the device never wrote it
    assert _commands(path) == {"c1"}


def test_a_held_command_survives_a_failed_transaction(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    outbox.remember_command("c1", NOW, with_next_write=True)
    outbox.append(_event(1), "i1", NOW)
    assert outbox.held == 0 and _commands(path) == {"c1"}  # it went in with the event
    outbox.remember_command("c2", NOW, with_next_write=True)
    with pytest.raises(sqlite3.IntegrityError):
        outbox.append(_event(1), "i2", NOW)  # seq 1 again: the transaction fails
    assert outbox.held == 1 and _commands(path) == {"c1"}  # rolled back, still held
    outbox.write_held()
    assert _commands(path) == {"c1", "c2"}
