"""Build a ward's evidence bundle for a period from the controller's database.

What goes in, per device of the ward (see docs/evidence.md for the whole format):

- the *span*: every stored event from the first to the last one whose planned start
  falls in the period and that the controller attributed to this ward, in sequence
  order. Events inside the span that fall outside the period (a late "skipped"
  report, a spell in another ward) are included too, marked ``link_only``: without
  them the hash chain could not be followed across the span;
- ``chain_anchor``: the last stored event *before* the span (seq and digest), so the
  first row's ``prev_hash`` can be checked; ``{0, ""}`` when the span starts the chain;
- ``chain_head``: the last row's seq and digest, so a dropped tail shows;
- ``declared_missing``: the sequence numbers the controller itself does not hold
  between the anchor and the next stored event after the head.

Every query runs in the caller's session; evidence rows are read first and planned
plays after, so an event arriving meanwhile can never make a play look missed while
its row is in the bundle.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from controller.db.models import Device, PlannedPlay, PlaybackEvidence
from controller.domain.errors import InvalidInput
from controller.domain.evidence.bundles.format import (
    FORMAT,
    PERIOD_BASIS,
    content_digest,
    dump_bundle,
    iso_utc,
    period_label,
    signing_message,
    write_atomic,
)
from controller.domain.places.service import devices_of, get_ward
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.version import PROTOCOL_VERSION

Evidence = PlaybackEvidence


def check_period(start: datetime, end: datetime) -> None:
    """Refuse a naive, empty or inverted period with a sentence for the officer."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("give the period with a time zone (e.g. 2026-01-01T00:00:00+07:00)")
    if end <= start:
        raise InvalidInput(
            f"the period ends ({iso_utc(end)}) before it starts ({iso_utc(start)}); "
            "'to' must be after 'from'"
        )


def _generator() -> str:
    try:
        return f"wardcast {importlib.metadata.version('wardcast')}"
    except importlib.metadata.PackageNotFoundError:
        return "wardcast"


def _ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Sorted numbers as inclusive [from, to] runs: 3,4,5,9 -> [[3, 5], [9, 9]]."""
    runs: list[list[int]] = []
    for seq in sorted(seqs):
        if runs and seq == runs[-1][1] + 1:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    return runs


def _device_entry(
    session: Session,
    device: Device,
    span: tuple[int, int] | None,
    ward_code: str,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """One device: identity, key, and its chain across the span."""
    entry: dict[str, Any] = {
        "device_id": device.id,
        "name": device.name,
        "group_code": device.group_code if device.ward_code == ward_code else None,
        "public_key": device.public_key,
        "chain_anchor": None,
        "chain_head": None,
        "declared_missing": [],
        "rows": [],
    }
    if span is None:
        return entry  # placed in the ward, silent in the period: shown, not hidden
    low, high = span
    found = session.execute(
        select(Evidence.seq, Evidence.event_id, Evidence.signed, Evidence.sig)
        .add_columns(Evidence.ward_code, Evidence.planned_start)
        .where(Evidence.device_id == device.id, Evidence.seq >= low, Evidence.seq <= high)
        .order_by(Evidence.seq)
    ).all()
    rows: list[dict[str, Any]] = []
    for seq, event_id, signed, sig, row_ward, planned_start in found:
        row: dict[str, Any] = {"seq": seq, "event_id": event_id, "signed": signed, "sig": sig}
        if row_ward != ward_code or not start <= planned_start < end:
            row["link_only"] = True
        rows.append(row)
    anchor = session.execute(
        select(Evidence.seq, Evidence.signed)
        .where(Evidence.device_id == device.id, Evidence.seq < low)
        .order_by(Evidence.seq.desc())
        .limit(1)
    ).first()
    anchor_seq = anchor[0] if anchor else 0
    # Digests are computed from the stored bytes, not copied from the digest column:
    # the bundle states what the signed documents themselves hash to.
    anchor_digest = hashlib.sha256(anchor[1].encode()).hexdigest() if anchor else ""
    following = session.scalar(
        select(func.min(Evidence.seq)).where(Evidence.device_id == device.id, Evidence.seq > high)
    )
    present = {row["seq"] for row in rows}
    through = (following - 1) if following is not None else high
    absent = (s for s in range(anchor_seq + 1, through + 1) if s not in present)
    last = rows[-1]
    entry.update(
        chain_anchor={"seq": anchor_seq, "digest": anchor_digest},
        chain_head={
            "seq": last["seq"],
            "digest": hashlib.sha256(last["signed"].encode()).hexdigest(),
        },
        declared_missing=_ranges(absent),
        rows=rows,
    )
    return entry


def _planned(
    session: Session, ward_code: str, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """The controller's view of what was owed: plays due in the period, and those unconfirmed."""
    owed = and_(
        PlannedPlay.ward_code == ward_code,
        PlannedPlay.planned_start >= start,
        PlannedPlay.planned_start < end,
        PlannedPlay.withdrawn_at.is_(None),
    )
    due = PlannedPlay.planned_start < now
    confirmed = exists().where(
        Evidence.device_id == PlannedPlay.device_id, Evidence.item_id == PlannedPlay.item_id
    )
    count_due = session.scalar(select(func.count()).where(owed, due)) or 0
    not_yet = session.scalar(select(func.count()).where(owed, ~due)) or 0
    missed = session.scalars(
        select(PlannedPlay)
        .where(owed, due, ~confirmed)
        .order_by(PlannedPlay.planned_start, PlannedPlay.device_id, PlannedPlay.item_id)
    )
    return {
        "due": count_due,
        "not_yet_due": not_yet,
        "without_evidence": [
            {
                "device_id": p.device_id,
                "item_id": p.item_id,
                "broadcast_id": p.broadcast_id,
                "bulletin_id": p.bulletin_id,
                "planned_start": iso_utc(p.planned_start),
                # Integer milliseconds: the bundle holds no floats (see format.py).
                "planned_duration_ms": round(p.planned_duration_s * 1000),
                "source_level": p.source_level,
                "priority": p.priority,
                "trigger": p.trigger,
            }
            for p in missed
        ],
    }


