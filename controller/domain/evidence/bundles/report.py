"""What the verifier found, and how it reads: a person's text or JSON.

Standard library only: part of the offline verifier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from controller.domain.evidence.bundles.faults import DeviceResult, Fault
from controller.domain.evidence.bundles.sequences import runs

_CONTROL = {c: "?" for c in [*range(0x20), *range(0x7F, 0xA0)]}


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


def runs_text(given: list[tuple[int, int]]) -> str:
    """[(3, 5), (9, 9), (11, 12)] -> '[3-5, 9, 11, 12]': a year's gaps stay one line."""
    parts: list[str] = []
    for a, b in given:
        parts += [str(a), str(b)] if b == a + 1 else [str(a) if a == b else f"{a}-{b}"]
    return "[" + ", ".join(parts) + "]"


def _seqs(seqs: list[int]) -> str:
    """Sequence numbers, consecutive ones as runs."""
    return runs_text(runs(seqs))


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
            f"device {d.device_id}{group}: valid {d.valid}, missing {runs_text(d.missing)}, "
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
