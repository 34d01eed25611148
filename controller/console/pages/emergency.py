"""Emergency (khẩn cấp): choose where, say what, review, confirm — then follow it live.

Two steps, because a wrong ward at 5 a.m. wakes the wrong people: ``POST /emergency``
checks the form and shows the review screen (how many loudspeakers, where, what they
will say); only ``POST /emergency/confirm`` sends. The review carries the values in
hidden fields and checks them again: nothing is sent that was not reviewed.

A spoken text goes through ``EmergencyService.receive`` (CAP-shaped: an Alert; its
Update and Cancel follow on the progress page, :mod:`.emergency_live`). A prepared clip
(an approved bulletin) is broadcast now with emergency priority through
``BroadcastService.schedule``; its progress and Cancel are the broadcast's page.

Sending is the ward leader's (approver's) act, as in the domain: an officer sees the
form and the list but the send routes answer the 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import FormDep, StaffPageDep, page_for
from controller.console.i18n import refusal_text
from controller.console.page import FormValues, Page
from controller.domain.actors import Role
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.broadcasts.targets import TargetSpec, resolve_targets
from controller.domain.content.access import visible_bulletins
from controller.domain.devices.service import Placed
from controller.domain.emergencies.access import visible_emergencies
from controller.domain.emergencies.service import EmergencyMessage
from controller.domain.errors import DomainError, InvalidInput, NotFound
from controller.domain.places.access import visible_wards
from controller.domain.places.service import groups_of, zones_of
from wardcast_protocol.messages import Priority

router = APIRouter(prefix="/emergency")

SenderPageDep = Annotated[Page, page_for(Role.APPROVER)]

TEXT_MAX = 5000
HEADLINE_MAX = 200
SOURCES = ("text", "clip")


@dataclass(frozen=True)
class Choice:
    """The form as understood: where, what, and (for an update) what it replaces."""

    ward: str
    zones: tuple[str, ...]
    groups: tuple[str, ...]
    source: str
    headline: str
    text: str
    clip: str
    drill: bool
    references: tuple[str, ...]
    devices: tuple[str, ...]  # an update names the devices its alert reached

    @classmethod
    def of(cls, form: FormValues) -> Choice:
        """Read the posted values (unchecked)."""
        source = form.get("source", "text")
        return cls(
            ward=form.get("ward"),
            zones=tuple(form.getlist("zones")),
            groups=tuple(form.getlist("groups")),
            source=source if source in SOURCES else "text",
            headline=" ".join(form.get("headline").split()),
            text=form.get("text"),
            clip=form.get("clip"),
            drill=form.get("drill") == "yes",
            references=tuple(form.getlist("references")),
            devices=tuple(form.getlist("devices")),
        )


def ward_options(page: Page, session: Session) -> list[tuple[str, str]]:
    """The actor's wards as (code, "name (code)")."""
    assert page.actor is not None
    return [(w.code, f"{w.name} ({w.code})") for w in visible_wards(session, page.actor)]


def clips(page: Page, session: Session) -> list[tuple[str, str]]:
    """Approved bulletins the actor may air, as (id, title)."""
    assert page.actor is not None
    rows = visible_bulletins(session, page.actor, limit=200)
    return [(b.id, b.title) for b in rows if b.status == "approved"]


def form_context(page: Page, session: Session, ward: str) -> dict[str, Any]:
    """What the form shows: wards, the chosen ward's zones and groups, clips, past alerts."""
    assert page.actor is not None
    wards = ward_options(page, session)
    chosen = ward if ward in {code for code, _ in wards} else (wards[0][0] if wards else "")
    return {
        "wards": wards,
        "ward": chosen,
        "zones": [(z.code, z.name) for z in zones_of(session, chosen)] if chosen else [],
        "groups": [(g.code, g.name) for g in groups_of(session, chosen)] if chosen else [],
        "clips": clips(page, session),
        "recent": visible_emergencies(session, page.actor, limit=20),
        "may_send": page.actor.has(Role.APPROVER),
    }


