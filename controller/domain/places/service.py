"""Places: provinces, districts, wards, residential groups, zones, and where devices stand.

Everything here refuses dangling references with a clear message, and nothing that
something else depends on can be deleted from under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import (
    Device,
    District,
    Province,
    ResidentialGroup,
    Ward,
    Zone,
    new_id,
)
from controller.domain.errors import Conflict, InvalidInput, NotFound

ALL_GROUPS = "all"


def check_timezone(name: str) -> str:
    """The zone name if the zone database knows it, else a clear refusal."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r} (e.g. Asia/Ho_Chi_Minh)") from exc
    return name


def upsert_province(session: Session, code: str, name: str) -> Province:
    """Create or rename a province."""
    province = session.get(Province, code) or Province(code=code)
    province.name = name
    session.add(province)
    return province


def upsert_district(session: Session, code: str, province_code: str, name: str) -> District:
    """Create or rename a district of an existing province."""
    if session.get(Province, province_code) is None:
        raise NotFound(f"no province {province_code!r}")
    district = session.get(District, code) or District(code=code)
    district.province_code, district.name = province_code, name
    session.add(district)
    return district


def upsert_ward(session: Session, code: str, district_code: str, name: str, timezone: str) -> Ward:
    """Create or update a ward of an existing district."""
    if session.get(District, district_code) is None:
        raise NotFound(f"no district {district_code!r}")
    ward = session.get(Ward, code) or Ward(code=code)
    ward.district_code, ward.name, ward.timezone = district_code, name, check_timezone(timezone)
    session.add(ward)
    return ward


def get_ward(session: Session, code: str) -> Ward:
    """The ward, or NotFound."""
    ward = session.get(Ward, code)
    if ward is None:
        raise NotFound(f"no ward {code!r}", code="place.unknown_ward", params={"ward": code})
    return ward


def list_provinces(session: Session) -> list[Province]:
    """Every province, by code."""
    return list(session.scalars(select(Province).order_by(Province.code)))


def list_districts(session: Session, province_code: str | None = None) -> list[District]:
    """Districts by code, only those of one province when it is given."""
    query = select(District).order_by(District.code)
    if province_code is not None:
        query = query.where(District.province_code == province_code)
    return list(session.scalars(query))


def list_wards(session: Session) -> list[Ward]:
    """Every ward, by code."""
    return list(session.scalars(select(Ward).order_by(Ward.code)))


def groups_of(session: Session, ward_code: str) -> list[ResidentialGroup]:
    """A ward's residential groups, by code."""
    query = select(ResidentialGroup).where(ResidentialGroup.ward_code == ward_code)
    return list(session.scalars(query.order_by(ResidentialGroup.code)))


def zones_of(session: Session, ward_code: str) -> list[Zone]:
    """A ward's zones, by code."""
    query = select(Zone).where(Zone.ward_code == ward_code).order_by(Zone.code)
    return list(session.scalars(query))


def upsert_group(session: Session, ward_code: str, code: str, name: str) -> ResidentialGroup:
    """Create or rename a residential group of a ward."""
    get_ward(session, ward_code)
    if code == ALL_GROUPS:
        raise InvalidInput(f"'{ALL_GROUPS}' is reserved (it means every group of the ward)")
    group = session.scalar(
        select(ResidentialGroup).where(
            ResidentialGroup.ward_code == ward_code, ResidentialGroup.code == code
        )
    )
    if group is None:
        group = ResidentialGroup(id=new_id("grp"), ward_code=ward_code, code=code)
    group.name = name
    session.add(group)
    session.flush()
    return group


def delete_group(session: Session, ward_code: str, code: str) -> None:
    """Delete a group that no device and no zone uses."""
    group = session.scalar(
        select(ResidentialGroup).where(
            ResidentialGroup.ward_code == ward_code, ResidentialGroup.code == code
        )
    )
    if group is None:
        raise NotFound(f"no group {code!r} in ward {ward_code}")
    devices = session.scalars(
        select(Device.id).where(Device.ward_code == ward_code, Device.group_code == code)
    ).all()
    if devices:
        raise Conflict(f"group {code!r} still has devices: {', '.join(devices)}")
    zones = [z.code for z in zones_of(session, ward_code) if code in z.group_codes]
    if zones:
        raise Conflict(f"group {code!r} is still in zones: {', '.join(zones)}")
    session.delete(group)


def upsert_zone(
    session: Session, ward_code: str, code: str, name: str, group_codes: Sequence[str]
) -> Zone:
    """Create or redefine a zone as a set of the ward's groups."""
    known = {g.code for g in groups_of(session, ward_code)}
    unknown = sorted(set(group_codes) - known)
    if unknown:
        raise InvalidInput(f"zone {code!r}: unknown groups in ward {ward_code}: {unknown}")
    if code == ALL_GROUPS:
        raise InvalidInput(f"'{ALL_GROUPS}' is reserved (it means every group of the ward)")
    zone = session.scalar(select(Zone).where(Zone.ward_code == ward_code, Zone.code == code))
    if zone is None:
        zone = Zone(id=new_id("zone"), ward_code=ward_code, code=code)
    zone.name, zone.group_codes = name, sorted(set(group_codes))
    session.add(zone)
    session.flush()
    return zone


def delete_zone(session: Session, ward_code: str, code: str) -> None:
    """Delete a zone (programmes that name it will report it as unknown on next save)."""
    zone = session.scalar(select(Zone).where(Zone.ward_code == ward_code, Zone.code == code))
    if zone is None:
        raise NotFound(f"no zone {code!r} in ward {ward_code}")
    session.delete(zone)


def zone_map(session: Session, ward_code: str) -> dict[str, set[str]]:
    """Zone code -> group codes, with 'all' meaning every group of the ward."""
    zones = {z.code: set(z.group_codes) for z in zones_of(session, ward_code)}
    zones[ALL_GROUPS] = {g.code for g in groups_of(session, ward_code)}
    return zones


def place_device(
    session: Session, device_id: str, ward_code: str | None, group_code: str | None
) -> Device:
    """Say which ward and group a device serves (None, None: unplaced)."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(
            f"no device {device_id!r}", code="device.unknown", params={"device": device_id}
        )
    if ward_code is not None:
        get_ward(session, ward_code)
        if group_code is not None and group_code not in {
            g.code for g in groups_of(session, ward_code)
        }:
            raise InvalidInput(
                f"no group {group_code!r} in ward {ward_code}",
                code="place.unknown_group",
                params={"group": group_code, "ward": ward_code},
                field="group",
            )
    elif group_code is not None:
        raise InvalidInput("a group needs its ward", code="place.group_needs_ward", field="ward")
    device.ward_code, device.group_code = ward_code, group_code
    return device


def devices_of(session: Session, ward_code: str) -> list[Device]:
    """Devices placed in a ward."""
    query = select(Device).where(Device.ward_code == ward_code).order_by(Device.id)
    return list(session.scalars(query))


def provinces_of_wards(session: Session) -> dict[str, str]:
    """Ward code -> its province's code (through its district), for every ward."""
    query = select(Ward.code, District.province_code).join(
        District, District.code == Ward.district_code
    )
    return {ward: province for ward, province in session.execute(query)}


def provinces_of_devices(session: Session) -> dict[str, str]:
    """Device id -> its ward's province code, for every device placed in a ward."""
    query = (
        select(Device.id, District.province_code)
        .join(Ward, Ward.code == Device.ward_code)
        .join(District, District.code == Ward.district_code)
    )
    return {device_id: province for device_id, province in session.execute(query)}
