"""What an agent refuses, and its security log (nhật ký an ninh), reported to the controller.

A signed command is acted on only if it is meant for this device, now, once:

- ``retained``: delivered as a stored (retained) copy. A command is never retained,
  so a stored one is somebody's plant, and would play again on every reconnect;
- ``not_addressed``: its ``device_ids`` do not name this device (a command captured on
  another device's topic and republished here);
- ``issued_in_future``: issued more than ``CLOCK_SKEW_S`` ahead of this device's clock;
- ``expired``: its ``expires_at`` has passed;
- ``replayed``: its ``command_id`` was seen before. The ids live in the outbox's
  ``commands`` table (on disk, in the same transaction as the play they queue) until
  well after they expire, so a restart does not reopen the window.

Every refusal, and every message that fails verification (bad signature, malformed…),
is written to ``security.db`` in the data folder *before* its signed ``SecurityReport``
is published on the device's ``security`` channel; the report is resent until the
controller acknowledges its id (like an event, outside the evidence chain). Entries
stay in the log after the ack, for whoever inspects the device, up to ``MAX_ENTRIES``.

A flood is bounded: past ``MAX_PER_MINUTE`` refusals in a minute the rest are only
counted, and one ``flood`` entry sums them up when the minute is over. A QoS 1
redelivery of a command already executed also reads as ``replayed``: the device cannot
tell it from a replay, and says so in the detail.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Command, Kind, PlayNow, SecurityReport, StopItem
from wardcast_protocol.signing import SigningKey

log = logging.getLogger(__name__)

CLOCK_SKEW_S = 120.0
"""How far ahead of this device's clock a command may be issued and still be accepted.

