"""Devices: create (with a one-time enrolment code), list, read, new code, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from controller.api.bounds import AREA_CODE_PATTERN, IdPath
from controller.api.deps import ActorDep, AdminDep, ClockDep, EnrolmentDep, SessionDep, SettingsDep
from controller.api.schemas.devices import DeviceCreate, DeviceEnrolmentPublic, DevicePublic
from controller.db.models import Device, DeviceEnrolment
from controller.domain.devices import service as domain
from controller.domain.devices.access import visible_device, visible_devices
from controller.domain.devices.enrolment import IssuedCode
from controller.domain.overview.devices import DeviceState, device_state
from controller.settings import Settings

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


def device_public(
    device: Device, settings: Settings, now: datetime, enrolment: DeviceEnrolment | None = None
) -> DevicePublic:
    """A device as shown: online only if recently heard from, its clock flagged when
    off by more than the threshold, and its enrolment state."""
    public = DevicePublic.model_validate(device)
    offset = device.clock_offset_s
    suspect = offset is not None and abs(offset) > settings.clock_offset_warn_s
    online = domain.is_online(device, now, timedelta(seconds=settings.device_offline_after_s))
    return public.model_copy(
        update={
            "clock_suspect": suspect,
            "online": online,
            "enrolled_at": enrolment.enrolled_at if enrolment else None,
            "revoked_at": enrolment.revoked_at if enrolment else None,
        }
    )


def enrolment_public(issued: IssuedCode) -> DeviceEnrolmentPublic:
    """A created device with the code it was given (shown once)."""
    return DeviceEnrolmentPublic(
        device_id=issued.device_id,
        name=issued.name,
        registered=issued.registered,
        enrolment_code=issued.code,
        enrolment_line=issued.line,
        enrolment_expires_at=issued.expires_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": DeviceEnrolmentPublic, "description": "Created before, same key."}},
)
def create(
    body: DeviceCreate, enrolment: EnrolmentDep, response: Response, actor: AdminDep
) -> DeviceEnrolmentPublic:
    """Create a device (administrators) and its one-time enrolment code.

    The device then runs `wardcast-agent enrol` with the code (or the printable line):
    it generates its key and receives its broker login. Creating it again is fine
    (200, no new code); with another public key it is 409.
    """
    issued, created = enrolment.create_device(actor, body.device_id, body.name, body.public_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return enrolment_public(issued)


@router.get("")
def list_all(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    ward_code: Annotated[
        str | None, Query(pattern=AREA_CODE_PATTERN, description="Only this ward's devices.")
    ] = None,
    state: Annotated[
        DeviceState | None,
        Query(description="Only devices offline, online or revoked (e.g. the silent ones)."),
    ] = None,
) -> list[DevicePublic]:
    """The devices in the actor's wards with their last known state, by id."""
    if ward_code is not None:
        actor.require_ward(ward_code, "listing devices")
    now, rows = clock.now(), domain.enrolments(session)
    devices = [
        device_public(d, settings, now, rows.get(d.id))
        for d in visible_devices(session, actor)
        if ward_code is None or d.ward_code == ward_code
    ]
    if state is None:
        return devices
    return [d for d in devices if device_state(d.revoked_at, d.online) == state]


@router.get("/{device_id}")
def read(
    device_id: IdPath, session: SessionDep, settings: SettingsDep, clock: ClockDep, actor: ActorDep
) -> DevicePublic:
    """One device (in the actor's wards)."""
    device = visible_device(session, device_id, actor, "reading device")
    return device_public(device, settings, clock.now(), domain.enrolment_of(session, device_id))


@router.post("/{device_id}/enrolment-code", status_code=status.HTTP_201_CREATED)
def new_code(device_id: IdPath, enrolment: EnrolmentDep, actor: AdminDep) -> DeviceEnrolmentPublic:
    """A new one-time code for a device (administrators): to enrol it again, e.g. to give
    it a new broker password. Any earlier unused code stops working."""
    return enrolment_public(enrolment.issue_code(actor, device_id))


@router.post("/{device_id}/revoke")
def revoke(
    device_id: IdPath,
    enrolment: EnrolmentDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: AdminDep,
) -> DevicePublic:
    """Revoke a device (administrators): the broker drops its session at once and
    refuses its next connect, and the controller refuses its messages. Its evidence
    stays. Only a new enrolment code brings it back."""
    enrolment.revoke(actor, device_id)
    device = domain.get_device(session, device_id)
    return device_public(device, settings, clock.now(), domain.enrolment_of(session, device_id))
