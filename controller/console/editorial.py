"""What the bulletin, approval and schedule pages share: players, ward choices, refusals.

A page never builds a media link by hand: ``player_url`` asks the controller's media
signer, as the API does, but without the public base URL, so the browser fetches the
clip from the origin it is on (a phone on the ward's LAN address, a laptop on a name).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from controller.console.i18n import refusal_text
from controller.console.page import FormValues, Page
from controller.console.timefmt import from_local
from controller.db.models import Bulletin
from controller.domain.errors import DomainError
from controller.domain.places.access import visible_wards

# The editorial states, in the order a bulletin moves through them.
STATES = ("draft", "submitted", "approved", "rejected", "archived")
# A draft or a rejected bulletin may still be changed by its officer.
EDITABLE = frozenset({"draft", "rejected"})


def player_url(page: Page, bulletin: Bulletin) -> str:
    """A signed, time-limited link to the bulletin's prepared clip, relative to this site."""
    urls = replace(page.runtime.media_signer.at(page.now), base_url="")
    return urls.url(bulletin.media.sha256, bulletin.media.extension)


def ward_options(page: Page, session: Session) -> list[tuple[str, str]]:
    """The wards the actor serves, as (code, "name (code)") choices."""
    assert page.actor is not None
    return [(w.code, f"{w.name} ({w.code})") for w in visible_wards(session, page.actor)]


def ward_zones(page: Page, session: Session) -> dict[str, str]:
    """Each visible ward's time zone, to show a row's times in its own ward's clock."""
    assert page.actor is not None
    return {w.code: w.timezone for w in visible_wards(session, page.actor)}


def local_instant(
    form: FormValues, name: str, tz: str, errors: dict[str, str], message: str
) -> datetime | None:
    """A ``datetime-local`` field as UTC; None when empty; an inline error when unreadable."""
    text = form.get(name)
    if not text:
        return None
    try:
        return from_local(text, tz)
    except ValueError:
        errors[name] = message
        return None


def refusal(page: Page, exc: DomainError) -> str:
    """A domain refusal in the reader's language (its code's sentence), else its reason quoted."""
    return refusal_text(page.t, exc, "editorial.refused")


async def posted_file(request: Request) -> UploadFile | None:
    """The uploaded ``file`` of a multipart form (a recording or a chosen file), if any.

    The form was already read (and its CSRF token checked) by ``FormDep``: Starlette
    keeps the parsed form on the request, so this reads nothing twice.
    """
    form = await request.form()
    found = form.get("file")
    if isinstance(found, str) or found is None or not found.filename:
        return None
    return found