Generous on purpose: a Pi has no battery clock, and one that booted before NTP caught up
would otherwise refuse an emergency. The controller flags devices whose clock is off."""

MAX_ENTRIES = 5000
"""Entries kept in the security log; acknowledged ones go first when it is full."""
MAX_PER_MINUTE = 30
"""Refusals logged (and reported) one by one per minute; the rest are counted."""

RETAINED = "retained"
NOT_ADDRESSED = "not_addressed"
FROM_THE_FUTURE = "issued_in_future"
EXPIRED = "expired"
REPLAYED = "replayed"
FLOOD = "flood"
EVENT_REFUSED = "event_refused"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    topic TEXT NOT NULL,
    detail TEXT NOT NULL,
    command_id TEXT,
    item_id TEXT,
    wire BLOB,
    acked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_entries_unacked ON entries (acked, id);
"""


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a message is not acted on, in a short code and a sentence."""

    reason: str
    detail: str


def check_command(
    command: Command, device_id: str, now: datetime, *, retained: bool
) -> Refused | None:
    """Why this verified command must not be acted on here and now; None if it may be.

    The replay check is the caller's: it needs the durable memory of seen ids.
    """
    if retained:
        return Refused(RETAINED, "delivered as a retained copy; commands are never retained")
    if device_id not in command.device_ids:
        named = ", ".join(command.device_ids[:5]) + (" …" if len(command.device_ids) > 5 else "")
        return Refused(NOT_ADDRESSED, f"command is for {named}, not this device")
    ahead_s = (command.issued_at - now).total_seconds()
    if ahead_s > CLOCK_SKEW_S:
        return Refused(
            FROM_THE_FUTURE,
            f"issued at {_when(command.issued_at)}, {ahead_s:.0f} s ahead of this device's "
            f"clock (tolerance {CLOCK_SKEW_S:.0f} s)",
        )
    if command.expires_at < now:
        return Refused(EXPIRED, f"expired at {_when(command.expires_at)}")
    return None


def item_of(command: Command) -> str | None:
    """The item a command would play or stop, for the log."""
    order = command.order
    if isinstance(order, PlayNow):
        return order.item.item_id
    return order.item_id if isinstance(order, StopItem) else None


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A sealed security report as kept until acknowledged."""

    report_id: str
    wire: bytes


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the security log, as a person reading the device would see it."""

    report_id: str
    at: datetime
    reason: str
    topic: str
    detail: str
    command_id: str | None
    item_id: str | None
    acked: bool


class SecurityLog:
    """The device's security log in SQLite, and the outbox of its reports."""

    def __init__(
        self, path: Path, device_id: str, key: SigningKey, clock: Clock, *, durable: bool = True
    ) -> None:
        """Open (or create) the log at ``path``; ``durable`` as for the outbox."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._conn.executescript(_SCHEMA)
        self._device_id = device_id
        self._key = key
        self._clock = clock
        self._minute: datetime | None = None
        self._in_minute = 0
        self._suppressed: Counter[str] = Counter()

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def refuse(
        self,
        refused: Refused,
        topic: str,
        command: Command | None = None,
        *,
        report: bool = True,
    ) -> list[StoredReport]:
        """Log a refusal (and seal its report unless ``report`` is False); what to send now.

        Returns the reports to publish: this one, after a ``flood`` summary of the minute
        before if one was due; none if this refusal is only counted (a flood).
        """
        now = self._clock.now()
        ready = self.flush_suppressed()
        minute = now.replace(second=0, microsecond=0)
        if minute != self._minute:
            self._minute, self._in_minute = minute, 0
        self._in_minute += 1
        if self._in_minute > MAX_PER_MINUTE:
            if not self._suppressed:
                log.warning("%s: refusals flooding; counting the rest of the minute", topic)
            self._suppressed[refused.reason] += 1
            return ready
        command_id = command.command_id if command is not None else None
        log.warning(
            "%s: refused %s on %s: %s (%s)",
            self._device_id,
            f"command {command_id}" if command_id else "a message",
            topic or "-",
            refused.reason,
            refused.detail,
        )
        body = SecurityReport(
            report_id=uuid.uuid4().hex,
            at=now,
            reason=refused.reason,
            topic=topic[:300],
            detail=refused.detail[:500],
            command_id=command_id,
            item_id=item_of(command) if command is not None else None,
        )
        stored = self._write(body, report)
        return [*ready, stored] if stored is not None else ready

    def flush_suppressed(self) -> list[StoredReport]:
        """Once the flooded minute is over, log one ``flood`` entry summing it up."""
        minute = self._clock.now().replace(second=0, microsecond=0)
        if not self._suppressed or minute == self._minute:
            return []
        counted = ", ".join(f"{reason} ×{n}" for reason, n in self._suppressed.most_common())
        total = sum(self._suppressed.values())
        self._suppressed.clear()
        started = self._minute or minute
        summary = SecurityReport(
            report_id=uuid.uuid4().hex,
            at=self._clock.now(),
            reason=FLOOD,
            topic="",
            detail=f"{total} more refusals in the minute from {_when(started)}, "
            f"counted not logged: {counted}"[:500],
        )
        stored = self._write(summary, True)
        return [stored] if stored is not None else []

    def _write(self, body: SecurityReport, report: bool) -> StoredReport | None:
        wire = seal(Kind.SECURITY, body, self._device_id, self._key, body.at) if report else None
        with self._tx() as db:
            db.execute(
                "INSERT INTO entries (report_id, at, reason, topic, detail, command_id, item_id,"
                " wire, acked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    body.report_id,
                    _iso(body.at),
                    body.reason,
                    body.topic,
                    body.detail,
                    body.command_id,
                    body.item_id,
                    wire,
                    0 if report else 1,
                ),
            )
            excess = db.execute("SELECT count(*) FROM entries").fetchone()[0] - MAX_ENTRIES
            if excess > 0:
                # Acknowledged entries go first, oldest first: what the controller has.
                db.execute(
                    "DELETE FROM entries WHERE id IN (SELECT id FROM entries"
                    " ORDER BY acked DESC, id LIMIT ?)",
                    (excess,),
                )
        return StoredReport(body.report_id, wire) if wire is not None else None

    def unacked(self) -> list[StoredReport]:
        """Reports not yet acknowledged, oldest first."""
        rows = self._conn.execute(
            "SELECT report_id, wire FROM entries WHERE acked = 0 ORDER BY id"
        ).fetchall()
        return [StoredReport(str(r), bytes(w)) for r, w in rows]

    def acknowledge(self, report_ids: Iterable[str]) -> list[str]:
        """Mark reports the controller stored; return the ids that were pending."""
        done: list[str] = []
        with self._tx() as db:
            for report_id in dict.fromkeys(report_ids):
                cur = db.execute(
                    "UPDATE entries SET acked = 1, wire = NULL WHERE report_id = ? AND acked = 0",
                    (report_id,),
                )
                if cur.rowcount:
                    done.append(report_id)
        return done

    def entries(self, limit: int = 100) -> list[LogEntry]:
        """The newest entries first."""
        rows = self._conn.execute(
            "SELECT report_id, at, reason, topic, detail, command_id, item_id, acked"
            " FROM entries ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            LogEntry(str(r), _parse(a), str(why), str(t), str(d), c, i, bool(k))
            for r, a, why, t, d, c, i, k in rows
        ]


def forget_before(now: datetime) -> datetime:
    """Seen command ids may be forgotten once expired *this* long ago: a clock stepped
    back by up to the skew tolerance must not make a forgotten command look new."""
    return now - timedelta(seconds=CLOCK_SKEW_S)


def _when(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds")


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
