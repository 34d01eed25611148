"""Streaming is a way of reading, never a looser check: a streamed bundle reads as a whole one.

Every kind of fault at once, written in both key orders, read in chunks that cut
every value and batches of every size, on one thread and several: the report is the
one the whole-file verifier gives, fault for fault and word for word.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.domain.evidence.bundles import stream
from controller.domain.evidence.bundles.format import content_digest, dump_bundle
from controller.domain.evidence.bundles.verify import (
    load_bundle,
    report_dict,
    verify_bundle,
    verify_file,
)
from tests.unit.test_bundles_support import DAY_END, WARD_B, Scene, bundle_of, scene

__all__ = ["scene"]  # the fixture, imported for pytest


def rows_of(bundle: dict[str, Any], device_id: str) -> list[dict[str, Any]]:
    entry = next(d for d in bundle["devices"] if d["device_id"] == device_id)
    rows: list[dict[str, Any]] = entry["rows"]
    return rows


def everything_wrong(scene: Scene) -> dict[str, Any]:
    """One bundle with a fault of every kind a row can carry, and a device listed twice."""
    h, _ = scene
    bundle = bundle_of(h)
    later = bundle_of(h, start=DAY_END, end=DAY_END + timedelta(days=1))
    to1, to2 = rows_of(bundle, "to-1"), rows_of(bundle, "to-2")
    to1[1]["signed"] = to1[1]["signed"].replace('"seq":3', '"seq":30')  # tampered
    to1[2], to1[3] = to1[3], to1[2]  # reordered
    to1.insert(1, copy.deepcopy(rows_of(bundle_of(h, WARD_B), "to-3")[1]))  # foreign device
    to1.append(rows_of(later, "to-1")[0])  # outside the period, after the head
    to2.insert(2, copy.deepcopy(to2[1]))  # duplicate
    del to2[3]  # missing
    to2.append({"seq": "x"})  # no shape
    bundle["devices"].append(copy.deepcopy(bundle["devices"][0]))  # listed twice
    bundle["planned"]["without_evidence"].append({"device_id": "to-2", "item_id": "to-2-it-1"})
    bundle["bundle_digest"] = content_digest(bundle)
    return bundle


def whole(path: Path) -> dict[str, Any]:
    return report_dict(verify_bundle(load_bundle(path)))


def streamed(path: Path, workers: int) -> dict[str, Any]:
    return report_dict(verify_file(path, workers=workers))


@pytest.mark.parametrize(("chunk", "batch", "workers"), [(7, 1, 1), (64, 2, 3), (1 << 20, 256, 2)])
def test_a_streamed_bundle_reads_as_the_whole_one(
    scene: Scene,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    batch: int,
    workers: int,
) -> None:
    bundle = everything_wrong(scene)
    expected = report_dict(verify_bundle(copy.deepcopy(bundle)))
    kinds = {f["kind"] for f in expected["faults"]}
    assert kinds >= {"tampered", "reordered", "foreign", "duplicate", "missing", "inconsistent"}
    monkeypatch.setattr(stream, "CHUNK", chunk)
    monkeypatch.setattr(stream, "BATCH", batch)
    for name, data in (
        ("streaming-order.json", dump_bundle(bundle)),  # the writer's: one pass
        ("any-order.json", json.dumps(bundle, ensure_ascii=False).encode()),  # a digest pass
        ("sorted.json", json.dumps(bundle, sort_keys=True, indent=3).encode()),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        assert streamed(path, workers) == expected == whole(path), name


def test_a_key_given_twice_is_read_as_json_reads_it(scene: Scene, tmp_path: Path) -> None:
    """Parsers disagree on which of two equal keys counts: the streamer does not guess."""
    bundle = bundle_of(scene[0])
    text = dump_bundle(bundle).decode()
    path = tmp_path / "twice.json"
    path.write_text(text.replace('"ward": {', '"ward": "26737", "ward": {', 1))
    assert streamed(path, 2) == whole(path)
    assert streamed(path, 2)["ok"] is True


def test_rows_before_the_device_key_are_verified_all_the_same(scene: Scene, tmp_path: Path) -> None:
    bundle = bundle_of(scene[0])
    for entry in bundle["devices"]:
        rows = entry.pop("rows")
        entry.update({"rows": rows, "public_key": entry.pop("public_key")})
    path = tmp_path / "late-key.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    report = streamed(path, 2)
    assert report == whole(path) and report["ok"] is True and report["valid"] == 8


def test_the_writer_puts_the_header_first_and_the_devices_last(scene: Scene) -> None:
    bundle = bundle_of(scene[0])
    keys = list(json.loads(dump_bundle(bundle)))
    assert keys[0] == "format" and keys[-1] == "devices"
    assert keys.index("controller_public_key") < keys.index("devices")
