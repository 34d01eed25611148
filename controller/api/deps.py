"""Typed dependencies: the runtime, its services, a database session, the API token check.

Routes name what they use (``PlansDep``, ``SessionDep``…) instead of reaching through
the runtime, so a route's signature says which services it touches. Transport objects
(bridge, MQTT link, outbound) have no alias on purpose: routes never touch them.
"""

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
from controller.domain.content.bulletins import BulletinService
from controller.domain.devices.enrolment import EnrolmentService
from controller.domain.devices.registry import DeviceRegistry
from controller.domain.emergencies.service import EmergencyService
from controller.domain.errors import DomainError, TooLarge
from controller.domain.plans.service import PlanService
from controller.domain.programmes.service import ProgrammeService
from controller.settings import Settings
from wardcast_protocol.clock import Clock


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


def get_settings(runtime: RuntimeDep) -> Settings:
    """The controller's settings."""
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_clock(runtime: RuntimeDep) -> Clock:
    """The controller's clock (injectable in tests)."""
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_broadcasts(runtime: RuntimeDep) -> BroadcastService:
    """The broadcast service."""
    return runtime.broadcasts


BroadcastsDep = Annotated[BroadcastService, Depends(get_broadcasts)]


def get_bulletins(runtime: RuntimeDep) -> BulletinService:
    """The bulletin service (speech and audio preparation)."""
    return runtime.bulletins


BulletinsDep = Annotated[BulletinService, Depends(get_bulletins)]


def get_devices(runtime: RuntimeDep) -> DeviceRegistry:
    """The device registry."""
    return runtime.devices


DevicesDep = Annotated[DeviceRegistry, Depends(get_devices)]


def get_enrolment(runtime: RuntimeDep) -> EnrolmentService:
    """The enrolment service (device codes, broker logins, revocation)."""
    return runtime.enrolment


EnrolmentDep = Annotated[EnrolmentService, Depends(get_enrolment)]


def get_emergencies(runtime: RuntimeDep) -> EmergencyService:
    """The emergency service."""
    return runtime.emergencies


EmergenciesDep = Annotated[EmergencyService, Depends(get_emergencies)]


def get_plans(runtime: RuntimeDep) -> PlanService:
    """The plan service (compiles and publishes devices' plans)."""
    return runtime.plans


PlansDep = Annotated[PlanService, Depends(get_plans)]


def get_programmes(runtime: RuntimeDep) -> ProgrammeService:
    """The programme service (saves programmes and queues; plans follow)."""
    return runtime.programmes


ProgrammesDep = Annotated[ProgrammeService, Depends(get_programmes)]


class BodyBytes:
    """A dependency: the raw request body, refused past ``limit`` bytes.

    Reading the body is the one thing that must be awaited; doing it here lets the
    route itself be a plain ``def`` that FastAPI runs in its threadpool, so its
    blocking database work never stalls the event loop. The body is read as it
    streams, so an oversized upload is refused without being held whole in memory.
    """

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what

    async def __call__(self, request: Request) -> bytes:
        """Read the body, or raise TooLarge."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.limit:
                raise TooLarge(f"{self.what} is larger than {self.limit // (1024 * 1024)} MiB")
            chunks.append(chunk)
        return b"".join(chunks)


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
