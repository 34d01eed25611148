"""A ward's programme and queue; a device's compiled plan."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from controller.api.deps import ActorDep, RuntimeDep, SessionDep
from controller.domain.devices.service import get_device
from controller.domain.errors import NotFound
from controller.domain.places.service import get_ward
from controller.domain.programmes import service as domain
from controller.domain.programmes.schema import ProgrammeDoc

router = APIRouter(prefix="/api/v1", tags=["programmes"])


class ProgrammeIn(BaseModel):
    """A programme document (the YAML file's content, as JSON)."""

    model_config = ConfigDict(extra="forbid")

    document: ProgrammeDoc


class ProgrammeOut(BaseModel):
    """The stored programme."""

    version: int
    document: ProgrammeDoc


class ConflictOut(BaseModel):
    """One reason a programme cannot be saved."""

    code: str
    message: str
    path: str
    line: int | None = None


class CheckOut(BaseModel):
    """What saving would change, and what stands in the way."""

    conflicts: list[ConflictOut]
    diff: list[str]


class SavedOut(BaseModel):
    """The stored version and what changed."""

    version: int
    diff: list[str]


class QueueIn(BaseModel):
    """Queue an approved bulletin into a session for some days (local dates)."""

    model_config = ConfigDict(extra="forbid")

    bulletin_id: str = Field(min_length=1, max_length=64)
    session_code: str = Field(min_length=1, max_length=64)
    first_date: date
    last_date: date


class QueueOut(BaseModel):
    """A queue entry."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    session_code: str
    bulletin_id: str
    first_date: date
    last_date: date
    position: int
    added_by: str


@router.get("/wards/{ward}/programme")
def read_programme(ward: str, session: SessionDep) -> ProgrammeOut:
    """The ward's programme as stored (exactly what was applied)."""
    get_ward(session, ward)
    stored = domain.current_programme(session, ward)
    if stored is None:
        raise NotFound(f"ward {ward} has no programme yet")
    return ProgrammeOut(version=stored[0], document=stored[1])


@router.post("/wards/{ward}/programme/check")
def check_programme(
    ward: str, body: ProgrammeIn, session: SessionDep, runtime: RuntimeDep
) -> CheckOut:
    """Conflicts and the diff against the stored programme; nothing is stored."""
    result = domain.check_programme(session, ward, body.document, runtime.clock.now())
    return CheckOut(
        conflicts=[ConflictOut(**dataclasses.asdict(c)) for c in result.conflicts],
        diff=result.diff,
    )


@router.put("/wards/{ward}/programme")
def save_programme(ward: str, body: ProgrammeIn, runtime: RuntimeDep, actor: ActorDep) -> SavedOut:
    """Save the programme if it has no conflict (all or nothing); plans follow at once."""
    version, changes = runtime.programmes.save(ward, body.document, actor)
    return SavedOut(version=version, diff=changes)


@router.get("/wards/{ward}/queue")
def read_queue(ward: str, session: SessionDep) -> list[QueueOut]:
    """Bulletins queued into the ward's sessions."""
    get_ward(session, ward)
    return [QueueOut.model_validate(q) for q in domain.list_queue(session, ward)]


@router.post("/wards/{ward}/queue", status_code=status.HTTP_201_CREATED)
def add_to_queue(ward: str, body: QueueIn, runtime: RuntimeDep, actor: ActorDep) -> QueueOut:
    """Queue an approved bulletin into a session; the ward's plans follow at once."""
    row = runtime.programmes.queue(
        ward, body.session_code, body.bulletin_id, body.first_date, body.last_date, actor
    )
    return QueueOut.model_validate(row)


@router.delete("/wards/{ward}/queue/{entry}", status_code=status.HTTP_204_NO_CONTENT)
def remove_from_queue(ward: str, entry: str, runtime: RuntimeDep, actor: ActorDep) -> Response:
    """Take a bulletin out of the queue; plans follow at once."""
    runtime.programmes.unqueue(ward, entry, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/devices/{device_id}/plan")
def read_plan(device_id: str, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The plan the device should be running now (as the controller compiles it)."""
    get_device(session, device_id)
    plan = runtime.plans.current(session, device_id)
    assert plan is not None
    return plan.model_dump(mode="json")
