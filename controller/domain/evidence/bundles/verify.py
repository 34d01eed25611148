"""Verify an evidence bundle offline.

``python -m controller.domain.evidence.bundles.verify BUNDLE`` (or ``wardcast evidence verify``).

Imports only the standard library, ``cryptography`` and ``wardcast_protocol.signing``:
an evaluator runs it on a laptop without the controller, its database or a network.

A file is streamed (``stream``): read front to back a batch of rows at a time, their
signatures checked on every core (``pipeline``), so a ward-year takes seconds and a
bounded amount of memory. A file that strays from the shape streaming relies on is read
whole instead (``verify_bundle``): the same checks, the same words.

Exit codes: 0 every row valid and nothing missing; 1 faults found (each printed with
its word: TAMPERED, MISSING, REORDERED, BROKEN_LINK, FOREIGN, DUPLICATE, INCONSISTENT,
UNTRUSTED, EMPTY); 2 the file is not a usable bundle (unreadable, not JSON, truncated, another
format version, or another ward than the one asked for) — a message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from controller.domain.evidence.bundles.checks import DeviceCheck
from controller.domain.evidence.bundles.format import content_digest
from controller.domain.evidence.bundles.frame import (
    BundleUnusable,
    check_entry,
    check_format,
    check_frame,
    check_header,
    load_bundle,
    parse_bundle,
)
from controller.domain.evidence.bundles.judge import Entry, judge
from controller.domain.evidence.bundles.pipeline import SignaturePipeline
from controller.domain.evidence.bundles.report import (
    Report,
    render_text,
    report_dict,
)
from controller.domain.evidence.bundles.signatures import prepare
from controller.domain.evidence.bundles.stream import NotStreamable, digest_pass, read_bundle
from controller.progress import Progress, Waiting
from wardcast_protocol.signing import InvalidKey, check_public_key

__all__ = [
    "EXIT_FAULTS",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "BundleUnusable",
    "Report",
    "load_bundle",
    "main",
    "parse_bundle",
    "render_text",
    "report_dict",
    "run",
    "verify_bundle",
    "verify_file",
]

EXIT_OK, EXIT_FAULTS, EXIT_UNUSABLE = 0, 1, 2


# --- checking ------------------------------------------------------------------------


def verify_file(
    path: Path,
    *,
    expected_ward: str | None = None,
    controller_key: str | None = None,
    on_checked: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Report:
    """Check the bundle at ``path``, streamed; ``BundleUnusable`` if it is not one.

    ``workers``: signature processes (default one per core). ``on_checked(n)`` is told as
    rows are judged (progress); if the file has to be read whole after all, it is told
    minus what it was told before, and the count starts again.
    """
    told = 0

    def tell(rows: int) -> None:
        nonlocal told
        told += rows
        if on_checked is not None:
            on_checked(rows)

    try:
        with path.open("rb") as fh, SignaturePipeline(workers, tell) as pipeline:
            sink = _Sink(pipeline)
            found = read_bundle(fh, sink)
            pipeline.drain()
    except OSError as exc:
        raise BundleUnusable(f"cannot read {path}: {exc.strerror or exc}") from exc
    except NotStreamable:
        tell(-told)
        return verify_bundle(
            load_bundle(path),
            expected_ward=expected_ward,
            controller_key=controller_key,
            on_checked=on_checked,
        )
    header = found.header
    check_format(header, str(path))
    period = check_header(header)
    if not found.devices:
        raise BundleUnusable("malformed bundle: 'devices' is not a list")
    _check_ward(header, expected_ward)
    digest = found.digest
    if digest is None:
        with path.open("rb") as fh:
            digest = digest_pass(fh, header)
    for check in sink.checks:
        check.finish(period, sink.listed)
    return judge(header, digest, sink.entries, controller_key)


class _Sink:
    """Takes the streamed rows: a ``DeviceCheck`` per device, its rows into the pipeline."""

    def __init__(self, pipeline: SignaturePipeline) -> None:
        self.pipeline = pipeline
        self.entries: list[Entry] = []
        self.checks: list[DeviceCheck] = []
        self.listed: set[str] = set()
        self._current: DeviceCheck | None = None

    def begin(self, index: int, entry: dict[str, Any]) -> None:
        """A device's rows start: its id and key must be known by now."""
        device_id = entry.get("device_id")
        try:
            check_public_key(str(entry.get("public_key")))
        except InvalidKey:
            raise NotStreamable from None
        if not isinstance(device_id, str):
            raise NotStreamable
        if device_id in self.listed:
            self._current = None  # listed twice: reported once, its rows not judged
            self.entries.append(device_id)
            return
        self.listed.add(device_id)
        self._current = DeviceCheck(entry)
        self.entries.append(self._current)
        self.checks.append(self._current)

    def rows(self, batch: list[Any]) -> None:
        """Parse the rows here; their signatures are checked by the pipeline's workers."""
        check = self._current
        if check is not None:
            self.pipeline.put(check, [prepare(row, check.device_id) for row in batch])

    def end(self, index: int, entry: dict[str, Any], rows: int | None) -> None:
        """The device's whole entry is read: its skeleton must hold."""
        try:
            check_entry(index, entry, None if rows is None else [None] * min(rows, 1))
        except BundleUnusable:
            raise NotStreamable from None  # the whole-file read words it, in its order


