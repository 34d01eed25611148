"""The bundle as a whole: its digest, the controller's signature, the planned account.

Standard library and ``wardcast_protocol.signing``: part of the offline verifier.
``judge`` turns the bundle's header, its digest as computed and each device's check
into the :class:`~controller.domain.evidence.bundles.report.Report`, faults in the
order an evaluator reads them: the bundle, then each device, then the account.
"""

from __future__ import annotations

from typing import Any

from controller.domain.evidence.bundles.checks import DeviceCheck
from controller.domain.evidence.bundles.faults import Fault, FaultKind
from controller.domain.evidence.bundles.format import signing_message
from controller.domain.evidence.bundles.report import Report, runs_text
from wardcast_protocol.signing import verify

Entry = DeviceCheck | str
"""A device entry as judged: its check, or the id of a device listed a second time."""


def judge(
    doc: dict[str, Any], digest: str, entries: list[Entry], controller_key: str | None
) -> Report:
    """The report, from the bundle's header, its digest and its checked devices."""
    ward = doc["ward"]
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
    confirmed: set[tuple[str, str]] = set()
    for check in entries:
        if isinstance(check, str):
            report.faults.append(Fault(FaultKind.DUPLICATE, "the device is listed twice", check))
            continue
        report.devices.append(check.result)
        report.faults.extend(check.faults)
        confirmed.update((check.device_id, item) for item in check.confirmed_items)
        if check.result.unknown_after_head:
            report.notes.append(
                f"{check.device_id}: seq {runs_text(check.result.unknown_after_head)} after the "
                "chain head never reached the controller; they may fall in the period"
            )
        if not check.rows:
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
