"""Evidence bundles and archives: download a ward's bundle; archive a period (admin).

The bundle is sent as the very bytes a file would hold (``dump_bundle``), not through
FastAPI's encoder: a ward-year is tens of megabytes, and what an evaluator downloads
must be what ``wardcast evidence verify`` reads.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from controller.api.bounds import AREA_CODE_PATTERN, AreaCodeFilter, Instant
from controller.api.deps import ActorDep, AdminDep, RuntimeDep, SessionDep
from controller.api.schemas.bundles import ArchiveCreate, ArchivePublic
from controller.domain.evidence import access, archives
from controller.domain.evidence.bundles.format import dump_bundle

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@router.get(
    "/bundle",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "The bundle file."}},
)
def download_bundle(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    ward: Annotated[str, Query(pattern=AREA_CODE_PATTERN, description="Ward code.")],
    start: Annotated[Instant, Query(alias="from", description="Period start.")],
    end: Annotated[Instant, Query(alias="to", description="Period end (excluded).")],
) -> Response:
    """A ward's signed evidence bundle for [from, to), to verify offline."""
    now = runtime.clock.now()
    bundle = access.bundle_for(session, actor, ward, start, end, runtime.key, now)
    name = _UNSAFE.sub("_", f"wardcast-evidence-{ward}-{bundle['period']['label']}.json")
    return Response(
        dump_bundle(bundle),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/archives", status_code=status.HTTP_201_CREATED)
def create_archive(
    body: ArchiveCreate, session: SessionDep, runtime: RuntimeDep, actor: AdminDep
) -> ArchivePublic:
    """Write the period's bundle to the archive, verify it, record it (administrators)."""
    record = archives.archive_period(session, body.ward, body.start, body.end, actor, runtime)
    return ArchivePublic.model_validate(record)


@router.get("/archives")
def read_archives(
    session: SessionDep, actor: ActorDep, ward: AreaCodeFilter = None
) -> list[ArchivePublic]:
    """Archives made so far of the actor's wards, by ward and period."""
    return [ArchivePublic.model_validate(r) for r in access.archives_for(session, actor, ward)]
