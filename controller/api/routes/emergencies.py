"""Emergencies: CAP-shaped alert, update and cancel, played now everywhere targeted."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from fastapi import APIRouter, Response, status
from fastapi.responses import StreamingResponse

from controller.api.bounds import IdPath
from controller.api.deps import (
    ApproverDep,
    ClockDep,
    EmergenciesDep,
    RuntimeDep,
    SessionDep,
    StaffDep,
)
from controller.api.schemas.emergencies import (
    EmergencyCreate,
    EmergencyDevicePublic,
    EmergencyProgressPublic,
    EmergencyPublic,
)
from controller.api.sse import Sleep, StreamRules, changes, event_stream, numbered_events
from controller.domain.emergencies.access import visible_emergencies
from controller.domain.emergencies.progress import (
    EmergencyProgress,
    EmergencyWatch,
    emergency_progress,
    stage_of,
)
from controller.domain.emergencies.service import EmergencyMessage

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EmergencyPublic, "description": "Received before: not replayed."}},
)
def receive(
    body: EmergencyCreate,
    emergencies: EmergenciesDep,
    actor: ApproverDep,
    clock: ClockDep,
    response: Response,
) -> EmergencyPublic:
    """Alert: speak and play now, interrupting anything. Update/Cancel: stop what it names."""
    given = body.model_dump()
    if body.msg_type == "Cancel":  # a bare Cancel: who and when are the request's own
        now = clock.now()
        given["sent"] = body.sent or now
        given["sender"] = body.sender or actor.name
        given["identifier"] = body.identifier or f"cancel-{now:%Y%m%dT%H%M%S}-{uuid4().hex[:8]}"
    message = EmergencyMessage(**given)
    record, new = emergencies.receive(message, actor)
    if not new:
        response.status_code = status.HTTP_200_OK
    return EmergencyPublic.model_validate(record)


@router.get("")
def read_all(session: SessionDep, actor: StaffDep) -> list[EmergencyPublic]:
    """Emergency messages that reached the actor's wards, most recent first."""
    return [EmergencyPublic.model_validate(e) for e in visible_emergencies(session, actor)]


def progress_public(progress: EmergencyProgress) -> EmergencyProgressPublic:
    """A progress snapshot as the API shows it."""
    return EmergencyProgressPublic(
        emergency_id=progress.emergency_id,
        identifier=progress.identifier,
        state=progress.state,
        broadcast_id=progress.broadcast_id,
        status=progress.status,
        over=progress.over,
        at=progress.at,
        stages=progress.stages(),
        devices=[
            EmergencyDevicePublic(
                device_id=d.device_id,
                ward_code=d.ward_code,
                group_code=d.group_code,
                stage=stage_of(d.state),
                state=d.state.value,
                started_at=d.started_at,
                actual_start=d.actual_start,
                played_duration_s=d.played_duration_s,
                confirmed_at=d.confirmed_at,
                reason=d.reason,
            )
            for d in progress.devices
        ],
    )


@router.get("/{emergency_id}/progress")
def read_progress(
    emergency_id: IdPath, session: SessionDep, clock: ClockDep, actor: StaffDep
) -> EmergencyProgressPublic:
    """Delivery per device now: sent, playing, confirmed, failed (the actor's wards)."""
    return progress_public(emergency_progress(session, emergency_id, actor, clock.now()))


# Read every second, a heartbeat after 15 quiet seconds, and 15 minutes at most
# (then ``end``; the client reconnects if it still cares).
RULES = StreamRules.lasting(15 * 60.0, interval_s=1.0, heartbeat_s=15.0)
sleep: Sleep = asyncio.sleep  # tests replace it, so no test waits


@router.get(
    "/{emergency_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Progress events."}},
)
def stream_progress(
    emergency_id: IdPath, runtime: RuntimeDep, clock: ClockDep, actor: StaffDep
) -> StreamingResponse:
    """Server-sent events: a `progress` snapshot whenever delivery changes, a heartbeat
    comment every 15 s, and `end` when the emergency is over (or after 15 minutes).

    An open stream holds no worker thread: it awaits between reads, and only each
    read runs in one (``controller.api.sse``)."""
    watcher = EmergencyWatch(runtime.db, clock)
    pending = [watcher.read(emergency_id, actor)]  # refused here (404/403), before streaming

    def read() -> EmergencyProgress:
        return pending.pop() if pending else watcher.read(emergency_id, actor)

    rules = RULES
    snapshots = changes(read, EmergencyProgress.fingerprint, _over, rules, lambda s: sleep(s))
    return event_stream(numbered_events(snapshots, _as_json, rules.retry_ms, end_data="{}"))


def _as_json(progress: EmergencyProgress) -> str:
    return progress_public(progress).model_dump_json()


def _over(progress: EmergencyProgress) -> bool:
    return progress.over
