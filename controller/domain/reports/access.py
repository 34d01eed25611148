"""Reports as a signed-in actor may ask for them: only over wards in their scope.

A district or province report covers every ward in it, so it is refused (403) unless
all of them are in the actor's scope; a named ward is checked before it is looked up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from controller.domain.actors import Actor
from controller.domain.reports.model import MissedList, Report
from controller.domain.reports.rollups import RollupRules
from controller.domain.reports.scope import ReportRequest, resolve_scope
from controller.domain.reports.service import build_report, missed_plays


def _check(session: Session, request: ReportRequest, actor: Actor) -> None:
    if actor.wards is None:
        return
    if request.ward:
        actor.require_ward(request.ward, "reporting")
    scope = resolve_scope(session, request)
    actor.require_wards((w.code for w in scope.wards), f"reporting on {scope.kind} {scope.code}")


def report_for(
    session: Session, actor: Actor, request: ReportRequest, now: datetime, rules: RollupRules
) -> Report:
    """The report, if its scope lies within the actor's wards."""
    _check(session, request, actor)
    return build_report(session, request, now, rules)


def missed_for(
    session: Session,
    actor: Actor,
    request: ReportRequest,
    now: datetime,
    rules: RollupRules,
    limit: int,
) -> MissedList:
    """The missed plays, if their ward lies within the actor's wards."""
    _check(session, request, actor)
    return missed_plays(session, request, now, rules, limit)
