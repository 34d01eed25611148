"""What the drills share: waiting on a condition, a ward with its devices placed, their
agents' configs, an approved bulletin to broadcast, and a device's stored evidence.

The drills (command replay, flood) run against a real broker and look at the
controller's database afterwards; these are the steps each needs before and after.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from controller.composition import ControllerRuntime
from controller.db.models import Bulletin, MediaAsset, PlaybackEvidence
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from edge_agent.config import AgentConfig
from wardcast_protocol.signing import SigningKey


def place_ward(
    runtime: ControllerRuntime,
    ward: tuple[str, str],
    devices: dict[str, str],
    keys: dict[str, SigningKey],
    zones: dict[str, tuple[str, list[str]]] | None = None,
) -> None:
    """Ward ``(code, name)`` in Hoàn Kiếm, Hà Nội, with a group per device's group
    (``devices``: device id -> group), its ``zones`` (code -> (name, groups)), and the
    devices registered with their ``keys`` and placed."""
    code, name = ward
    now = runtime.clock.now()
    with runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, code, "002", name, "Asia/Ho_Chi_Minh")
        session.flush()
        for group in devices.values():
            places.upsert_group(session, code, group, group)
        session.flush()
        for zone, (zone_name, groups) in (zones or {}).items():
            places.upsert_zone(session, code, zone, zone_name, groups)
        for device_id, group in devices.items():
            register_device(session, device_id, device_id, keys[device_id].public_key_b64, now)
            places.place_device(session, device_id, code, group)


def agent_configs(
    runtime: ControllerRuntime,
    keys: dict[str, SigningKey],
    data_root: Path,
    broker_url: str,
    **settings: Any,
) -> list[AgentConfig]:
    """A config per device of ``keys``, its key saved in its data directory under
    ``data_root``: no relay settling, resends every 2 s; ``settings`` override these."""
    configs = []
    for device_id, key in keys.items():
        key.save(data_root / device_id / "device.key")
        fields: dict[str, Any] = {"relay_settle_s": 0, "resend_interval_s": 2, **settings}
        configs.append(
            AgentConfig(
                device_id=device_id,
                controller_public_key=runtime.key.public_key_b64,
                data_dir=data_root / device_id,
                broker_url=broker_url,
                **fields,
            )
        )
    return configs


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
