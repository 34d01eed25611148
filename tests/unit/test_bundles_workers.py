"""Signatures checked in worker processes, or by libsodium, read exactly as on the spot.

How a signature is checked is a matter of speed, never of verdict: the same report,
fault for fault, whether the rows were checked here or in worker processes, by
libsodium or by ``cryptography`` alone, and when a worker dies mid-bundle.
"""

from __future__ import annotations

import base64
import copy
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest

from controller.domain.evidence.bundles import ed25519, pipeline
from controller.domain.evidence.bundles.format import dump_bundle
from controller.domain.evidence.bundles.verify import report_dict, verify_bundle, verify_file
from tests.unit.test_bundles_stream import everything_wrong
from tests.unit.test_bundles_support import Scene, scene
from wardcast_protocol.signing import SigningKey, verify

__all__ = ["scene"]  # the fixture, imported for pytest


class Watched(pipeline.SignaturePipeline):
    """The real pipeline, remembering whether it started its worker processes."""

    pooled_any: ClassVar[list[bool]] = []

    def close(self) -> None:
        Watched.pooled_any.append(self.pooled)
        super().close()


def watch(monkeypatch: pytest.MonkeyPatch, pool_after_rows: int) -> list[bool]:
    """Pipelines start their workers after ``pool_after_rows`` rows; says which did."""
    Watched.pooled_any.clear()
    monkeypatch.setattr(pipeline, "POOL_AFTER_ROWS", pool_after_rows)
    monkeypatch.setattr("controller.domain.evidence.bundles.verify.SignaturePipeline", Watched)
    return Watched.pooled_any


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every pipeline starts its workers from the first row."""
    return watch(monkeypatch, 0)


def written(tmp_path: Path, bundle: dict[str, Any]) -> Path:
    path = tmp_path / "bundle.json"
    path.write_bytes(dump_bundle(bundle))
    return path


def forked(workers: int) -> Executor:
    """Worker processes, whatever threads the test run has left behind."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def test_worker_processes_report_every_fault_as_the_spot_does(
    scene: Scene, tmp_path: Path, watched: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = everything_wrong(scene)
    expected = report_dict(verify_bundle(copy.deepcopy(bundle)))
    assert {f["kind"] for f in expected["faults"]} >= {"tampered", "reordered", "missing"}
    monkeypatch.setattr(pipeline, "_start_pool", forked)
    assert report_dict(verify_file(written(tmp_path, bundle), workers=2)) == expected
    assert watched == [True]


def test_the_command_forks_and_a_threaded_caller_gets_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The controller archiving a period runs threads: it is never forked."""
    for threads, kind in ((1, ProcessPoolExecutor), (2, ThreadPoolExecutor)):
        monkeypatch.setattr(threading, "active_count", lambda n=threads: n)
        pool = pipeline._start_pool(2)
        try:
            assert type(pool) is kind
        finally:
            pool.shutdown()


def test_threads_report_every_fault_as_the_spot_does(
    scene: Scene, tmp_path: Path, watched: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = everything_wrong(scene)
    expected = report_dict(verify_bundle(copy.deepcopy(bundle)))
    monkeypatch.setattr(pipeline, "_start_pool", ThreadPoolExecutor)
    assert report_dict(verify_file(written(tmp_path, bundle), workers=2)) == expected
    assert watched == [True]


def die_in_the_worker(key: str, items: Any) -> list[bool]:
    """Stands in for the signature check: the worker process is killed mid-bundle."""
    os._exit(9)


def test_a_worker_that_dies_leaves_the_rows_checked_here(
    scene: Scene, tmp_path: Path, watched: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = everything_wrong(scene)
    expected = report_dict(verify_bundle(copy.deepcopy(bundle)))
    monkeypatch.setattr(pipeline, "_start_pool", forked)  # never a thread: it would exit
    monkeypatch.setattr(pipeline, "signatures_valid", die_in_the_worker)
    assert report_dict(verify_file(written(tmp_path, bundle), workers=2)) == expected
    assert watched == [False]  # the pool was given up, and the rows checked on the spot


def test_one_worker_or_a_small_bundle_starts_no_process(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written(tmp_path, everything_wrong(scene))
    pooled = watch(monkeypatch, pipeline.POOL_AFTER_ROWS)  # a few rows: far below it
    assert not report_dict(verify_file(path, workers=2))["ok"]
    assert pooled == [False]
    pooled = watch(monkeypatch, 0)
    assert not report_dict(verify_file(path, workers=1))["ok"]  # one worker: on the spot
    assert pooled == [False]


# --- libsodium first, cryptography's verdict ---------------------------------------------


def signed(key: SigningKey, data: bytes) -> str:
    return key.sign(data)


def cases() -> list[tuple[str, bytes, str]]:
    key, other = SigningKey.generate(), SigningKey.generate()
    data = b'{"kind":"event","seq":3}'
    good = signed(key, data)
    raw = bytearray(base64.b64decode(good))
    raw[10] ^= 1
    identity = base64.b64encode(b"\x01" + bytes(31)).decode()  # a small-order key
    return [
        (key.public_key_b64, data, good),
        (key.public_key_b64, data + b" ", good),  # the bytes changed
        (key.public_key_b64, data, base64.b64encode(bytes(raw)).decode()),  # the signature
        (other.public_key_b64, data, good),  # another device's key
        (key.public_key_b64, data, "not base64!"),
        (key.public_key_b64, data, base64.b64encode(b"short").decode()),
        ("AAAA", data, good),  # not a key
        # OpenSSL accepts the identity key's "signature" of anything; libsodium refuses
        # it. The verdict stays cryptography's, so a bundle reads alike everywhere.
        (identity, b"anything at all", base64.b64encode(b"\x01" + bytes(63)).decode()),
    ]


@pytest.mark.parametrize("sodium", [True, False])
def test_the_verdict_is_cryptographys_with_or_without_libsodium(
    sodium: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sodium:
        monkeypatch.setattr(ed25519, "_SODIUM", None)
    assert ed25519.sodium_available() is sodium
    checked = cases()
    expected = [verify(key, data, sig) for key, data, sig in checked]
    assert expected == [True, False, False, False, False, False, False, True]
    assert [ed25519.signature_valid(*case) for case in checked] == expected
    by_key = [ed25519.signatures_valid(key, [(data, sig)])[0] for key, data, sig in checked]
    assert by_key == expected
