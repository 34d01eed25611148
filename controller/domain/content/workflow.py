"""The editorial workflow of a bulletin: draft → submitted → approved or rejected → archived.

Only approved, currently valid content ever reaches a device; every transition
records who made it and when, in an append-only table. Nobody approves their own
bulletin: the approver must be neither its author nor the one who submitted it (two
people saw it before it is aired). An emergency is the one exception, by design: the
leader who sends it *is* its approval (``approve_emergency``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, BulletinTransition
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.errors import Conflict, InvalidInput


class Status(StrEnum):
    """Where a bulletin stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ARCHIVED = "archived"


# (from, to) -> the role needed for that step.
_STEPS: dict[tuple[Status, Status], Role] = {
    (Status.DRAFT, Status.SUBMITTED): Role.OFFICER,
    (Status.REJECTED, Status.SUBMITTED): Role.OFFICER,
    (Status.SUBMITTED, Status.DRAFT): Role.OFFICER,  # withdrawn for changes
    (Status.SUBMITTED, Status.APPROVED): Role.APPROVER,
    (Status.SUBMITTED, Status.REJECTED): Role.APPROVER,
    (Status.DRAFT, Status.ARCHIVED): Role.OFFICER,
    (Status.REJECTED, Status.ARCHIVED): Role.OFFICER,
    (Status.APPROVED, Status.ARCHIVED): Role.OFFICER,
}


def transition(
    session: Session,
    bulletin: Bulletin,
    to: Status,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
) -> BulletinTransition:
    """Move ``bulletin`` to ``to`` if the workflow and the actor's roles allow it."""
    # The ward first: another ward's actor learns nothing, not even the bulletin's state.
    actor.require_ward(bulletin.ward_code, f"changing bulletin {bulletin.id}")
    current = Status(bulletin.status)
    role = _STEPS.get((current, to))
    if role is None:
        allowed = sorted(t for (f, t) in _STEPS if f is current)
        hint = f"; from {current} it can go to: {', '.join(allowed)}" if allowed else ""
        raise Conflict(
            f"bulletin {bulletin.id} is {current} and cannot become {to}{hint}",
            code="bulletin.wrong_state",
            params={"state": str(current), "target_state": str(to)},
        )
    actor.require(role, f"moving a bulletin to {to}")
    if to is Status.APPROVED:
        _refuse_own(session, bulletin, actor)
    reason = (reason or "").strip() or None
    if to is Status.REJECTED and reason is None:
        raise InvalidInput(
            "a rejection needs a reason the officer can act on",
            code="bulletin.reason_required",
            field="reason",
        )
    if to is Status.APPROVED and bulletin.valid_until is not None and bulletin.valid_until <= now:
        raise InvalidInput(
            "this bulletin's validity has already ended; it cannot be approved",
            code="bulletin.expired",
        )
    return _record(session, bulletin, current, to, actor, now, reason)


class OwnBulletin(Forbidden):
    """An approver asked to approve a bulletin they wrote or submitted themselves."""


def _refuse_own(session: Session, bulletin: Bulletin, actor: Actor) -> None:
    submitted_by = session.scalar(
        select(BulletinTransition.actor)
        .where(
            BulletinTransition.bulletin_id == bulletin.id,
            BulletinTransition.to_status == Status.SUBMITTED.value,
        )
        .order_by(BulletinTransition.id.desc())
        .limit(1)
    )
    if actor.name in (bulletin.created_by, submitted_by):
        did = "wrote" if actor.name == bulletin.created_by else "submitted"
        raise OwnBulletin(
            f"nobody approves their own bulletin: {actor.name} {did} {bulletin.id}; "
            "another approver of the ward must approve it",
            code="bulletin.own_approval",
        )


def approve_emergency(session: Session, bulletin: Bulletin, actor: Actor, now: datetime) -> None:
    """Submit and approve an emergency's bulletin in one act of its sender (an approver).

    A flood at 5 a.m. does not wait for a second signature: the leader who sends the
    emergency is its approval, recorded as both steps, with the reason "emergency".
    """
    # The emergency service has checked the targets against the sender's wards.
    actor.require(Role.APPROVER, "sending an emergency")
    current = Status(bulletin.status)
    if current is not Status.DRAFT:
        raise Conflict(f"emergency bulletin {bulletin.id} is {current}, not a fresh draft")
    _record(session, bulletin, current, Status.SUBMITTED, actor, now, "emergency")
    _record(session, bulletin, Status.SUBMITTED, Status.APPROVED, actor, now, "emergency")


