"""How a relay ended, in the words of its evidence: outcome, reason and stream stats.

Apart from ``relay`` (what happens on air) because this is read once, after the window,
off the timing path: it closes the run's books (``relay_books``) and turns them into
``PlayFacts``. The rule, COMPLETED from ``COMPLETE_SHARE`` of the window relayed, is the
one docs/priorities.md states; a media play's outcome is ``play_outcome``.
"""

from __future__ import annotations

from edge_agent.evidence import PlayFacts
from edge_agent.relay import RelayRun
from wardcast_protocol.messages import Outcome, RelayStats

COMPLETE_SHARE = 0.95  # relayed at least this share of the window: COMPLETED


def relay_facts(
    run: RelayRun,
    interrupt: tuple[Outcome, str] | None,
    plan_version: int | None,
    volume: int | None,
) -> PlayFacts:
    """The evidence of a finished relay.

    Outcome: the interruption's (PREEMPTED, or PARTIAL for a stop) if one ended it;
    else COMPLETED when at least 95 % of the window was relayed; else PARTIAL when
    anything (stream or fallback) played; else FAILED. The reason says what went
    wrong, in the stream's own words where it gave any, in the order it happened.
    """
    tally = run.finish()
    window = run.spec.window_s
    if interrupt is not None:
        outcome, lead = interrupt
    elif tally.relayed_s >= COMPLETE_SHARE * window:
        outcome, lead = Outcome.COMPLETED, None
    elif tally.relayed_s > 0 or tally.fallback_s > 0:
        outcome, lead = Outcome.PARTIAL, None
    else:
        outcome, lead = Outcome.FAILED, "nothing relayed and no fallback played"
    problems = tally.reasons()
    parts = [lead] if lead else []
    if outcome is not Outcome.COMPLETED or tally.gap_count or problems:
        parts.append(f"relayed {tally.relayed_s:.1f} of {window:g} s")
        if tally.gap_count:
            parts.append(f"{tally.gap_count} gap(s) totalling {tally.gap_s:.1f} s")
        if tally.fallback_used:
            parts.append(f"fallback played {tally.fallback_s:.1f} s")
        parts += problems
    stats = RelayStats(
        stream_url=run.spec.url,
        relayed_s=tally.relayed_s,
        gap_count=tally.gap_count,
        gap_s=tally.gap_s,
        reconnects=run.monitor.reconnects,
        fallback_used=tally.fallback_used,
        fallback_s=tally.fallback_s,
    )
    return PlayFacts(
        outcome,
        "; ".join(parts) or None,
        actual_start=tally.actual_start,
        played_s=tally.relayed_s + tally.fallback_s,
        plan_version=plan_version,
        amplifier_on=tally.amplifier_on,
        volume=volume,
        relay=stats,
    )
