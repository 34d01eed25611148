"""Bulletins (bản tin): text spoken by TTS or an uploaded recording, prepared once.

Preparation (speech, loudness, chime, encoding) happens when the bulletin is
created, so a broadcast never waits for ffmpeg and every device plays the same
bytes, named by their sha256.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.audio import (
    AudioProcessingFailed,
    AudioRejected,
    MediaStore,
    MediaStoreFull,
    PreparedAudio,
    SpeechFailed,
    StoredMedia,
    prepare,
    speak,
)
from controller.db.models import Bulletin, BulletinTransition, MediaAsset, new_id
from controller.domain.content.text import clean_spoken_text, removed_controls
from controller.domain.content.voices import speak_options
from controller.domain.errors import Conflict, InvalidInput, NotFound, TooLarge, Unavailable
from controller.settings import Settings
from wardcast_protocol.messages import Priority, SourceLevel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulletinDraft:
    """What an officer gives to create a bulletin (text or upload alike)."""

    title: str
    priority: Priority = Priority.NORMAL
    source_level: SourceLevel = SourceLevel.COMMUNE
    chime: bool | None = None
    created_by: str = ""
    category: str = "general"
    ward_code: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    code: str | None = None  # a stable name people chose, unique in the ward
    tts_voice: str | None = None  # "espeak-ng:vi-vn-x-south", "gtts:vi"; None: default
    tts_speed_wpm: int | None = None  # espeak-ng only; None: its default


class BulletinService:
    """Creates bulletins: validates, speaks or decodes, prepares and stores audio."""

    def __init__(self, settings: Settings, store: MediaStore) -> None:
        self._settings = settings
        self._store = store

    def _title(self, draft: BulletinDraft) -> str:
        if (
            draft.valid_from is not None
            and draft.valid_until is not None
            and draft.valid_until <= draft.valid_from
        ):
            raise InvalidInput(
                "the validity period ends before it starts",
                code="bulletin.validity_backwards",
                field="valid_until",
            )
        title = draft.title.strip()
        if not title:
            raise InvalidInput(
                "a bulletin needs a title", code="bulletin.title_missing", field="title"
            )
        if len(title) > 300:
            raise InvalidInput(
                "the title is longer than 300 characters",
                code="bulletin.title_too_long",
                params={"max": 300},
                field="title",
            )
        return title

    def create_from_text(
        self, session: Session, draft: BulletinDraft, text: str, now: datetime
    ) -> Bulletin:
        """Speak ``text`` (Vietnamese by default) and store it as a bulletin."""
        title = self._title(draft)
        body = clean_spoken_text(text)
        if removed_controls(text):
            log.info("removed %d control character(s) from a text", removed_controls(text))
        if not body:
            raise InvalidInput(
                "the bulletin text is empty", code="bulletin.text_empty", field="text"
            )
        if len(body) > self._settings.max_text_chars:
            limit = self._settings.max_text_chars
            raise TooLarge(
                f"the text has {len(body)} characters; the limit is {limit}",
                code="bulletin.text_too_long",
                params={"count": len(body), "max": limit},
                field="text",
            )
        chime = self._settings.chime_default if draft.chime is None else draft.chime
        prepared, engine = self.speak_prepared(body, chime, draft.tts_voice, draft.tts_speed_wpm)
        bulletin = self._save(session, draft, title, prepared, now, chime)
        bulletin.origin = "text"
        bulletin.text = body
        bulletin.tts_engine = engine
        bulletin.tts_voice, bulletin.tts_speed_wpm = draft.tts_voice, draft.tts_speed_wpm
        return bulletin

    def speak_prepared(
        self, body: str, chime: bool, voice: str | None = None, speed_wpm: int | None = None
    ) -> tuple[PreparedAudio, str]:
        """Speak a clean text with the chosen voice and prepare it; (audio, engine used)."""
        options = speak_options(self._settings, voice, speed_wpm)
        with tempfile.TemporaryDirectory(prefix="wardcast-tts-") as tmp:
            try:
                speech = speak(
                    body,
                    Path(tmp),
                    lang=self._settings.tts_language,
                    gtts_enabled=options.gtts_enabled,
                    gtts_timeout_s=self._settings.gtts_timeout_s,
                    espeak_voice=options.espeak_voice,
                    espeak_speed_wpm=options.espeak_speed_wpm,
                )
            except SpeechFailed as exc:
                raise Unavailable(
                    f"text to speech failed: {exc}", code="bulletin.speech_failed", field="text"
                ) from exc
            return self._prepare(speech.path, chime), speech.engine

    def store_prepared(
        self, session: Session, prepared: PreparedAudio, now: datetime
    ) -> MediaAsset:
        """Store prepared audio (content-addressed) and its row; for an edited bulletin."""
        try:
            stored = self._store.put(
                prepared.data, extension=prepared.extension, content_type=prepared.content_type
            )
        except MediaStoreFull as exc:
            raise Unavailable(f"the media store is full: {exc}") from exc
        return register_media(session, stored, prepared.duration_s, now)

    def create_from_upload(
        self, session: Session, draft: BulletinDraft, path: Path, filename: str, now: datetime
    ) -> Bulletin:
        """Prepare an uploaded recording (any format ffmpeg reads) as a bulletin."""
        title = self._title(draft)
        chime = False if draft.chime is None else draft.chime
        prepared = self._prepare(path, chime, require_whole=True)
        bulletin = self._save(session, draft, title, prepared, now, chime)
        bulletin.origin = "upload"
        bulletin.original_filename = Path(filename).name[:300] or None
        return bulletin

    def _prepare(self, source: Path, chime: bool, *, require_whole: bool = False) -> PreparedAudio:
        # An upload cut short in transfer is refused; speech we made ourselves is whole.
        try:
            return prepare(
                source,
                target_lufs=self._settings.loudness_target_lufs,
                chime=chime,
                max_duration_s=self._settings.max_audio_s,
                require_whole=require_whole,
            )
        except AudioProcessingFailed as exc:
            # Our tools failed on acceptable input: not the officer's fault.
            log.error("audio preparation failed: %s", exc)
            raise Unavailable(f"audio preparation failed: {exc}") from exc
        except AudioRejected as exc:
            raise InvalidInput(
                f"the audio was refused: {exc}",
                code=exc.code or "audio.refused",
                params=exc.params or {"reason": str(exc)},
                field="file",
            ) from exc

    def _save(
        self,
        session: Session,
        draft: BulletinDraft,
        title: str,
        prepared: PreparedAudio,
        now: datetime,
        chime: bool,
    ) -> Bulletin:
        if draft.code is not None and find_by_code(session, draft.code, draft.ward_code):
            where = f"ward {draft.ward_code}" if draft.ward_code else "every ward"
            raise Conflict(
                f"a bulletin of {where} already has the code {draft.code!r}",
                code="bulletin.code_taken",
                params={"code": draft.code},
                field="code",
            )
        try:
            stored = self._store.put(
                prepared.data, extension=prepared.extension, content_type=prepared.content_type
            )
        except MediaStoreFull as exc:
            raise Unavailable(f"the media store is full: {exc}") from exc
        register_media(session, stored, prepared.duration_s, now)
        bulletin = Bulletin(
            id=new_id("bul"),
            title=title,
            origin="text",
            chime=chime,
            priority=draft.priority.value,
            source_level=draft.source_level.value,
            media_sha256=stored.sha256,
            created_at=now,
            created_by=draft.created_by,
            status="draft",
            category=draft.category,
            ward_code=draft.ward_code,
            valid_from=draft.valid_from,
            valid_until=draft.valid_until,
            code=draft.code,
        )
        session.add(bulletin)
        session.flush()
        session.add(
            BulletinTransition(
                bulletin_id=bulletin.id,
                from_status="",
                to_status="draft",
                actor=draft.created_by or "officer",
                at=now,
            )
        )
        session.flush()
        session.refresh(bulletin)
        log.info("bulletin %s stored: %.1f s, %s", bulletin.id, prepared.duration_s, stored.sha256)
        return bulletin


def register_media(
    session: Session, stored: StoredMedia, duration_s: float, now: datetime
) -> MediaAsset:
    """The database row of a stored media file (created once per sha256)."""
    asset = session.get(MediaAsset, stored.sha256)
    if asset is None:
        asset = MediaAsset(
            sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            duration_s=duration_s,
            content_type=stored.content_type,
            extension=stored.extension,
            created_at=now,
        )
        session.add(asset)
    return asset


def get_bulletin(session: Session, bulletin_id: str) -> Bulletin:
    """The bulletin, or NotFound."""
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound(
            f"no bulletin {bulletin_id!r}", code="bulletin.unknown", params={"id": bulletin_id}
        )
    return bulletin


def find_by_code(session: Session, code: str, ward_code: str | None) -> Bulletin | None:
    """The bulletin people named ``code`` in this ward, else one for every ward with it."""
    query = select(Bulletin).where(Bulletin.code == code)
    for ward in (ward_code, None) if ward_code is not None else (None,):
        found = session.scalars(
            query.where(
                Bulletin.ward_code.is_(None) if ward is None else Bulletin.ward_code == ward
            )
        ).first()
        if found is not None:
            return found
    return None


def find_bulletin(session: Session, ref: str, ward_code: str | None) -> Bulletin | None:
    """A bulletin by its id, or by its code as seen from ``ward_code``."""
    return session.get(Bulletin, ref) or find_by_code(session, ref, ward_code)


def list_bulletins(session: Session, limit: int = 100, offset: int = 0) -> Sequence[Bulletin]:
    """Newest first."""
    query = select(Bulletin).order_by(Bulletin.created_at.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()
