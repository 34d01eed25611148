"""Building bundles: what goes in, honest gaps, link rows, moved devices, bad periods, labels."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.domain.devices.service import register_device
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.evidence.bundles.format import canonical_bytes, period_label
from controller.domain.evidence.bundles.verify import EXIT_FAULTS, EXIT_OK, run
from controller.domain.places import service as places
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

__all__ = ["scene"]


def check(path: Path, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    return run(path, out=out, err=out, **options), out.getvalue()


def device(bundle: dict[str, Any], device_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in bundle["devices"] if d["device_id"] == device_id)
    return found


def test_a_gap_the_controller_knows_is_declared_and_still_a_fault(
    scene: Scene, tmp_path: Path
) -> None:
    h, chains = scene
    chains.make("to-2", DAY_START + timedelta(hours=9))  # seq 5: lost on the way
    chains.send("to-2", DAY_START + timedelta(hours=10))  # seq 6 arrives
    h.clock._now = DAY_END + timedelta(hours=3)
    bundle = bundle_of(h)
    assert device(bundle, "to-2")["declared_missing"] == [[5, 5]]
    code, out = check(write(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "MISSING       to-2 seq 5: not in the bundle: the controller declares it never" in out


def test_a_gap_just_after_the_head_is_a_note_not_a_fault(scene: Scene, tmp_path: Path) -> None:
    h, chains = scene
    chains.make("to-2", DAY_END + timedelta(hours=1))  # seq 5, lost: in the period or not?
    chains.send("to-2", DAY_END + timedelta(hours=2))  # seq 6, after the period
    h.clock._now = DAY_END + timedelta(hours=3)
    bundle = bundle_of(h)
    assert device(bundle, "to-2")["declared_missing"] == [[5, 5]]
    code, out = check(write(tmp_path / "b.json", bundle))
    assert code == EXIT_OK
    assert "note: to-2: seq [5] after the chain head never reached the controller" in out


def test_an_event_outside_the_period_between_two_inside_is_carried_as_a_link(
    scene: Scene, tmp_path: Path
) -> None:
    h, chains = scene
    chains.send("to-1", DAY_START + timedelta(hours=10))  # seq 7 in the day; seq 6 is not
    h.clock._now = DAY_END + timedelta(hours=3)
    bundle = bundle_of(h)
    rows = device(bundle, "to-1")["rows"]
    assert [(r["seq"], r.get("link_only", False)) for r in rows] == [
        (2, False), (3, False), (4, False), (5, False), (6, True), (7, False),
    ]  # fmt: skip
    code, out = check(write(tmp_path / "b.json", bundle))
    assert code == EXIT_OK, out
    assert "device to-1 (group 01): valid 5, missing [], reordered [], tampered [] (+1 link" in out
    # A link row is not in-period evidence: unmarking it is caught.
    del rows[4]["link_only"]
    code, out = check(rewrite(tmp_path / "b.json", bundle))
    assert "FOREIGN       to-1 seq 6 (to-1-ev-6): planned at 2026-03-02T18:00:00Z" in out


def test_a_device_that_moved_wards_counts_in_each_for_its_own_time(
    scene: Scene, tmp_path: Path
) -> None:
    h, chains = scene
    with h.runtime.db.session() as session:
        places.place_device(session, "to-3", WARD_A, "02")
    chains.send("to-3", DAY_START + timedelta(hours=12))  # seq 4, now in ward A
    h.clock._now = DAY_END + timedelta(hours=3)
    in_a, in_b = bundle_of(h, WARD_A), bundle_of(h, WARD_B)
    assert [r["seq"] for r in device(in_a, "to-3")["rows"]] == [4]
    assert device(in_a, "to-3")["chain_anchor"]["seq"] == 3
    assert [r["seq"] for r in device(in_b, "to-3")["rows"]] == [1, 2, 3]
    assert device(in_b, "to-3")["group_code"] is None  # no longer placed there
    for ward, bundle in ((WARD_A, in_a), (WARD_B, in_b)):
        code, out = check(write(tmp_path / f"{ward}.json", bundle), expected_ward=ward)
        assert code == EXIT_OK, out


def test_a_silent_device_is_listed_not_hidden(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    with h.runtime.db.session() as session:
        key = SigningKey.generate().public_key_b64
        register_device(session, "to-4", "to-4", key, h.clock.now())
        session.flush()
        places.place_device(session, "to-4", WARD_A, "01")
    bundle = bundle_of(h)
    assert device(bundle, "to-4")["rows"] == []
    code, out = check(write(tmp_path / "b.json", bundle))
    assert code == EXIT_OK
    assert "device to-4 (group 01): valid 0" in out and "note: to-4: no events in the period" in out


def test_a_play_called_missed_while_its_event_is_present_is_inconsistent(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    entry = dict(bundle["planned"]["without_evidence"][0], device_id="to-1", item_id="to-1-it-3")
    bundle["planned"]["without_evidence"].append(entry)
    code, out = check(rewrite(tmp_path / "b.json", bundle))
    assert code == EXIT_FAULTS
    assert "INCONSISTENT  to-1: item to-1-it-3 is listed as planned without evidence" in out


def test_the_digest_does_not_depend_on_the_files_layout(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(bundle, separators=(",", ":")), encoding="utf-8")
    assert check(compact)[0] == EXIT_OK
    assert b" " not in canonical_bytes({"a": [1, 2], "b": {"c": "d"}})


def test_unknown_wards_and_bad_periods_are_refused(scene: Scene) -> None:
    h, _ = scene
    with pytest.raises(NotFound, match="no ward '99999'"):
        bundle_of(h, "99999")
    with pytest.raises(InvalidInput, match=r"ends .* before it starts"):
        bundle_of(h, start=DAY_END, end=DAY_START)
    with pytest.raises(InvalidInput, match="time zone"):
        bundle_of(h, start=datetime(2026, 3, 2), end=datetime(2026, 3, 3))


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2025-12-31T17:00:00Z", "2026-12-31T17:00:00Z", "2026"),
        ("2026-02-28T17:00:00Z", "2026-03-31T17:00:00Z", "2026-03"),
        ("2026-12-01T00:00:00+07:00", "2027-01-01T00:00:00+07:00", "2026-12"),
        ("2026-03-01T17:00:00Z", "2026-03-02T17:00:00Z", "2026-03-02"),
        ("2026-03-01T17:00:00Z", "2026-03-08T17:00:00Z", "2026-03-02_2026-03-08"),
        ("2026-03-02T05:00:00Z", "2026-03-02T06:00:00Z", "20260302T050000Z_20260302T060000Z"),
    ],
)
def test_period_labels_read_in_the_wards_calendar(start: str, end: str, label: str) -> None:
    parse = datetime.fromisoformat
    assert period_label(parse(start), parse(end), "Asia/Ho_Chi_Minh") == label
    assert parse(start).astimezone(UTC).tzinfo is UTC
