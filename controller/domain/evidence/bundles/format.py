"""The bundle's shape, its canonical bytes and digest, and how a bundle file is written.

Standard library only: the offline verifier imports this module.

The digest covers every key of the bundle except ``bundle_digest`` and
``controller_signature``, serialised canonically: keys sorted, no whitespace, UTF-8
not escaped to ``\\u`` form. The bundle holds no floats (durations are integer
milliseconds), so that form is also RFC 8785 (JCS) and a verifier in another language
computes the same bytes. The controller signs ``FORMAT + "\\n" + digest``: the prefix
keeps a bundle signature from ever being mistaken for a signed protocol message.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

FORMAT = "wardcast-evidence-bundle/1"
PERIOD_BASIS = "planned_start"
"""Which instant of an event places it in a period: the same one reports count by."""

UNSIGNED_KEYS = frozenset({"bundle_digest", "controller_signature"})

CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""Encodes any part of a bundle in canonical form; the parts of a whole concatenate to it."""

FILE_ORDER = (
    "format", "protocol_version", "generator", "generated_at", "ward", "period",
    "controller_public_key", "bundle_digest", "controller_signature", "planned", "devices",
)  # fmt: skip
"""Top-level keys as a file lists them (any other key after these, ``devices`` always
last): the header a person reads first, then the rows. Every key that sorts before
``devices`` comes before it, so a verifier reading the file front to back can hash the
canonical form in one pass."""


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """The canonical serialisation of a bundle without its digest and signature."""
    body = {k: v for k, v in content.items() if k not in UNSIGNED_KEYS}
    return CANONICAL.encode(body).encode()


def content_digest(content: dict[str, Any]) -> str:
    """sha256 hex of the canonical bytes: what ``bundle_digest`` must equal."""
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def signing_message(digest: str) -> bytes:
    """The bytes the controller signs for a bundle with this digest."""
    return f"{FORMAT}\n{digest}".encode("ascii")


def iso_utc(instant: datetime) -> str:
    """An aware instant as ISO 8601 in UTC with a ``Z``, as the protocol writes them."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no place in evidence; attach a zone")
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_utc(text: object) -> datetime | None:
    """An aware ISO 8601 instant in UTC, or None if ``text`` is not one."""
    if not isinstance(text, str):
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None
    return instant.astimezone(UTC)


def period_label(start: datetime, end: datetime, timezone: str) -> str:
    """A short, file-name-safe name for a period, in the ward's own calendar.

    A calendar year, month or day reads as ``2026``, ``2026-03``, ``2026-03-05``;
    a run of whole days as ``2026-03-05_2026-03-19`` (last day included); anything
    else as its UTC bounds.
    """
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if not (_is_midnight(local_start) and _is_midnight(local_end)):
        return f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}_{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    s, e = local_start.date(), local_end.date()
    if s.month == 1 and s.day == 1 and e == s.replace(year=s.year + 1):
        return f"{s:%Y}"
    next_month = s.replace(year=s.year + s.month // 12, month=s.month % 12 + 1)
    if s.day == 1 and e == next_month:
        return f"{s:%Y-%m}"
    if e == s + timedelta(days=1):
        return f"{s:%Y-%m-%d}"
    return f"{s:%Y-%m-%d}_{e - timedelta(days=1):%Y-%m-%d}"


def _is_midnight(instant: datetime) -> bool:
    return instant.time() == time(0)


def dump_bundle(bundle: dict[str, Any]) -> bytes:
    """A bundle's file bytes: indented so a person (or ``jq``) can read it.

    The layout does not matter to the digest, which is over the canonical form; the
    order of the keys (``FILE_ORDER``, then any other) lets a verifier stream the file.
    """
    rank = {key: n for n, key in enumerate(FILE_ORDER)}
    ordered = dict(
        sorted(bundle.items(), key=lambda kv: (kv[0] == "devices", rank.get(kv[0], len(rank))))
    )
    return json.dumps(ordered, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def write_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` all or nothing; returns the sha256 hex of the bytes.

    A crash mid-write leaves the old file (or none), never half a bundle: written to
    a temporary file beside it, flushed to disk, then renamed over.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