def check(page: Page, session: Session, choice: Choice) -> tuple[list[Placed], dict[str, str]]:
    """The devices the choice reaches, and what is wrong with it (field -> message)."""
    assert page.actor is not None
    errors: dict[str, str] = {}
    devices: list[Placed] = []
    if choice.devices:
        # An update: the same loudspeakers as the alert it replaces (the domain
        # refuses any outside the actor's wards).
        spec = TargetSpec(device_ids=choice.devices)
    else:
        spec = TargetSpec(choice.ward, choice.zones, choice.groups)
    if not choice.devices and choice.ward not in {c for c, _ in ward_options(page, session)}:
        errors["ward"] = page.t("emergency.ward_missing")
    else:
        try:
            devices = resolve_targets(session, spec, page.actor)
        except (InvalidInput, NotFound) as exc:
            reason = refusal_text(page.t, exc)  # in the reader's language when it has a code
            errors["zones"] = page.t("emergency.no_devices", reason=reason)
    if len(choice.headline) > HEADLINE_MAX:
        errors["headline"] = page.t("emergency.headline_long", max=HEADLINE_MAX)
    if choice.source == "text":
        if not choice.text:
            errors["text"] = page.t("emergency.text_missing")
        elif len(choice.text) > TEXT_MAX:
            errors["text"] = page.t("emergency.text_long", max=TEXT_MAX)
    elif choice.clip not in {cid for cid, _ in clips(page, session)}:
        errors["clip"] = page.t("emergency.clip_missing")
    return devices, errors


def _form(page: Page, session: SessionDep, form: FormValues, errors: dict[str, str]) -> Response:
    return page.render(
        "emergency/form.html",
        status=422 if errors else 200,
        form=form,
        errors=errors,
        **form_context(page, session, form.get("ward")),
    )


@router.get("")
def emergency_form(page: StaffPageDep, session: SessionDep) -> Response:
    """The form (ward chosen by ``?ward=``), and the latest emergencies of the actor's wards."""
    ward = page.request.query_params.get("ward", "")
    form = page.kept or FormValues({"ward": [ward]} if ward else {})
    return page.render("emergency/form.html", form=form, **form_context(page, session, ward))


@router.post("")
def emergency_review(page: SenderPageDep, form: FormDep, session: SessionDep) -> Response:
    """Step one: check the form; show what would happen (nothing is sent yet)."""
    choice = Choice.of(form)
    devices, errors = check(page, session, choice)
    if errors:
        return _form(page, session, form, errors)
    return review(page, session, form, choice, devices)


def review(
    page: Page, session: Session, form: FormValues, choice: Choice, devices: list[Placed]
) -> Response:
    """The review screen: the values again, in words, with Confirm and Back."""
    context = form_context(page, session, choice.ward)
    clip_title = dict(context["clips"]).get(choice.clip, "")
    return page.render(
        "emergency/review.html",
        form=form,
        choice=choice,
        devices=devices,
        ward_name=dict(context["wards"]).get(choice.ward, choice.ward),
        zone_names=[name for code, name in context["zones"] if code in choice.zones],
        group_names=[name for code, name in context["groups"] if code in choice.groups],
        clip_title=clip_title,
    )


@router.post("/confirm")
def emergency_confirm(page: SenderPageDep, form: FormDep, session: SessionDep) -> Response:
    """Step two: send (or go back to the form with everything kept)."""
    assert page.actor is not None
    choice = Choice.of(form)
    devices, errors = check(page, session, choice)
    if errors or form.get("action") == "back":
        return _form(page, session, form, errors)
    try:
        if choice.source == "clip":
            broadcast = page.runtime.broadcasts.schedule(
                BroadcastRequest(
                    choice.clip,
                    [],
                    None,
                    Priority.EMERGENCY,
                    page.actor.name,
                    target=TargetSpec(choice.ward, choice.zones, choice.groups),
                )
            )
            return page.redirect(f"/broadcasts/{broadcast.id}", done="done.emergency_sent")
        record, _new = page.runtime.emergencies.receive(
            message(page, choice, [d.id for d in devices], page.now), page.actor
        )
    except DomainError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        return _form(page, session, form, {"form": refusal_text(page.t, exc, "emergency.refused")})
    return page.redirect(f"/emergency/{record.id}", done="done.emergency_sent")


def message(page: Page, choice: Choice, device_ids: list[str], now: datetime) -> EmergencyMessage:
    """The CAP-shaped message of a checked choice (an Update when it references others)."""
    assert page.actor is not None
    named_places = choice.zones or choice.groups or choice.devices
    return EmergencyMessage(
        identifier=f"console-{now:%Y%m%dT%H%M%S}-{uuid4().hex[:8]}",
        sender=page.actor.name,
        sent=now,
        msg_type="Update" if choice.references else "Alert",
        status="Exercise" if choice.drill else "Actual",
        references=choice.references,
        headline=choice.headline,
        description=choice.text,
        ward_code=None if choice.devices else choice.ward,
        # Groups are not a CAP area: the devices they resolve to are named instead.
        device_ids=tuple(device_ids) if named_places else (),
    )