def verify_bundle(
    doc: dict[str, Any],
    *,
    expected_ward: str | None = None,
    controller_key: str | None = None,
    on_checked: Callable[[int], None] | None = None,
) -> Report:
    """Check a parsed bundle; ``BundleUnusable`` if its frame is broken or the ward wrong.

    ``controller_key`` pins who must have signed it: the controller's public key, as
    the ward or province publishes it. Without it, the key inside the bundle is used,
    which proves the bundle unaltered since signing but not who signed it.
    ``on_checked(rows)`` is told after each device how many rows were checked (progress).
    """
    period = check_frame(doc)
    _check_ward(doc, expected_ward)
    digest = content_digest(doc)
    listed = {e["device_id"] for e in doc["devices"]}
    entries: list[Entry] = []
    seen: set[str] = set()
    for entry in doc["devices"]:
        if entry["device_id"] in seen:
            entries.append(entry["device_id"])
            continue
        seen.add(entry["device_id"])
        entries.append(DeviceCheck(entry).run(period, listed))
        if on_checked is not None:
            on_checked(len(entry["rows"]))
    return judge(doc, digest, entries, controller_key)


def _check_ward(doc: dict[str, Any], expected: str | None) -> None:
    ward = doc["ward"]
    if expected is not None and ward["code"] != expected:
        raise BundleUnusable(
            f"this bundle is for ward {ward['code']} ({ward['name']}), not ward {expected}"
        )


# --- output ------------------------------------------------------------------------


def estimate_rows(path: Path) -> int:
    """About how many rows the file holds, for the progress line, without parsing it.

    Counts ``"sig"`` keys: inside a signed document every quote is escaped, so only a
    row's own key matches. An estimate only: the line's total is set right at the end.
    """
    count, tail = 0, b""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                data = tail + chunk
                count += data.count(b'"sig"')
                tail = data[-4:]
    except OSError:
        return 0  # verify_file says why
    return count


def run(
    path: Path,
    *,
    as_json: bool = False,
    expected_ward: str | None = None,
    controller_key: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    progress: bool | None = None,
    workers: int | None = None,
) -> int:
    """Verify the bundle at ``path`` and print the result; returns the exit code.

    ``progress``: draw a progress line on ``err`` (default: only if it is a terminal).
    ``workers``: signature processes (default: one per core).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    if controller_key is not None:
        try:
            controller_key = check_public_key(controller_key)
        except InvalidKey as exc:
            err.write(f"error: --controller-key: {exc}\n")
            return EXIT_UNUSABLE
    try:
        with Waiting("đọc gói · reading", stream=err, enabled=progress):
            estimate = estimate_rows(path)
        with Progress(
            "kiểm tra · verifying", estimate, unit="rows", stream=err, enabled=progress
        ) as bar:
            done = 0

            def checked(rows: int) -> None:
                nonlocal done
                done += rows
                bar.total = max(bar.total, done)  # the estimate may fall short
                bar.update(done)

            report = verify_file(
                path,
                expected_ward=expected_ward,
                controller_key=controller_key,
                on_checked=checked,
                workers=workers,
            )
            bar.total = done
            bar.update(done)
    except BundleUnusable as exc:
        if as_json:
            out.write(json.dumps({"ok": False, "unusable": str(exc)}, ensure_ascii=False) + "\n")
        err.write(f"error: {exc}\n")
        return EXIT_UNUSABLE
    if as_json:
        out.write(json.dumps(report_dict(report), ensure_ascii=False, indent=1) + "\n")
    else:
        out.write(render_text(report))
    return EXIT_OK if report.ok else EXIT_FAULTS


def main(argv: list[str] | None = None) -> int:
    """Command line: ``BUNDLE [--json] [--ward W] [--controller-key K]``."""
    parser = argparse.ArgumentParser(
        prog="python -m controller.domain.evidence.bundles.verify",
        description="Verify a Wardcast evidence bundle offline. Exit 0 valid, 1 faults, "
        "2 not a usable bundle.",
    )
    parser.add_argument("bundle", type=Path, help="The bundle file (JSON).")
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    parser.add_argument("--ward", help="Refuse a bundle of any other ward (exit 2).")
    parser.add_argument(
        "--controller-key", help="The controller's published public key (base64) to pin."
    )
    parser.add_argument(
        "--workers", type=int, help="Processes checking signatures (default: one per core)."
    )
    args = parser.parse_args(argv)
    return run(
        args.bundle,
        as_json=args.json,
        expected_ward=args.ward,
        controller_key=args.controller_key,
        workers=args.workers,
    )


if __name__ == "__main__":
    sys.exit(main())
