"""Verify an evidence bundle offline.

``python -m controller.domain.evidence.bundles.verify BUNDLE`` (or ``wardcast evidence verify``).

Imports only the standard library, ``cryptography`` and ``wardcast_protocol.signing``:
an evaluator runs it on a laptop without the controller, its database or a network.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from controller.domain.evidence.bundles.checks import (
    DeviceCheck,
    DeviceResult,
    Fault,
    FaultKind,
    Period,
    runs,
)
from controller.domain.evidence.bundles.format import (
    FORMAT,
    content_digest,
    parse_utc,
    signing_message,
)
from controller.progress import Progress, Waiting
from wardcast_protocol.signing import InvalidKey, check_public_key, verify

EXIT_OK, EXIT_FAULTS, EXIT_UNUSABLE = 0, 1, 2

_CONTROL = {c: "?" for c in [*range(0x20), *range(0x7F, 0xA0)]}


class BundleUnusable(Exception):
    """The file cannot be read as a bundle at all; the message says why, for a person."""


@dataclass
class Report:
    """Everything the verifier found, ready to print as text or JSON."""

    ward_code: str
    ward_name: str
    period_from: str
    period_to: str
    label: str
    bundle_digest: str
    digest_ok: bool
    signature: str  # "valid", "invalid" or "absent"
    controller_key: str | None
    key_pinned: bool
    devices: list[DeviceResult] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    planned_due: int = 0
    planned_without_evidence: int = 0

    @property
    def valid(self) -> int:
        """In-period rows that passed every check."""
        return sum(d.valid for d in self.devices)

    @property
    def fault_count(self) -> int:
        """Faults, a run of missing numbers counting one per number."""
        return sum(f.size for f in self.faults)

    @property
    def ok(self) -> bool:
        """True when there is nothing to report."""
        return not self.faults


# --- reading -------------------------------------------------------------------------


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
    found = doc.get("format")
    if found != FORMAT:
        if isinstance(found, str) and found.startswith(FORMAT.rsplit("/", 1)[0] + "/"):
            raise BundleUnusable(
                f"{name} is bundle format {found!r}; this verifier reads {FORMAT!r}"
            )
        raise BundleUnusable(f"{name} has no 'format': {FORMAT!r}: not an evidence bundle")
    return doc


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
    devices = doc.get("devices")
    if not isinstance(devices, list):
        raise BundleUnusable("malformed bundle: 'devices' is not a list")
    for i, entry in enumerate(devices):
        where = f"devices[{i}]"
        _require(isinstance(entry, dict), f"{where} is not an object")
        _require(isinstance(entry.get("device_id"), str), f"{where} has no device_id")
        try:
            check_public_key(str(entry.get("public_key")))
        except InvalidKey:
            raise BundleUnusable(
                f"malformed bundle: {where}.public_key is not an Ed25519 public key"
            ) from None
        _require(isinstance(entry.get("rows"), list), f"{where}.rows is not a list")
        anchor, head = entry.get("chain_anchor"), entry.get("chain_head")
        if entry["rows"] or anchor is not None or head is not None:
            _require(_is_link(anchor) and _is_link(head), f"{where} needs chain_anchor and head")
        gaps = entry.get("declared_missing", [])
        _require(
            isinstance(gaps, list)
            and all(
                isinstance(g, list) and len(g) == 2 and all(type(n) is int for n in g) for g in gaps
            ),
            f"{where}.declared_missing is not a list of [from, to]",
        )
    return Period(start, end)


# --- checking ------------------------------------------------------------------------


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
    ward = doc["ward"]
    if expected_ward is not None and ward["code"] != expected_ward:
        raise BundleUnusable(
            f"this bundle is for ward {ward['code']} ({ward['name']}), not ward {expected_ward}"
        )
    digest = content_digest(doc)
    report = Report(
        ward_code=ward["code"],
        ward_name=ward["name"],
        period_from=doc["period"]["from"],
        period_to=doc["period"]["to"],
        label=str(doc["period"].get("label", "")),
        bundle_digest=digest,
        digest_ok=digest == doc["bundle_digest"],
        signature="absent",
        controller_key=doc.get("controller_public_key"),
        key_pinned=controller_key is not None,
    )
    if not report.digest_ok:
        report.faults.append(
            Fault(
                FaultKind.TAMPERED,
                "the bundle digest does not match its content: the bundle was altered "
                "or is incomplete",
            )
        )
    # Over the digest the bundle states: an edit of the content shows once (digest
    # mismatch), and a digest recomputed after an edit shows as a bad signature.
    _check_signature(doc, doc["bundle_digest"], controller_key, report)
    listed = [e["device_id"] for e in doc["devices"]]
    ward_devices = set(listed)
    seen: set[str] = set()
    confirmed: set[tuple[str, str]] = set()
    for entry in doc["devices"]:
        if entry["device_id"] in seen:
            report.faults.append(
                Fault(FaultKind.DUPLICATE, "the device is listed twice", entry["device_id"])
            )
            continue
        seen.add(entry["device_id"])
        check = DeviceCheck(entry, period, ward_devices).run()
        if on_checked is not None:
            on_checked(len(entry["rows"]))
        report.devices.append(check.result)
        report.faults.extend(check.faults)
        confirmed.update((check.device_id, item) for item in check.confirmed_items)
        if check.result.unknown_after_head:
            report.notes.append(
                f"{check.device_id}: seq {_runs_text(check.result.unknown_after_head)} after the "
                "chain head never reached the controller; they may fall in the period"
            )
        if not entry["rows"]:
            report.notes.append(f"{check.device_id}: no events in the period")
    _check_planned(doc, confirmed, report)
    _check_not_empty(report)
    return report


def _check_not_empty(report: Report) -> None:
    """Plays were due, and not one valid event is here: that is not a clean bundle.

    It used to verify as "0 valid, 0 faults" (exit 0), which an evaluator reads as clean.
    A period with nothing planned and nothing played stays clean.
    """
    if report.planned_due > 0 and report.valid == 0:
        report.faults.append(
            Fault(
                FaultKind.EMPTY,
                f"{report.planned_due} planned play(s) were due in the period, yet the bundle "
                "holds no valid event: nothing in it proves that any was played",
            )
        )


def _check_signature(doc: dict[str, Any], digest: str, pinned: str | None, report: Report) -> None:
    """The controller's signature over the digest, against the pinned key if given."""
    signature = doc.get("controller_signature")
    embedded = doc.get("controller_public_key")
    if not isinstance(signature, str):
        if pinned is not None:
            report.faults.append(
                Fault(FaultKind.UNTRUSTED, "the bundle is not signed by the controller")
            )
        else:
            report.notes.append("the bundle carries no controller signature")
        return
    key = pinned if pinned is not None else embedded
    if pinned is not None and embedded != pinned:
        report.faults.append(
            Fault(
                FaultKind.UNTRUSTED,
                f"the bundle names controller key {embedded!r}, not the pinned one",
            )
        )
    good = isinstance(key, str) and verify(key, signing_message(digest), signature)
    report.signature = "valid" if good else "invalid"
    if not good:
        report.faults.append(
            Fault(
                FaultKind.TAMPERED,
                "the controller's signature does not match the bundle: altered after signing",
            )
        )


