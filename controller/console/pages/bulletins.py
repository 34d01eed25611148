"""The bulletin composer, for officers: write (spoken by TTS), upload or record; my bulletins.

A bulletin is prepared when it is saved (speech, loudness, chime), so the officer hears
the very clip devices will play on its page, *before* submitting it for approval. A
draft or a rejected bulletin can be changed (``bulletin_edit``); a submitted one is
withdrawn first. Everything goes through ``controller.domain.content`` as
``/api/v1/bulletins`` does; the workflow checks roles, wards and states again.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from controller.api.deps import SessionDep
from controller.audio.uploads import spool_upload
from controller.console.deps import FormDep, OfficerPageDep, StaffPageDep
from controller.console.editorial import (
    EDITABLE,
    STATES,
    local_instant,
    player_url,
    posted_file,
    refusal,
    ward_options,
)
from controller.console.page import FormValues, Page
from controller.db.models import Bulletin
from controller.domain.content import access, workflow
from controller.domain.content.bulletins import BulletinDraft
from controller.domain.content.voices import SPEED_MAX_WPM, SPEED_MIN_WPM, catalogue
from controller.domain.content.workflow import Status
from controller.domain.errors import DomainError
from wardcast_protocol.messages import Priority

router = APIRouter(prefix="/bulletins")

UploadDep = Annotated[UploadFile | None, Depends(posted_file)]
TITLE_MAX = 300


def _choices(page: Page, session: Session) -> dict[str, Any]:
    """What the composer offers: wards, priorities, voices and speeds."""
    settings = page.runtime.settings
    return {
        "ward_options": ward_options(page, session),
        "priority_options": [
            (p.value, page.t(f"priority.{p.value}")) for p in (Priority.NORMAL, Priority.PRIORITY)
        ],
        **voice_choices(page),
        "max_text": settings.max_text_chars,
        "max_upload_mib": settings.max_upload_bytes // (1024 * 1024),
    }


def voice_choices(page: Page) -> dict[str, Any]:
    """The voices (and accents) the engines offer here, and the speed range if any has one."""
    voices = catalogue(page.runtime.settings)
    options = []
    for v in voices:
        key = f"voice.{v.id}"
        options.append((v.id, page.t(key) if page.t.has(key) else f"{v.accent} · {v.engine}"))
    speeds = any(v.speed_min_wpm is not None for v in voices)
    return {
        "voice_options": options,
        "speed_range": (SPEED_MIN_WPM, SPEED_MAX_WPM) if speeds else None,
    }


def read_voice(
    page: Page, form: FormValues, errors: dict[str, str]
) -> tuple[str | None, int | None]:
    """The voice and speed asked for (None: the defaults), checked against what is offered."""
    voice = form.get("voice") or None
    if voice is not None and voice not in {v.id for v in catalogue(page.runtime.settings)}:
        errors["voice"] = page.t("bulletins.bad_voice")
    text = form.get("speed")
    if not text:
        return voice, None
    if not text.isdigit() or not SPEED_MIN_WPM <= int(text) <= SPEED_MAX_WPM:
        errors["speed"] = page.t("bulletins.bad_speed", low=SPEED_MIN_WPM, high=SPEED_MAX_WPM)
        return voice, None
    return voice, int(text)


# The composer's controls, named like the domain's fields of a bulletin.
COMPOSER_FIELDS = frozenset(
    {"title", "ward_code", "text", "voice", "speed", "file", "valid_from", "valid_until"}
)


def field_of(exc: DomainError, default: str) -> str:
    """The composer's field a domain refusal is about (its own field, else its message's)."""
    if exc.field is not None and exc.field in COMPOSER_FIELDS:
        return exc.field
    text = exc.message.lower()
    for word, name in (("speed", "speed"), ("voice", "voice"), ("title", "title")):
        if word in text:
            return name
    if "validity" in text:
        return "valid_until"
    return default


def _draft(page: Page, form: FormValues, errors: dict[str, str], tz: str) -> BulletinDraft | None:
    """The draft the form describes; None (with inline errors) when it cannot be."""
    assert page.actor is not None
    title = form.get("title")
    if not title:
        errors["title"] = page.t("bulletins.title_missing")
    elif len(title) > TITLE_MAX:
        errors["title"] = page.t("bulletins.title_long", max=TITLE_MAX)
    ward: str | None = None
    try:
        ward = access.draft_ward(page.actor, form.get("ward_code") or None)
    except DomainError as exc:
        errors["ward_code"] = refusal(page, exc)
    bad_time = page.t("editorial.bad_time")
    valid_from = local_instant(form, "valid_from", tz, errors, bad_time)
    valid_until = local_instant(form, "valid_until", tz, errors, bad_time)
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = page.t("bulletins.until_before_from")
    priority = form.get("priority") or Priority.NORMAL.value
    if priority not in (Priority.NORMAL.value, Priority.PRIORITY.value):
        errors["priority"] = page.t("bulletins.bad_priority")
    voice, speed = read_voice(page, form, errors)
    if errors:
        return None
    return BulletinDraft(
        title,
        Priority(priority),
        chime=form.get("chime") == "1",
        created_by=page.actor.name,
        ward_code=ward,
        valid_from=valid_from,
        valid_until=valid_until,
        tts_voice=voice,
        tts_speed_wpm=speed,
    )


def _store_upload(page: Page, upload: UploadFile, folder: Path) -> Path:
    """Copy the upload to ``folder``, refusing one above the size limit or empty."""
    return spool_upload(upload.file, folder / "upload", page.runtime.settings.max_upload_bytes)


def make_bulletin(
    page: Page,
    form: FormValues,
    upload: UploadFile | None,
    session: Session,
    errors: dict[str, str],
) -> Bulletin | None:
    """Create the bulletin the form describes (text spoken, or the file prepared)."""
    text = form.raw("text").strip()
    if upload is None and not text:
        errors["text"] = page.t("bulletins.nothing_to_say")
    draft = _draft(page, form, errors, page.tz)
    if draft is None or errors:
        return None
    service = page.runtime.bulletins
    field = "file" if upload is not None else "text"
    try:
        if upload is None:
            return service.create_from_text(session, draft, text, page.now)
        folder = Path(tempfile.mkdtemp(prefix="wardcast-console-"))
        try:
            path = _store_upload(page, upload, folder)
            made = service.create_from_upload(session, draft, path, upload.filename or "", page.now)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if text:
            made.text = text  # the script of a recording, for the approver to read along
        return made
    except DomainError as exc:
        session.rollback()
        errors[field_of(exc, field)] = refusal(page, exc)
        return None


@router.get("")
def my_bulletins(
    page: OfficerPageDep,
    session: SessionDep,
    state: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """The officer's own bulletins, newest first, with their states (and why rejected)."""
    assert page.actor is not None
    mine = [
        b
        for b in access.visible_bulletins(session, page.actor, limit=500)
        if b.created_by == page.actor.name and (state not in STATES or b.status == state)
    ]
    states = [("", page.t("state.all"))] + [(s, page.t(f"state.{s}")) for s in STATES]
    return page.render(
        "bulletins/list.html", bulletins=mine, states=states, state=state, editable=EDITABLE
    )


