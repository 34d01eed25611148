"""The console's refusals, shown as pages in the reader's language — never JSON, never a traceback.

- ``LoginRequired``: no session, or an expired or revoked one. A page read (GET) is sent
  to ``/login?next=<that page>``; a form posted after expiry keeps what was typed
  (passwords aside) and offers it back on the same page after sign-in; an htmx request
  gets ``HX-Redirect`` so the whole page goes to sign-in;
- ``PageForbidden``: the role is missing (403 page);
- ``CsrfRefused``: a form without a valid CSRF token (403 page: reload and try again).

A ``DomainError`` a console route lets through (a 404 for a device that is not there, a
403 from the domain's ward check) becomes the error page with its status; the API's
routes keep their JSON answers (``install_console_errors`` wraps the API's handlers and
looks at ``request.state.console``, which every console route sets).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from controller.console.i18n import (
    LANGUAGE_COOKIE,
    Translator,
    choose_language,
    refusal_text,
)
from controller.console.page import Page
from controller.console.security import KEPT_COOKIE, SESSION_COOKIE
from controller.console.timefmt import DEFAULT_TZ
from controller.domain.errors import DomainError

log = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class ConsoleRefusal(Exception):
    """A refusal the console shows as a page."""


class LoginRequired(ConsoleRefusal):
    """Nobody signed in, or the session expired (``expired``) or was revoked."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("sign in first")
        self.expired = expired


class PageForbidden(ConsoleRefusal):
    """The signed-in actor lacks the role this page needs."""


class CsrfRefused(ConsoleRefusal):
    """A form posted without a valid CSRF token."""


def _is_console(request: Request) -> bool:
    return bool(getattr(request.state, "console", False))


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: Request, status: int, title_key: str, message: str) -> HTMLResponse:
    """A plain error page (no session needed) in the reader's language."""
    console = request.app.state.console
    t = Translator(choose_language(request.cookies.get(LANGUAGE_COOKIE)))
    page = Page(request, request.app.state.runtime, console.env, t, "", DEFAULT_TZ)
    return page.render(
        "error.html", status=status, tz_label="", title=t(title_key), message=message
    )


def _referring_path(request: Request) -> str | None:
    """The path and query of the page a form was posted from, if it is on this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    params = {"next": request.url.path}
    if request.url.query and request.method in ("GET", "HEAD"):
        params["next"] += f"?{request.url.query}"
    if exc.expired:
        params["expired"] = "1"
    kept_id = None
    if request.method == "POST" and not _is_htmx(request):
        form = await request.form()
        values: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                values.setdefault(key, []).append(value)
        # Back to the page the form was on (a POST-only URL has no page to return to).
        page_path, _, page_query = (_referring_path(request) or request.url.path).partition("?")
        kept_id = request.app.state.console.kept.keep(page_path, values)
        query = f"{page_query}&" if page_query else ""
        params["next"] = f"{page_path}?{query}kept={kept_id}"
    if _is_htmx(request):
        current = request.headers.get("HX-Current-URL", "")
        params["next"] = current.split("://", 1)[-1].partition("/")[2] or ""
        params["next"] = "/" + params["next"]
    url = "/login?" + urlencode(params)
    response: Response
    if _is_htmx(request):
        response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if exc.expired:
        response.delete_cookie(SESSION_COOKIE, path="/")
    if kept_id:
        secure = request.app.state.runtime.settings.console_cookie_secure
        response.set_cookie(
            KEPT_COOKIE, kept_id, max_age=900, httponly=True, secure=secure, samesite="lax"
        )
    return response


async def _forbidden(request: Request, exc: Exception) -> Response:
    t = Translator(choose_language(request.cookies.get(LANGUAGE_COOKIE)))
    return error_page(request, 403, "error.forbidden_title", t("error.forbidden"))


async def _csrf(request: Request, exc: Exception) -> Response:
    t = Translator(choose_language(request.cookies.get(LANGUAGE_COOKIE)))
    return error_page(request, 403, "error.csrf_title", t("error.csrf"))


async def _answer(result: Response | Awaitable[Response]) -> Response:
    return await result if inspect.isawaitable(result) else result


def install_console_errors(app: FastAPI) -> None:
    """Register the console's pages for its refusals; wrap the API's handlers."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf)
    api_domain: Handler | None = app.exception_handlers.get(DomainError)
    api_unexpected: Handler | None = app.exception_handlers.get(Exception)

    async def domain_error(request: Request, exc: Exception) -> Response:
        if _is_console(request) or api_domain is None:
            assert isinstance(exc, DomainError)
            t = Translator(choose_language(request.cookies.get(LANGUAGE_COOKIE)))
            message = refusal_text(t, exc)  # its code's sentence in the reader's language
            return error_page(request, exc.status, "error.refused_title", message)
        return await _answer(api_domain(request, exc))

    async def unexpected(request: Request, exc: Exception) -> Response:
        if _is_console(request) or api_unexpected is None:
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            t = Translator(choose_language(request.cookies.get(LANGUAGE_COOKIE)))
            return error_page(request, 500, "error.unexpected_title", t("error.unexpected"))
        return await _answer(api_unexpected(request, exc))

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(Exception, unexpected)
