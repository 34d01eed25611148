"""A row's signature work: read in one place, checked in another, judged later.

Standard library and ``ed25519`` (``cryptography``, with libsodium when installed) and
nothing else: part of the offline verifier. Apart from ``checks`` because this is the only part
of a row's check that may run away from the reading thread: ``prepare`` touches no device's
state and ``check_signatures`` only sets ``RowWork.ok``, so the signature pool
(``pipeline``) runs them in worker processes while ``DeviceCheck.feed`` judges the rows in
file order, exactly as if each had been checked on the spot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from controller.domain.evidence.bundles.ed25519 import signature_valid

_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class RowWork:
    """One row read from the bundle, waiting for its signature check (or past it).

    ``prepare`` fills it without touching any device's state, so rows can be read on
    one thread while their signatures are checked on others; ``DeviceCheck.feed`` then
    judges them in file order, exactly as if each had been checked on the spot.
    """

    row: Any
    doc: Any = None  # the signed document, parsed
    data: bytes | None = None  # bytes whose signature must be checked; None: no check due
    sig: str = ""
    ok: bool = False  # the signature verified (set by ``check_signatures``)


def prepare(row: Any, device_id: str) -> RowWork:
    """Parse a row's signed document; say whether its signature is to be checked.

    A row without a usable shape, or an event another device sent, is judged without
    a signature check (as ``DeviceCheck.feed`` would judge it anyway).
    """
    if not isinstance(row, dict):
        return RowWork(row)
    # Plain gets, no loop: this runs once per row of a ward-year, on the reading thread.
    signed, sig = row.get("signed"), row.get("sig")
    if type(row.get("seq")) is not int or not isinstance(row.get("event_id"), str):
        return RowWork(row)
    if not isinstance(signed, str) or not isinstance(sig, str):
        return RowWork(row)
    try:
        doc = _DECODER.decode(signed)
    except (ValueError, RecursionError):  # ValueError: also a 5,000-digit number
        doc = None
    sender = doc.get("sender") if isinstance(doc, dict) else None
    if isinstance(sender, str) and sender != device_id:
        return RowWork(row, doc)
    return RowWork(row, doc, signed.encode("utf-8"), sig)


def check_signatures(key: str, works: Iterable[RowWork]) -> None:
    """Check the signatures ``prepare`` asked for, here and now."""
    for work in works:
        if work.data is not None:
            work.ok = signature_valid(key, work.data, work.sig)


def signed_parts(works: Iterable[RowWork]) -> list[tuple[bytes, str]]:
    """The ``(data, signature)`` pairs of the rows whose signature is due, in order.

    What a worker process is sent (``ed25519.signatures_valid``): bytes and strings
    only, so the batch pickles small and fast.
    """
    return [(work.data, work.sig) for work in works if work.data is not None]


def set_verdicts(works: Iterable[RowWork], verdicts: list[bool]) -> None:
    """Hand a worker's verdicts back to the rows ``signed_parts`` took them from."""
    due = [work for work in works if work.data is not None]
    if len(due) != len(verdicts):
        raise RuntimeError(f"{len(verdicts)} verdicts for {len(due)} signatures")
    for work, ok in zip(due, verdicts, strict=True):
        work.ok = ok