@router.get("/new")
def new_bulletin(page: OfficerPageDep, session: SessionDep) -> Response:
    """The composer: text to speak, a file to upload, or a recording made here."""
    return page.render("bulletins/new.html", **_choices(page, session))


@router.post("/new")
def new_bulletin_submit(
    page: OfficerPageDep, form: FormDep, upload: UploadDep, session: SessionDep
) -> Response:
    """Prepare the bulletin as a draft and show it, to be heard before it is submitted."""
    errors: dict[str, str] = {}
    made = make_bulletin(page, form, upload, session, errors)
    if made is None:
        if upload is not None and "file" not in errors:
            errors["file"] = page.t("bulletins.file_again")
        return page.render(
            "bulletins/new.html", status=422, form=form, errors=errors, **_choices(page, session)
        )
    return page.redirect(f"/bulletins/{made.id}", done="done.bulletin_prepared")


def _detail(page: Page, session: Session, bulletin: Bulletin, **extra: Any) -> dict[str, Any]:
    return {
        "bulletin": bulletin,
        "audio_url": player_url(page, bulletin),
        "history": workflow.history(session, bulletin.id),
        "editable": bulletin.status in EDITABLE,
        **extra,
    }


@router.get("/{bulletin_id}")
# A step posted after the session expired comes back to the bulletin's page.
@router.get("/{bulletin_id}/submit")
@router.get("/{bulletin_id}/withdraw")
def bulletin_page(bulletin_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """One bulletin: its clip, text, state, rejection reason and history."""
    assert page.actor is not None
    bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
    return page.render("bulletins/detail.html", **_detail(page, session, bulletin))


def _step(bulletin_id: str, to: Status, page: Page, session: Session, done: str) -> Response:
    """One workflow step from the bulletin's page; a refusal is shown on that page."""
    assert page.actor is not None
    bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
    try:
        workflow.transition(session, bulletin, to, page.actor, page.now)
    except DomainError as exc:
        session.rollback()
        bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
        errors = {"form": refusal(page, exc)}
        context = _detail(page, session, bulletin, errors=errors)
        return page.render("bulletins/detail.html", status=exc.status, **context)
    return page.redirect(f"/bulletins/{bulletin_id}", done=done)


@router.post("/{bulletin_id}/submit")
def submit(bulletin_id: str, page: OfficerPageDep, form: FormDep, session: SessionDep) -> Response:
    """Send a draft (or a revised rejected bulletin) to the ward's approvers."""
    return _step(bulletin_id, Status.SUBMITTED, page, session, "done.bulletin_submitted")


@router.post("/{bulletin_id}/withdraw")
def withdraw(
    bulletin_id: str, page: OfficerPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Take a submitted bulletin back to draft, to change it."""
    return _step(bulletin_id, Status.DRAFT, page, session, "done.bulletin_withdrawn")
