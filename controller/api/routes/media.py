"""Media: prepared audio, served by its sha256 to the agents."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from controller.api.deps import RuntimeDep
from controller.domain.errors import NotFound

router = APIRouter(tags=["media"])


@router.get("/media/{name}")
def media(name: str, runtime: RuntimeDep) -> FileResponse:
    """The file named ``<sha256>.<ext>``; immutable, so cacheable forever."""
    sha256 = name.split(".", 1)[0]
    stored = runtime.media.get(sha256)
    if stored is None:
        raise NotFound(f"no media {name!r}")
    return FileResponse(
        stored.path,
        media_type=stored.content_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": sha256},
    )
