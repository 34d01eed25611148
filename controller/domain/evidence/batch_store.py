"""The evidence batch path's reads and writes (``evidence.batch`` decides in between).

What a batch of events needs from the store, read once for the whole batch: each
device's chain row (locked ``FOR UPDATE``, as the per-event path locks it), the links
past its contiguous prefix, the event ids and sequence numbers it already holds, its
open gaps, the planned plays the events answer. And what the batch writes in bulk:
its evidence rows (``COPY`` on PostgreSQL) and the chain rows it moved. Rows are plain
values, not ORM objects (a batch built and flushed 500 of them), and sets of keys go to
PostgreSQL as one array (``controller.db.among``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import (
    DeviceChain,
    EvidenceGap,
    PlannedPlay,
    PlaybackEvidence,
    SecurityRecord,
)
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import PlaybackEvent

Arrival = tuple[Verified[PlaybackEvent], str]
"""A verified event and the device whose topic it came on."""


@dataclass
class ChainRow:
    """A device's chain row (``DeviceChain``) as plain values; ``new``: not stored yet."""

    device_id: str
    contiguous_seq: int
    contiguous_digest: str
    highest_seq: int
    updated_at: datetime
    new: bool = False
    moved: bool = False  # changed by the batch: written back
    created: bool = False  # inserted by this batch's ``create_chains``: deleted if unmoved

    def values(self) -> dict[str, Any]:
        """The row, for a bulk insert or update."""
        return {
            "device_id": self.device_id,
            "contiguous_seq": self.contiguous_seq,
            "contiguous_digest": self.contiguous_digest,
            "highest_seq": self.highest_seq,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class PlanRow:
    """What the batch needs of a planned play."""

    broadcast_id: str
    ward_code: str | None
    planned_start: datetime


@dataclass
class Known:
    """What the batch knows of one device's chain, kept current as events are decided."""

    chain: ChainRow | None
    links: dict[int, tuple[str, str]]  # seq -> (prev_hash, digest), past the whole prefix
    gaps: list[EvidenceGap]  # open gaps, oldest first
    evidence_ids: set[str] = field(default_factory=set)
    refused_ids: set[str] = field(default_factory=set)
    evidence_seqs: dict[int, str] = field(default_factory=dict)  # seq -> event id
    refused_seqs: dict[int, str] = field(default_factory=dict)

    def holds(self, seq: int) -> bool:
        """True when the controller holds link ``seq`` (evidence or refused)."""
        return (self.chain is not None and seq <= self.chain.contiguous_seq) or seq in self.links


def create_chains(session: Session, device_ids: Sequence[str], now: datetime) -> set[str]:
    """Create the missing chain rows of these devices before any is locked; those created.

    Two replicas creating one device's first row at once used to fail one batch (a
    plain INSERT), stored again one by one, which could deadlock with the other. Now
    every batch first inserts the rows it lacks, in device order, with ``ON CONFLICT DO
    NOTHING`` (a row inserted concurrently waits for the other transaction, then counts
    as there), holding no chain lock while it may wait; only then locks them all,
    ``FOR UPDATE`` in device order. A row created here for a device none of whose
    events moves its chain (all duplicates) is deleted at the write (``write_chains``),
    so the store ends as the per-event path leaves it.
    """
    c = DeviceChain
    have = set(session.scalars(select(c.device_id).where(among(session, c.device_id, device_ids))))
    missing = [d for d in device_ids if d not in have]
    if not missing:
        return set()
    dialect = session.get_bind().dialect.name
    insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [ChainRow(d, 0, "", 0, now).values() for d in missing]
    created = insert_into(c).values(rows).on_conflict_do_nothing(index_elements=[c.device_id])
    return set(session.scalars(created.returning(c.device_id)))


def load(session: Session, arrivals: Sequence[Arrival], now: datetime) -> dict[str, Known]:
    """Each device's chain (created if missing, locked), links past its prefix, gaps, ids."""
    device_ids = sorted({device_id for _, device_id in arrivals})
    created = create_chains(session, device_ids, now)
    c = DeviceChain
    chains = {
        row.device_id: ChainRow(
            row.device_id,
            row.contiguous_seq,
            row.contiguous_digest,
            row.highest_seq,
            row.updated_at,
            created=row.device_id in created,
        )
        for row in session.execute(
            select(c.device_id, c.contiguous_seq, c.contiguous_digest, c.highest_seq, c.updated_at)
            .where(among(session, c.device_id, device_ids))
            .order_by(c.device_id)
            .with_for_update()
        )
    }
    devices = {d: Known(chains.get(d), {}, []) for d in device_ids}
    event_ids = {(device_id, v.body.event_id) for v, device_id in arrivals}
    seqs = {(device_id, v.body.seq) for v, device_id in arrivals}
    # One read per table: the links past each device's prefix, and whatever holds one of
    # the batch's (device, event id) or (device, seq) pairs (every row found is a true
    # fact of its own device, so a row found for one reason may safely serve the other).
    for device_id, event_id, seq, prev, digest in session.execute(
        held(session, PlaybackEvidence, device_ids, event_ids, seqs)
    ):
        known = devices[device_id]
        if seq > (known.chain.contiguous_seq if known.chain else 0):
            known.links[seq] = (prev or "", digest or "")
        known.evidence_ids.add(event_id)
        known.evidence_seqs[seq] = event_id
    for device_id, refused_id, seq, prev, digest in session.execute(
        held(session, SecurityRecord, device_ids, event_ids, seqs)
    ):
        known = devices[device_id]
        if seq is not None and seq > (known.chain.contiguous_seq if known.chain else 0):
            known.links[seq] = (prev or "", digest or "")
        if refused_id is not None:
            known.refused_ids.add(refused_id)
            if seq is not None:
                known.refused_seqs[seq] = refused_id
    gaps = session.scalars(
        select(EvidenceGap)
        .where(among(session, EvidenceGap.device_id, device_ids), EvidenceGap.resolved_at.is_(None))
        .order_by(EvidenceGap.id)
    )
    for gap in gaps:
        devices[gap.device_id].gaps.append(gap)
    return devices


def held(
    session: Session,
    model: type[PlaybackEvidence] | type[SecurityRecord],
    device_ids: Sequence[str],
    id_pairs: set[tuple[str, str]],
    seq_pairs: set[tuple[str, int]],
) -> Any:
    """Rows of ``model`` past the devices' prefixes or holding one of the batch's
    (device, event id) or (device, seq) pairs."""
    columns = (model.device_id, model.event_id, model.seq, model.prev_hash, model.digest)
    if session.get_bind().dialect.name == "postgresql":
        return _held_postgres(session, model, columns, device_ids, id_pairs, seq_pairs)
    # SQLite: three reads by key, as one statement. Asked as one condition with ORs, it
    # read every row each device ever sent, in every ingest batch (226-344 ms for 500
    # devices of 1,000 events each, against 4-7 ms new); devices by ids as two IN
    # lists, it looked up every id for every device. The rows past a prefix are found
    # from the device's chain row, down (device, seq): ``load`` has made a chain row for
    # every device of the batch before this read. The pairs go as one JSON parameter.
    past = (
        select(*columns)
        .select_from(DeviceChain)
        .join(
            model,
            and_(
                DeviceChain.device_id == model.device_id,
                model.seq > DeviceChain.contiguous_seq,
            ),
        )
        .where(among(session, DeviceChain.device_id, device_ids))
    )
    return union(
        past,
        _by_pairs(model, columns, model.event_id, sorted(id_pairs)),
        _by_pairs(model, columns, model.seq, sorted(seq_pairs)),
    )


def _held_postgres(
    session: Session,
    model: type[PlaybackEvidence] | type[SecurityRecord],
    columns: tuple[Any, ...],
    device_ids: Sequence[str],
    id_pairs: set[tuple[str, str]],
    seq_pairs: set[tuple[str, int]],
) -> Any:
    """PostgreSQL's ``held``: the same three reads by key, each a ``LATERAL`` look-up.

    As one condition with ORs, PostgreSQL scanned the whole evidence table in every
    batch: 500 devices of 1,000 events each took 140-200 ms (4 ms new), and once the
    statement was prepared (psycopg prepares it from its sixth run) the generic plan
    took 6.5 s a batch (``bench.ingest_read --postgres``). Written as joins, it still
    guesses a third of a device's rows lie past its prefix and may pick the scan. Each
    read is a ``LATERAL`` subquery kept from being flattened into a join (``OFFSET 0``,
    the planner's fence): one index look-up per device or pair, in the custom plan and
    the generic one alike (8-19 ms at 1,000 events a device, 5-9 ms new).
    """
    chain = DeviceChain
    past = (
        select(*columns)
        .where(model.device_id == chain.device_id, model.seq > chain.contiguous_seq)
        .offset(0)  # not flattened into a join: a look-up per device (see above)
        .lateral("past")
    )
    by_ids = _pairs_postgres(model, columns, model.event_id, String(), sorted(id_pairs), "ids")
    by_seqs = _pairs_postgres(model, columns, model.seq, Integer(), sorted(seq_pairs), "seqs")
    return union(
        select(past)
        .select_from(chain)
        .join(past, true())
        .where(among(session, chain.device_id, device_ids)),
        by_ids,
        by_seqs,
    )


def _pairs_postgres(
    model: type[PlaybackEvidence] | type[SecurityRecord],
    columns: tuple[Any, ...],
    second: Any,
    second_type: Any,
    pairs: Sequence[tuple[str, Any]],
    name: str,
) -> Any:
    """``columns`` of the rows of ``model`` holding one of these (device, value) pairs,
    each looked up by its key (two arrays, unnested side by side)."""
    listed = (
        func.unnest(
            bindparam(f"{name}_devices", [d for d, _ in pairs], type_=ARRAY(String())),
            bindparam(f"{name}_values", [v for _, v in pairs], type_=ARRAY(second_type)),
        )
        .table_valued("device_id", "value")
        .render_derived(name=f"{name}_wanted")
    )
    found = (
        select(*columns)
        .where(model.device_id == listed.c.device_id, second == listed.c.value)
        .offset(0)  # not flattened into a join: a look-up per pair
        .lateral(f"{name}_found")
    )
    return select(found).select_from(listed).join(found, true())


def _by_pairs(
    model: type[PlaybackEvidence] | type[SecurityRecord],
    columns: tuple[Any, ...],
    second: Any,
    pairs: Sequence[tuple[str, Any]],
) -> Any:
    """``columns`` of the rows of ``model`` holding one of these (device, value) pairs,
    each by its key (SQLite's ``json_each`` over the pairs drives the look-ups)."""
    listed = func.json_each(json.dumps(pairs)).table_valued("value").alias("pairs")
    return (
        select(*columns)
        .select_from(listed)
        .join(
            model,
            and_(
                model.device_id == func.json_extract(listed.c.value, "$[0]"),
                second == func.json_extract(listed.c.value, "$[1]"),
            ),
        )
    )


def plans(session: Session, arrivals: Iterable[Arrival]) -> dict[tuple[str, str], PlanRow]:
    """The planned play each event answers, by (device, item)."""
    pairs = {(device_id, v.body.item_id) for v, device_id in arrivals}
    p = PlannedPlay
    found = session.execute(
        select(p.device_id, p.item_id, p.broadcast_id, p.ward_code, p.planned_start).where(
            among(session, p.device_id, {d for d, _ in pairs}),
            among(session, p.item_id, {i for _, i in pairs}),
        )
    )
    return {
        (device_id, item_id): PlanRow(broadcast_id, ward_code, planned_start)
        for device_id, item_id, broadcast_id, ward_code, planned_start in found
        if (device_id, item_id) in pairs
    }


def insert_evidence(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the batch's evidence rows: on PostgreSQL by ``COPY``, else one executemany.

    psycopg sends an executemany as a pipeline, row by row in Python (about 10 ms of
    CPU for 500 rows); ``COPY`` streams them, each value through the column's own bind
    processing as an INSERT would (``UtcDateTime`` refuses a naive time). Constraints
    and the append-only triggers hold alike: a duplicate fails the batch either way.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        session.execute(insert(PlaybackEvidence), rows)
        return
    table = PlaybackEvidence.__table__
    columns = list(rows[0])
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    names = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection  # psycopg's, in this transaction
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {PlaybackEvidence.__tablename__} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    row[name] if process is None else process(row[name])
                    for name, process in zip(columns, processors, strict=True)
                ]
            )


