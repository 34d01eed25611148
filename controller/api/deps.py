"""Typed dependencies: the runtime, a database session, and the API token check."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from controller.composition import ControllerRuntime
from controller.domain.actors import EVERYONE, Actor, Role
from controller.domain.broadcasts.service import BroadcastService
from controller.domain.errors import DomainError


class Unauthorized(DomainError):
    """Missing or wrong API token."""

    status = 401


def get_runtime(request: Request) -> ControllerRuntime:
    """The runtime the app was built with."""
    runtime: ControllerRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ControllerRuntime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A session per request, committed when the route returns without error."""
    with runtime.db.session() as session:
        yield session


# scope="function": commit *before* the response is sent. With the default
# ("request") the client could see 200 for a change not yet committed — and the
# next request (approve after submit) would read the old state.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_broadcasts(runtime: RuntimeDep) -> BroadcastService:
    """The broadcast service."""
    return runtime.broadcasts


BroadcastsDep = Annotated[BroadcastService, Depends(get_broadcasts)]


def require_actor(
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Header()] = None,
    x_wardcast_actor: Annotated[str | None, Header()] = None,
) -> Actor:
    """Who is acting, from the bearer token; recorded beside every change they make.

    With no tokens configured (development) everyone holds every role, and the
    optional ``X-Wardcast-Actor`` header names them for the record.
    """
    settings = runtime.settings
    if not settings.api_token and not settings.api_tokens:
        # Headers are Latin-1 on the wire: Vietnamese names come percent-encoded.
        name = unquote(x_wardcast_actor or "officer").strip()[:100] or "officer"
        return Actor(name, EVERYONE)
    given = (authorization or "").removeprefix("Bearer ").strip().encode()
    if given:
        if settings.api_token and hmac.compare_digest(given, settings.api_token.encode()):
            return Actor("admin", EVERYONE)
        for token, user in settings.api_tokens.items():
            if hmac.compare_digest(given, token.encode()):
                return Actor(user.name, frozenset(Role(r) for r in user.roles))
    raise Unauthorized("a valid API token is required (Authorization: Bearer …)")


ActorDep = Annotated[Actor, Depends(require_actor)]
