"""Devices, for administrators: enrol (the one-time code, shown once), new code, revoke.

Through ``EnrolmentService``, as ``/api/v1/devices`` does. A code page is rendered in
the answer to the POST (never a redirect: the code is not kept, only its hash), and
is marked no-store like every console page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from controller.api.deps import SessionDep
from controller.console.deps import AdminPageDep, FormDep
from controller.console.i18n import refusal_text
from controller.console.pages.devices import statuses
from controller.domain.devices.enrolment import IssuedCode
from controller.domain.errors import Conflict, InvalidInput
from controller.domain.places import service as places
from controller.domain.places.service import groups_of, list_wards
from wardcast_protocol.topics import is_valid_device_id

router = APIRouter(prefix="/admin/devices")


def placements(session: SessionDep) -> list[tuple[str, str]]:
    """Where a device may be placed: a ward, or a residential group in it ("ward|group")."""
    options = [("", "—")]
    for ward in list_wards(session):
        options.append((ward.code, f"{ward.name} ({ward.code})"))
        for group in groups_of(session, ward.code):
            options.append((f"{ward.code}|{group.code}", f"{ward.name} / {group.name}"))
    return options


def _list_page(page: AdminPageDep, session: SessionDep, **extra: Any) -> Response:
    return page.render(
        "admin/devices.html",
        devices=statuses(page, session),
        placements=placements(session),
        **extra,
    )


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
