"""The year's rows loaded in bulk: an *import*, around the domain, so no day is marked dirty.

SQLite: executemany in big transactions with bulk-load pragmas; PostgreSQL: COPY ...
FROM STDIN in text format (the append-only triggers refuse only UPDATE and DELETE).
The column lists follow the order of ``bench.reports_data.device_rows``'s tuples.
"""

from __future__ import annotations

import io
import sqlite3
from typing import Any

from bench.reports_data import Place, Timestamps, device_rows
from controller.db.session import Database

BATCH = 20_000

PLANNED_COLUMNS = (
    "device_id", "item_id", "ward_code", "group_code", "broadcast_id", "bulletin_id",
    "session_key", "kind", "category", "source_level", "priority", "trigger", "planned_start",
    "planned_duration_s", "first_planned_at", "withdrawn_at",
)  # fmt: skip
EVIDENCE_COLUMNS = (
    "device_id", "ward_code", "group_code", "event_id", "seq", "prev_hash", "digest", "item_id",
    "broadcast_id", "bulletin_id", "trigger", "priority", "source_level", "media_sha256",
    "planned_start", "planned_duration_s", "actual_start", "played_duration_s", "outcome",
    "reason", "session_key", "relayed_s", "relay_gap_s", "fallback_s", "plan_version",
    "amplifier_on", "volume", "recorded_at", "received_at", "signed", "sig",
)  # fmt: skip


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"


def load_sqlite(db: Database, devices: list[Place], seed: int) -> tuple[int, int]:
    """executemany in big transactions with bulk-load pragmas; (planned, evidence) rows."""
    raw = db.engine.raw_connection()
    conn = raw.driver_connection
    assert isinstance(conn, sqlite3.Connection)  # the pysqlite driver's own connection
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache: the indexes stay hot
    conn.execute("PRAGMA temp_store=MEMORY")
    fmt = Timestamps("")
    planned_sql = _insert_sql("planned_plays", PLANNED_COLUMNS)
    evidence_sql = _insert_sql("playback_evidence", EVIDENCE_COLUMNS)
    counts = [0, 0]
    planned_rows: list[tuple[Any, ...]] = []
    evidence_rows: list[tuple[Any, ...]] = []

    def flush() -> None:
        conn.executemany(planned_sql, planned_rows)
        conn.executemany(evidence_sql, evidence_rows)
        conn.commit()
        counts[0] += len(planned_rows)
        counts[1] += len(evidence_rows)
        planned_rows.clear()
        evidence_rows.clear()

    for place in devices:
        for planned, evidence in device_rows(place, seed, fmt):
            planned_rows.append(planned)
            if evidence is not None:
                evidence_rows.append(evidence)
        if len(planned_rows) >= BATCH * 5:
            flush()
    flush()
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("ANALYZE")
    raw.close()
    return counts[0], counts[1]


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    return str(value)


def load_postgres(db: Database, devices: list[Place], seed: int) -> tuple[int, int]:
    """COPY ... FROM STDIN in text format; (planned, evidence) rows."""
    raw = db.engine.raw_connection()
    conn: Any = raw.driver_connection
    fmt = Timestamps("+00")
    counts = [0, 0]
    buffers = [io.StringIO(), io.StringIO()]
    statements = (
        f"COPY planned_plays ({','.join(PLANNED_COLUMNS)}) FROM STDIN",
        f"COPY playback_evidence ({','.join(EVIDENCE_COLUMNS)}) FROM STDIN",
    )

    def flush() -> None:
        with conn.cursor() as cur:
            for i, statement in enumerate(statements):
                with cur.copy(statement) as copy:
                    copy.write(buffers[i].getvalue())
                buffers[i].seek(0)
                buffers[i].truncate()
        conn.commit()

    pending = 0
    for place in devices:
        for planned, evidence in device_rows(place, seed, fmt):
            buffers[0].write("\t".join(map(_copy_text, planned)) + "\n")
            counts[0] += 1
            pending += 1
            if evidence is not None:
                buffers[1].write("\t".join(map(_copy_text, evidence)) + "\n")
                counts[1] += 1
        if pending >= BATCH * 5:
            flush()
            pending = 0
    flush()
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.commit()
    raw.close()
    return counts[0], counts[1]
