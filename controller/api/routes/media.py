"""Serve stored media to the agents over HTTP: ``GET /media/<sha256>.<ext>?expires=…&sig=…``.

The one door of the API that needs no account: a device fetches what its plan names,
by the signed, time-limited URL the plan carries (``controller/audio/store.py``,
``media_url``). The signature is checked before the store is asked, so an unsigned,
altered or expired link learns nothing, not even whether the file exists.

Content-addressed files never change, so responses carry the hash as a strong ETag and
may be cached privately until the link expires; agents on metered 4G links then fetch
each bulletin once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from controller.audio.store import MEDIA_PREFIX, MediaSigner, MediaStore, is_sha256
from wardcast_protocol.clock import Clock


def media_router(
    store: MediaStore, signer: MediaSigner, clock: Clock, *, prefix: str = MEDIA_PREFIX
) -> APIRouter:
    """A router serving ``store``'s files by hash to holders of a link ``signer`` made."""
    router = APIRouter(prefix=prefix, tags=["media"])

    @router.get(
        "/{name}",
        response_class=FileResponse,
        summary="Download a media file by its signed link",
        responses={403: {"description": "The link is unsigned, altered or expired."}},
    )
    def get_media(
        name: str,
        expires: Annotated[str | None, Query(max_length=20)] = None,
        sig: Annotated[str | None, Query(max_length=128)] = None,
    ) -> FileResponse:
        """The file whose sha256 is ``name`` (optionally followed by ``.<ext>``)."""
        sha256, _, extension = name.partition(".")
        now = clock.now()
        problem = signer.problem(sha256, expires, sig, now)
        if problem:
            raise HTTPException(status_code=403, detail=problem)
        if not is_sha256(sha256):
            raise HTTPException(status_code=404, detail="not a media file name")
        media = store.get(sha256)
        if media is None or (extension and extension != media.extension):
            raise HTTPException(status_code=404, detail="media not found")
        left = max(0, int(expires or 0) - int(now.timestamp()))
        return FileResponse(
            media.path,
            media_type=media.content_type,
            headers={
                "ETag": f'"{media.sha256}"',
                "Cache-Control": f"private, max-age={left}, immutable",
            },
        )

    return router
