"""A period that owed plays but holds no event is a fault, not a clean bundle.

``wardcast evidence verify`` on such a bundle said "0 valid, 0 faults" and exited 0;
an evaluator reads that as clean.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from controller.domain.actors import Actor, Role
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.archives import archive_period
from controller.domain.evidence.bundles.verify import EXIT_FAULTS, EXIT_OK, run
from tests.unit.test_bundles_support import DAY_END, WARD_A, Scene, bundle_of, scene, write

__all__ = ["scene"]  # the fixture, imported for pytest

NEXT_DAY = DAY_END + timedelta(days=1)


def check(path: Path, **options: Any) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(path, out=out, err=err, **options)
    return code, out.getvalue() + err.getvalue()


def test_plays_due_and_no_event_at_all_is_an_empty_fault(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    h.clock._now = NEXT_DAY
    h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", ["to-2"], NEXT_DAY + timedelta(hours=7))
    )
    h.clock._now = NEXT_DAY + timedelta(days=1, hours=1)
    bundle = bundle_of(h, WARD_A, NEXT_DAY, NEXT_DAY + timedelta(days=1))
    assert all(not device["rows"] for device in bundle["devices"])
    code, out = check(
        write(tmp_path / "empty.json", bundle), controller_key=h.runtime.key.public_key_b64
    )
    assert code == EXIT_FAULTS, out
    assert "EMPTY         bundle: 1 planned play(s) were due in the period" in out
    assert out.endswith("verified: 0 valid, 1 fault\n")


def test_a_period_with_nothing_planned_and_nothing_played_stays_clean(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    h.clock._now = NEXT_DAY + timedelta(days=1, hours=1)
    bundle = bundle_of(h, WARD_A, NEXT_DAY, NEXT_DAY + timedelta(days=1))
    code, out = check(
        write(tmp_path / "quiet.json", bundle), controller_key=h.runtime.key.public_key_b64
    )
    assert code == EXIT_OK, out
    assert "planned plays due: 0" in out


def test_an_empty_period_is_still_archived_as_a_finding(scene: Scene) -> None:
    # What the devices did (nothing) is what the period was: the archive keeps it.
    h, _ = scene
    h.clock._now = NEXT_DAY
    h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", ["to-2"], NEXT_DAY + timedelta(hours=7))
    )
    h.clock._now = NEXT_DAY + timedelta(days=1, hours=1)
    admin = Actor("quản trị", frozenset({Role.ADMIN}))
    with h.runtime.db.session() as session:
        record = archive_period(
            session, WARD_A, NEXT_DAY, NEXT_DAY + timedelta(days=1), admin, h.runtime
        )
        assert (record.row_count, record.missing_count) == (0, 0)
