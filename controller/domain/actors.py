"""Who acts: an officer writes and submits, a leader approves, an admin configures.

Roles are few on purpose; a ward has one part-time officer and one leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from controller.domain.errors import DomainError


class Role(StrEnum):
    """What an actor may do."""

    OFFICER = "officer"  # cán bộ truyền thanh: write, submit, schedule
    LEADER = "leader"  # lãnh đạo phường: approve, reject, emergencies
    ADMIN = "admin"  # places, devices, programmes, archives


class Forbidden(DomainError):
    """The actor lacks the role for this act."""

    status = 403


@dataclass(frozen=True)
class Actor:
    """A named person (or system) with roles; recorded beside everything they change."""

    name: str
    roles: frozenset[Role]

    def require(self, role: Role, doing: str) -> None:
        """Refuse with a clear message unless the actor has ``role`` (admin has all)."""
        if role not in self.roles and Role.ADMIN not in self.roles:
            raise Forbidden(f"{doing} needs the '{role}' role; {self.name} does not have it")


EVERYONE = frozenset(Role)
SYSTEM = Actor("system", EVERYONE)