def write_chains(session: Session, devices: Iterable[Known]) -> None:
    """Store the chain rows the batch moved (updated), drop the ones it created for nothing.

    ``new`` rows (none once ``create_chains`` ran: kept for a row deleted meanwhile) are
    inserted; a replica inserting one too makes the insert fail, and the caller stores
    the batch again one by one.
    """
    every = [d.chain for d in devices if d.chain is not None]
    chains = [c for c in every if c.moved]
    new = [c.values() for c in chains if c.new]
    moved = [c.values() for c in chains if not c.new]
    unused = [c.device_id for c in every if c.created and not c.moved]
    if new:
        session.execute(insert(DeviceChain), new)
    if moved:
        session.execute(update(DeviceChain), moved)  # by primary key, one executemany
    if unused:
        session.execute(delete(DeviceChain).where(among(session, DeviceChain.device_id, unused)))


def lock_chains(session: Session, device_ids: Iterable[str], now: datetime) -> set[str]:
    """Create the missing chain rows, then lock them all, in device order; those created.

    For a batch stored again one by one: each event then takes its chain row, its
    gaps and its rollup marks in turn. With every chain row taken first, as the batch
    path takes them (``create_chains``, then ``FOR UPDATE`` in device order), the two
    never wait for each other in opposite orders: a row the pass created itself later,
    in the middle of it, was one a replica's batch could have created first, and locked
    behind rows this pass already held. Rows created for events that moved nothing (all
    refused, or failed) are dropped at the end (``drop_unmoved``).
    """
    wanted = sorted(set(device_ids))
    if not wanted:
        return set()
    created = create_chains(session, wanted, now)
    c = DeviceChain
    session.execute(
        select(c.device_id)
        .where(among(session, c.device_id, wanted))
        .order_by(c.device_id)
        .with_for_update()
    ).all()
    return created


def drop_unmoved(session: Session, created: set[str]) -> None:
    """Delete the chain rows ``lock_chains`` created that no event moved.

    The store then ends as the per-event path leaves it, which creates a row only with
    a device's first event it keeps.
    """
    if created:
        c = DeviceChain
        session.execute(delete(c).where(among(session, c.device_id, created), c.highest_seq == 0))
