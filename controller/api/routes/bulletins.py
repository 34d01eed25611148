"""Bulletins: write as text (spoken by TTS) or upload a recording."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from controller.api.deps import ActorDep, RuntimeDep, SessionDep
from controller.api.schemas.bulletins import BulletinCreate, BulletinPublic, MediaPublic
from controller.db.models import Bulletin
from controller.domain import bulletins as domain
from controller.domain.bulletins import BulletinDraft
from controller.domain.errors import InvalidInput, TooLarge
from wardcast_protocol.messages import Priority, SourceLevel

router = APIRouter(prefix="/api/v1/bulletins", tags=["bulletins"])

_CHUNK = 1024 * 1024


def to_public(bulletin: Bulletin, base_url: str) -> BulletinPublic:
    """A bulletin with the URL its audio is served at."""
    public = BulletinPublic.model_validate(bulletin)
    media = bulletin.media
    url = f"{base_url}/media/{media.sha256}.{media.extension}"
    return public.model_copy(
        update={"media": MediaPublic.model_validate(media).model_copy(update={"url": url})}
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_from_text(
    body: BulletinCreate, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> BulletinPublic:
    """Create a bulletin from text; it is spoken (gTTS, else the offline voice) now."""
    draft = BulletinDraft(body.title, body.priority, body.source_level, body.chime, actor)
    bulletin = runtime.bulletins.create_from_text(session, draft, body.text, runtime.clock.now())
    return to_public(bulletin, runtime.settings.resolved_public_base_url)


@router.post("/upload", status_code=status.HTTP_201_CREATED)
def create_from_upload(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    file: Annotated[UploadFile, File(description="A recording: mp3, wav, ogg, m4a…")],
    priority: Annotated[Priority, Form()] = Priority.NORMAL,
    source_level: Annotated[SourceLevel, Form()] = SourceLevel.COMMUNE,
    chime: Annotated[bool, Form()] = False,
) -> BulletinPublic:
    """Create a bulletin from an uploaded recording (loudness-normalised, re-encoded)."""
    limit = runtime.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="wardcast-upload-") as tmp:
        path = Path(tmp) / "upload"
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the upload is larger than {limit // (1024 * 1024)} MiB")
                out.write(chunk)
        if size == 0:
            raise InvalidInput("the uploaded file is empty")
        draft = BulletinDraft(title, priority, source_level, chime, actor)
        bulletin = runtime.bulletins.create_from_upload(
            session, draft, path, file.filename or "", runtime.clock.now()
        )
    return to_public(bulletin, runtime.settings.resolved_public_base_url)


@router.get("")
def list_all(
    session: SessionDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[BulletinPublic]:
    """Bulletins, newest first."""
    base = runtime.settings.resolved_public_base_url
    return [to_public(b, base) for b in domain.list_bulletins(session, limit, offset)]


@router.get("/{bulletin_id}")
def read(bulletin_id: str, session: SessionDep, runtime: RuntimeDep) -> BulletinPublic:
    """One bulletin."""
    bulletin = domain.get_bulletin(session, bulletin_id)
    return to_public(bulletin, runtime.settings.resolved_public_base_url)
