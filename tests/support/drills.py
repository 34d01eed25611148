"""What the security drills share: waiting on a condition, an approved bulletin to
broadcast, and a device's stored evidence.

The drills (command replay, flood) run against a real broker and look at the
controller's database afterwards; these are the steps each needs before and after.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from controller.composition import ControllerRuntime
from controller.db.models import Bulletin, MediaAsset, PlaybackEvidence


def wait_for(predicate: Callable[[], bool], timeout_s: float = 15, poll_s: float = 0.05) -> bool:
    """True as soon as ``predicate`` holds; its last answer when ``timeout_s`` is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()


def seed_approved_bulletin(
    runtime: ControllerRuntime, bulletin_id: str, sha256: str, title: str, text: str
) -> None:
    """An approved 12-second bulletin with its (stand-in) audio, ready to broadcast."""
    now = runtime.clock.now()
    with runtime.db.session() as session:
        session.add(
            MediaAsset(
                sha256=sha256,
                size_bytes=1234,
                duration_s=12.0,
                content_type="audio/ogg",
                extension="ogg",
                created_at=now,
            )
        )
        session.add(
            Bulletin(
                id=bulletin_id,
                title=title,
                origin="text",
                text=text,
                media_sha256=sha256,
                created_at=now,
                status="approved",
            )
        )


def evidence_of(runtime: ControllerRuntime, device_id: str) -> list[PlaybackEvidence]:
    """Every evidence row stored for ``device_id``."""
    with runtime.db.session() as session:
        query = select(PlaybackEvidence).where(PlaybackEvidence.device_id == device_id)
        return list(session.scalars(query))
