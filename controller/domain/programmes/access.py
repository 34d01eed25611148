"""A ward's programme, queue and devices' plans, as a signed-in actor may read them.

The ward is checked against the actor's scope before anything is looked up, so
another ward's officer learns nothing, not even whether it has a programme.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from controller.db.models import QueuedBulletin
from controller.domain.actors import Actor, Role
from controller.domain.errors import NotFound
from controller.domain.places.service import get_ward
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.programmes.service import (
    CheckResult,
    check_programme,
    current_programme,
    list_queue,
)

_EDITORS = (Role.OFFICER, Role.APPROVER)


def programme_of(session: Session, ward_code: str, actor: Actor) -> tuple[int, ProgrammeDoc]:
    """The ward's stored programme and its version (every role reads it: it holds targets)."""
    actor.require_ward(ward_code, "reading a programme")
    get_ward(session, ward_code)
    stored = current_programme(session, ward_code)
    if stored is None:
        raise NotFound(
            f"ward {ward_code} has no programme yet",
            code="programme.missing",
            params={"ward": ward_code},
        )
    return stored


def check_for(
    session: Session, ward_code: str, doc: ProgrammeDoc, now: datetime, actor: Actor
) -> CheckResult:
    """Conflicts and diff of a proposed programme (nothing is stored)."""
    actor.require_any(_EDITORS, "checking a programme")
    actor.require_ward(ward_code, "checking a programme")
    return check_programme(session, ward_code, doc, now)


def queue_of(session: Session, ward_code: str, actor: Actor) -> list[QueuedBulletin]:
    """The bulletins queued into the ward's sessions."""
    actor.require_any(_EDITORS, "reading a queue")
    actor.require_ward(ward_code, "reading a queue")
    get_ward(session, ward_code)
    return list_queue(session, ward_code)
