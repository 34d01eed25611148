"""Serve stored media to the agents over HTTP: ``GET /media/<sha256>.<ext>``.

Content-addressed files never change, so responses carry the hash as a strong ETag and may be
cached for a year; agents on metered 4G links then fetch each bulletin once.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from controller.audio.store import MEDIA_PREFIX, MediaStore, is_sha256

_IMMUTABLE = "public, max-age=31536000, immutable"


def media_router(store: MediaStore, *, prefix: str = MEDIA_PREFIX) -> APIRouter:
    """A router serving ``store``'s files by hash, with or without their extension."""
    router = APIRouter(prefix=prefix, tags=["media"])

    @router.get("/{name}", response_class=FileResponse, summary="Download a media file by sha256")
    def get_media(name: str) -> FileResponse:
        """The file whose sha256 is ``name`` (optionally followed by ``.<ext>``)."""
        sha256, _, extension = name.partition(".")
        if not is_sha256(sha256):
            raise HTTPException(status_code=404, detail="not a media file name")
        media = store.get(sha256)
        if media is None or (extension and extension != media.extension):
            raise HTTPException(status_code=404, detail="media not found")
        return FileResponse(
            media.path,
            media_type=media.content_type,
            headers={"ETag": f'"{media.sha256}"', "Cache-Control": _IMMUTABLE},
        )

    return router
