"""Bulletins: write as text (spoken by TTS) or upload a recording."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from controller.api.bounds import (
    AREA_CODE_PATTERN,
    CODE_PATTERN,
    ONE_LINE_PATTERN,
    IdPath,
    Instant,
    OffsetQuery,
)
from controller.api.deps import (
    ApproverDep,
    BulletinsDep,
    ClockDep,
    MediaUrlsDep,
    OfficerDep,
    SessionDep,
    SettingsDep,
    StaffDep,
)
from controller.api.schemas.bulletins import (
    BulletinCreate,
    BulletinPublic,
    BulletinUpdate,
    MediaPublic,
    TransitionCreate,
    TransitionPublic,
)
from controller.audio.store import MediaUrls
from controller.audio.uploads import spool_upload
from controller.db.models import Bulletin
from controller.domain.actors import Actor
from controller.domain.content import access, workflow
from controller.domain.content import bulletins as domain
from controller.domain.content.bulletins import BulletinDraft
from controller.domain.content.editing import BulletinChanges, edit_bulletin
from controller.domain.content.workflow import Status
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Priority, SourceLevel

router = APIRouter(prefix="/api/v1/bulletins", tags=["bulletins"])


def to_public(bulletin: Bulletin, urls: MediaUrls) -> BulletinPublic:
    """A bulletin with the (signed, time-limited) URL its audio is served at."""
    public = BulletinPublic.model_validate(bulletin)
    media = bulletin.media
    url = urls.url(media.sha256, media.extension)
    return public.model_copy(
        update={"media": MediaPublic.model_validate(media).model_copy(update={"url": url})}
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_from_text(
    body: BulletinCreate,
    session: SessionDep,
    bulletins: BulletinsDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: OfficerDep,
) -> BulletinPublic:
    """Create a bulletin from text; it is spoken (gTTS, else the offline voice) now."""
    draft = BulletinDraft(
        body.title,
        body.priority,
        body.source_level,
        body.chime,
        actor.name,
        body.category,
        access.draft_ward(actor, body.ward_code),
        body.valid_from,
        body.valid_until,
        body.code,
        tts_voice=body.tts_voice,
        tts_speed_wpm=body.tts_speed_wpm,
    )
    bulletin = bulletins.create_from_text(session, draft, body.text, clock.now())
    return to_public(bulletin, urls)


@router.post("/upload", status_code=status.HTTP_201_CREATED)
def create_from_upload(
    session: SessionDep,
    bulletins: BulletinsDep,
    clock: ClockDep,
    settings: SettingsDep,
    urls: MediaUrlsDep,
    actor: OfficerDep,
    title: Annotated[str, Form(min_length=1, max_length=300, pattern=ONE_LINE_PATTERN)],
    file: Annotated[UploadFile, File(description="A recording: mp3, wav, ogg, m4a…")],
    priority: Annotated[Priority, Form()] = Priority.NORMAL,
    source_level: Annotated[SourceLevel, Form()] = SourceLevel.COMMUNE,
    chime: Annotated[bool, Form()] = False,
    category: Annotated[
        str, Form(min_length=1, max_length=64, pattern=ONE_LINE_PATTERN)
    ] = "general",
    ward_code: Annotated[str | None, Form(pattern=AREA_CODE_PATTERN)] = None,
    valid_from: Annotated[Instant | None, Form()] = None,
    valid_until: Annotated[Instant | None, Form()] = None,
    code: Annotated[str | None, Form(pattern=CODE_PATTERN)] = None,
) -> BulletinPublic:
    """Create a bulletin from an uploaded recording (loudness-normalised, re-encoded)."""
    ward_code = access.draft_ward(actor, ward_code)
    with tempfile.TemporaryDirectory(prefix="wardcast-upload-") as tmp:
        path = spool_upload(file.file, Path(tmp) / "upload", settings.max_upload_bytes)
        draft = BulletinDraft(
            title,
            priority,
            source_level,
            chime,
            actor.name,
            category,
            ward_code,
            valid_from,
            valid_until,
            code,
        )
        bulletin = bulletins.create_from_upload(
            session, draft, path, file.filename or "", clock.now()
        )
    return to_public(bulletin, urls)


def _step(
    bulletin_id: str,
    to: Status,
    session: Session,
    clock: Clock,
    urls: MediaUrls,
    actor: Actor,
    reason: str | None = None,
) -> BulletinPublic:
    """Take one workflow step (role, ward and "not your own" checked by the workflow)."""
    bulletin = domain.get_bulletin(session, bulletin_id)
    workflow.transition(session, bulletin, to, actor, clock.now(), reason)
    return to_public(bulletin, urls)


@router.post("/{bulletin_id}/submit")
def submit(
    bulletin_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: OfficerDep,
) -> BulletinPublic:
    """Send a draft (or a rejected bulletin, revised) to the leader for approval."""
    return _step(bulletin_id, Status.SUBMITTED, session, clock, urls, actor)


@router.post("/{bulletin_id}/approve")
def approve(
    bulletin_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: ApproverDep,
) -> BulletinPublic:
    """Approve a submitted bulletin (an approver who neither wrote nor submitted it)."""
    return _step(bulletin_id, Status.APPROVED, session, clock, urls, actor)


@router.post("/{bulletin_id}/reject")
def reject(
    bulletin_id: IdPath,
    body: TransitionCreate,
    session: SessionDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: ApproverDep,
) -> BulletinPublic:
    """Reject a submitted bulletin with a reason (approver)."""
    return _step(bulletin_id, Status.REJECTED, session, clock, urls, actor, body.reason)


@router.post("/{bulletin_id}/withdraw")
def withdraw(
    bulletin_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: OfficerDep,
) -> BulletinPublic:
    """Take a submitted bulletin back to draft."""
    return _step(bulletin_id, Status.DRAFT, session, clock, urls, actor)


@router.post("/{bulletin_id}/archive")
def archive(
    bulletin_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: OfficerDep,
) -> BulletinPublic:
    """Retire a bulletin: it is kept, but never aired again."""
    return _step(bulletin_id, Status.ARCHIVED, session, clock, urls, actor)


@router.get("/{bulletin_id}/history")
def read_history(
    bulletin_id: IdPath, session: SessionDep, actor: StaffDep
) -> list[TransitionPublic]:
    """Every workflow step: who, when, from what to what, and why."""
    access.visible_bulletin(session, bulletin_id, actor)
    return [TransitionPublic.model_validate(t) for t in workflow.history(session, bulletin_id)]


@router.patch("/{bulletin_id}")
def update(
    bulletin_id: IdPath,
    body: BulletinUpdate,
    session: SessionDep,
    bulletins: BulletinsDep,
    settings: SettingsDep,
    clock: ClockDep,
    urls: MediaUrlsDep,
    actor: OfficerDep,
) -> BulletinPublic:
    """Edit a draft or rejected bulletin (a rejected one returns to draft); 409 otherwise."""
    given = body.model_dump(exclude_unset=True)
    # null clears what may be empty; for the rest it means "leave it".
    keep = {"title", "text", "chime", "priority", "source_level", "category"}
    changes = BulletinChanges(**{k: v for k, v in given.items() if not (v is None and k in keep)})
    bulletin = edit_bulletin(session, bulletins, settings, bulletin_id, changes, actor, clock.now())
    return to_public(bulletin, urls)


@router.get(
    "/{bulletin_id}/audio",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    response_class=RedirectResponse,
    responses={307: {"description": "To the clip's signed media URL (Location)."}},
)
def preview(
    bulletin_id: IdPath, session: SessionDep, urls: MediaUrlsDep, actor: StaffDep
) -> RedirectResponse:
    """The prepared clip, as devices will play it: a redirect to its signed media URL."""
    media = access.visible_bulletin(session, bulletin_id, actor).media
    return RedirectResponse(urls.url(media.sha256, media.extension), status_code=307)


@router.get("")
def list_all(
    session: SessionDep,
    urls: MediaUrlsDep,
    actor: StaffDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: OffsetQuery = 0,
    state: Annotated[
        Status | None, Query(description="Only these: the approval queue is `submitted`.")
    ] = None,
    ward_code: Annotated[
        str | None, Query(pattern=AREA_CODE_PATTERN, description="Only this ward's.")
    ] = None,
) -> list[BulletinPublic]:
    """The bulletins of the actor's wards (and approved shared ones), newest first."""
    rows = access.visible_bulletins(
        session, actor, limit, offset, status=state, ward_code=ward_code
    )
    return [to_public(b, urls) for b in rows]


@router.get("/{bulletin_id}")
def read(
    bulletin_id: IdPath, session: SessionDep, urls: MediaUrlsDep, actor: StaffDep
) -> BulletinPublic:
    """One bulletin."""
    return to_public(access.visible_bulletin(session, bulletin_id, actor), urls)
