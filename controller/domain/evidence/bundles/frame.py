"""Is this file a bundle at all? Reading it, and the skeleton its rows hang on.

Standard library, ``wardcast_protocol.signing`` and ``cryptography``: part of the
offline verifier. A problem here makes the file unusable (``BundleUnusable``, exit 2);
a problem in a row is a fault (exit 1), judged elsewhere (``checks``).

The order of the refusals is part of the contract, whichever way the file is read
(whole here, or streamed by ``stream``): not readable, empty, not UTF-8, not JSON or
truncated, not an object, another format, then the skeleton — ward, period, digest,
the device list, and each device in turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from controller.domain.evidence.bundles.checks import Period
from controller.domain.evidence.bundles.format import FORMAT, parse_utc
from wardcast_protocol.signing import InvalidKey, check_public_key


class BundleUnusable(Exception):
    """The file cannot be read as a bundle at all; the message says why, for a person."""


def load_bundle(path: Path) -> dict[str, Any]:
    """Read and parse a bundle file, or raise ``BundleUnusable`` saying why."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleUnusable(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_bundle(data, str(path))


def parse_bundle(data: bytes, name: str = "the bundle") -> dict[str, Any]:
    """Parse bundle bytes: JSON, an object, this format version — or ``BundleUnusable``."""
    if not data.strip():
        raise BundleUnusable(f"{name} is empty: not an evidence bundle")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleUnusable(f"{name} is not UTF-8 text: not an evidence bundle") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise BundleUnusable(
                f"{name} is truncated: the JSON stops at byte {len(data)} in the middle of "
                "the document (an incomplete copy or download?)"
            ) from exc
        raise BundleUnusable(
            f"{name} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
            "not an evidence bundle"
        ) from exc
    except (RecursionError, ValueError) as exc:
        # ValueError: a number of thousands of digits, which Python refuses to read.
        raise BundleUnusable(
            f"{name} nests too deeply or holds a number too large to read: not an evidence bundle"
        ) from exc
    if not isinstance(doc, dict):
        raise BundleUnusable(f"{name} is JSON but not an object: not an evidence bundle")
    check_format(doc, name)
    return doc


def check_format(doc: dict[str, Any], name: str) -> None:
    """This verifier reads one format version; another, or none, is refused."""
    found = doc.get("format")
    if found != FORMAT:
        if isinstance(found, str) and found.startswith(FORMAT.rsplit("/", 1)[0] + "/"):
            raise BundleUnusable(
                f"{name} is bundle format {found!r}; this verifier reads {FORMAT!r}"
            )
        raise BundleUnusable(f"{name} has no 'format': {FORMAT!r}: not an evidence bundle")


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise BundleUnusable(f"malformed bundle: {what}")


def _is_link(value: Any) -> bool:
    """A chain anchor or head: {"seq": int >= 0, "digest": str}."""
    return (
        isinstance(value, dict)
        and type(value.get("seq")) is int
        and value["seq"] >= 0
        and isinstance(value.get("digest"), str)
    )


def check_frame(doc: dict[str, Any]) -> Period:
    """The bundle's skeleton must be whole before its rows are judged; returns the period.

    Problems here make the file unusable (exit 2); problems in rows are faults (exit 1).
    """
    period = check_header(doc)
    devices = doc.get("devices")
    if not isinstance(devices, list):
        raise BundleUnusable("malformed bundle: 'devices' is not a list")
    for i, entry in enumerate(devices):
        check_entry(i, entry, entry.get("rows") if isinstance(entry, dict) else None)
    return period


def check_header(doc: dict[str, Any]) -> Period:
    """Ward, period and digest: the skeleton above the devices; returns the period."""
    ward = doc.get("ward")
    _require(
        isinstance(ward, dict) and all(isinstance(ward.get(k), str) for k in ("code", "name")),
        "'ward' needs a code and a name",
    )
    period = doc.get("period")
    if not isinstance(period, dict):
        raise BundleUnusable("malformed bundle: 'period' is missing")
    start, end = parse_utc(period.get("from")), parse_utc(period.get("to"))
    _require(start is not None and end is not None, "'period' needs aware 'from' and 'to'")
    assert start is not None and end is not None
    _require(start < end, "the period ends before it starts")
    _require(isinstance(doc.get("bundle_digest"), str), "'bundle_digest' is missing")
    return Period(start, end)


def check_entry(i: int, entry: Any, rows: Any) -> None:
    """Device ``i``'s skeleton; ``rows`` is its row list (or, streamed, any non-empty list)."""
    where = f"devices[{i}]"
    _require(isinstance(entry, dict), f"{where} is not an object")
    _require(isinstance(entry.get("device_id"), str), f"{where} has no device_id")
    try:
        check_public_key(str(entry.get("public_key")))
    except InvalidKey:
        raise BundleUnusable(
            f"malformed bundle: {where}.public_key is not an Ed25519 public key"
        ) from None
    _require(isinstance(rows, list), f"{where}.rows is not a list")
    anchor, head = entry.get("chain_anchor"), entry.get("chain_head")
    if rows or anchor is not None or head is not None:
        _require(_is_link(anchor) and _is_link(head), f"{where} needs chain_anchor and head")
    gaps = entry.get("declared_missing", [])
    _require(
        isinstance(gaps, list)
        and all(
            isinstance(g, list) and len(g) == 2 and all(type(n) is int for n in g) for g in gaps
        ),
        f"{where}.declared_missing is not a list of [from, to]",
    )
