"""Places: provinces, districts, wards, groups, zones, device placement, and import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session

from controller.api.bounds import AREA_CODE_PATTERN, AreaCodeFilter, AreaCodePath, CodePath, IdPath
from controller.api.deps import (
    ActorDep,
    AdminDep,
    BodyBytes,
    ClockDep,
    RuntimeDep,
    SessionDep,
)
from controller.api.schemas.devices import DevicePublic
from controller.api.schemas.places import (
    DistrictPublic,
    DistrictUpdate,
    GroupPublic,
    GroupUpdate,
    PlaceImportPublic,
    PlacementUpdate,
    ProvincePublic,
    ProvinceUpdate,
    WardPublic,
    WardUpdate,
    ZonePublic,
    ZoneUpdate,
)
from controller.db.models import Ward
from controller.domain.actors import Actor, Role
from controller.domain.errors import InvalidInput
from controller.domain.places import importer as place_import
from controller.domain.places import service as places
from controller.domain.places.access import visible_ward, visible_wards

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
def list_provinces(session: SessionDep, actor: ActorDep) -> list[ProvincePublic]:
    """Every province."""
    return [ProvincePublic.model_validate(p) for p in places.list_provinces(session)]


@router.put("/provinces/{code}")
def put_province(
    code: AreaCodePath, body: ProvinceUpdate, session: SessionDep, actor: AdminDep
) -> ProvincePublic:
    """Create or rename a province."""
    actor.require(Role.ADMIN, "changing places")
    return ProvincePublic.model_validate(places.upsert_province(session, code, body.name))


@router.get("/districts")
def list_districts(
    session: SessionDep, actor: ActorDep, province: AreaCodeFilter = None
) -> list[DistrictPublic]:
    """Districts, optionally of one province."""
    return [DistrictPublic.model_validate(d) for d in places.list_districts(session, province)]


@router.put("/districts/{code}")
def put_district(
    code: AreaCodePath, body: DistrictUpdate, session: SessionDep, actor: AdminDep
) -> DistrictPublic:
    """Create or rename a district."""
    actor.require(Role.ADMIN, "changing places")
    district = places.upsert_district(session, code, body.province_code, body.name)
    return DistrictPublic.model_validate(district)


@router.get("/wards")
def list_wards(session: SessionDep, actor: ActorDep) -> list[WardPublic]:
    """The wards in the actor's scope (without contents; read one ward for those)."""
    return [
        WardPublic(code=w.code, name=w.name, district_code=w.district_code, timezone=w.timezone)
        for w in visible_wards(session, actor)
    ]


@router.get("/wards/{code}")
def read_ward(code: AreaCodePath, session: SessionDep, actor: ActorDep) -> WardPublic:
    """A ward with its groups, zones and devices (within the actor's scope)."""
    return ward_public(session, visible_ward(session, code, actor))


@router.put("/wards/{code}")
def put_ward(
    code: AreaCodePath, body: WardUpdate, runtime: RuntimeDep, actor: AdminDep
) -> WardPublic:
    """Create or update a ward (its devices' plans follow a new time zone at once)."""
    actor.require(Role.ADMIN, "changing places")

    def change(session: Session) -> WardPublic:
        ward = places.upsert_ward(session, code, body.district_code, body.name, body.timezone)
        session.flush()
        return ward_public(session, ward)

    return runtime.place_changes.apply(change, wards=[code])


@router.put("/wards/{code}/groups/{group}")
def put_group(
    code: AreaCodePath, group: CodePath, body: GroupUpdate, session: SessionDep, actor: AdminDep
) -> GroupPublic:
    """Create or rename a residential group."""
    actor.require(Role.ADMIN, "changing places")
    return GroupPublic.model_validate(places.upsert_group(session, code, group, body.name))


@router.delete("/wards/{code}/groups/{group}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group(
    code: AreaCodePath, group: CodePath, session: SessionDep, actor: AdminDep
) -> Response:
    """Delete a group no device or zone uses."""
    actor.require(Role.ADMIN, "changing places")
    places.delete_group(session, code, group)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/wards/{code}/zones/{zone}")
def put_zone(
    code: AreaCodePath, zone: CodePath, body: ZoneUpdate, runtime: RuntimeDep, actor: AdminDep
) -> ZonePublic:
    """Create or redefine a zone (the sessions aired to it follow at once)."""
    actor.require(Role.ADMIN, "changing places")
    return runtime.place_changes.apply(
        lambda s: ZonePublic.model_validate(
            places.upsert_zone(s, code, zone, body.name, body.groups)
        ),
        wards=[code],
    )


@router.delete("/wards/{code}/zones/{zone}", status_code=status.HTTP_204_NO_CONTENT)
def delete_zone(
    code: AreaCodePath, zone: CodePath, runtime: RuntimeDep, actor: AdminDep
) -> Response:
    """Delete a zone."""
    actor.require(Role.ADMIN, "changing places")
    runtime.place_changes.apply(lambda s: places.delete_zone(s, code, zone), wards=[code])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/devices/{device_id}/placement")
def place_device(
    device_id: IdPath, body: PlacementUpdate, runtime: RuntimeDep, actor: AdminDep
) -> DevicePublic:
    """Say which ward and residential group a device serves; its plan follows at once
    (the new ward's programme and channel)."""
    actor.require(Role.ADMIN, "placing devices")
    device = runtime.place_changes.apply(
        lambda s: places.place_device(s, device_id, body.ward_code, body.group_code),
        devices=[device_id],
    )
    return DevicePublic.model_validate(device)


def require_importer(actor: ActorDep) -> Actor:
    """An administrator: checked before the body is read, so others are refused at once."""
    actor.require(Role.ADMIN, "importing places")
    return actor


_IMPORT_BODY = {
    "required": True,
    "content": {
        "application/yaml": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}},
    },
}


@router.post("/places/import", openapi_extra={"requestBody": _IMPORT_BODY})
def import_places(
    runtime: RuntimeDep,
    clock: ClockDep,
    actor: Annotated[Actor, Depends(require_importer)],
    raw: Annotated[bytes, Depends(BodyBytes(MAX_IMPORT_BYTES, "the import file"))],
    request: Request,
    ward: Annotated[
        str | None, Query(pattern=AREA_CODE_PATTERN, description="For CSV: the (existing) ward.")
    ] = None,
) -> PlaceImportPublic:
    """Import a ward from YAML (whole place) or CSV (one device per row), all or nothing."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the import file is not UTF-8 text") from exc
    now = clock.now()
    # The body's type says which: text/csv is CSV, anything else is read as YAML.
    # The ward's devices' plans follow what the import placed, at once.
    if "csv" in request.headers.get("content-type", ""):
        if not ward:
            raise InvalidInput("a CSV import needs ?ward=<ward code>")
        report = runtime.place_changes.apply(
            lambda s: place_import.apply_csv(s, ward, text, now), wards=[ward]
        )
    else:
        doc = place_import.parse_yaml(text)
        report = runtime.place_changes.apply(
            lambda s: place_import.apply_import(s, doc, now), wards=[doc.ward.code]
        )
    return PlaceImportPublic(
        ward_code=report.ward_code,
        groups=report.groups,
        zones=report.zones,
        devices_created=report.devices_created,
        devices_known=report.devices_known,
    )
