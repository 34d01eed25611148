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
from controller.domain.content.bulletins import register_media


def ensure_chime(session: Session, store: MediaStore, target_lufs: float, now: datetime) -> str:
    """Prepare the chime if needed; returns its sha256 (the same bytes every time)."""
    with tempfile.TemporaryDirectory(prefix="wardcast-chime-") as tmp:
        wav = Path(tmp) / "chime.wav"
        write_chime(wav)
        prepared = prepare(wav, target_lufs=target_lufs - 2.0)
    stored = store.put(
        prepared.data, extension=prepared.extension, content_type=prepared.content_type
    )
    register_media(session, stored, prepared.duration_s, now)
    return stored.sha256
