"""The evidence batch path stores exactly what the per-event path stores.

One random sequence of device messages — valid, duplicated, out of order, forged,
malformed, unplanned, chain-breaking, forked, of several devices in two wards — is
fed in the same batches to two controllers: one storing events one by one
(``record_event``, the reference), one storing them together (``evidence.batch``).
Their databases must agree row for row (surrogate ids aside), and so must the acks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from controller.db.models import (
    Broadcast,
    Device,
    DeviceChain,
    EvidenceGap,
    PlannedPlay,
    PlaybackEvidence,
    RejectedMessageLog,
    RejectionCounter,
    SecurityRecord,
)
from controller.db.models.rollups import ReportRollupDirty
from controller.domain.evidence import service as evidence_domain
from controller.domain.places import service as places
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import EventAck, Kind, Trigger
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic

START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
WARDS = {"to-1": "26734", "to-2": "26737"}
TABLES: list[Any] = [
    PlaybackEvidence,
    SecurityRecord,
    EvidenceGap,
    DeviceChain,
    RejectedMessageLog,
    RejectionCounter,
    Broadcast,
]


def _setup(h: Harness, keys: dict[str, SigningKey]) -> None:
    """Two wards, a device in each, the devices' keys, a broadcast sent, its plays planned."""
    with h.runtime.db.session() as session:
        places.upsert_province(session, "79", "Thành phố Hồ Chí Minh")
        places.upsert_district(session, "760", "79", "Quận 1")
        for device_id, ward in WARDS.items():
            places.upsert_ward(session, ward, "760", f"Phường {ward}", "Asia/Ho_Chi_Minh")
            places.upsert_group(session, ward, "01", "Tổ dân phố 01")
            session.flush()
            places.place_device(session, device_id, ward, "01")
        for device_id, key in keys.items():
            # The same keys in both controllers, so both store the same signed bytes.
            session.get_one(Device, device_id).public_key = key.public_key_b64
        session.add(
            Broadcast(id="bc-1", bulletin_id="bul-1", trigger="manual", priority="normal",
                      planned_start=START, status="sent", created_at=START)
        )  # fmt: skip
        for device_id, ward in WARDS.items():
            for n in range(1, 13):
                session.add(
                    PlannedPlay(
                        device_id=device_id, item_id=f"it-{n}", broadcast_id="bc-1",
                        ward_code=ward, kind="media", source_level="commune",
                        priority="normal", trigger="manual", planned_duration_s=12.0,
                        planned_start=START + timedelta(hours=n * 2), first_planned_at=START,
                    )
                )  # fmt: skip
    for device_id in keys:
        h.runtime.bridge.forget_key(device_id)


