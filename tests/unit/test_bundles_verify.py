"""The offline verifier catches each way a bundle can be tampered with, by its word.

Every bundle here is built by the controller from events the fake broker delivered,
then edited the way someone covering something up would edit it.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from controller.domain.evidence.bundles.format import content_digest, signing_message
from controller.domain.evidence.bundles.verify import EXIT_FAULTS, EXIT_OK, EXIT_UNUSABLE, run
from tests.unit.test_bundles_support import (
    DAY_END,
    DAY_START,
    WARD_A,
    WARD_B,
    Scene,
    bundle_of,
    rewrite,
    scene,
    write,
)
from wardcast_protocol.signing import SigningKey

__all__ = ["scene"]  # the fixture, imported for pytest


def check(path: Path, **options: Any) -> tuple[int, str, str]:
    """Run the verifier as the CLI does; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = run(path, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def rows_of(bundle: dict[str, Any], device_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = next(d for d in bundle["devices"] if d["device_id"] == device_id)[
        "rows"
    ]
    return rows


def reseal(bundle: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """Recompute the digest and sign with ``key``: a forger's best effort."""
    bundle["bundle_digest"] = content_digest(bundle)
    bundle["controller_public_key"] = key.public_key_b64
    bundle["controller_signature"] = key.sign(signing_message(bundle["bundle_digest"]))
    return bundle


def test_an_untouched_bundle_verifies(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    path = write(tmp_path / "b.json", bundle_of(h))
    code, out, err = check(path, controller_key=h.runtime.key.public_key_b64)
    assert code == EXIT_OK, out + err
    assert "device to-1 (group 01): valid 4, missing [], reordered [], tampered []" in out
    assert "device to-2 (group 02): valid 4, missing [], reordered [], tampered []" in out
    assert "controller signature: valid" in out and "(pinned)" in out
    assert "planned plays due: 1, without evidence: 1" in out
    assert out.endswith("verified: 8 valid, 0 faults\n")
    assert "to-3" not in out  # the other ward's device is not in this ward's bundle


def test_the_bundle_records_anchor_head_and_period(scene: Scene) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    to1 = next(d for d in bundle["devices"] if d["device_id"] == "to-1")
    assert [r["seq"] for r in to1["rows"]] == [2, 3, 4, 5]  # seq 1 before, 6 after the day
    assert to1["chain_anchor"]["seq"] == 1
    assert to1["chain_head"]["seq"] == 5
    assert bundle["period"] == {
        "from": "2026-03-01T17:00:00Z",
        "to": "2026-03-02T17:00:00Z",
        "label": "2026-03-02",
        "basis": "planned_start",
    }
    assert bundle["ward"]["name"] == "Phường Bến Nghé"


def test_an_edited_field_inside_signed_is_tampered(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    row = rows_of(bundle, "to-1")[1]
    row["signed"] = row["signed"].replace('"played_duration_s":12.0', '"played_duration_s":120.0')
    code, out, _ = check(rewrite(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "TAMPERED      to-1 seq 3 (to-1-ev-3): the signature does not match" in out
    assert "tampered [3]" in out
    assert "bundle digest: MISMATCH" in out


def test_a_changed_event_resigned_with_another_key_is_tampered(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    stranger = SigningKey.generate()
    row = rows_of(bundle, "to-2")[0]
    signed = row["signed"].replace('"outcome":"completed"', '"outcome":"partial"')
    row["signed"], row["sig"] = signed, stranger.sign(signed.encode())
    # Even with the digest and the controller signature redone by the forger…
    code, out, _ = check(rewrite(tmp_path / "b.json", reseal(bundle, stranger)))
    assert code == EXIT_FAULTS
    assert "TAMPERED      to-2 seq 1" in out and "tampered [1]" in out
    # …and pinning the real controller key shows who signed the bundle.
    code, out, _ = check(tmp_path / "b.json", controller_key=h.runtime.key.public_key_b64)
    assert "UNTRUSTED" in out and "not the pinned one" in out


def test_a_dropped_row_is_missing(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    del rows_of(bundle, "to-1")[1]
    code, out, _ = check(rewrite(tmp_path / "b.json", reseal(bundle, h.runtime.key)))
    assert code == EXIT_FAULTS
    assert "missing [3]" in out
    assert "MISSING       to-1 seq 3: not in the bundle, and not declared missing" in out
    assert "verified: 7 valid, 1 fault" in out


def test_a_dropped_last_row_is_missing_by_the_chain_head(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    rows_of(bundle, "to-2").pop()
    code, out, _ = check(rewrite(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "device to-2 (group 02): valid 3, missing [4]" in out


def test_swapped_rows_are_reordered(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    rows = rows_of(bundle, "to-1")
    rows[1], rows[2] = rows[2], rows[1]
    code, out, _ = check(rewrite(tmp_path / "b.json", reseal(bundle, h.runtime.key)))
    assert code == EXIT_FAULTS
    assert "reordered [3, 4]" in out
    assert "REORDERED     to-1 seq 3-4: rows are not in sequence order" in out


def test_a_device_that_forked_its_chain_shows_a_broken_link(scene: Scene, tmp_path: Path) -> None:
    h, chains = scene
    # to-2 signs seq 5 naming a made-up predecessor: valid signature, broken link.
    chains.last_digest["to-2"] = "0" * 64
    chains.send("to-2", DAY_START + timedelta(hours=8))
    h.clock._now = DAY_END + timedelta(hours=3)
    code, out, _ = check(write(tmp_path / "b.json", bundle_of(h)))
    assert code == EXIT_FAULTS
    assert "BROKEN_LINK   to-2 seq 5 (to-2-ev-5)" in out and "the chain forks here" in out
    assert "broken links [5]" in out
    assert "tampered []" in out  # every signature is genuine


def test_a_row_from_another_wards_device_is_foreign(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    other = rows_of(bundle_of(h, WARD_B), "to-3")[1]
    rows_of(bundle, "to-1").insert(2, copy.deepcopy(other))
    code, out, _ = check(rewrite(tmp_path / "b.json", reseal(bundle, h.runtime.key)))
    assert code == EXIT_FAULTS
    assert (
        "FOREIGN       to-1 (to-3-ev-2): seq 2 is an event of 'to-3', a device not of this " in out
    )
    assert "valid 4" in out  # to-1's own rows are untouched


def test_a_row_outside_the_period_is_foreign(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    later = bundle_of(h, start=DAY_END, end=DAY_END + timedelta(days=1))
    bundle = bundle_of(h)
    to1 = next(d for d in bundle["devices"] if d["device_id"] == "to-1")
    # seq 6 chains correctly after seq 5, but was planned the next day.
    to1["rows"].append(rows_of(later, "to-1")[0])
    to1["chain_head"] = next(d for d in later["devices"] if d["device_id"] == "to-1")["chain_head"]
    code, out, _ = check(rewrite(tmp_path / "b.json", reseal(bundle, h.runtime.key)))
    assert code == EXIT_FAULTS
    assert "FOREIGN       to-1 seq 6 (to-1-ev-6): planned at 2026-03-02T18:00:00Z, outside" in out


def test_a_duplicated_row_is_reported(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    rows = rows_of(bundle, "to-2")
    rows.insert(2, copy.deepcopy(rows[1]))
    code, out, _ = check(rewrite(tmp_path / "b.json", reseal(bundle, h.runtime.key)))
    assert code == EXIT_FAULTS
    assert "DUPLICATE     to-2 seq 2 (to-2-ev-2): seq 2 appears twice" in out


def test_a_renamed_ward_fails_the_bundle_digest(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    bundle["ward"]["name"] = "Phường Khác"
    code, out, _ = check(rewrite(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "bundle digest: MISMATCH" in out
    assert "TAMPERED      bundle: the bundle digest does not match its content" in out


def test_a_recomputed_digest_without_the_key_fails_the_signature(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    del rows_of(bundle, "to-1")[0]
    bundle["bundle_digest"] = content_digest(bundle)  # the digest alone anyone can redo
    code, out, _ = check(rewrite(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "bundle digest: ok" in out and "controller signature: invalid" in out
    assert "missing [2]" in out


def test_a_truncated_file_is_a_clear_error(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    data = write(tmp_path / "b.json", bundle_of(h)).read_bytes()
    for cut in (len(data) // 2, len(data) - 3, 10):
        (tmp_path / "cut.json").write_bytes(data[:cut])
        code, out, err = check(tmp_path / "cut.json")
        assert code == EXIT_UNUSABLE
        assert "is truncated" in err and "Traceback" not in err + out


def test_a_file_that_is_not_json_or_not_a_bundle_is_a_clear_error(tmp_path: Path) -> None:
    cases = {
        b"ward,period\n26734,2026\n": "is not JSON",
        b"": "is empty",
        b"\xff\xfe\x00": "is not UTF-8",
        b"[1, 2]": "not an object",
        b'{"rows": []}': "no 'format'",
        b'{"format": "wardcast-evidence-bundle/9"}': "this verifier reads",
        b'{"format": "wardcast-evidence-bundle/1", "ward": {}}': "malformed bundle",
    }
    for data, words in cases.items():
        (tmp_path / "x.json").write_bytes(data)
        code, _, err = check(tmp_path / "x.json")
        assert code == EXIT_UNUSABLE and words in err, (data, err)
    code, _, err = check(tmp_path / "absent.json")
    assert code == EXIT_UNUSABLE and "cannot read" in err


def test_a_bundle_of_another_ward_is_refused_when_a_ward_is_asked_for(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    path = write(tmp_path / "b.json", bundle_of(h, WARD_B))
    code, _, err = check(path, expected_ward=WARD_A)
    assert code == EXIT_UNUSABLE
    assert "this bundle is for ward 26737 (Phường Bến Thành), not ward 26734" in err
    assert check(path, expected_ward=WARD_B)[0] == EXIT_OK


def test_json_output_names_every_fault(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    del rows_of(bundle, "to-1")[1]
    code, out, _ = check(rewrite(tmp_path / "b.json", bundle), as_json=True)
    report = json.loads(out)
    assert code == EXIT_FAULTS and report["ok"] is False
    kinds = sorted(f["kind"] for f in report["faults"])
    assert kinds == ["missing", "tampered"]  # the row, and the digest it changed
    to1 = next(d for d in report["devices"] if d["device_id"] == "to-1")
    assert to1["missing"] == [[3, 3]] and to1["valid"] == 3


def test_the_verifier_runs_without_the_controller(scene: Scene, tmp_path: Path) -> None:
    """`python -m controller.domain.evidence.bundles.verify` loads no database, web or MQTT code."""
    h, _ = scene
    path = write(tmp_path / "b.json", bundle_of(h))
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['verify', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('controller.domain.evidence.bundles.verify', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    heavy = sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "                   {'sqlalchemy', 'fastapi', 'paho', 'alembic', 'httpx'}\n"
        "                   or m.startswith(('controller.db', 'controller.api',\n"
        "                                    'controller.messaging'))\n"
        "                   or (m.startswith('controller.domain.')\n"
        "                       and m != 'controller.domain.evidence'\n"
        "                       and not m.startswith('controller.domain.evidence.bundles')))\n"
        "    print('heavy:', heavy)\n"
        "    raise\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "verified: 8 valid, 0 faults" in done.stdout
    assert "heavy: []" in done.stdout


def test_hostile_numbers_and_names_cost_nothing_and_print_harmlessly(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    to1 = next(d for d in bundle["devices"] if d["device_id"] == "to-1")
    to1["chain_head"]["seq"] = 10**12  # a forged head: a trillion missing numbers
    to1["declared_missing"] = [[7, 10**15], [9, 3]]
    bundle["ward"]["name"] = "Phường \x1b[2J\x1b[31mOK"
    code, out, _ = check(rewrite(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "missing [6-1000000000000]" in out
    assert "MISSING       to-1 seq 6: not in the bundle, and not declared" in out
    assert (
        "MISSING       to-1 seq 7-1000000000000: not in the bundle: the controller declares" in out
    )
    assert "\x1b" not in out and "Phường ?[2J?[31mOK" in out
    (tmp_path / "big.json").write_text(
        '{"format": "wardcast-evidence-bundle/1", "n": ' + "9" * 5000 + "}"
    )
    code, _, err = check(tmp_path / "big.json")
    assert code == EXIT_UNUSABLE and "too large to read" in err
