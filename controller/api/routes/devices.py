"""Devices: register, list, read."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from controller.api.deps import ActorDep, RuntimeDep, SessionDep
from controller.api.schemas.devices import DeviceCreate, DevicePublic
from controller.domain import devices as domain

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register(
    body: DeviceCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
    actor: ActorDep,
) -> DevicePublic:
    """Register a device; again with the same key is fine (200), another key is 409."""
    device, created = domain.register_device(
        session, body.device_id, body.name, body.public_key, runtime.clock.now()
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    elif runtime.bridge is not None:
        runtime.bridge.forget_key(device.id)
    return DevicePublic.model_validate(device)


@router.get("")
def list_all(session: SessionDep) -> list[DevicePublic]:
    """Every registered device with its last known state."""
    return [DevicePublic.model_validate(d) for d in domain.list_devices(session)]


@router.get("/{device_id}")
def read(device_id: str, session: SessionDep) -> DevicePublic:
    """One device."""
    return DevicePublic.model_validate(domain.get_device(session, device_id))
