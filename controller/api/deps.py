"""Typed dependencies: the runtime, a database session, and the API token check."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from controller.domain.broadcasts import BroadcastService
from controller.domain.errors import DomainError
from controller.runtime import ControllerRuntime


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


SessionDep = Annotated[Session, Depends(get_session)]


def get_broadcasts(runtime: RuntimeDep) -> BroadcastService:
    """The broadcast service."""
    return runtime.require_broadcasts()


BroadcastsDep = Annotated[BroadcastService, Depends(get_broadcasts)]


def require_token(
    runtime: RuntimeDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """Check the bearer token on changing calls; returns who acted (for the record).

    With no token configured (development) everyone may act, as 'officer'.
    """
    expected = runtime.settings.api_token
    if not expected:
        return "officer"
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("a valid API token is required (Authorization: Bearer …)")
    return "officer"


ActorDep = Annotated[str, Depends(require_token)]
