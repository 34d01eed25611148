"""Devices, for administrators: enrol (the one-time code, shown once), new code, revoke.

Through ``EnrolmentService``, as ``/api/v1/devices`` does. A code page is rendered in
the answer to the POST (never a redirect: the code is not kept, only its hash), and
is marked no-store like every console page.

The list is filtered and paged as the readers' is (``device_selection``). Each row's
placement form lists every ward and group only while they are few: a province's
(100 wards of 10 groups) repeated on 2,000 rows made this page 163 MB and 6.5 s. Past
``INLINE_PLACEMENTS`` a row offers its own ward's groups, and a page of its own
(``/admin/devices/{id}/placement``) offers every ward.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from controller.api.deps import SessionDep
from controller.console.deps import AdminPageDep, FormDep
from controller.console.i18n import refusal_text
from controller.console.pages.devices import device_selection
from controller.domain.devices.enrolment import IssuedCode
from controller.domain.devices.service import get_device
from controller.domain.errors import Conflict, InvalidInput
from controller.domain.places import service as places
from controller.domain.places.service import groups_of, list_wards
from wardcast_protocol.topics import is_valid_device_id

router = APIRouter(prefix="/admin/devices")

# How many placement choices a row of the list may repeat (see the module docstring).
INLINE_PLACEMENTS = 60


def placements(session: SessionDep) -> list[tuple[str, str]]:
    """Where a device may be placed: a ward, or a residential group in it ("ward|group")."""
    options = [("", "—")]
    for ward in list_wards(session):
        options.append((ward.code, f"{ward.name} ({ward.code})"))
        for group in groups_of(session, ward.code):
            options.append((f"{ward.code}|{group.code}", f"{ward.name} / {group.name}"))
    return options


def row_placements(options: list[tuple[str, str]], ward_code: str | None) -> list[tuple[str, str]]:
    """A row's placement choices: all of them while few, else none (``—``), its ward's
    and its groups' (the others are on the device's placement page)."""
    if len(options) <= INLINE_PLACEMENTS:
        return options
    mine = (ward_code, f"{ward_code}|") if ward_code else ()
    return [o for o in options if not o[0] or (mine and o[0].startswith(mine))]


def _list_page(page: AdminPageDep, session: SessionDep, **extra: Any) -> Response:
    context, status = device_selection(page, session, "/admin/devices")
    options = placements(session)
    context.update(
        placements=lambda ward_code: row_placements(options, ward_code),
        placements_trimmed=len(options) > INLINE_PLACEMENTS,
    )
    context.update(extra)  # a refused enrolment's form and errors
    return page.render("admin/devices.html", **{"status": status, **context})


def _code_page(page: AdminPageDep, issued: IssuedCode) -> Response:
    return page.render("admin/device_code.html", issued=issued)


@router.get("")
def device_list(page: AdminPageDep, session: SessionDep) -> Response:
    """Every device, its state and enrolment, and the form to enrol a new one."""
    return _list_page(page, session)


@router.post("")
def enrol_submit(page: AdminPageDep, form: FormDep, session: SessionDep) -> Response:
    """Create a device and show its one-time enrolment code."""
    assert page.actor is not None
    device_id, name = form.get("device_id"), form.get("name")
    errors: dict[str, str] = {}
    if not is_valid_device_id(device_id):
        errors["device_id"] = page.t("devices.id_rule")
    if not errors:
        try:
            issued, _created = page.runtime.enrolment.create_device(
                page.actor, device_id, name, None
            )
        except (InvalidInput, Conflict) as exc:
            errors["device_id"] = refusal_text(page.t, exc, "devices.refused")
        else:
            if issued.code is not None:
                return _code_page(page, issued)
            errors["device_id"] = page.t("devices.exists")
    return _list_page(page, session, status=422, form=form, errors=errors)


@router.get("/{device_id}/placement")
def place_page(device_id: str, page: AdminPageDep, session: SessionDep) -> Response:
    """Every ward and group a device may be placed in (the list's rows offer only their
    own ward's when there are many)."""
    device = get_device(session, device_id)
    current = (device.ward_code or "") + (f"|{device.group_code}" if device.group_code else "")
    return page.render(
        "admin/device_place.html",
        device=device,
        current=current,
        placements=placements(session),
    )


@router.post("/{device_id}/placement")
def place_submit(device_id: str, page: AdminPageDep, form: FormDep) -> Response:
    """Say which ward and residential group a device serves (as PUT …/placement does:
    its plan follows at once)."""
    ward, _, group = form.get("placement").partition("|")
    page.runtime.place_changes.apply(
        lambda s: places.place_device(s, device_id, ward or None, group or None),
        devices=[device_id],
    )
    return page.redirect("/admin/devices", done="done.device_placed")


@router.post("/{device_id}/code")
def new_code(device_id: str, page: AdminPageDep, form: FormDep) -> Response:
    """A new one-time code (any earlier unused one dies): to enrol the device again."""
    assert page.actor is not None
    return _code_page(page, page.runtime.enrolment.issue_code(page.actor, device_id))


@router.get("/{device_id}/revoke")
def revoke_confirm(device_id: str, page: AdminPageDep) -> Response:
    """Ask once more: revoking cuts the device off until it is enrolled again."""
    return page.render("admin/device_revoke.html", device_id=device_id)


@router.post("/{device_id}/revoke")
def revoke_submit(device_id: str, page: AdminPageDep, form: FormDep) -> Response:
    """Revoke: broker login gone, session dropped, messages refused; evidence stays."""
    assert page.actor is not None
    page.runtime.enrolment.revoke(page.actor, device_id)
    return page.redirect("/admin/devices", done="done.device_revoked")
