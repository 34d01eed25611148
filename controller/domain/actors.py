"""Who acts, and on which wards: roles and scope, checked by the domain itself.

Four roles, few on purpose (a ward has one part-time officer and one leader):

- ``officer`` (cán bộ truyền thanh): writes, submits, schedules, queues;
- ``approver`` (lãnh đạo phường, the ward leader): approves or rejects, sends emergencies;
- ``evaluator`` (thanh tra, district/province inspector): reads reports, evidence,
  bundles and devices' status, and changes nothing;
- ``admin``: places, devices, programmes, accounts, archives — and every other role.

An actor's *scope* is the set of ward codes they may act on (a district or a province
assigned to them is resolved to its wards by the accounts service); ``None`` means every
ward (administrators, and accounts deliberately given all wards). Domain services call
``actor.require(Role.X, "doing…")`` and ``actor.require_ward(code, "doing…")``; the HTTP
layer only adds a coarse role gate in front, so a refusal never depends on a route.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from controller.domain.errors import DomainError


class Role(StrEnum):
    """What an actor may do."""

    ADMIN = "admin"  # quản trị: places, devices, programmes, accounts, archives
    OFFICER = "officer"  # cán bộ truyền thanh: write, submit, schedule
    APPROVER = "approver"  # lãnh đạo phường: approve, reject, emergencies
    EVALUATOR = "evaluator"  # thanh tra, đánh giá: read reports and evidence only


class Unauthorized(DomainError):
    """No credential, or one that is wrong, expired or revoked (HTTP 401)."""

    status = 401
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    """The actor lacks the role, or the ward is outside their scope (HTTP 403)."""

    status = 403


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles)) or "no role"


@dataclass(frozen=True)
class Actor:
    """A signed-in person (or the system), recorded beside everything they change.

    ``name`` is the account's username: unique and stable, so "who wrote this" and
    "who approves it" compare exactly. ``wards`` is the scope (None: every ward).
    """

    name: str
    roles: frozenset[Role]
    wards: frozenset[str] | None = None
    user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """Administrators hold every role and every ward."""
        return Role.ADMIN in self.roles

    def has(self, role: Role) -> bool:
        """Whether the actor holds ``role`` (an administrator holds all)."""
        return role in self.roles or self.is_admin

    def require(self, role: Role, doing: str) -> None:
        """Refuse with a clear message unless the actor has ``role`` (admin has all)."""
        if not self.has(role):
            raise Forbidden(
                f"{doing} needs the '{role}' role; {self.name} has {_names(self.roles)}",
                code="access.role_missing",
                params={"role": str(role)},
            )

    def require_any(self, roles: Collection[Role], doing: str) -> None:
        """Refuse unless the actor holds at least one of ``roles``."""
        if not any(self.has(r) for r in roles):
            raise Forbidden(
                f"{doing} needs one of the roles {_names(roles)}; "
                f"{self.name} has {_names(self.roles)}",
                code="access.roles_missing",
            )

    def sees_ward(self, ward_code: str | None) -> bool:
        """Whether ``ward_code`` is in scope; something in no ward is for the unscoped only."""
        if self.wards is None:
            return True
        return ward_code is not None and ward_code in self.wards

    def require_ward(self, ward_code: str | None, doing: str) -> None:
        """Refuse (403) unless ``ward_code`` is in the actor's scope."""
        if self.sees_ward(ward_code):
            return
        where = f"ward {ward_code}" if ward_code is not None else "something placed in no ward"
        raise Forbidden(
            f"{doing}: {where} is outside the wards of {self.name}",
            code="access.ward_outside",
            params={"ward": ward_code or ""},
            field="ward",
        )

    def require_wards(self, ward_codes: Iterable[str | None], doing: str) -> None:
        """Refuse unless every one of ``ward_codes`` is in scope."""
        for code in ward_codes:
            self.require_ward(code, doing)


EVERYONE = frozenset(Role)
SYSTEM = Actor("system", EVERYONE)
"""The controller itself (the clock, the demo's provisioning, emergencies' own steps)."""
