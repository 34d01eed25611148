"""Clashes: two sessions on the air at once where the same residents would hear both.

Unlike every other check, an ``overlap`` is about a pair of sessions: it compares
the :class:`~controller.domain.programmes.airing_checks.Airing` of each session with
every other's, after all of them are computed, and asks whether the two share a
zone or a residential group. That pairwise work, and the wording of where the two
would be heard, is all this module holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from controller.domain.programmes.airing_checks import Airing
from controller.domain.programmes.conflict import Conflict, clock, local_time, zone_list
from controller.domain.programmes.schema import ALL_ZONES, SessionDef


def _shared(
    first: SessionDef, second: SessionDef, zones: Mapping[str, AbstractSet[str]] | None
) -> str | None:
    """Where two sessions would both be heard, in words, or None if nowhere."""
    a, b = first.zones, second.zones
    if ALL_ZONES in a and ALL_ZONES in b:
        return "in every zone"
    if ALL_ZONES in a or ALL_ZONES in b:
        return f"in {zone_list(b if ALL_ZONES in a else a)}"
    common = [code for code in a if code in b]
    if common:
        return f"in {zone_list(common)}"
    if zones is None:
        return None
    groups_a = set().union(*(zones.get(code, set()) for code in a))
    groups_b = set().union(*(zones.get(code, set()) for code in b))
    both = sorted(groups_a & groups_b)
    if not both:
        return None
    listed = ", ".join(f"'{group}'" for group in both)
    return f"in group{'s' if len(both) > 1 else ''} {listed} ({zone_list(a)} and {zone_list(b)})"


def _first_clash(one: Airing, other: Airing) -> tuple[datetime, datetime] | None:
    """The first pair of start times whose spans overlap (both lists are sorted)."""
    i = j = 0
    span_one, span_other = timedelta(seconds=one.span_s), timedelta(seconds=other.span_s)
    while i < len(one.starts) and j < len(other.starts):
        a, b = one.starts[i], other.starts[j]
        if a + span_one <= b:
            i += 1
        elif b + span_other <= a:
            j += 1
        else:
            return a, b
    return None


def overlaps(
    airings: list[Airing], zones: Mapping[str, AbstractSet[str]] | None, zone: ZoneInfo
) -> list[Conflict]:
    """Every pair of sessions heard in one place whose air times overlap (``overlap``),
    at the first time they do."""
    found: list[Conflict] = []
    for n, one in enumerate(airings):
        for other in airings[n + 1 :]:
            where = _shared(one.session, other.session, zones)
            clash = _first_clash(one, other) if where else None
            if clash is None:
                continue
            a, b = clash
            first, second = (one, other) if a <= b else (other, one)
            first_start, second_start = min(a, b), max(a, b)
            ends = first_start + timedelta(seconds=first.span_s)
            found.append(
                Conflict(
                    "overlap",
                    f"sessions '{one.session.code}' and '{other.session.code}' overlap on "
                    f"{local_time(second_start, zone)} ({zone.key}) {where}: "
                    f"'{first.session.code}' runs {clock(first_start, zone)}–"
                    f"{clock(ends, zone)} and '{second.session.code}' starts at "
                    f"{clock(second_start, zone)}",
                    f"sessions[{other.index}].start",
                )
            )
    return found