def _messages(h: Harness, keys: dict[str, SigningKey], rng: random.Random) -> list[ReceivedMessage]:
    """Each device's chain, with its faults, shuffled a little and partly repeated."""
    out: list[ReceivedMessage] = []
    forger = SigningKey.generate()
    for device_id, key in keys.items():
        prev = ""
        for seq in range(1, 11):
            item = f"it-{seq}" if rng.random() > 0.15 else f"unplanned-{seq}"
            programme = rng.random() < 0.1
            changes: dict[str, Any] = {
                "planned_start": START + timedelta(hours=seq * 7),  # days apart from the plan
                "trigger": Trigger.PROGRAMME if programme else Trigger.MANUAL,
            }
            link = prev if rng.random() > 0.1 else "0" * 64  # a chain-breaking link
            event = h.event(device_id, f"ev-{seq}", seq, prev_hash=link, item_id=item, **changes)
            wire, signed = seal_signed(Kind.EVENT, event, device_id, key, START)
            prev = signed_digest(signed)
            out.append(_message(device_id, wire))
            if rng.random() < 0.2:  # the same event again (a resend)
                out.append(_message(device_id, wire))
            if rng.random() < 0.1:  # forged: another key
                out.append(_message(device_id, seal_signed(Kind.EVENT, event, device_id,
                                                           forger, START)[0]))  # fmt: skip
            if rng.random() < 0.05:  # malformed
                out.append(_message(device_id, b'{"signed": 5, "sig": "x"}'))
    for _ in range(len(out) // 3):  # out of order: swap neighbours
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    for i in rng.sample(range(len(out)), len(out) // 4):  # ... and resent later
        out.append(out[i])
    return out


def _message(device_id: str, payload: bytes) -> ReceivedMessage:
    return ReceivedMessage(device_topic(device_id, DeviceChannel.EVENT), payload, False)


def _fork(h: Harness, keys: dict[str, SigningKey]) -> ReceivedMessage:
    """A second, different event claiming seq 3 of to-1: a forked chain."""
    event = h.event("to-1", "ev-fork", 3, item_id="it-3", planned_start=START)
    return _message("to-1", seal_signed(Kind.EVENT, event, "to-1", keys["to-1"], START)[0])


def _contents(h: Harness) -> dict[str, Any]:
    """Every table the ingest of events writes, surrogate ids aside, in a stable order."""
    out: dict[str, Any] = {}
    with h.runtime.db.session() as session:
        for model in TABLES:
            rows = []
            for row in session.scalars(select(model)):
                values = {c.key: getattr(row, c.key) for c in model.__table__.columns}
                values.pop("id", None)
                rows.append(sorted(values.items(), key=lambda kv: kv[0]))
            out[model.__tablename__] = sorted(rows, key=repr)
        dirty = session.execute(select(ReportRollupDirty.ward_code, ReportRollupDirty.local_date))
        out["report_rollup_dirty"] = sorted(set(dirty))
    return out


def _acks(h: Harness) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for device_id in WARDS:
        for published in h.published(device_id, DeviceChannel.ACK):
            body = h.open(published.payload, Kind.ACK).body
            assert isinstance(body, EventAck)
            out.setdefault(device_id, []).append(
                (*sorted(body.event_ids), "|", *sorted(body.refused_event_ids))
            )
    return {d: sorted(a) for d, a in out.items()}


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Harness, Harness, dict[str, SigningKey]]]:
    keys = {d: SigningKey.generate() for d in WARDS}
    one, many = make_harness(tmp_path / "one", START), make_harness(tmp_path / "many", START)
    one.runtime.bridge.batch_evidence = False  # the reference: record_event, one by one
    for h in (one, many):
        _setup(h, keys)
    yield one, many, keys
    for h in (one, many):
        h.runtime.stop()


def _feed(h: Harness, messages: list[ReceivedMessage], sizes: list[int]) -> None:
    i = 0
    for size in sizes:
        h.runtime.bridge._store_batch(messages[i : i + size])
        i += size


def assert_batch_matches_one_by_one(
    one: Harness,
    many: Harness,
    keys: dict[str, SigningKey],
    seed: int,
    fork: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Feed one random sequence (with a fork, if asked) to ``one`` (record_event, one by
    one) and to ``many`` (the batch path) in random batch sizes: same rows, same acks.
    The PostgreSQL tier runs it too (tests/integration/test_evidence_batch_postgres.py)."""
    rng = random.Random(seed)
    messages = _messages(one, keys, rng)
    if fork:
        messages.insert(rng.randrange(len(messages)), _fork(one, keys))
    sizes: list[int] = []
    while sum(sizes) < len(messages):
        sizes.append(rng.choice([2, 5, 17, 60]))
    per_event = evidence_domain.record_event
    calls: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> evidence_domain.Stored:
        calls.append("record_event")
        return per_event(*args, **kwargs)

    _feed(one, messages, sizes)
    monkeypatch.setattr(evidence_domain, "record_event", counted)
    _feed(many, messages, sizes)
    assert _contents(many) == _contents(one)
    assert _acks(many) == _acks(one)
    if not fork:
        assert calls == []  # the batch path did it all, with no fallback
    with many.runtime.db.session() as session:
        assert session.scalars(select(PlaybackEvidence)).all()  # something was stored


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("fork", [False, True])
def test_a_batch_stores_what_one_by_one_stores(
    pair: tuple[Harness, Harness, dict[str, SigningKey]],
    seed: int,
    fork: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, many, keys = pair
    assert_batch_matches_one_by_one(one, many, keys, seed, fork, monkeypatch)
