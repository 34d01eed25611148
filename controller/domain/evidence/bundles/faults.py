"""The verifier's words: what can be wrong with a bundle, and what one device's rows came to.

Standard library only: part of the offline verifier. Apart from ``checks`` because the
words outlive the checking: ``judge`` adds faults of the bundle as a whole, ``report``
prints them, and the archives (``evidence.archives``) store the verdict, none of which
need to know how a device's rows are judged.

Each problem becomes a ``Fault`` with a kind an evaluator can read at a glance:

    TAMPERED      the signature fails, or the signed document disagrees with its row
    MISSING       a sequence number between the chain anchor and head has no row
    REORDERED     rows not in sequence order in the file
    BROKEN_LINK   prev_hash does not name the digest of the event before (a fork)
    FOREIGN       a row of another device or ward, or outside the period
    DUPLICATE     one sequence number twice
    INCONSISTENT  the bundle contradicts itself (declared missing, yet present)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from controller.domain.evidence.bundles.sequences import Run


class FaultKind(StrEnum):
    """What went wrong; the upper-case value is the word the verifier prints."""

    TAMPERED = "tampered"
    MISSING = "missing"
    REORDERED = "reordered"
    BROKEN_LINK = "broken_link"
    FOREIGN = "foreign"
    DUPLICATE = "duplicate"
    INCONSISTENT = "inconsistent"
    UNTRUSTED = "untrusted"
    EMPTY = "empty"  # plays were due in the period, and no event proves any of them


@dataclass(frozen=True, slots=True)
class Fault:
    """One problem, at one row or one run of sequence numbers (``seq``..``to_seq``)."""

    kind: FaultKind
    detail: str
    device_id: str | None = None
    seq: int | None = None
    to_seq: int | None = None
    event_id: str | None = None
    declared: bool = False  # MISSING only: the controller said it never received these

    @property
    def size(self) -> int:
        """How many faults this counts for: a run of 40 missing events is 40."""
        if self.seq is not None and self.to_seq is not None:
            return self.to_seq - self.seq + 1
        return 1


@dataclass
class DeviceResult:
    """What one device's rows came to."""

    device_id: str
    group_code: str | None
    valid: int = 0  # in-period rows without any fault
    links: int = 0  # faultless rows carried only to keep the chain whole
    missing: list[Run] = field(default_factory=list)  # inclusive runs
    reordered: list[int] = field(default_factory=list)
    tampered: list[int] = field(default_factory=list)
    broken_links: list[int] = field(default_factory=list)
    foreign: list[int] = field(default_factory=list)
    duplicate: list[int] = field(default_factory=list)
    unknown_after_head: list[Run] = field(default_factory=list)