def retire_emergency(
    session: Session, bulletin: Bulletin, actor: Actor, now: datetime, reason: str
) -> None:
    """Archive an approved emergency bulletin that an update or a cancel stopped."""
    actor.require(Role.APPROVER, "stopping an emergency")
    if bulletin.status == Status.APPROVED:
        _record(session, bulletin, Status.APPROVED, Status.ARCHIVED, actor, now, reason)


def record_edit(
    session: Session, bulletin: Bulletin, actor: Actor, now: datetime, changed: str
) -> BulletinTransition:
    """Record an edit in the workflow's trail; a rejected bulletin goes back to draft.

    Only a draft or a rejected bulletin is edited (what an approver saw is never
    changed under them); the step names the fields changed, so the trail shows that
    the text approved later is not the text rejected.
    """
    actor.require_ward(bulletin.ward_code, f"editing bulletin {bulletin.id}")
    actor.require(Role.OFFICER, "editing bulletins")
    current = Status(bulletin.status)
    if current is Status.SUBMITTED:
        raise Conflict(
            f"bulletin {bulletin.id} is submitted for approval: withdraw it (back to draft) "
            "before editing it",
            code="bulletin.withdraw_first",
        )
    if current not in (Status.DRAFT, Status.REJECTED):
        raise Conflict(
            f"bulletin {bulletin.id} is {current}: only a draft or a rejected bulletin can be "
            "edited; write a new bulletin instead",
            code="bulletin.not_editable",
            params={"state": str(current)},
        )
    return _record(session, bulletin, current, Status.DRAFT, actor, now, f"edited: {changed}")


def _record(
    session: Session,
    bulletin: Bulletin,
    current: Status,
    to: Status,
    actor: Actor,
    now: datetime,
    reason: str | None,
) -> BulletinTransition:
    """The step itself: the new status, and its row in the append-only record."""
    step = BulletinTransition(
        bulletin_id=bulletin.id,
        from_status=current.value,
        to_status=to.value,
        actor=actor.name,
        at=now,
        reason=reason,
    )
    bulletin.status = to.value
    bulletin.rejection_reason = reason if to is Status.REJECTED else None
    session.add(step)
    session.flush()
    return step


def history(session: Session, bulletin_id: str) -> list[BulletinTransition]:
    """Every transition of a bulletin, oldest first."""
    query = (
        select(BulletinTransition)
        .where(BulletinTransition.bulletin_id == bulletin_id)
        .order_by(BulletinTransition.id)
    )
    return list(session.scalars(query))


def airable_problem(bulletin: Bulletin, at: datetime) -> str | None:
    """Why ``bulletin`` may not be aired at ``at``; None when it may."""
    if bulletin.status != Status.APPROVED:
        return f"bulletin {bulletin.id} is {bulletin.status}, not approved"
    if bulletin.valid_from is not None and at < bulletin.valid_from:
        return f"bulletin {bulletin.id} is valid only from {bulletin.valid_from.isoformat()}"
    if bulletin.valid_until is not None and at >= bulletin.valid_until:
        return f"bulletin {bulletin.id} expired at {bulletin.valid_until.isoformat()}"
    return None


def airable_refusal(bulletin: Bulletin, at: datetime, doing: str) -> InvalidInput | None:
    """The refusal to ``doing`` (broadcast, queue) ``bulletin`` at ``at``; None when it may air."""
    problem = airable_problem(bulletin, at)
    if problem is None:
        return None
    message = f"cannot {doing}: {problem}"
    if bulletin.status != Status.APPROVED:
        return InvalidInput(
            message,
            code="bulletin.not_approved",
            params={"state": bulletin.status},
            field="bulletin",
        )
    if bulletin.valid_from is not None and at < bulletin.valid_from:
        return InvalidInput(message, code="bulletin.not_yet_valid", field="bulletin")
    return InvalidInput(message, code="bulletin.expired", field="bulletin")


def require_airable(bulletin: Bulletin, at: datetime) -> None:
    """Refuse to schedule content that will not be approved and valid at air time."""
    refusal = airable_refusal(bulletin, at, "broadcast")
    if refusal is not None:
        raise refusal