def build_bundle(
    session: Session,
    ward_code: str,
    start: datetime,
    end: datetime,
    controller_key: SigningKey | None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The evidence bundle of ``ward_code`` for [start, end), signed by the controller.

    Raises ``NotFound`` for an unknown ward and ``InvalidInput`` for a period that is
    naive, empty or inverted.
    """
    check_period(start, end)
    ward = get_ward(session, ward_code)
    now = now or datetime.now(UTC)
    spans = {
        device_id: (low, high)
        for device_id, low, high in session.execute(
            select(Evidence.device_id, func.min(Evidence.seq), func.max(Evidence.seq))
            .where(
                Evidence.ward_code == ward_code,
                Evidence.planned_start >= start,
                Evidence.planned_start < end,
            )
            .group_by(Evidence.device_id)
        )
    }
    # Devices placed here now, and any that reported here in the period and moved on.
    devices = {d.id: d for d in devices_of(session, ward_code)}
    if missing_ids := sorted(set(spans) - set(devices)):
        devices.update(
            {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(missing_ids)))}
        )
    entries = [
        _device_entry(session, devices[device_id], spans.get(device_id), ward_code, start, end)
        for device_id in sorted(devices)
    ]
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "protocol_version": PROTOCOL_VERSION,
        "generator": _generator(),
        "generated_at": iso_utc(now),
        "ward": {"code": ward.code, "name": ward.name, "timezone": ward.timezone},
        "period": {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "label": period_label(start, end, ward.timezone),
            "basis": PERIOD_BASIS,
        },
        "devices": entries,
        "planned": _planned(session, ward_code, start, end, now),
        "controller_public_key": controller_key.public_key_b64 if controller_key else None,
    }
    digest = content_digest(bundle)
    bundle["bundle_digest"] = digest
    if controller_key is not None:
        bundle["controller_signature"] = controller_key.sign(signing_message(digest))
    return bundle


def write_bundle(bundle: dict[str, Any], path: Path) -> str:
    """Write a bundle file atomically; returns the sha256 hex of the file's bytes."""
    return write_atomic(path, dump_bundle(bundle))


def row_count(bundle: dict[str, Any]) -> int:
    """How many event rows a bundle carries (link-only rows included)."""
    return sum(len(entry["rows"]) for entry in bundle["devices"])
