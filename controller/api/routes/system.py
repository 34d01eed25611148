"""Health and the controller's public key."""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.deps import RuntimeDep
from controller.api.schemas.system import ControllerKeyPublic, HealthPublic

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health")
def health(runtime: RuntimeDep) -> HealthPublic:
    """Is the controller up, and is it connected to the broker?"""
    return HealthPublic(
        status="ok",
        broker_connected=runtime.broker_connected(),
        broker_url=runtime.broker_url,
        broker_restarts=runtime.broker.restarts,
    )


@router.get("/system/controller-key")
def controller_key(runtime: RuntimeDep) -> ControllerKeyPublic:
    """The controller's Ed25519 public key (base64), for provisioning agents."""
    return ControllerKeyPublic(public_key=runtime.key.public_key_b64)
