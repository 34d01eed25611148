"""Enrolment schemas: a device presents its one-time code and key, and gets its broker login."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wardcast_protocol.topics import DEVICE_ID_PATTERN


class EnrolmentCreate(BaseModel):
    """What `wardcast-agent enrol` sends: who it is, the code it was given, its new key."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(pattern=f"^{DEVICE_ID_PATTERN}$", examples=["to-dan-pho-3"])
    code: str = Field(
        min_length=16,
        max_length=40,
        pattern=r"^[A-Za-z0-9 -]+$",
        description="The one-time code (any case; dashes and spaces are ignored).",
    )
    public_key: str = Field(
        min_length=40, max_length=64, description="Base64 of the device's Ed25519 public key."
    )


class EnrolmentPublic(BaseModel):
    """What an enrolled device keeps in its data folder. Shown once: store it."""

    device_id: str
    broker_url: str = Field(description="mqtts://host:port of the broker to connect to.")
    username: str = Field(description="Its broker login (its device id).")
    password: str = Field(description="Its broker password; the controller keeps only a hash.")
    ca_pem: str | None = Field(description="The broker's CA certificate, to pin (PEM).")
    controller_public_key: str = Field(
        description="Base64 Ed25519 key every plan and command is signed with."
    )
