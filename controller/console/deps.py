"""Typed dependencies of console routes: the page (and who is signed in), and checked forms.

- ``PublicPageDep`` — nobody needs to be signed in (the sign-in page);
- ``PageDep`` — anyone signed in; otherwise a redirect to ``/login?next=<this page>``;
- ``AdminPageDep``, ``OfficerPageDep``, ``ApproverPageDep``, ``StaffPageDep`` — also the
  role (administrators hold every role); otherwise the 403 page. ``page_for(*roles)``
  makes another;
- ``FormDep`` — the posted form, after its CSRF token was checked (403 page if not).
  Declare it *after* the page dependency, so an expired session is met first.

The domain checks roles and wards again on everything it is asked to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from jinja2 import Environment

from controller.api.deps import RuntimeDep
from controller.composition import ControllerRuntime
from controller.console.errors import CsrfRefused, LoginRequired, PageForbidden
from controller.console.i18n import LANGUAGE_COOKIE, Translator, choose_language
from controller.console.page import FormValues, Page
from controller.console.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    KEPT_COOKIE,
    SESSION_COOKIE,
    CsrfGuard,
    KeptForms,
    LoginLimiter,
)
from controller.console.timefmt import DEFAULT_TZ
from controller.domain.actors import Actor, Role, Unauthorized
from controller.domain.places.access import visible_wards


@dataclass(frozen=True)
class ConsoleState:
    """The console's long-lived parts, one per app (``app.state.console``)."""

    env: Environment
    csrf: CsrfGuard
    limiter: LoginLimiter
    kept: KeptForms


def get_console(request: Request) -> ConsoleState:
    """The console state the app was built with."""
    state: ConsoleState = request.app.state.console
    return state


ConsoleDep = Annotated[ConsoleState, Depends(get_console)]


def mark_console(request: Request) -> None:
    """Mark the request as the console's: its errors are shown as pages, not JSON."""
    request.state.console = True


def translator_for(request: Request) -> Translator:
    """The translator of the request's language (cookie, else Vietnamese)."""
    return Translator(choose_language(request.cookies.get(LANGUAGE_COOKIE)))


def home_zone(runtime: ControllerRuntime, actor: Actor | None) -> str:
    """The zone a page speaks in: the actor's first ward's (the default zone if none)."""
    if actor is None:
        return DEFAULT_TZ
    with runtime.db.session() as session:
        wards = visible_wards(session, actor)
        return wards[0].timezone if wards else DEFAULT_TZ


def public_page(request: Request, runtime: RuntimeDep, console: ConsoleDep) -> Page:
    """A page for anyone; its CSRF token is bound to the anonymous ``wardcast_csrf`` cookie."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    token = console.csrf.for_nonce(nonce) if nonce else ""
    return Page(request, runtime, console.env, translator_for(request), token, DEFAULT_TZ)


def signed_in_page(request: Request, runtime: RuntimeDep, console: ConsoleDep) -> Page:
    """The page of a signed-in actor; LoginRequired (→ sign-in, then back here) if not."""
    secret = request.cookies.get(SESSION_COOKIE, "").strip()
    if not secret:
        raise LoginRequired(expired=False)
    try:
        actor, token_id = runtime.accounts.actor_for(secret)
    except Unauthorized as exc:
        raise LoginRequired(expired=True) from exc
    kept = console.kept.take(request.query_params.get("kept"), request.url.path)
    if kept is not None and request.cookies.get(KEPT_COOKIE) != request.query_params.get("kept"):
        kept = None  # only the browser that typed them gets them back
    return Page(
        request,
        runtime,
        console.env,
        translator_for(request),
        console.csrf.for_session(token_id),
        home_zone(runtime, actor),
        actor,
        token_id,
        FormValues(kept) if kept is not None else None,
    )


PublicPageDep = Annotated[Page, Depends(public_page)]
PageDep = Annotated[Page, Depends(signed_in_page)]


class RequirePage:
    """A dependency: the signed-in page, refused (403 page) unless the actor holds a role."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, page: PageDep) -> Page:
        """The page, if its actor holds one of the roles."""
        assert page.actor is not None
        if not any(page.actor.has(role) for role in self.roles):
            raise PageForbidden()
        return page


def page_for(*roles: Role) -> object:
    """``Depends`` on a signed-in page for one of ``roles`` (for a new alias)."""
    return Depends(RequirePage(*roles))


AdminPageDep = Annotated[Page, Depends(RequirePage(Role.ADMIN))]
OfficerPageDep = Annotated[Page, Depends(RequirePage(Role.OFFICER))]
ApproverPageDep = Annotated[Page, Depends(RequirePage(Role.APPROVER))]
StaffPageDep = Annotated[Page, Depends(RequirePage(Role.OFFICER, Role.APPROVER))]


async def read_form(request: Request) -> FormValues:
    """The posted form as lists of strings (uploads are not read here)."""
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    return FormValues(values)


def _given_token(request: Request, form: FormValues) -> str:
    return request.headers.get(CSRF_HEADER) or form.raw(CSRF_FIELD)


async def checked_form(request: Request, page: PageDep) -> FormValues:
    """The form of a signed-in page, once its CSRF token matched; CsrfRefused if not."""
    form = await read_form(request)
    if not CsrfGuard.matches(page.csrf_token, _given_token(request, form)):
        raise CsrfRefused()
    return form


async def checked_public_form(request: Request, page: PublicPageDep) -> FormValues:
    """The form of an anonymous page (sign-in), checked against the CSRF cookie's nonce."""
    form = await read_form(request)
    if not page.csrf_token or not CsrfGuard.matches(page.csrf_token, _given_token(request, form)):
        raise CsrfRefused()
    return form


FormDep = Annotated[FormValues, Depends(checked_form)]
PublicFormDep = Annotated[FormValues, Depends(checked_public_form)]
