"""Enrolment: a device trades its one-time code for its broker login (no sign-in, by design).

The code is the credential here: random, single-use, short-lived, kept only as a hash.
Every refusal (unknown device, wrong, spent or expired code) is the same 403, so the
route tells a guesser nothing.
"""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.deps import EnrolmentDep
from controller.api.schemas.enrolment import EnrolmentCreate, EnrolmentPublic

router = APIRouter(prefix="/api/v1/enrolment", tags=["devices"])


@router.post("")
def enrol(body: EnrolmentCreate, enrolment: EnrolmentDep) -> EnrolmentPublic:
    """Spend a one-time code: register the device's key, return its broker login, the
    broker's CA to pin and the controller's public key. Shown once: store them."""
    credentials = enrolment.enrol(body.device_id, body.code, body.public_key)
    return EnrolmentPublic(
        device_id=credentials.device_id,
        broker_url=credentials.broker_url,
        username=credentials.username,
        password=credentials.password,
        ca_pem=credentials.ca_pem,
        controller_public_key=credentials.controller_public_key,
    )
