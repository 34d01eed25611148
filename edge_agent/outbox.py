"""The device's durable memory: the event outbox and everything that must survive a restart.

One SQLite file (``outbox.db``) in WAL mode with ``synchronous=FULL``, so a commit
is on the SD card before the call returns. It holds:

- ``events``: sealed playback events, written *before* they are published and
  deleted only when the controller acknowledges their id (after RootIO);
- ``chain``: the last sequence number and signed digest, kept even when every event
  is acknowledged, so ``seq`` and ``prev_hash`` continue without a gap;
- ``journal``: "play started" rows, written before a play starts and removed in the
  same transaction as its event, so a play cut short by a crash is still reported;
  while it sounds, the row carries when the sound began and the last instant it was
  known to be sounding (a tick a second), so the report says how long it played;
- ``done_items``: item ids that reached a final outcome, so nothing plays twice;
- ``commands``: command ids already executed (QoS 1 delivers duplicates), with the
  PlayNow items still waiting their turn. A "now" that starts at once may be *held*
  (``remember_command(..., with_next_write=True)``): its row then goes to disk in the
  outbox's next transaction, its play's own journal row a moment later, so an
  emergency waits for one commit (one fsync on the SD card), not two.

Everything an event implies is written in one transaction: the event, the chain
head, the item marked done and its journal row removed. Either all or none.
The values it takes and hands back (events, journal rows, queued plays) are in
``edge_agent/outbox_rows.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from edge_agent.outbox_rows import JournalRow, QueuedPlay, StoredEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    wire BLOB NOT NULL,
    digest TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    last_digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    item_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    item_json TEXT NOT NULL,
    plan_version INTEGER,
    sounding_at TEXT,
    progress_at TEXT,
    ended_json TEXT
);
CREATE TABLE IF NOT EXISTS done_items (
    item_id TEXT PRIMARY KEY,
    done_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    item_id TEXT,
    item_json TEXT,
    due_at TEXT
);
"""

_INSERT_COMMAND = (
    "INSERT OR IGNORE INTO commands (command_id, expires_at, item_id, item_json, due_at)"
    " VALUES (?, ?, ?, ?, ?)"
)