def _check_planned(doc: dict[str, Any], confirmed: set[tuple[str, str]], report: Report) -> None:
    """Context, not proof: but a play called unconfirmed while its row is here is a lie."""
    planned = doc.get("planned")
    if not isinstance(planned, dict):
        return
    due = planned.get("due")
    report.planned_due = due if type(due) is int else 0
    missed = planned.get("without_evidence")
    if not isinstance(missed, list):
        return
    report.planned_without_evidence = len(missed)
    for item in missed:
        if not isinstance(item, dict):
            continue
        key = (str(item.get("device_id")), str(item.get("item_id")))
        if key in confirmed:
            report.faults.append(
                Fault(
                    FaultKind.INCONSISTENT,
                    f"item {key[1]} is listed as planned without evidence, yet its event is here",
                    key[0],
                )
            )


# --- output --------------------------------------------------------------------------


def _runs_text(given: list[tuple[int, int]]) -> str:
    """[(3, 5), (9, 9), (11, 12)] -> '[3-5, 9, 11, 12]': a year's gaps stay one line."""
    parts: list[str] = []
    for a, b in given:
        parts += [str(a), str(b)] if b == a + 1 else [str(a) if a == b else f"{a}-{b}"]
    return "[" + ", ".join(parts) + "]"


def _seqs(seqs: list[int]) -> str:
    """Sequence numbers, consecutive ones as runs."""
    return _runs_text(runs(seqs))


