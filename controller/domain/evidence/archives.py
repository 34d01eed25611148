"""Archiving a ward's period: write its bundle, verify the file offline, then record it.

Retention rule: evidence is kept until an administrator archives it explicitly, and
archiving *removes nothing* — ``playback_evidence`` is append-only at the database,
without exception. An archive is a sealed copy that has passed the same verifier an
evaluator runs, kept under ``<data_dir>/archives/<ward>/<label>.json``. Pruning the
live database is a separate, deliberate act of a database administrator, outside the
application (docs/evidence.md).

A bundle is archived only if it verifies. Two kinds of fault are *findings* about the
devices, not about the bundle, and are archived as they stand (and counted on the
record): sequence numbers the controller declares it never received, and links a
device broke by forking its own chain. Anything else — a bad signature, an undeclared
gap, a wrong digest — means the database or the disk does not hold what it should,
and the archive is refused, its file kept aside for investigation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models.archives import EvidenceArchive
from controller.domain.actors import Actor, Role
from controller.domain.errors import Conflict, InvalidInput
from controller.domain.evidence.bundles.build import (
    build_bundle,
    check_period,
    row_count,
    write_bundle,
)
from controller.domain.evidence.bundles.faults import Fault, FaultKind
from controller.domain.evidence.bundles.format import iso_utc
from controller.domain.evidence.bundles.verify import BundleUnusable, verify_file
from controller.settings import Settings
from wardcast_protocol.clock import Clock
from wardcast_protocol.signing import SigningKey

ARCHIVE_DIR = "archives"


class ArchiveRefused(Conflict):
    """The written bundle did not verify: the evidence store needs investigating."""


class ArchiveRuntime(Protocol):
    """What archiving needs of the controller runtime (settings, clock, signing key)."""

    @property
    def settings(self) -> Settings:
        """Where the data directory is."""
        ...

    @property
    def clock(self) -> Clock:
        """What time it is."""
        ...

    @property
    def key(self) -> SigningKey:
        """The controller's key, which signs the bundle."""
        ...


def is_finding(fault: Fault) -> bool:
    """A fault that describes the devices' evidence truthfully, so it may be archived.

    EMPTY is one: devices that played nothing of what was due is what the period was.
    """
    if fault.kind is FaultKind.MISSING:
        return fault.declared
    return fault.kind in (FaultKind.BROKEN_LINK, FaultKind.EMPTY)


def _reserve(directory: Path, label: str) -> Path:
    """A fresh file name for the archive, claimed at once: an archive is never overwritten.

    Archiving a period again (late evidence filled a gap) writes ``<label>.2.json``,
    and so on; the earlier file and its record stay as they were.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = directory / (f"{label}.json" if n == 1 else f"{label}.{n}.json")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        return path
    raise Conflict(f"too many archives of {label} in {directory}")


def _stored_path(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def archive_period(
    session: Session,
    ward_code: str,
    start: datetime,
    end: datetime,
    actor: Actor,
    runtime: ArchiveRuntime,
) -> EvidenceArchive:
    """Write, verify and record the archive of ``ward_code`` for [start, end).

    Refuses (403) an actor who is not an administrator, (404) an unknown ward,
    (422) a period that is inverted or not over yet, and (409) a bundle that does not
    verify — whose file is then renamed ``*.refused.json`` and kept.
    """
    actor.require(Role.ADMIN, "archiving evidence")
    check_period(start, end)
    now = runtime.clock.now()
    if end > now:
        raise InvalidInput(
            f"the period runs until {iso_utc(end)}: archive it once it is over, "
            "when its evidence can be complete"
        )
    bundle = build_bundle(session, ward_code, start, end, runtime.key, now=now)
    label, digest = bundle["period"]["label"], bundle["bundle_digest"]
    rows, devices = row_count(bundle), len(bundle["devices"])
    data_dir = runtime.settings.data_dir
    path = _reserve(data_dir / ARCHIVE_DIR / ward_code, label)
    try:
        sha256 = write_bundle(bundle, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    del bundle  # a ward-year is hundreds of MB as objects: free it before reading it back
    # Verify the bytes on disk, with the offline verifier, pinned to our own key:
    # what is archived is exactly what an evaluator would be handed.
    try:
        # Streamed, signatures on every core: the bundle is never in memory again.
        report = verify_file(
            path, expected_ward=ward_code, controller_key=runtime.key.public_key_b64
        )
        blocking = [f for f in report.faults if not is_finding(f)]
        problem = "; ".join(f"{f.kind.upper()} {f.detail}" for f in blocking[:5])
    except BundleUnusable as exc:
        problem = str(exc)
    if problem:
        refused = path.with_name(path.stem + ".refused.json")
        path.rename(refused)
        raise ArchiveRefused(
            f"the bundle of ward {ward_code} for {label} did not verify "
            f"({problem}); nothing archived, the file is kept at {refused} for investigation"
        )
    record = EvidenceArchive(
        ward_code=ward_code,
        period_from=start,
        period_to=end,
        label=label,
        path=_stored_path(path, data_dir),
        bundle_sha256=sha256,
        bundle_digest=digest,
        row_count=rows,
        device_count=devices,
        missing_count=sum(f.size for f in report.faults if f.kind is FaultKind.MISSING),
        broken_link_count=sum(1 for f in report.faults if f.kind is FaultKind.BROKEN_LINK),
        verified_at=runtime.clock.now(),
        archived_by=actor.name,
    )
    session.add(record)
    session.flush()
    return record


def list_archives(session: Session, ward_code: str | None = None) -> Sequence[EvidenceArchive]:
    """Archives, by ward and period, oldest first."""
    query = select(EvidenceArchive)
    if ward_code is not None:
        query = query.where(EvidenceArchive.ward_code == ward_code)
    order = (EvidenceArchive.ward_code, EvidenceArchive.period_from, EvidenceArchive.id)
    return session.scalars(query.order_by(*order)).all()


def archive_file(settings: Settings, archive: EvidenceArchive) -> Path:
    """Where an archive's bundle lies on this controller's disk."""
    path = Path(archive.path)
    return path if path.is_absolute() else settings.data_dir / path
