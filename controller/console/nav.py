"""The console's menu: one row per page, with the roles that see it.

A new page adds its row here (path, catalog key of its label, roles). The menu only
hides links: every route still checks the role itself (``controller.console.deps``).
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.domain.actors import Actor, Role


@dataclass(frozen=True)
class NavItem:
    """A menu entry: where it goes, its label's catalog key, and who sees it."""

    path: str
    label: str
    roles: frozenset[Role]


EVERY_ROLE = frozenset(Role)
STAFF = frozenset({Role.OFFICER, Role.APPROVER})

NAV: list[NavItem] = [
    NavItem("/", "nav.dashboard", EVERY_ROLE),
    NavItem("/bulletins", "nav.bulletins", frozenset({Role.OFFICER})),
    NavItem("/approvals", "nav.approvals", frozenset({Role.APPROVER})),
    NavItem("/schedule", "nav.schedule", STAFF),
    NavItem("/emergency", "nav.emergency", STAFF),
    NavItem("/broadcasts", "nav.broadcasts", STAFF),
    NavItem("/reports", "nav.reports", EVERY_ROLE),
    NavItem("/evidence", "nav.evidence", EVERY_ROLE),
    NavItem("/devices", "nav.device_pages", EVERY_ROLE),
    NavItem("/admin/users", "nav.users", frozenset({Role.ADMIN})),
    NavItem("/admin/devices", "nav.devices", frozenset({Role.ADMIN})),
    NavItem("/account/password", "nav.password", EVERY_ROLE),
]


def visible_nav(actor: Actor) -> list[NavItem]:
    """The entries this actor may use (administrators see all)."""
    return [item for item in NAV if any(actor.has(role) for role in item.roles)]
