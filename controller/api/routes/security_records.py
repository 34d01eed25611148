"""Security records: what devices refused and reported, and what the controller refused."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from controller.api.bounds import IdFilter, OffsetQuery
from controller.api.deps import AdminDep, SessionDep
from controller.api.schemas.security_records import SecurityRecordPublic
from controller.domain.evidence import security

router = APIRouter(prefix="/api/v1", tags=["security"])


@router.get("/security-records")
def read_security_records(
    session: SessionDep,
    actor: AdminDep,
    device_id: IdFilter = None,
    origin: Literal["device", "controller"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
) -> list[SecurityRecordPublic]:
    """Refusals, newest first: commands a device refused (not addressed to it, replayed,
    expired, early, retained, forged) and events the controller refused as evidence."""
    rows = security.list_security_records(session, device_id, origin, limit, offset)
    return [SecurityRecordPublic.model_validate(r) for r in rows]
