"""System schemas: health and the controller's public key."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HealthPublic(BaseModel):
    """Liveness and the broker link."""

    status: str = Field(description="'ok' whenever the controller answers.")
    broker_connected: bool = Field(description="Connected to the MQTT broker now.")
    broker_url: str | None = Field(description="The broker it uses.")
    broker_restarts: int = Field(
        default=0,
        description="How often the controller restarted its embedded broker since it "
        "started (the watchdog brings a dead broker back on the same port).",
    )


class ControllerKeyPublic(BaseModel):
    """The key agents verify the controller's messages with."""

    public_key: str = Field(description="Base64 of the raw 32-byte Ed25519 public key.")
