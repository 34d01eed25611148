"""Does a programme make sense? Clashes, lengths, quiet hours, content, zones.

:func:`check` is what saving a programme runs: the schema has already said the
document is well formed, and this says whether it can be aired as written. Every
conflict names the session(s) concerned and, where it is about a time, the first
local date and time it happens, so an officer can fix it without a manual.

This module is the entry point and runs the checks in document order; the checks
themselves are grouped by what they need: ``document_checks`` (the document as
written), ``airing_checks`` (one session's air times), ``clashes`` (two sessions'
air times). :class:`~controller.domain.programmes.conflict.Conflict` is in ``conflict``.

Codes:

========================  ====================================================
overlap                   two sessions on the air at once for the same group
too_long                  planned longer than the session's or the ward's cap
quiet_hours               a session runs into the ward's quiet hours
not_broadcast_day         the rule gives a day the ward does not broadcast on
rrule_never               no air time in the next 366 days
rrule_too_often           more than once a day (HOURLY, MINUTELY, SECONDLY)
rrule_invalid             unreadable RRULE (only for unvalidated documents)
bad_timezone              unknown zone (only for unvalidated documents)
bad_stream_url            not a stream URL (only for unvalidated documents)
relay_tuning              a relay whose dead-air limit is as long as the relay itself
unknown_zone              a zone code the ward does not have
duplicate_session         two sessions with one code
duplicate_target          two targets with one code
content_unknown           a bulletin id that does not exist
content_not_approved      a bulletin that is not approved
content_expired           a bulletin no longer valid at the next air time
content_not_yet_valid     a bulletin not yet valid at the next air time
========================  ====================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime

from controller.domain.programmes.airing_checks import (
    Airing,
    air_times,
    content_problems,
    quiet_problems,
)
from controller.domain.programmes.clashes import overlaps
from controller.domain.programmes.conflict import Conflict
from controller.domain.programmes.content import NO_CONTENT, ContentLookup
from controller.domain.programmes.document_checks import (
    duplicates,
    length_problems,
    stream_problems,
    tuning_problems,
    zone_problems,
)
from controller.domain.programmes.recurrence import RecurrenceError, session_span_s, zone_for
from controller.domain.programmes.schema import ProgrammeDoc


def check(
    doc: ProgrammeDoc,
    *,
    zones: Mapping[str, AbstractSet[str]] | None,
    content: ContentLookup | None,
    now: datetime,
    horizon_days: int = 28,
) -> list[Conflict]:
    """Every conflict in ``doc``, in document order; [] when it can be saved.

    ``zones`` maps the ward's zone codes to their residential group codes (None: do
    not check zone codes, and only identical codes or 'all' count as shared).
    ``content`` answers bulletin ids (None: do not check content). Clashes and
    quiet hours are looked for from ``now`` (aware) over ``horizon_days``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    try:
        zone = zone_for(doc.timezone)
    except RecurrenceError as exc:
        return [Conflict(exc.code, str(exc), "timezone")]
    found = duplicates(doc)
    airings: list[Airing] = []
    for index, session in enumerate(doc.sessions):
        path = f"sessions[{index}]"
        found += zone_problems(doc, session, path, zones)
        found += stream_problems(session, path)
        found += tuning_problems(doc, session, path)
        found += length_problems(doc, session, path, content or NO_CONTENT)
        try:
            starts, problems = air_times(doc, session, path, zone, now, horizon_days)
        except RecurrenceError as exc:
            found.append(Conflict(exc.code, str(exc), f"{path}.rrule"))
            continue
        found += problems
        airing = Airing(
            index,
            session,
            max(1.0, session_span_s(session, doc.rules, content or NO_CONTENT)),
            starts,
        )
        found += quiet_problems(doc, airing, path, zone)
        if content is not None:
            found += content_problems(session, path, content, starts, zone)
        airings.append(airing)
    found += overlaps(airings, zones, zone)
    return found