def _iso(ts: datetime) -> str:
    # Fixed width (always microseconds) so that text order is time order in SQL.
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class Outbox:
    """SQLite-backed outbox and journal of one agent (see the module docstring)."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        """Open (or create) the outbox at ``path``.

        ``durable`` (the default, for a real device) makes every commit reach the
        disk before it returns (synchronous=FULL): evidence survives a power cut.
        Simulated fleets pass False (synchronous=NORMAL, still crash-safe in WAL
        mode): hundreds of simulated devices share one disk and one thread, and
        their fsyncs would otherwise queue behind each other.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every write below opens its own explicit transaction.
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._conn.executescript(_SCHEMA)
        self._add_journal_progress()
        # Command rows held for the next transaction (see remember_command).
        self._held: dict[str, tuple[str, str, str | None, str | None, str | None]] = {}

    def _add_journal_progress(self) -> None:
        # An outbox written by an older agent has a journal without the progress columns.
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(journal)")}
        for column in ("sounding_at", "progress_at", "ended_json"):
            if column not in columns:
                self._conn.execute(f"ALTER TABLE journal ADD COLUMN {column} TEXT")

    def close(self) -> None:
        """Close the database. Rows still held are lost, as in a crash: a clean stop
        calls ``write_held`` first."""
        self._held.clear()
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        held, self._held = self._held, {}
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            if held:
                # First, so whatever this transaction does to a held command's row
                # (its play done, say) finds it there; and they commit or fail together.
                self._conn.executemany(_INSERT_COMMAND, held.values())
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back by itself (e.g. on SQLITE_FULL).
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._held = {**held, **self._held}  # still to be written, by the next one
            raise

    # events ----------------------------------------------------------------------

    def chain_head(self) -> tuple[int, str]:
        """The last sequence number and signed digest written (0 and "" when none)."""
        row = self._conn.execute("SELECT last_seq, last_digest FROM chain WHERE id = 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, "")

    def append(self, event: StoredEvent, item_id: str, recorded_at: datetime) -> None:
        """Store an event, advance the chain, mark its item done, close its journal row."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO events (seq, event_id, wire, digest, recorded_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (event.seq, event.event_id, event.wire, event.digest, _iso(recorded_at)),
            )
            db.execute(
                "INSERT INTO chain (id, last_seq, last_digest) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq,"
                " last_digest = excluded.last_digest",
                (event.seq, event.digest),
            )
            db.execute(
                "INSERT OR IGNORE INTO done_items (item_id, done_at) VALUES (?, ?)",
                (item_id, _iso(recorded_at)),
            )
            db.execute("DELETE FROM journal WHERE item_id = ?", (item_id,))
            db.execute("UPDATE commands SET item_json = NULL WHERE item_id = ?", (item_id,))

    def unacked(self) -> list[StoredEvent]:
        """Every event not yet acknowledged, in sequence order."""
        rows = self._conn.execute(
            "SELECT seq, event_id, wire, digest FROM events ORDER BY seq"
        ).fetchall()
        return [StoredEvent(int(s), str(e), bytes(w), str(d)) for s, e, w, d in rows]

    def pending_count(self) -> int:
        """How many events await acknowledgement."""
        return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def acknowledge(self, event_ids: Iterable[str]) -> list[str]:
        """Delete acknowledged events; return the ids that were actually pending."""
        ids = list(dict.fromkeys(event_ids))
        deleted: list[str] = []
        with self._tx() as db:
            for event_id in ids:
                if db.execute("DELETE FROM events WHERE event_id = ?", (event_id,)).rowcount:
                    deleted.append(event_id)
        return deleted

    # journal ---------------------------------------------------------------------

    def journal_start(
        self, item_id: str, started_at: datetime, item_json: str, plan_version: int | None
    ) -> None:
        """Record that a play is starting (before the first sample reaches the amplifier)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO journal (item_id, started_at, item_json, plan_version)"
                " VALUES (?, ?, ?, ?)",
                (item_id, _iso(started_at), item_json, plan_version),
            )

    def journal_sounding(self, item_id: str, at: datetime) -> None:
        """Record the instant a journaled play's first sample sounded."""
        with self._tx() as db:
            db.execute(
                "UPDATE journal SET sounding_at = ?, progress_at = ? WHERE item_id = ?",
                (_iso(at), _iso(at), item_id),
            )

    def journal_progress(self, item_id: str, at: datetime) -> None:
        """Record that a journaled play was still sounding at ``at``."""
        with self._tx() as db:
            db.execute(
                "UPDATE journal SET progress_at = ? WHERE item_id = ? AND sounding_at IS NOT NULL",
                (_iso(at), item_id),
            )

    def journal_end(self, item_id: str, facts_json: str) -> None:
        """Record how a journaled play ended, before its event is written: a crash in
        between is then reported with the play's real outcome, not as a failure."""
        with self._tx() as db:
            db.execute("UPDATE journal SET ended_json = ? WHERE item_id = ?", (facts_json, item_id))

    def journal_cancel(self, item_id: str) -> None:
        """Drop a "play started" row for a play that never made a sound (shutdown in warm-up)."""
        with self._tx() as db:
            db.execute("DELETE FROM journal WHERE item_id = ?", (item_id,))

    def journal(self) -> list[JournalRow]:
        """Plays that started and never got their event (a crash or power cut)."""
        rows = self._conn.execute(
            "SELECT item_id, started_at, item_json, plan_version, sounding_at, progress_at,"
            " ended_json FROM journal ORDER BY started_at"
        ).fetchall()
        return [
            JournalRow(
                str(i),
                _parse(s),
                str(j),
                None if v is None else int(v),
                None if a is None else _parse(a),
                None if p is None else _parse(p),
                None if e is None else str(e),
            )
            for i, s, j, v, a, p, e in rows
        ]

    # items and commands ----------------------------------------------------------

    def done_item_ids(self) -> set[str]:
        """Every item id that reached a final outcome on this device."""
        return {str(r[0]) for r in self._conn.execute("SELECT item_id FROM done_items")}

    def remember_command(
        self,
        command_id: str,
        expires_at: datetime,
        queued: QueuedPlay | None = None,
        *,
        with_next_write: bool = False,
    ) -> bool:
        """Record a command id (and the play it queues) once; False if already seen.

        ``with_next_write`` holds the row for the outbox's next transaction instead of
        a commit of its own: for a "now" about to start, whose journal row is that
        next write. Until then a crash loses it, as it would lose the command between
        the broker's delivery and this call; ``write_held`` writes it if nothing else
        comes (the agent calls it within a second).
        """
        row = (
            command_id,
            _iso(expires_at),
            queued.item_id if queued else None,
            queued.item_json if queued else None,
            _iso(queued.due_at) if queued else None,
        )
        if with_next_write:
            if (
                command_id in self._held
                or self._conn.execute(
                    "SELECT 1 FROM commands WHERE command_id = ?", (command_id,)
                ).fetchone()
            ):
                return False
            self._held[command_id] = row
            return True
        if command_id in self._held:
            return False
        with self._tx() as db:
            return db.execute(_INSERT_COMMAND, row).rowcount == 1

    @property
    def held(self) -> int:
        """How many command rows wait for the next transaction."""
        return len(self._held)

    def write_held(self) -> None:
        """Commit the held command rows now (nothing to do when none is held)."""
        if self._held:
            with self._tx():
                pass

    def queued_plays(self) -> list[QueuedPlay]:
        """PlayNow items accepted and not yet played, oldest first."""
        rows = self._conn.execute(
            "SELECT item_id, item_json, due_at, expires_at FROM commands"
            " WHERE item_json IS NOT NULL ORDER BY due_at"
        ).fetchall()
        return [QueuedPlay(str(i), str(j), _parse(d), _parse(e)) for i, j, d, e in rows]

    def forget_expired_commands(self, now: datetime) -> int:
        """Drop ids of expired commands with nothing left to play (expired ones are refused)."""
        with self._tx() as db:
            cur = db.execute(
                "DELETE FROM commands WHERE expires_at < ? AND (item_json IS NULL"
                " OR item_id IN (SELECT item_id FROM done_items))",
                (_iso(now),),
            )
            return cur.rowcount
