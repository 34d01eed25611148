"""The dashboard's "playing now": a play already confirmed (ended or stopped) is over.

A cancelled emergency stopped on every device stayed listed as playing until its planned
end; tests/e2e/test_console_browser.py found it, this keeps it in the fast tier.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from controller.db.models import PlannedPlay, PlaybackEvidence
from controller.domain.actors import Actor, Role
from controller.domain.overview import today
from tests.unit.controller_support import make_harness

ADMIN = Actor("admin", frozenset({Role.ADMIN}))


def test_a_confirmed_play_is_no_longer_playing_now(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    try:
        now = h.clock.now()
        start = now - timedelta(seconds=30)
        with h.runtime.db.session() as session:
            for device_id in ("to-1", "to-2"):
                session.add(
                    PlannedPlay(
                        device_id=device_id, item_id=f"em-{device_id}", ward_code=None,
                        broadcast_id="bc-em", bulletin_id="bul-1", session_key=None,
                        kind="media", source_level="national", priority="emergency",
                        trigger="manual", planned_start=start, planned_duration_s=300.0,
                        first_planned_at=start,
                    )
                )  # fmt: skip
            # to-1 was stopped by a cancel: its confirmation is in, played 30 s of 300.
            session.add(
                PlaybackEvidence(
                    device_id="to-1", ward_code=None, group_code=None, event_id="ev-1", seq=1,
                    prev_hash="", digest=f"{1:064x}", item_id="em-to-1", broadcast_id="bc-em",
                    trigger="manual", priority="emergency", source_level="national",
                    planned_start=start, planned_duration_s=300.0, actual_start=start,
                    played_duration_s=30.0, outcome="stopped", recorded_at=now,
                    received_at=now, signed="{}", sig="",
                )
            )  # fmt: skip
        with h.runtime.db.session() as session:
            playing = today.playing_now(session, ADMIN, now)
        assert [p.devices for p in playing] == [("to-2",)]
    finally:
        h.runtime.stop()


def test_today_is_the_wards_calendar_day_in_utc() -> None:
    """01:00 on 1 December in Hà Nội is still 30 November in UTC: the day is the ward's."""
    from datetime import UTC, datetime

    from controller.domain.overview.today import day_bounds

    start, end = day_bounds(datetime(2026, 11, 30, 18, 0, tzinfo=UTC), "Asia/Ho_Chi_Minh")
    assert start == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
