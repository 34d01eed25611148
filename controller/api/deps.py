"""Typed dependencies: the runtime, its services, a database session, who is signed in.

Routes name what they use (``PlansDep``, ``SessionDep``…) instead of reaching through
the runtime, so a route's signature says which services it touches. Transport objects
(bridge, MQTT link, outbound) have no alias on purpose: routes never touch them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from controller.audio.store import MediaUrls
from controller.composition import ControllerRuntime
from controller.domain.accounts.service import SIGN_IN_HINT, AccountService
from controller.domain.actors import Actor, Role, Unauthorized
from controller.domain.broadcasts.service import BroadcastService
from controller.domain.content.bulletins import BulletinService
from controller.domain.devices.enrolment import EnrolmentService
from controller.domain.devices.registry import DeviceRegistry
from controller.domain.emergencies.service import EmergencyService
from controller.domain.errors import TooLarge
from controller.domain.plans.service import PlanService
from controller.domain.programmes.service import ProgrammeService
from controller.settings import Settings
from wardcast_protocol.clock import Clock


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


_bearer = HTTPBearer(
    auto_error=False,
    # Swagger UI's Authorize button offers this scheme (docs/console.md).
    scheme_name="BearerToken",
    description="A personal API token, or the token POST /api/v1/auth/token returns.",
)


@dataclass(frozen=True)
class Credential:
    """Who is acting, and the token they act with (to keep it when others are revoked)."""

    actor: Actor
    token_id: str


def current_credential(
    runtime: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Credential:
    """The holder of the request's bearer token; 401 without a working one.

    There is no other way in: no header naming an actor, no token in the settings.
    The health check, the controller's public key, device enrolment, sign-in and
    signed media links are the only routes that do not ask for this.
    """
    if bearer is None or not bearer.credentials.strip():
        raise Unauthorized(f"sign in first: send 'Authorization: Bearer <token>' ({SIGN_IN_HINT})")
    actor, token_id = runtime.accounts.actor_for(bearer.credentials.strip())
    return Credential(actor, token_id)


CredentialDep = Annotated[Credential, Depends(current_credential)]


def current_actor(credential: CredentialDep) -> Actor:
    """The signed-in actor; recorded beside every change they make."""
    return credential.actor


ActorDep = Annotated[Actor, Depends(current_actor)]


class Allow:
    """A dependency: the signed-in actor, refused (403) unless they hold one of ``roles``.

    The coarse gate in front of a route, so a role that may never call it is refused
    before anything is looked up; the domain checks the role again, and the scope
    (which wards), on what it finds. Administrators pass every gate.
    """

    def __init__(self, *roles: Role, doing: str | None = None) -> None:
        self.roles = frozenset(roles)
        self.doing = doing

    def __call__(self, request: Request, actor: ActorDep) -> Actor:
        """The actor, if they hold one of the roles."""
        doing = self.doing or f"{request.method} {request.url.path}"
        actor.require_any(self.roles, doing)
        return actor


AdminDep = Annotated[Actor, Depends(Allow(Role.ADMIN))]
OfficerDep = Annotated[Actor, Depends(Allow(Role.OFFICER))]
ApproverDep = Annotated[Actor, Depends(Allow(Role.APPROVER))]
# Who reads editorial content (drafts, broadcasts, programmes, emergencies): not evaluators.
StaffDep = Annotated[Actor, Depends(Allow(Role.OFFICER, Role.APPROVER))]


def get_media_urls(runtime: RuntimeDep) -> MediaUrls:
    """Media links signed now, for answers that show a file's URL."""
    return runtime.media_signer.at(runtime.clock.now())


MediaUrlsDep = Annotated[MediaUrls, Depends(get_media_urls)]


def get_accounts(runtime: RuntimeDep) -> AccountService:
    """The accounts service (sign-in, tokens)."""
    return runtime.accounts


AccountsDep = Annotated[AccountService, Depends(get_accounts)]
