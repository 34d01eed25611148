"""The built-in chime, prepared once and kept in the media store like any bulletin.

Programme rundowns open and close with it, and a relay with no configured fallback
falls back to it, so every plan item always has playable local media.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from controller.audio import MediaStore, prepare
from controller.audio.chime import write_chime
from controller.db.models import MediaAsset


def ensure_chime(session: Session, store: MediaStore, target_lufs: float, now: datetime) -> str:
    """Prepare the chime if needed; returns its sha256 (the same bytes every time)."""
    with tempfile.TemporaryDirectory(prefix="wardcast-chime-") as tmp:
        wav = Path(tmp) / "chime.wav"
        write_chime(wav)
        prepared = prepare(wav, target_lufs=target_lufs - 2.0)
    stored = store.put(
        prepared.data, extension=prepared.extension, content_type=prepared.content_type
    )
    if session.get(MediaAsset, stored.sha256) is None:
        session.add(
            MediaAsset(
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                duration_s=prepared.duration_s,
                content_type=stored.content_type,
                extension=stored.extension,
                created_at=now,
            )
        )
    return stored.sha256
