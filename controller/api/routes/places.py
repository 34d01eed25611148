"""Places: provinces, districts, wards, groups, zones, device placement, and import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.api.deps import ActorDep, RuntimeDep, SessionDep
from controller.api.schemas.devices import DevicePublic
from controller.api.schemas.places import (
    DistrictIn,
    GroupIn,
    GroupPublic,
    ImportResult,
    PlacementIn,
    PlacePublic,
    ProvinceIn,
    WardIn,
    WardPublic,
    ZoneIn,
    ZonePublic,
)
from controller.db.models import District, Province, Ward
from controller.domain.actors import Role
from controller.domain.errors import InvalidInput, TooLarge
from controller.domain.places import importer as place_import
from controller.domain.places import service as places

router = APIRouter(prefix="/api/v1", tags=["places"])

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def ward_public(session: Session, ward: Ward) -> WardPublic:
    """A ward with everything in it."""
    return WardPublic(
        code=ward.code,
        name=ward.name,
        district_code=ward.district_code,
        timezone=ward.timezone,
        groups=[GroupPublic.model_validate(g) for g in places.groups_of(session, ward.code)],
        zones=[ZonePublic.model_validate(z) for z in places.zones_of(session, ward.code)],
        devices=[d.id for d in places.devices_of(session, ward.code)],
    )


@router.get("/provinces")
def list_provinces(session: SessionDep) -> list[PlacePublic]:
    """Every province."""
    rows = session.scalars(select(Province).order_by(Province.code))
    return [PlacePublic.model_validate(p) for p in rows]


@router.put("/provinces/{code}")
def put_province(code: str, body: ProvinceIn, session: SessionDep, actor: ActorDep) -> PlacePublic:
    """Create or rename a province."""
    actor.require(Role.ADMIN, "changing places")
    return PlacePublic.model_validate(places.upsert_province(session, code, body.name))


@router.get("/districts")
def list_districts(session: SessionDep, province: str | None = None) -> list[PlacePublic]:
    """Districts, optionally of one province."""
    query = select(District).order_by(District.code)
    if province is not None:
        query = query.where(District.province_code == province)
    return [PlacePublic.model_validate(d) for d in session.scalars(query)]


@router.put("/districts/{code}")
def put_district(code: str, body: DistrictIn, session: SessionDep, actor: ActorDep) -> PlacePublic:
    """Create or rename a district."""
    actor.require(Role.ADMIN, "changing places")
    district = places.upsert_district(session, code, body.province_code, body.name)
    return PlacePublic.model_validate(district)


@router.get("/wards")
def list_wards(session: SessionDep) -> list[WardPublic]:
    """Every ward (without its contents; read one ward for those)."""
    rows = session.scalars(select(Ward).order_by(Ward.code))
    return [
        WardPublic(code=w.code, name=w.name, district_code=w.district_code, timezone=w.timezone)
        for w in rows
    ]


@router.get("/wards/{code}")
def read_ward(code: str, session: SessionDep) -> WardPublic:
    """A ward with its groups, zones and devices."""
    return ward_public(session, places.get_ward(session, code))


@router.put("/wards/{code}")
def put_ward(code: str, body: WardIn, session: SessionDep, actor: ActorDep) -> WardPublic:
    """Create or update a ward."""
    actor.require(Role.ADMIN, "changing places")
    ward = places.upsert_ward(session, code, body.district_code, body.name, body.timezone)
    session.flush()
    return ward_public(session, ward)


@router.put("/wards/{code}/groups/{group}")
def put_group(
    code: str, group: str, body: GroupIn, session: SessionDep, actor: ActorDep
) -> GroupPublic:
    """Create or rename a residential group."""
    actor.require(Role.ADMIN, "changing places")
    return GroupPublic.model_validate(places.upsert_group(session, code, group, body.name))


@router.delete("/wards/{code}/groups/{group}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group(code: str, group: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a group no device or zone uses."""
    actor.require(Role.ADMIN, "changing places")
    places.delete_group(session, code, group)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/wards/{code}/zones/{zone}")
def put_zone(
    code: str, zone: str, body: ZoneIn, session: SessionDep, actor: ActorDep
) -> ZonePublic:
    """Create or redefine a zone."""
    actor.require(Role.ADMIN, "changing places")
    return ZonePublic.model_validate(
        places.upsert_zone(session, code, zone, body.name, body.groups)
    )


@router.delete("/wards/{code}/zones/{zone}", status_code=status.HTTP_204_NO_CONTENT)
def delete_zone(code: str, zone: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a zone."""
    actor.require(Role.ADMIN, "changing places")
    places.delete_zone(session, code, zone)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/devices/{device_id}/placement")
def place_device(
    device_id: str, body: PlacementIn, session: SessionDep, actor: ActorDep
) -> DevicePublic:
    """Say which ward and residential group a device serves."""
    actor.require(Role.ADMIN, "placing devices")
    device = places.place_device(session, device_id, body.ward_code, body.group_code)
    return DevicePublic.model_validate(device)


@router.post("/places/import")
async def import_places(
    request: Request,
    runtime: RuntimeDep,
    actor: ActorDep,
    ward: Annotated[str | None, Query(description="For CSV: the (existing) ward.")] = None,
) -> ImportResult:
    """Import a ward from YAML (whole place) or CSV (one device per row), all or nothing."""
    actor.require(Role.ADMIN, "importing places")
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise TooLarge("the import file is larger than 5 MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the import file is not UTF-8 text") from exc
    is_csv = "csv" in request.headers.get("content-type", "")
    now = runtime.clock.now()
    with runtime.db.session() as session:
        if is_csv:
            if not ward:
                raise InvalidInput("a CSV import needs ?ward=<ward code>")
            report = place_import.apply_csv(session, ward, text, now)
        else:
            report = place_import.apply_import(session, place_import.parse_yaml(text), now)
    return ImportResult(
        ward_code=report.ward_code,
        groups=report.groups,
        zones=report.zones,
        devices_created=report.devices_created,
        devices_known=report.devices_known,
    )
