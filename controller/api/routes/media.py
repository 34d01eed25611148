"""Serve stored media to the agents over HTTP: ``GET /media/<sha256>.<ext>?expires=…&sig=…``.

The one door of the API that needs no account: a device fetches what its plan names,
by the signed, time-limited URL the plan carries (``controller/audio/store.py``,
``media_url``). The signature is checked before the store is asked, so an unsigned,
altered or expired link learns nothing, not even whether the file exists.

Content-addressed files never change, so responses carry the hash as a strong ETag and
may be cached privately until the link expires; agents on metered 4G links then fetch
each bulletin once.

A new emergency's speech is fetched by every loudspeaker of the ward at once, and each
start waits for its download. Served as a ``FileResponse`` each download cost ~3.3 ms
of the controller's CPU (seven thread hops: the route, the stat, the open, each 64 KB
read, the close): 1,000 devices, 3.6 s before the last could start. Small files
are therefore kept in memory once read (``HotMedia``, bounded) and answered in one
piece; a ``Range`` request (a browser's <audio>, a resumed download) still gets the
file's own response, which honours it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from controller.audio.store import MEDIA_PREFIX, MediaSigner, MediaStore, StoredMedia, is_sha256
from wardcast_protocol.clock import Clock

# A bulletin of a few minutes at 32 kbit/s is ~1 MB; a file larger than this is read
# from disk each time, and the memory kept for the hottest files is bounded.
HOT_FILE_MAX_BYTES = 8 * 1024 * 1024
HOT_TOTAL_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HotFile:
    """A stored file's bytes, with what its answer says about them."""

    data: bytes
    content_type: str
    extension: str


class HotMedia:
    """The most recently served small files, in memory, at most ``max_bytes`` in all.

    Safe to share: content-addressed files never change, so a copy is never stale.
    Nothing deletes stored media; a purge, if one is ever added, must forget here too.
    """

    def __init__(self, max_bytes: int = HOT_TOTAL_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._files: OrderedDict[str, HotFile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> HotFile | None:
        """The file's bytes if held (now the most recently used), else None."""
        with self._lock:
            found = self._files.get(sha256)
            if found is not None:
                self._files.move_to_end(sha256)
            return found

    def put(self, sha256: str, hot: HotFile) -> None:
        """Hold ``hot``, forgetting the least recently used files past the bound."""
        if len(hot.data) > self._max_bytes:
            return
        with self._lock:
            if sha256 in self._files:
                return
            self._files[sha256] = hot
            self._bytes += len(hot.data)
            while self._bytes > self._max_bytes:
                _, dropped = self._files.popitem(last=False)
                self._bytes -= len(dropped.data)

    @property
    def held_bytes(self) -> int:
        """Bytes held now."""
        return self._bytes


def _read_small(media: StoredMedia) -> HotFile | None:
    """The file's bytes when it is small enough to hold, else None."""
    if media.size_bytes > HOT_FILE_MAX_BYTES:
        return None
    data = media.path.read_bytes()
    return HotFile(data, media.content_type, media.extension)


def media_router(
    store: MediaStore,
    signer: MediaSigner,
    clock: Clock,
    *,
    prefix: str = MEDIA_PREFIX,
) -> APIRouter:
    """A router serving ``store``'s files by hash to holders of a link ``signer`` made."""
    router = APIRouter(prefix=prefix, tags=["media"])
    held = HotMedia()  # each router its own: one per app, as one store

    @router.get(
        "/{name}",
        response_class=FileResponse,
        summary="Download a media file by its signed link",
        responses={403: {"description": "The link is unsigned, altered or expired."}},
    )
    def get_media(
        name: str,
        request: Request,
        expires: Annotated[str | None, Query(max_length=20)] = None,
        sig: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Response:
        """The file whose sha256 is ``name`` (optionally followed by ``.<ext>``)."""
        sha256, _, extension = name.partition(".")
        now = clock.now()
        problem = signer.problem(sha256, expires, sig, now)
        if problem:
            raise HTTPException(status_code=403, detail=problem)
        if not is_sha256(sha256):
            raise HTTPException(status_code=404, detail="not a media file name")
        left = max(0, int(expires or 0) - int(now.timestamp()))
        headers = {"ETag": f'"{sha256}"', "Cache-Control": f"private, max-age={left}, immutable"}
        whole = "range" not in request.headers
        found = held.get(sha256) if whole else None
        if found is None:
            media = store.get(sha256)
            if media is None or (extension and extension != media.extension):
                raise HTTPException(status_code=404, detail="media not found")
            found = _read_small(media) if whole else None
            if found is None:
                return FileResponse(media.path, media_type=media.content_type, headers=headers)
            held.put(sha256, found)
        elif extension and extension != found.extension:
            raise HTTPException(status_code=404, detail="media not found")
        return Response(found.data, media_type=found.content_type, headers=headers)

    return router
