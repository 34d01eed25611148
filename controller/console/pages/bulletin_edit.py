"""Editing a draft or a rejected bulletin (sửa bản tin), for officers.

Through ``controller.domain.content.editing.edit_bulletin``, as ``PATCH
/api/v1/bulletins/{id}`` does: a new text, voice, speed or chime is spoken and prepared
again before anything is stored; a rejected bulletin returns to draft, to be heard and
submitted again. A recording keeps its audio: only its title, priority and validity
change here (a new recording is a new bulletin). A submitted bulletin is withdrawn
first; the page says so rather than offering a form the workflow would refuse.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import FormDep, OfficerPageDep
from controller.console.editorial import EDITABLE, local_instant, player_url, refusal
from controller.console.page import FormValues, Page
from controller.console.pages.bulletins import TITLE_MAX, field_of, read_voice, voice_choices
from controller.console.timefmt import format_local
from controller.db.models import Bulletin
from controller.domain.content import access
from controller.domain.content.editing import KEEP, BulletinChanges, edit_bulletin
from controller.domain.errors import DomainError
from wardcast_protocol.messages import Priority

router = APIRouter(prefix="/bulletins")


def _values(page: Page, bulletin: Bulletin) -> FormValues:
    """The bulletin's fields as the form shows them (times in the page's zone)."""
    return FormValues(
        {
            "title": [bulletin.title],
            "text": [bulletin.text or ""],
            "voice": [bulletin.tts_voice or ""],
            "speed": [str(bulletin.tts_speed_wpm) if bulletin.tts_speed_wpm else ""],
            "chime": ["1"] if bulletin.chime else [],
            "priority": [bulletin.priority],
            "valid_from": [format_local(bulletin.valid_from, page.tz, "iso")]
            if bulletin.valid_from
            else [],
            "valid_until": [format_local(bulletin.valid_until, page.tz, "iso")]
            if bulletin.valid_until
            else [],
        }
    )


def _context(page: Page, bulletin: Bulletin) -> dict[str, Any]:
    return {
        "bulletin": bulletin,
        "audio_url": player_url(page, bulletin),
        "editable": bulletin.status in EDITABLE,
        "spoken": bulletin.origin == "text",
        "priority_options": [
            (p.value, page.t(f"priority.{p.value}")) for p in (Priority.NORMAL, Priority.PRIORITY)
        ],
        "max_text": page.runtime.settings.max_text_chars,
        **voice_choices(page),
    }


@router.get("/{bulletin_id}/edit")
def edit_form(bulletin_id: str, page: OfficerPageDep, session: SessionDep) -> Response:
    """The bulletin's fields, ready to change (with the rejection reason, if rejected)."""
    assert page.actor is not None
    bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
    return page.render(
        "bulletins/edit.html", form=page.kept or _values(page, bulletin), **_context(page, bulletin)
    )


def _changes(page: Page, form: FormValues, spoken: bool, errors: dict[str, str]) -> BulletinChanges:
    """What the form asks to change; the domain leaves equal values alone."""
    title = form.get("title")
    if not title:
        errors["title"] = page.t("bulletins.title_missing")
    elif len(title) > TITLE_MAX:
        errors["title"] = page.t("bulletins.title_long", max=TITLE_MAX)
    bad_time = page.t("editorial.bad_time")
    valid_from = local_instant(form, "valid_from", page.tz, errors, bad_time)
    valid_until = local_instant(form, "valid_until", page.tz, errors, bad_time)
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = page.t("bulletins.until_before_from")
    priority = form.get("priority")
    if priority not in (Priority.NORMAL.value, Priority.PRIORITY.value):
        errors["priority"] = page.t("bulletins.bad_priority")
    if not spoken:
        return BulletinChanges(
            title=title,
            priority=Priority(priority) if "priority" not in errors else KEEP,
            valid_from=valid_from,
            valid_until=valid_until,
        )
    text = form.raw("text").strip()
    if not text:
        errors["text"] = page.t("bulletins.text_missing")
    voice, speed = read_voice(page, form, errors)
    return BulletinChanges(
        title=title,
        text=text,
        tts_voice=voice,
        tts_speed_wpm=speed,
        chime=form.get("chime") == "1",
        priority=Priority(priority) if "priority" not in errors else KEEP,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _save(
    page: Page, form: FormValues, session: Session, bulletin: Bulletin, errors: dict[str, str]
) -> None:
    assert page.actor is not None
    changes = _changes(page, form, bulletin.origin == "text", errors)
    if errors:
        return
    try:
        edit_bulletin(
            session,
            page.runtime.bulletins,
            page.runtime.settings,
            bulletin.id,
            changes,
            page.actor,
            page.now,
        )
    except DomainError as exc:
        session.rollback()
        # A refusal of the state (409: submitted, approved) is about the whole bulletin.
        field = (
            "form"
            if exc.status == 409
            else field_of(exc, "text" if bulletin.origin == "text" else "form")
        )
        errors[field] = refusal(page, exc)


@router.post("/{bulletin_id}/edit")
def edit_submit(
    bulletin_id: str, page: OfficerPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Save the changes (spoken and prepared again if the words changed), back to draft."""
    assert page.actor is not None
    bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
    errors: dict[str, str] = {}
    _save(page, form, session, bulletin, errors)
    if errors:
        bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
        context = _context(page, bulletin)
        status = 409 if "form" in errors and not context["editable"] else 422
        return page.render(
            "bulletins/edit.html", status=status, form=form, errors=errors, **context
        )
    return page.redirect(f"/bulletins/{bulletin_id}", done="done.bulletin_saved")
