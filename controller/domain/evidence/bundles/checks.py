"""The checks on one device's rows: shape, content, order, the hash chain, the period.

Standard library and the verifier's own modules: part of the offline verifier.
``DeviceCheck`` judges one device entry row by row (``feed``, in file order, each
row's signature already checked by ``signatures``) and then as a whole (``finish``:
order, chain, missing numbers, period). The faults it reports are the words of
``faults``; the runs of sequence numbers it counts with are ``sequences``.
This module keeps the one stateful part, what a device's rows have shown so far;
the rest moved out so that each piece can be read, and reused, without it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controller.domain.evidence.bundles.faults import DeviceResult, Fault, FaultKind
from controller.domain.evidence.bundles.format import parse_utc
from controller.domain.evidence.bundles.sequences import gaps, intersect, merge, runs, subtract
from controller.domain.evidence.bundles.signatures import RowWork, check_signatures, prepare


@dataclass(frozen=True, slots=True)
class Period:
    """The bundle's period, [start, end) by planned start."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class _Row:
    """A row whose signature and content checked out."""

    seq: int
    event_id: str
    digest: str
    prev_hash: str
    planned_start: datetime
    item_id: str
    link_only: bool


def _content_problem(
    doc: Any, device_id: str, seq: int, event_id: str
) -> tuple[str | None, datetime | None]:
    """Why a correctly signed document does not match its row (or None), and its
    planned start."""
    if not isinstance(doc, dict) or doc.get("kind") != "event":
        return "the signed document is not an event", None
    body = doc.get("body")
    if not isinstance(body, dict):
        return "the signed document has no event body", None
    if body.get("device_id") != device_id:
        return f"the signed event names device {body.get('device_id')!r}", None
    if body.get("seq") != seq or type(body.get("seq")) is not int:
        return f"the row says seq {seq}, the signed event says {body.get('seq')!r}", None
    if body.get("event_id") != event_id:
        said = body.get("event_id")
        return f"the row says event {event_id!r}, the signed event says {said!r}", None
    if not isinstance(body.get("prev_hash"), str):
        return "the signed event has no prev_hash", None
    planned = parse_utc(body.get("planned_start"))
    if planned is None:
        return "the signed event has no valid planned_start", None
    return None, planned


