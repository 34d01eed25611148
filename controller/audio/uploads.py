"""An uploaded recording copied to disk before the audio pipeline reads it.

The API and the console both take uploads; both spool them here, so the size limit and
the empty-file refusal are one rule with one wording (codes ``upload.too_large`` and
``audio.empty``, translated by the console).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from controller.domain.errors import InvalidInput, TooLarge

# Read in 1 MiB pieces: a recording of a few minutes never sits whole in memory.
CHUNK = 1024 * 1024


def spool_upload(source: BinaryIO, path: Path, limit_bytes: int) -> Path:
    """Copy ``source`` to ``path``; refuse it above ``limit_bytes`` (413) or empty (422)."""
    size = 0
    with path.open("wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit_bytes:
                raise TooLarge(
                    f"the upload is larger than {limit_bytes // (1024 * 1024)} MiB",
                    code="upload.too_large",
                    params={"max_mib": limit_bytes // (1024 * 1024)},
                    field="file",
                )
            out.write(chunk)
    if size == 0:
        raise InvalidInput("the uploaded file is empty", code="audio.empty", field="file")
    return path