def _fault_line(fault: Fault) -> str:
    where = []
    if fault.device_id:
        where.append(fault.device_id)
    if fault.seq is not None:
        where.append(f"seq {fault.seq}" + (f"-{fault.to_seq}" if fault.to_seq else ""))
    if fault.event_id:
        where.append(f"({fault.event_id})")
    place = " ".join(where) or "bundle"
    return f"{fault.kind.upper():<13} {place}: {fault.detail}"


def render_text(report: Report) -> str:
    """The evaluator's reading: bundle, per device, each fault, then the verdict line."""
    lines = [
        f"ward {report.ward_code} {report.ward_name}, period {report.label} "
        f"[{report.period_from}, {report.period_to}) by planned start",
        f"bundle digest: {'ok' if report.digest_ok else 'MISMATCH'} ({report.bundle_digest})",
    ]
    if report.signature == "absent":
        lines.append("controller signature: absent")
    else:
        pin = (
            "pinned"
            if report.key_pinned
            else "not pinned: compare it with the key the controller publishes, "
            "or pass --controller-key"
        )
        lines.append(
            f"controller signature: {report.signature}, key {report.controller_key} ({pin})"
        )
    for d in report.devices:
        group = f" (group {d.group_code})" if d.group_code else ""
        extra = [
            f"{name} {_seqs(values)}"
            for name, values in (
                ("broken links", d.broken_links),
                ("foreign", d.foreign),
                ("duplicate", d.duplicate),
            )
            if values
        ]
        lines.append(
            f"device {d.device_id}{group}: valid {d.valid}, missing {_runs_text(d.missing)}, "
            f"reordered {_seqs(d.reordered)}, tampered {_seqs(d.tampered)}"
            + "".join(f", {e}" for e in extra)
            + (f" (+{d.links} link rows)" if d.links else "")
        )
    lines += [_fault_line(f) for f in report.faults]
    lines += [f"note: {n}" for n in report.notes]
    lines.append(
        f"planned plays due: {report.planned_due}, without evidence: "
        f"{report.planned_without_evidence} (the controller's account)"
    )
    count = report.fault_count
    lines.append(f"verified: {report.valid} valid, {count} fault{'' if count == 1 else 's'}")
    # Names come from the file: a terminal escape in a ward name must not reach the screen.
    return "\n".join(line.translate(_CONTROL) for line in lines) + "\n"


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    data = asdict(report)
    data.update(ok=report.ok, valid=report.valid, fault_count=report.fault_count)
    data["faults"] = [{**asdict(f), "kind": f.kind.value} for f in report.faults]
    return data


def _rows(doc: dict[str, Any]) -> int:
    """How many rows the bundle holds (for the progress line; the frame is checked later)."""
    devices = doc.get("devices")
    if not isinstance(devices, list):
        return 0
    return sum(
        len(e["rows"]) for e in devices if isinstance(e, dict) and isinstance(e.get("rows"), list)
    )


def run(
    path: Path,
    *,
    as_json: bool = False,
    expected_ward: str | None = None,
    controller_key: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    progress: bool | None = None,
) -> int:
    """Verify the bundle at ``path`` and print the result; returns the exit code.

    ``progress``: draw a progress line on ``err`` (default: only if it is a terminal).
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
            doc = load_bundle(path)
        with Progress(
            "kiểm tra · verifying", _rows(doc), unit="rows", stream=err, enabled=progress
        ) as bar:
            report = verify_bundle(
                doc,
                expected_ward=expected_ward,
                controller_key=controller_key,
                on_checked=bar.advance,
            )
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
    args = parser.parse_args(argv)
    return run(
        args.bundle,
        as_json=args.json,
        expected_ward=args.ward,
        controller_key=args.controller_key,
    )


if __name__ == "__main__":
    sys.exit(main())
