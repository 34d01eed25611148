"""Bulletins as a signed-in actor may see and write them: those of the actor's wards.

A bulletin belongs to the ward it names. One that names no ward is shared content
(a province's notice, an administrator's): scoped actors see it once it is approved,
so they can schedule it, and only unscoped actors (administrators) write or change it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.content.bulletins import get_bulletin
from controller.domain.content.workflow import Status
from controller.domain.errors import InvalidInput


def draft_ward(actor: Actor, ward_code: str | None) -> str | None:
    """The ward a new bulletin belongs to; an officer's own when they serve only one."""
    actor.require(Role.OFFICER, "writing bulletins")
    if ward_code is None and actor.wards is not None:
        if len(actor.wards) == 1:
            return next(iter(actor.wards))
        raise InvalidInput(
            f"say which ward this bulletin is for (ward_code): {actor.name} serves "
            f"{len(actor.wards)} wards",
            code="bulletin.ward_missing",
            field="ward_code",
        )
    actor.require_ward(ward_code, "writing a bulletin")
    return ward_code


def sees(actor: Actor, bulletin: Bulletin) -> bool:
    """Whether the actor may read this bulletin."""
    if actor.sees_ward(bulletin.ward_code):
        return True
    return bulletin.ward_code is None and bulletin.status == Status.APPROVED


def require_visible(actor: Actor, bulletin: Bulletin, doing: str) -> None:
    """Refuse (403) a bulletin of another ward."""
    if not sees(actor, bulletin):
        where = bulletin.ward_code or "no ward"
        raise Forbidden(
            f"{doing}: bulletin {bulletin.id} ({where}) is outside {actor.name}'s wards",
            code="access.bulletin_outside_wards",
        )


def visible_bulletin(session: Session, bulletin_id: str, actor: Actor) -> Bulletin:
    """The bulletin, if the actor may read it; NotFound or Forbidden."""
    actor.require_any((Role.OFFICER, Role.APPROVER), "reading bulletins")
    bulletin = get_bulletin(session, bulletin_id)
    require_visible(actor, bulletin, "reading")
    return bulletin


def visible_bulletins(
    session: Session,
    actor: Actor,
    limit: int = 100,
    offset: int = 0,
    *,
    status: Status | None = None,
    ward_code: str | None = None,
) -> Sequence[Bulletin]:
    """The bulletins the actor may read, newest first; by state (the approval queue is
    ``status=submitted``) and by ward when asked (a ward outside the actor's: 403)."""
    actor.require_any((Role.OFFICER, Role.APPROVER), "reading bulletins")
    query = select(Bulletin)
    if actor.wards is not None:
        shared = and_(Bulletin.ward_code.is_(None), Bulletin.status == Status.APPROVED.value)
        query = query.where(or_(Bulletin.ward_code.in_(actor.wards), shared))
    if status is not None:
        query = query.where(Bulletin.status == status.value)
    if ward_code is not None:
        actor.require_ward(ward_code, "listing bulletins")
        query = query.where(Bulletin.ward_code == ward_code)
    query = query.order_by(Bulletin.created_at.desc(), Bulletin.id)
    return session.scalars(query.limit(limit).offset(offset)).all()
