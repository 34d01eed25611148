"""A flood of junk through the bridge: counted in full, kept only in bounded rows.

Before: 3,000 junk messages added 3,000 rows to ``rejected_messages`` in 4.5 s, and
nothing stopped the next 3 million. Now each source keeps a few rows an hour, the whole
controller a few hundred, the table has a ceiling, and a counter per source and hour
says how many came and how many were dropped — visible through the API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from controller.api.app import create_app
from controller.db.models import RejectedMessageLog, RejectionCounter
from controller.domain.evidence import rejections
from controller.domain.evidence.rejections import (
    DEFAULT_LIMITS,
    OVERFLOW_SOURCE,
    RefusedMessage,
    RejectionLimits,
)
from tests.support.auth import auth_headers as admin_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.topics import DeviceChannel, device_topic

PER_SOURCE = DEFAULT_LIMITS.per_source_per_hour


def auth_headers(h: Harness) -> dict[str, str]:
    """The headers of an administrator: the one place this test says who it is."""
    return admin_headers(h.runtime)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _junk(h: Harness, device_id: str, count: int, start: int = 0) -> None:
    topic = device_topic(device_id, DeviceChannel.EVENT)
    for i in range(start, start + count):
        h.broker.route(device_id, topic, b"junk %d" % i, False, None)


def _rows(h: Harness, device_id: str | None = None) -> int:
    with h.runtime.db.session() as session:
        query = select(func.count()).select_from(RejectedMessageLog)
        if device_id is not None:
            query = query.where(RejectedMessageLog.device_id == device_id)
        return session.scalar(query) or 0


def _counters(h: Harness) -> dict[str, tuple[int, int]]:
    with h.runtime.db.session() as session:
        rejections.flush(session)  # what a full source's refusals tallied in memory
        return {c.source: (c.received, c.stored) for c in session.scalars(select(RejectionCounter))}


def test_thousands_of_junk_payloads_keep_a_few_rows_and_count_the_rest(h: Harness) -> None:
    began = time.monotonic()
    _junk(h, "to-1", 3000)
    elapsed = time.monotonic() - began
    assert _rows(h, "to-1") == PER_SOURCE
    assert _counters(h) == {"to-1": (3000, PER_SOURCE)}
    # The bridge still counts every refusal it saw, and took no unbounded time on them.
    assert h.runtime.bridge.rejected == 3000
    assert elapsed < 60, f"3,000 refusals took {elapsed:.1f} s"

    with TestClient(create_app(runtime=h.runtime), headers=auth_headers(h)) as api:
        (counter,) = api.get("/api/v1/rejected-messages/counters").json()
        assert counter["source"] == "to-1"
        assert (counter["received"], counter["stored"], counter["dropped"]) == (
            3000,
            PER_SOURCE,
            3000 - PER_SOURCE,
        )
        assert len(api.get("/api/v1/rejected-messages", params={"limit": 1000}).json()) == (
            PER_SOURCE
        )


def test_a_full_source_is_counted_in_memory_and_written_in_batches(h: Harness) -> None:
    _junk(h, "to-1", PER_SOURCE + 1)  # now known full: the rest costs no transaction
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    engine = h.runtime.db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        _junk(h, "to-1", 1200, start=PER_SOURCE + 1)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    writes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert len(writes) <= 1200 // DEFAULT_LIMITS.flush_every + 1
    assert _counters(h) == {"to-1": (PER_SOURCE + 1201, PER_SOURCE)}


def test_one_noisy_device_does_not_use_up_another_devices_rows(h: Harness) -> None:
    _junk(h, "to-1", 500)
    _junk(h, "to-2", 5)
    assert (_rows(h, "to-1"), _rows(h, "to-2")) == (PER_SOURCE, 5)
    assert _counters(h)["to-2"] == (5, 5)


def test_a_new_hour_keeps_a_few_rows_again(h: Harness) -> None:
    _junk(h, "to-1", 100)
    asyncio.run(h.clock.advance(3600))
    _junk(h, "to-1", 100, start=100)
    assert _rows(h, "to-1") == 2 * PER_SOURCE
    with h.runtime.db.session() as session:
        rejections.flush(session)
        hours = [(c.received, c.stored) for c in session.scalars(select(RejectionCounter))]
    assert hours == [(100, PER_SOURCE), (100, PER_SOURCE)]


def test_invented_device_ids_share_one_overflow_counter(h: Harness) -> None:
    limits = RejectionLimits(per_source_per_hour=2, sources_per_hour=10)
    now = h.clock.now()
    with h.runtime.db.session() as session:
        for i in range(200):
            message = RefusedMessage(f"t/{i}", f"fake-{i}", "unknown_sender", "", b"x%d" % i)
            rejections.record(session, message, now, limits)
    counters = _counters(h)
    assert len(counters) == limits.sources_per_hour + 1
    assert sum(received for received, _ in counters.values()) == 200
    assert counters[OVERFLOW_SOURCE] == (200 - limits.sources_per_hour, 2)
    # One row for each of the first ten sources, and the overflow's own two.
    assert _rows(h) == limits.sources_per_hour + 2


def test_the_hour_has_a_cap_across_sources(h: Harness) -> None:
    limits = RejectionLimits(per_source_per_hour=5, per_hour=30)
    now = h.clock.now()
    with h.runtime.db.session() as session:
        for i in range(300):
            device = f"to-{i % 50}"
            message = RefusedMessage("t", device, "malformed", "", b"y%d" % i)
            rejections.record(session, message, now, limits)
    assert _rows(h) == limits.per_hour
    assert sum(received for received, _ in _counters(h).values()) == 300


def test_the_same_refused_payload_is_kept_once_and_counted_each_time(h: Harness) -> None:
    topic = device_topic("to-1", DeviceChannel.EVENT)
    for _ in range(5):
        h.broker.route("to-1", topic, b"the same junk", False, None)
    assert _rows(h, "to-1") == 1
    assert _counters(h) == {"to-1": (5, 1)}


def test_the_table_has_a_ceiling_and_old_counters_go(h: Harness) -> None:
    limits = RejectionLimits(
        per_source_per_hour=1000, per_hour=1000, total_rows=50, prune_every=10, counter_days=1
    )
    now = h.clock.now()
    with h.runtime.db.session() as session:
        old = RefusedMessage("t", "to-1", "malformed", "", b"old")
        rejections.record(session, old, now.replace(year=now.year - 1), limits)
        for i in range(300):
            message = RefusedMessage("t", "to-1", "malformed", "", b"m%d" % i)
            rejections.record(session, message, now, limits)
    assert _rows(h) <= limits.total_rows + limits.prune_every
    with h.runtime.db.session() as session:
        hours = list(session.scalars(select(RejectionCounter.hour)))
    assert hours == [rejections.hour_of(now)]
