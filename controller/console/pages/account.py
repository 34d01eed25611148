"""One's own account: changing one's password (other sign-in sessions end, this one stays)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from controller.api.deps import SessionDep
from controller.console.deps import ConsoleDep, FormDep, PageDep
from controller.console.i18n import refusal_text
from controller.domain.accounts import users
from controller.domain.accounts.passwords import MIN_LENGTH
from controller.domain.errors import InvalidInput

router = APIRouter()


@router.get("/account/password")
def password_form(page: PageDep) -> Response:
    """The password form."""
    return page.render("account/password.html", min_length=MIN_LENGTH)


@router.post("/account/password")
def password_submit(
    page: PageDep, form: FormDep, session: SessionDep, console: ConsoleDep
) -> Response:
    """Change the password; each refusal is shown beside the field it concerns."""
    assert page.actor is not None
    t = page.t
    current, new, repeat = (
        form.raw("current_password"),
        form.raw("new_password"),
        form.raw("new_password2"),
    )
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = t("password.current_missing")
    if len(new) < MIN_LENGTH:
        errors["new_password"] = t("password.rule", min=MIN_LENGTH)
    elif new != repeat:
        errors["new_password2"] = t("password.mismatch")
    limiter = console.limiter
    address = page.request.client.host if page.request.client else "unknown"
    if not errors and limiter.blocked_for(page.actor.name, address) > 0:
        # Someone holding a stolen session may not guess the password behind it.
        errors["current_password"] = t("password.too_many")
    if not errors:
        try:
            users.change_own_password(
                session, page.actor, current, new, page.now, keep_token_id=page.token_id
            )
        except InvalidInput as exc:
            if "current password" in exc.message:
                limiter.failed(page.actor.name, address)
                errors["current_password"] = t("password.current_wrong")
            else:
                errors["new_password"] = refusal_text(t, exc, "password.refused")
    if errors:
        return page.render(
            "account/password.html", status=422, errors=errors, min_length=MIN_LENGTH
        )
    return page.redirect("/", done="done.password_changed")
