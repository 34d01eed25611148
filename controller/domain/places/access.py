"""Wards as a signed-in actor may read them: only those in the actor's scope.

Provinces and districts are names every signed-in role may read (they say where a
scope lies); a ward's contents — groups, zones, devices — only within scope.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from controller.db.models import Ward
from controller.domain.actors import Actor
from controller.domain.places.service import get_ward, list_wards


def visible_wards(session: Session, actor: Actor) -> list[Ward]:
    """The wards in the actor's scope, by code."""
    return [w for w in list_wards(session) if actor.sees_ward(w.code)]


def visible_ward(session: Session, code: str, actor: Actor) -> Ward:
    """The ward, if in scope (checked before it is looked up); Forbidden or NotFound."""
    actor.require_ward(code, "reading a ward")
    return get_ward(session, code)