class DeviceCheck:
    """Checks one device entry; collects its faults and the evidence it confirms.

    Rows arrive one at a time (``feed``, in file order), so a year of them need not be
    in memory at once; ``finish`` runs the checks that need every row. Only a small
    record per good row is kept (its digest stands for its text: same digest, same event).
    """

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry  # the device's entry; its rows may be streamed instead
        self.device_id: str = entry["device_id"]
        self.key: str = entry["public_key"]
        self.result = DeviceResult(self.device_id, entry.get("group_code"))
        self.faults: list[Fault] = []
        self.confirmed_items: set[str] = set()  # item ids of authentic rows
        self.rows = 0
        self._good: dict[int, _Row] = {}
        self._claimed: set[int] = set()  # seqs named by a row of this device, even a bad one
        self._order: list[int] = []
        self._faulty: set[int] = set()
        # FOREIGN faults whose wording waits for the ward's whole device list.
        self._senders: list[tuple[int, str, int]] = []

    def _fault(
        self, kind: FaultKind, detail: str, seq: int | None = None, event_id: str | None = None
    ) -> None:
        self.faults.append(Fault(kind, detail, self.device_id, seq, None, event_id))
        if seq is not None:
            self._faulty.add(seq)
            bucket = {
                FaultKind.TAMPERED: self.result.tampered,
                FaultKind.BROKEN_LINK: self.result.broken_links,
                FaultKind.FOREIGN: self.result.foreign,
                FaultKind.DUPLICATE: self.result.duplicate,
            }.get(kind)
            if bucket is not None and seq not in bucket:
                bucket.append(seq)

    def run(self, period: Period, ward_devices: set[str]) -> DeviceCheck:
        """Every check of an entry whose rows are all in memory, one row after another."""
        for row in self.entry["rows"]:
            work = prepare(row, self.device_id)
            check_signatures(self.key, (work,))
            self.feed(work)
        return self.finish(period, ward_devices)

    def feed(self, work: RowWork) -> None:
        """Judge the next row of the file, its signature already checked."""
        self.rows += 1
        self._read(self.rows - 1, work)

    def finish(self, period: Period, ward_devices: set[str]) -> DeviceCheck:
        """Every check that needs all rows, in the order that keeps one cause from being
        reported twice; ``ward_devices`` words a FOREIGN row, ``period`` bounds the rows."""
        for index, sender, seq in self._senders:
            whose = (
                "another device of this ward"
                if sender in ward_devices
                else "a device not of this ward"
            )
            old = self.faults[index]
            self.faults[index] = Fault(
                old.kind, f"seq {seq} is an event of {sender!r}, {whose}", old.device_id,
                old.seq, old.to_seq, old.event_id,
            )  # fmt: skip
        self._check_order()
        self._check_chain()
        self._check_period(period)
        result = self.result
        for seq, row in self._good.items():
            if seq not in self._faulty:
                if row.link_only:
                    result.links += 1
                else:
                    result.valid += 1
        for bucket in (result.tampered, result.broken_links, result.foreign, result.duplicate):
            bucket.sort()
        return self

    def _read(self, index: int, work: RowWork) -> None:
        """One row: shape, whose it is, signature, content, duplicates."""
        where = f"row {index + 1} of {self.device_id}"
        row = work.row
        if not isinstance(row, dict):
            self._fault(FaultKind.TAMPERED, f"{where} is not an object")
            return
        seq, event_id = row.get("seq"), row.get("event_id")
        signed, sig = row.get("signed"), row.get("sig")
        if type(seq) is not int or not isinstance(event_id, str):
            self._fault(FaultKind.TAMPERED, f"{where} has no valid seq and event_id")
            return
        if not isinstance(signed, str) or not isinstance(sig, str):
            self._fault(FaultKind.TAMPERED, f"{where} has no signed document", seq, event_id)
            self._claimed.add(seq)
            return
        doc = work.doc
        sender = doc.get("sender") if isinstance(doc, dict) else None
        if isinstance(sender, str) and sender != self.device_id:
            # Another device's event: its own key may well verify it, but it is not
            # this device's evidence. Not "claimed", so a row it displaced shows missing.
            self._senders.append((len(self.faults), sender, seq))
            self._fault(FaultKind.FOREIGN, f"seq {seq} is an event of {sender!r}", None, event_id)
            self.result.foreign.append(seq)
            return
        self._claimed.add(seq)
        self._order.append(seq)
        if not work.ok:
            self._fault(
                FaultKind.TAMPERED,
                "the signature does not match the device's key: the row was altered",
                seq,
                event_id,
            )
            return
        problem, planned = _content_problem(doc, self.device_id, seq, event_id)
        if problem is not None or planned is None:
            self._fault(FaultKind.TAMPERED, problem or "", seq, event_id)
            return
        assert isinstance(doc, dict)  # _content_problem checked it
        body = doc["body"]
        digest = hashlib.sha256(work.data or b"").hexdigest()
        if seq in self._good:
            same = self._good[seq].digest == digest
            detail = (
                f"seq {seq} appears twice"
                if same
                else f"two different signed events carry seq {seq}: the device forked its chain"
            )
            self._fault(FaultKind.DUPLICATE, detail, seq, event_id)
            return
        self._good[seq] = _Row(
            seq=seq,
            event_id=event_id,
            digest=digest,
            prev_hash=body["prev_hash"],
            planned_start=planned,
            item_id=str(body.get("item_id")),
            link_only=row.get("link_only") is True,
        )
        self.confirmed_items.add(str(body.get("item_id")))

    def _check_order(self) -> None:
        """Rows must be in sequence order; name every row that is out of place."""
        expected = sorted(self._order)
        moved = {seq for seq, want in zip(self._order, expected, strict=True) if seq != want}
        if moved:
            self.result.reordered = sorted(moved)
            self._faulty |= moved
            for first, last in runs(sorted(moved)):
                self.faults.append(
                    Fault(
                        FaultKind.REORDERED,
                        "rows are not in sequence order in the bundle",
                        self.device_id,
                        first,
                        last if last != first else None,
                    )
                )

    def _check_chain(self) -> None:
        """Anchor to head: every number present, every link naming its predecessor."""
        anchor, head = self.entry.get("chain_anchor"), self.entry.get("chain_head")
        if anchor is None or head is None:
            return  # no rows (the frame check refuses rows without both)
        anchor_seq, anchor_digest = anchor["seq"], anchor["digest"]
        head_seq = head["seq"]
        for seq in sorted(self._good):
            row = self._good[seq]
            if seq <= anchor_seq:
                self._fault(FaultKind.FOREIGN, f"seq {seq} is at or before the chain anchor "
                            f"(seq {anchor_seq})", seq, row.event_id)  # fmt: skip
                continue
            if seq > head_seq:
                self._fault(FaultKind.FOREIGN, f"seq {seq} is after the chain head "
                            f"(seq {head_seq})", seq, row.event_id)  # fmt: skip
                continue
            before = seq - 1
            if before == anchor_seq:
                expected = anchor_digest
            elif before in self._good:
                expected = self._good[before].digest
            else:
                continue  # predecessor missing or bad: reported there, not twice
            if row.prev_hash != expected:
                self._fault(
                    FaultKind.BROKEN_LINK,
                    f"seq {seq}'s prev_hash {row.prev_hash[:12] or '(empty)'}… does not name "
                    f"seq {before} ({expected[:12] or '(empty)'}…): the chain forks here",
                    seq,
                    row.event_id,
                )
        head_row = self._good.get(head_seq)
        if head_row is not None and head_row.digest != head["digest"]:
            self._fault(
                FaultKind.TAMPERED,
                f"the chain head names another event as seq {head_seq}",
                head_seq,
                head_row.event_id,
            )
        self._check_missing(anchor_seq, head_seq)

    def _check_missing(self, anchor_seq: int, head_seq: int) -> None:
        """Numbers without a row, as runs: a forged head of seq 10**12 costs nothing."""
        declared = merge((g[0], g[1]) for g in self.entry.get("declared_missing", []))
        absent = gaps(anchor_seq + 1, head_seq, sorted(self._claimed))
        self.result.missing = absent
        for flag, part in (
            (True, intersect(absent, declared)),
            (False, subtract(absent, declared)),
        ):
            detail = (
                "not in the bundle: the controller declares it never received them"
                if flag
                else "not in the bundle, and not declared missing by the controller"
            )
            for first, last in part:
                self.faults.append(
                    Fault(FaultKind.MISSING, detail, self.device_id, first,
                          last if last != first else None, None, flag)
                )  # fmt: skip
        if declared and declared[-1][1] > head_seq:
            self.result.unknown_after_head = intersect(declared, [(head_seq + 1, declared[-1][1])])
        present = [s for s in sorted(self._claimed) if intersect([(s, s)], declared)]
        for first, last in runs(present):
            self.faults.append(
                Fault(FaultKind.INCONSISTENT, "declared missing, yet present in the bundle",
                      self.device_id, first, last if last != first else None)
            )  # fmt: skip

    def _check_period(self, period: Period) -> None:
        """In-period rows must fall in the period; link-only rows only between them."""
        in_period = [s for s, r in self._good.items() if not r.link_only]
        low, high = (min(in_period), max(in_period)) if in_period else (0, -1)
        for seq, row in sorted(self._good.items()):
            if not row.link_only and not period.start <= row.planned_start < period.end:
                self._fault(
                    FaultKind.FOREIGN,
                    f"planned at {row.planned_start:%Y-%m-%dT%H:%M:%SZ}, outside the period",
                    seq,
                    row.event_id,
                )
            elif row.link_only and not low < seq < high:
                self._fault(
                    FaultKind.FOREIGN,
                    "carried as a link, but not between two in-period rows",
                    seq,
                    row.event_id,
                )
