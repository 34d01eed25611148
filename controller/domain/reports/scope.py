"""What a report is asked about, and the scope those names resolve to.

A request names one scope: a ward (and perhaps one of its residential groups), a
device, a district or a province. Unknown names raise :class:`NotFound` (404); names
that make no sense together raise :class:`InvalidInput` (422).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import District, Province, ResidentialGroup, Ward
from controller.domain.devices.service import get_device
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places.service import get_ward
from controller.domain.reports.labels import Lang
from controller.domain.reports.queries import Scope


@dataclass(frozen=True)
class ReportRequest:
    """What was asked for: one scope (ward, ward+group, device, district or province),
    a period, and the language of the report's texts."""

    period: str
    ward: str | None = None
    group: str | None = None
    device: str | None = None
    district: str | None = None
    province: str | None = None
    lang: Lang = "vi"


def resolve_scope(session: Session, request: ReportRequest) -> Scope:
    """The scope named by the request; NotFound for unknown names."""
    named = [n for n in ("district", "province") if getattr(request, n)]
    if named and (request.ward or request.group or request.device or len(named) > 1):
        raise InvalidInput("name one scope: a ward (and group), a device, a district or a province")
    if request.device:
        return _device_scope(session, request.device, request)
    if request.group:
        if not request.ward:
            raise InvalidInput("a residential group is named within its ward: give the ward too")
        return _group_scope(session, request.ward, request.group)
    if request.ward:
        ward = get_ward(session, request.ward)
        return Scope("ward", ward.code, ward.name, (ward,))
    if request.district:
        district = session.get(District, request.district)
        if district is None:
            raise NotFound(f"no district {request.district!r}")
        wards = session.scalars(select(Ward).where(Ward.district_code == district.code))
        return Scope("district", district.code, district.name, tuple(wards))
    if request.province:
        return _province_scope(session, request.province)
    raise InvalidInput("name what to report on: ward (and group), device, district or province")


def _device_scope(session: Session, device_id: str, request: ReportRequest) -> Scope:
    """One device; a ward or group also named must be the device's own."""
    device = get_device(session, device_id)
    if device.ward_code is None:
        raise InvalidInput(f"device {device.id!r} is not placed in a ward yet")
    if request.ward and request.ward != device.ward_code:
        raise InvalidInput(
            f"device {device.id!r} is in ward {device.ward_code}, not {request.ward}"
        )
    if request.group and request.group != device.group_code:
        raise InvalidInput(
            f"device {device.id!r} is in group {device.group_code}, not {request.group}"
        )
    ward = get_ward(session, device.ward_code)
    return Scope("device", device.id, device.name or device.id, (ward,), device=device)


def _group_scope(session: Session, ward_code: str, group_code: str) -> Scope:
    """One residential group (tổ dân phố) of a ward."""
    ward = get_ward(session, ward_code)
    group = session.scalar(
        select(ResidentialGroup).where(
            ResidentialGroup.ward_code == ward.code, ResidentialGroup.code == group_code
        )
    )
    if group is None:
        raise NotFound(f"ward {ward.code} has no residential group {group_code!r}")
    return Scope("group", f"{ward.code}/{group.code}", group.name, (ward,), group.code)


def _province_scope(session: Session, province_code: str) -> Scope:
    """Every ward of a province's districts."""
    province = session.get(Province, province_code)
    if province is None:
        raise NotFound(f"no province {province_code!r}")
    wards = session.scalars(
        select(Ward)
        .join(District, District.code == Ward.district_code)
        .where(District.province_code == province.code)
    )
    return Scope("province", province.code, province.name, tuple(wards))
