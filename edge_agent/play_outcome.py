"""How a play ended, in the words of its evidence (the outcome and its reason).

Outcomes decided here: COMPLETED (played to the end), PREEMPTED (cut by an
emergency), PARTIAL (stopped by the controller or by shutdown, or failed after at
least a second of sound), FAILED (no media in time, player error). SKIPPED (stopped
by the controller before its first sample) and a relay's outcomes are decided by
``playback`` and ``relay_outcome``.
"""

from __future__ import annotations

from datetime import datetime

from edge_agent.evidence import PlayFacts
from edge_agent.player import PlayResult
from wardcast_protocol.messages import Outcome

PARTIAL_AFTER_S = 1.0  # a failure after this much sound is PARTIAL, before it FAILED


def played_facts(
    result: PlayResult,
    interrupt: tuple[Outcome, str] | None,
    *,
    actual_start: datetime | None,
    plan_version: int | None,
    volume: int | None,
) -> PlayFacts:
    """The facts of a play that ran: ``result`` as the player reported it, cut by
    ``interrupt`` (outcome, reason) if one came."""
    reason: str | None = None
    if result.completed:
        outcome = Outcome.COMPLETED
        if result.amplifier_on is False:
            reason = "amplifier drew no current"
    elif interrupt is not None:
        outcome, reason = interrupt
    elif result.error is not None:
        outcome = Outcome.PARTIAL if result.played_s >= PARTIAL_AFTER_S else Outcome.FAILED
        reason = result.error
    else:
        outcome, reason = Outcome.PARTIAL, "playback ended early"
    return PlayFacts(
        outcome,
        reason,
        actual_start=result.started_at or actual_start,
        played_s=result.played_s,
        plan_version=plan_version,
        amplifier_on=result.amplifier_on,
        volume=volume,
    )


def failed(reason: str, plan_version: int | None) -> PlayFacts:
    """A play that could not begin (no media in time, media unavailable)."""
    return PlayFacts(Outcome.FAILED, reason, plan_version=plan_version)
