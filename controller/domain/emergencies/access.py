"""Emergencies within an approver's wards: where they may sound, which they may stop, see.

An approver of some wards sends to devices of those wards only. A message that names a
ward or devices outside them is refused (403); a message that names nowhere ("every
device") means every device *they* answer for. Updates and cancels may reference only
messages that sounded within their wards.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Emergency
from controller.domain.actors import Actor
from controller.domain.devices.access import require_in_scope, wards_of
from controller.domain.errors import InvalidInput

SCAN_LIMIT = 5000


def scoped_targets(
    session: Session, actor: Actor, named: bool, targets: Sequence[str]
) -> list[str]:
    """The targets the actor may reach: all of them (or 403) when named, else narrowed."""
    if actor.wards is None:
        return list(targets)
    if named:
        require_in_scope(session, actor, targets, "sending an emergency")
        return list(targets)
    wards = wards_of(session, targets)
    mine = [d for d in targets if actor.sees_ward(wards.get(d))]
    if not mine:
        raise InvalidInput(
            f"no device in the wards of {actor.name} is targeted",
            code="target.none_in_wards",
            field="targets",
        )
    return mine


def check_referenced(session: Session, actor: Actor, earlier: Sequence[Emergency]) -> None:
    """Refuse (403) an update or cancel of a message that sounded outside the actor's wards."""
    for old in earlier:
        require_in_scope(session, actor, old.device_ids, f"changing emergency {old.identifier}")


def visible_emergencies(session: Session, actor: Actor, limit: int = 100) -> list[Emergency]:
    """Most recent first: those that reached at least one device in the actor's wards."""
    query = select(Emergency).order_by(Emergency.created_at.desc())
    if actor.wards is None:
        return list(session.scalars(query.limit(limit)))
    rows = list(session.scalars(query.limit(SCAN_LIMIT)))
    wards = wards_of(session, {d for e in rows for d in e.device_ids})
    seen = [e for e in rows if any(actor.sees_ward(wards.get(d)) for d in e.device_ids)]
    return seen[:limit]
