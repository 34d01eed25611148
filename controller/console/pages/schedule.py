"""The schedule: a ward's week, queueing a bulletin into a session, one-off broadcasts.

Officers queue approved bulletins into the programme's sessions for a range of days
(``ProgrammeService.queue``) and schedule a one-off broadcast to the whole ward, some
of its zones or residential groups at a time in the ward's own zone
(``BroadcastService.schedule``); officers and approvers cancel one
(``BroadcastService.cancel``). Every refusal is shown beside the field it is about.
The forms of the page name their fields apart (``q_*``, ``b_*``) so one page holds them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import FormDep, OfficerPageDep, StaffPageDep
from controller.console.editorial import local_instant, refusal, ward_options, ward_zones
from controller.console.page import FormValues, Page
from controller.console.refusals import refusal_field
from controller.console.timefmt import to_local
from controller.console.week import build_week, monday_of
from controller.db.models import Bulletin
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.broadcasts.targets import TargetSpec
from controller.domain.content import access
from controller.domain.content.workflow import Status
from controller.domain.errors import DomainError
from controller.domain.places.service import groups_of, zones_of

router = APIRouter(prefix="/schedule")

TARGET_KINDS = ("ward", "zones", "groups")
# The queue form's controls for the domain's fields of a queue entry.
QUEUE_FIELDS = {
    "session": "q_session",
    "bulletin": "q_bulletin",
    "first": "q_first",
    "last": "q_last",
}


def _ward(page: Page, session: Session, asked: str) -> tuple[str, str]:
    """The ward the page is about (asked for, else the actor's first) and its zone."""
    zones = ward_zones(page, session)
    if not zones:
        return "", page.tz
    code = asked if asked in zones else next(iter(zones))
    return code, zones[code]


def _approved(page: Page, session: Session, ward: str) -> list[Bulletin]:
    """Approved bulletins the ward may air: its own and shared ones."""
    assert page.actor is not None
    found = access.visible_bulletins(session, page.actor, limit=500)
    return [b for b in found if b.status == Status.APPROVED and b.ward_code in (ward, None)]


def _context(page: Page, session: Session, ward: str, tz: str, week: date) -> dict[str, Any]:
    """Everything the schedule page shows for one ward and week."""
    assert page.actor is not None
    built = build_week(session, page.actor, ward, tz, week, page.now)
    sessions = built.programme.sessions if built.programme else []
    return {
        "ward": ward,
        "ward_tz": tz,
        "ward_options": ward_options(page, session),
        "week": built,
        "today": to_local(page.now, tz).date(),
        "previous": (week - timedelta(days=7)).isoformat(),
        "next": (week + timedelta(days=7)).isoformat(),
        "session_options": [(s.code, f"{s.name} ({s.start.strftime('%H:%M')})") for s in sessions],
        "bulletin_options": [(b.id, b.title) for b in _approved(page, session, ward)],
        "zone_options": [(z.code, z.name) for z in zones_of(session, ward)],
        "group_options": [(g.code, g.name) for g in groups_of(session, ward)],
        "target_options": [(k, page.t(f"schedule.target_{k}")) for k in TARGET_KINDS],
        "fix": "",
    }


def _week_of(page: Page, tz: str, asked: str) -> date:
    """The Monday of the week asked for (``YYYY-MM-DD``), else of today in the ward."""
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        day = to_local(page.now, tz).date()
    return monday_of(day)


@router.get("")
# A form posted after the session expired comes back to its week, as typed.
@router.get("/queue")
@router.get("/broadcast")
@router.get("/queue/{entry_id}/remove")
@router.get("/broadcasts/{broadcast_id}/cancel")
def schedule(
    page: StaffPageDep,
    session: SessionDep,
    ward: Annotated[str, Query(max_length=16)] = "",
    week: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The ward's week: sessions and rundowns, queued bulletins, conflicts, one-offs."""
    if page.kept is not None:
        ward, week = ward or page.kept.get("ward"), week or page.kept.get("week")
    code, tz = _ward(page, session, ward)
    if not code:
        return page.render("schedule/none.html")
    first = _week_of(page, tz, week)
    defaults = FormValues(
        {"b_where": ["ward"], "q_first": [to_local(page.now, tz).date().isoformat()]}
    )
    return page.render(
        "schedule/week.html", form=page.kept or defaults, **_context(page, session, code, tz, first)
    )


def _again(
    page: Page, session: Session, form: FormValues, errors: dict[str, str], status: int = 422
) -> Response:
    """The page again, with what was typed and the refusals beside their fields."""
    code, tz = _ward(page, session, form.get("ward"))
    first = _week_of(page, tz, form.get("week"))
    context = _context(page, session, code, tz, first)
    # The forms sit below a long week: a summary at the top leads to the one to correct.
    names = "".join(errors)
    context["fix"] = "broadcast-form" if "b_" in names else "queue-form" if "q_" in names else ""
    return page.render("schedule/week.html", status=status, form=form, errors=errors, **context)


def _back(form: FormValues, done: str, page: Page) -> Response:
    """To the week the form was posted from, with a confirmation."""
    return page.redirect(f"/schedule?ward={form.get('ward')}&week={form.get('week')}", done=done)


def _day(form: FormValues, name: str, errors: dict[str, str], page: Page) -> date | None:
    try:
        return date.fromisoformat(form.get(name))
    except ValueError:
        errors[name] = page.t("schedule.bad_date")
        return None


@router.post("/queue")
def queue_bulletin(page: OfficerPageDep, form: FormDep, session: SessionDep) -> Response:
    """Queue an approved bulletin into a session for a range of the ward's days."""
    assert page.actor is not None
    errors: dict[str, str] = {}
    code, tz = _ward(page, session, form.get("ward"))
    if not form.get("q_session"):
        errors["q_session"] = page.t("schedule.session_missing")
    if not form.get("q_bulletin"):
        errors["q_bulletin"] = page.t("schedule.bulletin_missing")
    first, last = _day(form, "q_first", errors, page), _day(form, "q_last", errors, page)
    today = to_local(page.now, tz).date()
    if first is not None and first < today:
        errors["q_first"] = page.t("schedule.past_day", today=today.strftime("%d/%m/%Y"))
    if first is not None and last is not None and last < first:
        errors["q_last"] = page.t("schedule.last_before_first")
    if not errors and first is not None and last is not None:
        try:
            page.runtime.programmes.queue(
                code, form.get("q_session"), form.get("q_bulletin"), first, last, page.actor
            )
        except DomainError as exc:
            guess = "q_bulletin" if "bulletin" in exc.message else "q_session"
            errors[refusal_field(exc, QUEUE_FIELDS, guess)] = refusal(page, exc)
    if errors:
        return _again(page, session, form, errors)
    return _back(form, "done.queued", page)


@router.post("/queue/{entry_id}/remove")
def unqueue(entry_id: str, page: OfficerPageDep, form: FormDep, session: SessionDep) -> Response:
    """Take a bulletin out of a session's queue."""
    assert page.actor is not None
    code, _ = _ward(page, session, form.get("ward"))
    try:
        page.runtime.programmes.unqueue(code, entry_id, page.actor)
    except DomainError as exc:
        return _again(page, session, form, {"queue": refusal(page, exc)}, exc.status)
    return _back(form, "done.unqueued", page)


def _target(form: FormValues, ward: str, errors: dict[str, str], page: Page) -> TargetSpec:
    kind = form.get("b_where")
    if kind == "zones":
        if not form.getlist("b_zones"):
            errors["b_zones"] = page.t("schedule.zones_missing")
        return TargetSpec(ward_code=ward, zones=tuple(form.getlist("b_zones")))
    if kind == "groups":
        if not form.getlist("b_groups"):
            errors["b_groups"] = page.t("schedule.groups_missing")
        return TargetSpec(ward_code=ward, group_codes=tuple(form.getlist("b_groups")))
    if kind != "ward":
        errors["b_where"] = page.t("schedule.where_missing")
    return TargetSpec(ward_code=ward)


@router.post("/broadcast")
def schedule_broadcast(page: OfficerPageDep, form: FormDep, session: SessionDep) -> Response:
    """Schedule a one-off broadcast of an approved bulletin at a time of the ward's clock."""
    assert page.actor is not None
    errors: dict[str, str] = {}
    code, tz = _ward(page, session, form.get("ward"))
    if not form.get("b_bulletin"):
        errors["b_bulletin"] = page.t("schedule.bulletin_missing")
    target = _target(form, code, errors, page)
    start = local_instant(form, "b_start", tz, errors, page.t("editorial.bad_time"))
    if start is None and "b_start" not in errors:
        errors["b_start"] = page.t("schedule.start_missing")
    elif start is not None and start < page.now:
        errors["b_start"] = page.t("schedule.past_start", now=page.when(page.now, tz=tz))
    if not errors:
        request = BroadcastRequest(
            form.get("b_bulletin"), (), start, created_by=page.actor.name, target=target
        )
        try:
            page.runtime.broadcasts.schedule(request, page.actor)
        except DomainError as exc:
            errors[_field_of(exc, form)] = refusal(page, exc)
    if errors:
        return _again(page, session, form, errors)
    return _back(form, "done.broadcast_scheduled", page)


def _field_of(exc: DomainError, form: FormValues) -> str:
    """Which field of the broadcast form a domain refusal is about."""
    named = {"start": "b_start", "bulletin": "b_bulletin"}.get(exc.field or "")
    if named is not None:  # the domain says which
        return named
    text = exc.message.lower()
    if "time" in text or "past" in text or "expired" in text or "valid only" in text:
        return "b_start"
    if "zone" in text or "group" in text or "device" in text or "ward" in text:
        kind = form.get("b_where")
        return {"zones": "b_zones", "groups": "b_groups"}.get(kind, "b_where")
    return "b_bulletin"


@router.post("/broadcasts/{broadcast_id}/cancel")
def cancel_broadcast(
    broadcast_id: str, page: StaffPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Cancel a one-off broadcast not yet over (devices drop it, or stop it if sounding)."""
    assert page.actor is not None
    try:
        page.runtime.broadcasts.cancel(broadcast_id, page.actor, form.get("reason"))
    except DomainError as exc:
        return _again(page, session, form, {"cancel": refusal(page, exc)}, exc.status)
    return _back(form, "done.oneoff_cancelled", page)
