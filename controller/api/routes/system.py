"""Health and the controller's public key."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from controller.api.deps import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["system"])


class Health(BaseModel):
    """Liveness and the broker link."""

    status: str
    broker_connected: bool
    broker_url: str | None


class ControllerKey(BaseModel):
    """The key agents verify the controller's messages with."""

    public_key: str


@router.get("/health")
def health(runtime: RuntimeDep) -> Health:
    """Is the controller up, and is it connected to the broker?"""
    connected = runtime.transport.connected
    return Health(status="ok", broker_connected=connected, broker_url=runtime.broker_url)


@router.get("/system/controller-key")
def controller_key(runtime: RuntimeDep) -> ControllerKey:
    """The controller's Ed25519 public key (base64), for provisioning agents."""
    return ControllerKey(public_key=runtime.key.public_key_b64)
