"""Where a broadcast plays: a ward, some of its zones or residential groups, or devices.

The officer names places (phường, khu vực, tổ dân phố / thôn); the broadcast is
resolved to the devices placed there *at creation* and keeps both: the devices it was
sent to (its targets, which evidence answers) and the target as it was given (so a
reader sees "zones riverside, market of ward 26734", not 40 device ids). A device
placed in a group later is not added: what was sent is what is owed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Device
from controller.domain.actors import Actor
from controller.domain.devices.service import PLACED_COLUMNS, Placed, placed_rows, require_devices
from controller.domain.errors import InvalidInput
from controller.domain.places.service import ALL_GROUPS, get_ward, groups_of, zone_map


@dataclass(frozen=True)
class TargetSpec:
    """A broadcast's target as given: a ward (all of it, or zones/groups), and/or devices."""

    ward_code: str | None = None
    zones: Sequence[str] = ()
    group_codes: Sequence[str] = ()
    device_ids: Sequence[str] = ()

    def as_record(self) -> dict[str, Any]:
        """The spec as stored beside the broadcast (JSON)."""
        return {
            "ward_code": self.ward_code,
            "zones": sorted(set(self.zones)),
            "group_codes": sorted(set(self.group_codes)),
            "device_ids": sorted(set(self.device_ids)),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any] | None, device_ids: Sequence[str]) -> TargetSpec:
        """The stored spec; a broadcast made before specs were kept named its devices."""
        if not record:
            return cls(device_ids=tuple(sorted(device_ids)))
        return cls(
            ward_code=record.get("ward_code"),
            zones=tuple(record.get("zones") or ()),
            group_codes=tuple(record.get("group_codes") or ()),
            device_ids=tuple(record.get("device_ids") or ()),
        )


def _groups(session: Session, spec: TargetSpec, ward_code: str) -> set[str] | None:
    """The residential groups named through zones and groups; None: the whole ward."""
    if not spec.zones and not spec.group_codes:
        return None
    chosen: set[str] = set()
    if spec.zones:
        zones = zone_map(session, ward_code)
        unknown = sorted({z for z in spec.zones if z not in zones})
        if unknown:
            known = ", ".join(sorted(z for z in zones if z != ALL_GROUPS)) or "none"
            raise InvalidInput(
                f"unknown zones in ward {ward_code}: {', '.join(unknown)} (its zones: {known})",
                code="target.unknown_zones",
                params={"zones": ", ".join(unknown), "ward": ward_code},
                field="zones",
            )
        for zone in spec.zones:
            chosen |= zones[zone]
    if spec.group_codes:
        known_groups = {g.code for g in groups_of(session, ward_code)}
        unknown = sorted(set(spec.group_codes) - known_groups)
        if unknown:
            raise InvalidInput(
                f"unknown residential groups in ward {ward_code}: {', '.join(unknown)}",
                code="target.unknown_groups",
                params={"groups": ", ".join(unknown), "ward": ward_code},
                field="groups",
            )
        chosen |= set(spec.group_codes)
    return chosen


def resolve_targets(session: Session, spec: TargetSpec, actor: Actor) -> list[Placed]:
    """The devices ``spec`` names now (their places), sorted by id; refuses a ward
    outside the actor's.

    Devices named by id are checked by ward by the caller (``access.check_schedule``),
    as they always were; a named ward is checked here, before anything is read of it.
    """
    if spec.ward_code is None and (spec.zones or spec.group_codes):
        raise InvalidInput(
            "zones and residential groups need the ward they belong to (ward_code)",
            code="target.ward_missing",
            field="ward",
        )
    if spec.ward_code is None and not spec.device_ids:
        raise InvalidInput(
            "say where to broadcast: choose at least one device, or a ward (with zones or groups)",
            code="target.missing",
            field="targets",
        )
    devices: dict[str, Placed] = {}
    if spec.device_ids:
        devices.update((d.id, d) for d in require_devices(session, list(spec.device_ids)))
    if spec.ward_code is not None:
        actor.require_ward(spec.ward_code, f"broadcasting to ward {spec.ward_code}")
        get_ward(session, spec.ward_code)
        groups = _groups(session, spec, spec.ward_code)
        query = select(*PLACED_COLUMNS).where(Device.ward_code == spec.ward_code)
        in_ward = placed_rows(session.execute(query))
        placed = [d for d in in_ward if groups is None or d.group_code in groups]
        if not placed:
            where = "" if groups is None else f" in {', '.join(sorted(groups)) or 'those groups'}"
            raise InvalidInput(
                f"no device is placed in ward {spec.ward_code}{where}",
                code="target.no_devices",
                params={"ward": spec.ward_code},
                field="targets",
            )
        devices.update((d.id, d) for d in placed)
    return [devices[k] for k in sorted(devices)]
