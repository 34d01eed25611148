"""Editing a bulletin (sửa bản tin): a draft, or a rejected one, which goes back to draft.

What an approver saw is never changed under them: a submitted bulletin is withdrawn
first, an approved or archived one is never edited (a new bulletin is written). Each
edit is a step in the workflow's append-only trail naming the fields it changed. A new
text, voice, speed or chime is spoken and prepared again, before anything is stored,
so a failed speech leaves the bulletin as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from controller.db.models import Bulletin
from controller.domain.actors import Actor
from controller.domain.content.access import require_visible
from controller.domain.content.bulletins import BulletinService, get_bulletin
from controller.domain.content.text import clean_spoken_text
from controller.domain.content.voices import speak_options
from controller.domain.content.workflow import record_edit
from controller.domain.errors import InvalidInput, TooLarge
from controller.settings import Settings
from wardcast_protocol.messages import Priority, SourceLevel


class Keep:
    """The value of a field the edit leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()
_SPOKEN = ("text", "tts_voice", "tts_speed_wpm", "chime")


@dataclass(frozen=True)
class BulletinChanges:
    """The fields an officer changes; ``KEEP`` (the default) leaves a field as it is."""

    title: str | Keep = KEEP
    text: str | Keep = KEEP
    tts_voice: str | Keep | None = KEEP
    tts_speed_wpm: int | Keep | None = KEEP
    chime: bool | Keep = KEEP
    priority: Priority | Keep = KEEP
    source_level: SourceLevel | Keep = KEEP
    category: str | Keep = KEEP
    valid_from: datetime | Keep | None = KEEP
    valid_until: datetime | Keep | None = KEEP


def _stored(bulletin: Bulletin, name: str) -> object:
    value = getattr(bulletin, name)
    if name == "priority":
        return Priority(value)
    if name == "source_level":
        return SourceLevel(value)
    return value


def changed_fields(bulletin: Bulletin, changes: BulletinChanges) -> dict[str, object]:
    """The fields whose new value differs from the stored one."""
    wanted = {
        f.name: getattr(changes, f.name)
        for f in fields(changes)
        if not isinstance(getattr(changes, f.name), Keep)
    }
    if isinstance(wanted.get("title"), str):
        wanted["title"] = str(wanted["title"]).strip()
    if isinstance(wanted.get("text"), str):
        wanted["text"] = clean_spoken_text(str(wanted["text"]))
    return {k: v for k, v in wanted.items() if v != _stored(bulletin, k)}


def _check(bulletin: Bulletin, changed: dict[str, object], settings: Settings) -> None:
    """Refuse (422/413) what cannot be stored, before anything is spoken or recorded."""
    if bulletin.origin != "text":
        spoken = sorted(set(changed) & set(_SPOKEN))
        if spoken:
            raise InvalidInput(
                f"an uploaded recording has no text to speak again ({', '.join(spoken)}); "
                "upload a new recording as a new bulletin",
                code="bulletin.recording_has_no_text",
            )
    if "title" in changed and not changed["title"]:
        raise InvalidInput("a bulletin needs a title", code="bulletin.title_missing", field="title")
    if "text" in changed:
        text = str(changed["text"])
        if not text:
            raise InvalidInput(
                "the bulletin text is empty", code="bulletin.text_empty", field="text"
            )
        if len(text) > settings.max_text_chars:
            raise TooLarge(
                f"the text has {len(text)} characters; the limit is {settings.max_text_chars}",
                code="bulletin.text_too_long",
                params={"count": len(text), "max": settings.max_text_chars},
                field="text",
            )
    if "tts_voice" in changed or "tts_speed_wpm" in changed:
        voice = changed.get("tts_voice", bulletin.tts_voice)
        speed = changed.get("tts_speed_wpm", bulletin.tts_speed_wpm)
        # A voice or speed this controller does not offer: refused before any speech.
        speak_options(
            settings,
            voice if isinstance(voice, str) else None,
            speed if isinstance(speed, int) else None,
        )
    start = changed.get("valid_from", bulletin.valid_from)
    end = changed.get("valid_until", bulletin.valid_until)
    if isinstance(start, datetime) and isinstance(end, datetime) and end <= start:
        raise InvalidInput(
            "the validity period ends before it starts",
            code="bulletin.validity_backwards",
            field="valid_until",
        )


def edit_bulletin(
    session: Session,
    service: BulletinService,
    settings: Settings,
    bulletin_id: str,
    changes: BulletinChanges,
    actor: Actor,
    now: datetime,
) -> Bulletin:
    """Apply ``changes`` to a draft or rejected bulletin (which returns to draft).

    Nothing changed: nothing recorded, the bulletin as it is. Refuses (409) a
    submitted, approved or archived bulletin; (403) one outside the actor's wards.
    """
    bulletin = get_bulletin(session, bulletin_id)
    require_visible(actor, bulletin, "editing")
    changed = changed_fields(bulletin, changes)
    if not changed:
        return bulletin
    _check(bulletin, changed, settings)
    # The workflow's checks (role, ward, state) and its trail, before the slow speech.
    record_edit(session, bulletin, actor, now, ", ".join(sorted(changed)))
    if set(changed) & set(_SPOKEN):
        text = str(changed.get("text", bulletin.text or ""))
        chime = bool(changed.get("chime", bulletin.chime))
        voice = changed.get("tts_voice", bulletin.tts_voice)
        speed = changed.get("tts_speed_wpm", bulletin.tts_speed_wpm)
        prepared, engine = service.speak_prepared(
            text,
            chime,
            voice if isinstance(voice, str) else None,
            speed if isinstance(speed, int) else None,
        )
        media = service.store_prepared(session, prepared, now)
        bulletin.media_sha256, bulletin.tts_engine = media.sha256, engine
    for name, value in changed.items():
        if name in ("priority", "source_level") and isinstance(value, Priority | SourceLevel):
            value = value.value
        setattr(bulletin, name, value)
    session.flush()
    session.refresh(bulletin)
    return bulletin
