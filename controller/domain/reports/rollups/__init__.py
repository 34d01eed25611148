"""Per-day rollups of planned plays against evidence: kept current as rows arrive.

A report over a year reads a few thousand summed rows instead of a hundred thousand
plays. The sums are derived data: each (ward, local date) is rebuilt from
``planned_plays`` and ``playback_evidence`` whenever it was never built or built
under other rules, when evidence or plans for it were stored after it was built, or
when it was built while the day could still change and is no longer fresh.

``dirty`` marks a (ward, day) out of date in the very transaction that stores
evidence or a planned play for it; ``judging`` says how a planned play is judged
(owed, confirmed, played, missed, pending, on time) and lists missed plays;
``facts`` joins plans to their evidence once per run of days; ``sums`` is the SQL
that sums those facts per device and per ward; ``rebuild`` re-sums a run of days;
``staleness`` decides which days must be; ``upkeep`` holds the entry points:
:func:`keep_current` for the periodic job that re-sums dirty days before anyone
asks, :func:`ensure_rollups` for reports (only what is still stale), :func:`backfill`
for a past never summed (a scheduled job).
"""

from controller.domain.reports.rollups.dirty import mark
from controller.domain.reports.rollups.judging import (
    OUTCOMES,
    PLAYED_OUTCOMES,
    RollupRules,
    missed_select,
)
from controller.domain.reports.rollups.months import MONTH_LEVEL
from controller.domain.reports.rollups.rebuild import rebuild
from controller.domain.reports.rollups.staleness import invalidate_changed
from controller.domain.reports.rollups.sums import DEVICE_LEVEL, WARD_LEVEL
from controller.domain.reports.rollups.upkeep import (
    backfill,
    ensure_rollups,
    keep_current,
    refresh_recent,
    resum_dirty,
)

__all__ = [
    "DEVICE_LEVEL",
    "MONTH_LEVEL",
    "OUTCOMES",
    "PLAYED_OUTCOMES",
    "WARD_LEVEL",
    "RollupRules",
    "backfill",
    "ensure_rollups",
    "invalidate_changed",
    "keep_current",
    "mark",
    "missed_select",
    "rebuild",
    "refresh_recent",
    "resum_dirty",
]
