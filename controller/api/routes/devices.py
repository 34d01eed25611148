"""Devices: register, list, read."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from controller.api.bounds import IdPath
from controller.api.deps import ActorDep, DevicesDep, SessionDep, SettingsDep
from controller.api.schemas.devices import DeviceCreate, DevicePublic
from controller.db.models import Device
from controller.domain.devices import service as domain
from controller.settings import Settings

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


def device_public(device: Device, settings: Settings) -> DevicePublic:
    """A device, flagged when its reported clock is off by more than the threshold."""
    public = DevicePublic.model_validate(device)
    offset = device.clock_offset_s
    suspect = offset is not None and abs(offset) > settings.clock_offset_warn_s
    return public.model_copy(update={"clock_suspect": suspect})


@router.post("", status_code=status.HTTP_201_CREATED)
def register(
    body: DeviceCreate,
    session: SessionDep,
    devices: DevicesDep,
    settings: SettingsDep,
    response: Response,
    actor: ActorDep,
) -> DevicePublic:
    """Register a device; again with the same key is fine (200), another key is 409."""
    device, created = devices.register(session, body.device_id, body.name, body.public_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return device_public(device, settings)


@router.get("")
def list_all(session: SessionDep, settings: SettingsDep) -> list[DevicePublic]:
    """Every registered device with its last known state."""
    return [device_public(d, settings) for d in domain.list_devices(session)]


@router.get("/{device_id}")
def read(device_id: IdPath, session: SessionDep, settings: SettingsDep) -> DevicePublic:
    """One device."""
    return device_public(domain.get_device(session, device_id), settings)
