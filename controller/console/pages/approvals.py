"""The approval queue, for approvers: filter by state and ward, listen, read, approve or reject.

Nobody approves their own bulletin: the workflow refuses it (``OwnBulletin``) and the
page shows the domain's words beside the buttons. A rejection needs a reason the
officer can act on: the page asks for it first, the workflow checks it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import ApproverPageDep, FormDep
from controller.console.editorial import STATES, player_url, refusal, ward_options
from controller.console.page import FormValues, Page
from controller.db.models import Bulletin
from controller.domain.content import access, workflow
from controller.domain.content.workflow import Status
from controller.domain.errors import DomainError

router = APIRouter(prefix="/approvals")

REASON_MAX = 500
QUEUE_LIMIT = 500


def queue(page: Page, session: Session, state: str, ward: str) -> Sequence[Bulletin]:
    """The bulletins the approver may read, in one state (all: '') and ward (all: '')."""
    assert page.actor is not None
    return access.visible_bulletins(
        session,
        page.actor,
        limit=QUEUE_LIMIT,
        status=Status(state) if state else None,
        ward_code=ward or None,
    )


@router.get("")
def approval_queue(
    page: ApproverPageDep,
    session: SessionDep,
    state: Annotated[str, Query(max_length=16)] = Status.SUBMITTED.value,
    ward: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Bulletins waiting for approval (or in the state chosen), oldest question first."""
    state = state if state in STATES else ""
    wards = ward_options(page, session)
    ward = ward if ward in {code for code, _ in wards} else ""
    found = queue(page, session, state, ward)
    if state == Status.SUBMITTED.value:
        found = list(reversed(found))  # the longest-waiting first
    return page.render(
        "approvals/queue.html",
        bulletins=found,
        players={b.id: player_url(page, b) for b in found},
        state_options=[("", page.t("state.all"))] + [(s, page.t(f"state.{s}")) for s in STATES],
        ward_options=[("", page.t("approvals.all_wards")), *wards],
        form=FormValues({"state": [state], "ward": [ward]}),
    )


def _review(page: Page, session: Session, bulletin: Bulletin, **extra: Any) -> dict[str, Any]:
    return {
        "bulletin": bulletin,
        "audio_url": player_url(page, bulletin),
        "history": workflow.history(session, bulletin.id),
        **extra,
    }


@router.get("/{bulletin_id}")
# A decision posted after the session expired comes back here (the reason as typed).
@router.get("/{bulletin_id}/approve")
@router.get("/{bulletin_id}/reject")
def review(bulletin_id: str, page: ApproverPageDep, session: SessionDep) -> Response:
    """One bulletin to decide on: its clip, its text, its history, the two decisions."""
    assert page.actor is not None
    bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
    return page.render("approvals/review.html", **_review(page, session, bulletin))


def _decide(
    bulletin_id: str,
    to: Status,
    page: Page,
    form: FormValues,
    session: Session,
    reason: str | None = None,
) -> Response:
    """Take the decision; a refusal (own bulletin, wrong state…) is shown on the review page."""
    assert page.actor is not None
    bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
    errors: dict[str, str] = {}
    status = 422
    if to is Status.REJECTED and not reason:
        errors["reason"] = page.t("approvals.reason_missing")
    elif reason is not None and len(reason) > REASON_MAX:
        errors["reason"] = page.t("approvals.reason_long", max=REASON_MAX)
    else:
        try:
            workflow.transition(session, bulletin, to, page.actor, page.now, reason)
        except DomainError as exc:
            session.rollback()
            bulletin = access.visible_bulletin(session, bulletin_id, page.actor)
            field = "reason" if to is Status.REJECTED and exc.status == 422 else "decision"
            errors[field] = refusal(page, exc)
            status = exc.status
    if errors:
        context = _review(page, session, bulletin, form=form, errors=errors)
        return page.render("approvals/review.html", status=status, **context)
    done = "done.bulletin_approved" if to is Status.APPROVED else "done.bulletin_rejected"
    return page.redirect("/approvals", done=done)


@router.post("/{bulletin_id}/approve")
def approve(
    bulletin_id: str, page: ApproverPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Approve: the bulletin may now be scheduled and aired."""
    return _decide(bulletin_id, Status.APPROVED, page, form, session)


@router.post("/{bulletin_id}/reject")
def reject(bulletin_id: str, page: ApproverPageDep, form: FormDep, session: SessionDep) -> Response:
    """Reject with a reason, which the officer sees on the bulletin and in their list."""
    reason = " ".join(form.get("reason").split())
    return _decide(bulletin_id, Status.REJECTED, page, form, session, reason)
