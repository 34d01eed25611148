"""Sign in, sign out, and the language switch.

Sign-in issues the same short-lived token as ``POST /api/v1/auth/token`` and carries it
in the session cookie; signing out revokes it. Failed attempts are rate-limited per
account name and per address with one message for every case (no account enumeration).
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from controller.api.deps import RuntimeDep, SessionDep
from controller.console.deps import ConsoleDep, FormDep, PageDep, PublicFormDep, PublicPageDep
from controller.console.i18n import LANGUAGE_COOKIE, LANGUAGES
from controller.console.page import Page, safe_next
from controller.console.security import CSRF_COOKIE, SESSION_COOKIE, new_nonce
from controller.domain.accounts import users
from controller.domain.actors import Unauthorized

router = APIRouter()


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _signed_in(page: Page) -> bool:
    """Whether the request already carries a working session (then sign-in is skipped)."""
    secret = page.request.cookies.get(SESSION_COOKIE, "").strip()
    if not secret:
        return False
    try:
        page.runtime.accounts.actor_for(secret)
    except Unauthorized:
        return False
    return True


@router.get("/login")
def login_form(page: PublicPageDep, console: ConsoleDep) -> Response:
    """The sign-in form; it sets the anonymous CSRF cookie the first time."""
    request = page.request
    if _signed_in(page):
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce:
        nonce = new_nonce()
        page.csrf_token = console.csrf.for_nonce(nonce)
    response = page.render(
        "login.html",
        next=safe_next(request.query_params.get("next")),
        expired=request.query_params.get("expired") == "1",
        message="",
    )
    secure = page.runtime.settings.console_cookie_secure
    response.set_cookie(CSRF_COOKIE, nonce, httponly=True, secure=secure, samesite="strict")
    return response


@router.post("/login")
def login_submit(page: PublicPageDep, form: PublicFormDep, console: ConsoleDep) -> Response:
    """Check the name and password; on success the session cookie, then back to ``next``."""
    t, request = page.t, page.request
    username, password = form.get("username"), form.raw("password")
    target = safe_next(form.get("next"))
    errors = {}
    if not username:
        errors["username"] = t("login.username_missing")
    if not password:
        errors["password"] = t("login.password_missing")

    def again(status: int, message: str = "") -> Response:
        return page.render(
            "login.html",
            status=status,
            form=form,
            errors=errors,
            next=target,
            expired=False,
            message=message,
        )

    if errors:
        return again(422)
    address = _client_address(request)
    wait_s = console.limiter.blocked_for(username, address)
    if wait_s > 0:
        return again(429, t("login.too_many", minutes=max(1, math.ceil(wait_s / 60))))
    try:
        issued = page.runtime.accounts.login(username, password, name="console")
    except Unauthorized:
        # One answer for an unknown name, a wrong password and a locked account.
        console.limiter.failed(username, address)
        return again(401, t("login.wrong"))
    console.limiter.succeeded(username)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=page.runtime.settings.login_token_ttl_s,
        httponly=True,
        secure=page.runtime.settings.console_cookie_secure,
        samesite="lax",
    )
    return response


@router.post("/logout")
def logout(page: PageDep, form: FormDep, session: SessionDep) -> Response:
    """Revoke the session's token (a copied cookie dies too) and clear the cookie."""
    assert page.actor is not None and page.token_id is not None
    users.revoke_token(session, page.actor, page.actor.name, page.token_id, page.now)
    response = page.redirect("/login", done="done.logged_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, runtime: RuntimeDep) -> Response:
    """Remember the language (a cookie; no account change), and return to the page."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=365 * 86400,
            httponly=True,
            secure=runtime.settings.console_cookie_secure,
            samesite="lax",
        )
    return response
