"""Accounts, for administrators: list, create (roles and wards), change, deactivate.

Everything goes through ``controller.domain.accounts.users``, as ``/api/v1/users`` does:
the domain refuses the last administrator's demotion, a taken name, a weak password.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import AdminPageDep, FormDep
from controller.console.i18n import refusal_text
from controller.console.page import FormValues, Page
from controller.domain.accounts import users
from controller.domain.accounts.passwords import MIN_LENGTH
from controller.domain.accounts.users import NewUser, Scope, UserChanges
from controller.domain.actors import Role
from controller.domain.errors import Conflict, DomainError, InvalidInput
from controller.domain.places.service import list_wards

router = APIRouter(prefix="/admin/users")

ROLE_ORDER = (Role.OFFICER, Role.APPROVER, Role.EVALUATOR, Role.ADMIN)


def _choices(page: Page, session: Session) -> dict[str, Any]:
    """The roles and wards a form offers."""
    return {
        "role_options": [(r.value, page.t(f"role.{r.value}")) for r in ROLE_ORDER],
        "ward_options": [(w.code, f"{w.name} ({w.code})") for w in list_wards(session)],
        "min_length": MIN_LENGTH,
    }


def _roles(form: FormValues, errors: dict[str, str], page: Page) -> list[Role]:
    known = {r.value for r in Role}
    roles = [Role(r) for r in form.getlist("roles") if r in known]
    if not roles:
        errors["roles"] = page.t("users.roles_missing")
    return roles


def _scope(form: FormValues) -> Scope:
    return Scope(wards=form.getlist("wards"), all_wards=form.get("all_wards") == "1")


def _refusal(exc: DomainError, page: Page) -> tuple[str, str]:
    """The field a domain refusal is about, and what to say there in the page's language."""
    text = exc.message.lower()
    if "is taken" in text:
        return "username", page.t("users.name_taken")
    if "username" in text:
        return "username", page.t("users.username_hint")
    if "password" in text:
        return "password", page.t("password.rule", min=MIN_LENGTH)
    if "no ward" in text:
        return "wards", page.t("users.unknown_ward")
    if "last active administrator" in text:
        return "roles", page.t("users.last_admin")
    # Any other refusal: beside the field the domain names, in the reader's language.
    field = exc.field if exc.field in ("username", "password", "roles", "wards") else "form"
    return field or "form", refusal_text(page.t, exc, "users.refused")


@router.get("")
def user_list(page: AdminPageDep, session: SessionDep) -> Response:
    """Every account with its roles, wards and state."""
    return page.render("admin/users.html", users=users.list_users(session))


@router.get("/new")
def new_user_form(page: AdminPageDep, session: SessionDep) -> Response:
    """The form for a new account."""
    return page.render("admin/user_new.html", **_choices(page, session))


@router.post("/new")
def new_user_submit(page: AdminPageDep, form: FormDep, session: SessionDep) -> Response:
    """Create the account; a refusal is shown beside its field, the rest kept as typed."""
    assert page.actor is not None
    errors: dict[str, str] = {}
    username = form.get("username")
    if not username:
        errors["username"] = page.t("users.username_missing")
    roles = _roles(form, errors, page)
    if len(form.raw("password")) < MIN_LENGTH:
        errors["password"] = page.t("password.rule", min=MIN_LENGTH)
    if not errors:
        new = NewUser(username, form.raw("password"), roles, _scope(form), form.get("display_name"))
        try:
            users.create_user(session, page.actor, new, page.now)
        except (InvalidInput, Conflict) as exc:
            session.rollback()
            field, message = _refusal(exc, page)
            errors[field] = message
    if errors:
        return page.render(
            "admin/user_new.html", status=422, form=form, errors=errors, **_choices(page, session)
        )
    return page.redirect("/admin/users", done="done.user_created")


@router.get("/{username}")
def edit_user_form(username: str, page: AdminPageDep, session: SessionDep) -> Response:
    """One account's roles, wards and state, ready to change."""
    user = users.get_user(session, username)
    values = {
        "display_name": [user.display_name],
        "roles": list(user.roles),
        "wards": list(user.wards),
        "all_wards": ["1"] if user.all_wards else [],
        "active": ["1"] if user.active else [],
    }
    return page.render(
        "admin/user_edit.html",
        user=user,
        form=page.kept or FormValues(values),
        **_choices(page, session),
    )


@router.post("/{username}")
def edit_user_submit(
    username: str, page: AdminPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Save roles, wards, name and state (unticking "active" deactivates: tokens revoked)."""
    assert page.actor is not None
    user = users.get_user(session, username)
    errors: dict[str, str] = {}
    roles = _roles(form, errors, page)
    if not errors:
        changes = UserChanges(
            display_name=form.get("display_name"),
            roles=roles,
            # Districts and provinces given through the API are kept; the form sets wards.
            scope=Scope(
                form.getlist("wards"), user.districts, user.provinces, form.get("all_wards") == "1"
            ),
            active=form.get("active") == "1",
        )
        try:
            users.update_user(session, page.actor, username, changes, page.now)
        except (InvalidInput, Conflict) as exc:
            session.rollback()
            field, message = _refusal(exc, page)
            errors[field] = message
    if errors:
        return page.render(
            "admin/user_edit.html",
            status=422,
            user=users.get_user(session, username),
            form=form,
            errors=errors,
            **_choices(page, session),
        )
    return page.redirect("/admin/users", done="done.user_saved")


@router.post("/{username}/password")
def reset_password_submit(
    username: str, page: AdminPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Set someone's password (a lost one); every session and token of theirs ends."""
    assert page.actor is not None
    password = form.raw("password")
    errors: dict[str, str] = {}
    if len(password) < MIN_LENGTH:
        errors["password"] = page.t("password.rule", min=MIN_LENGTH)
    else:
        try:
            users.reset_password(session, page.actor, username, password, page.now)
        except InvalidInput as exc:
            session.rollback()
            errors["password"] = _refusal(exc, page)[1]
    if errors:
        return page.render(
            "admin/user_edit.html",
            status=422,
            user=users.get_user(session, username),
            form=FormValues(),
            errors=errors,
            **_choices(page, session),
        )
    return page.redirect(f"/admin/users/{username}", done="done.password_reset")
