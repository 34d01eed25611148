"""Does a programme make sense? Clashes, lengths, quiet hours, content, zones.

:func:`check` is what saving a programme runs: the schema has already said the
document is well formed, and this says whether it can be aired as written. Every
conflict names the session(s) concerned and, where it is about a time, the first
local date and time it happens, so an officer can fix it without a manual.

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

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from controller.domain.programmes.content import APPROVED, NO_CONTENT, ContentLookup
from controller.domain.programmes.fields import TimeRange, format_time, stream_url_problem
from controller.domain.programmes.recurrence import (
    CHIME_S,
    RecurrenceError,
    expand_local,
    session_cap_s,
    session_length_s,
    session_span_s,
    to_utc,
    zone_for,
)
from controller.domain.programmes.rrules import WEEKDAYS
from controller.domain.programmes.schema import (
    ALL_ZONES,
    BulletinsItem,
    ChimeItem,
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    SessionDef,
)
from wardcast_protocol.messages import RelaySpec

NEVER_DAYS = 366
DEFAULT_DEAD_AFTER_S: float = RelaySpec.model_fields["dead_after_s"].default
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Conflict:
    """One reason the programme cannot be saved as it is.

    ``path`` points into the document (``sessions[1].start``); ``line`` is filled in
    by whoever knows the source file (the CLI), else None.
    """

    code: str
    message: str
    path: str
    line: int | None = None


@dataclass(frozen=True)
class _Airing:
    """A session's computed air times, for the checks that compare sessions."""

    index: int
    session: SessionDef
    span_s: float
    starts: list[datetime]  # UTC, within the horizon


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    return f"{minutes} min" if minutes else f"{secs} s"


def _minutes(value: float) -> str:
    return f"{value:g} minute{'' if value == 1 else 's'}"


def _zone_list(codes: Sequence[str]) -> str:
    quoted = ", ".join(f"'{code}'" for code in codes)
    return f"zone {quoted}" if len(codes) == 1 else f"zones {quoted}"


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
    found = _duplicates(doc)
    airings: list[_Airing] = []
    for index, session in enumerate(doc.sessions):
        path = f"sessions[{index}]"
        found += _zone_problems(doc, session, path, zones)
        found += _stream_problems(session, path)
        found += _tuning_problems(doc, session, path)
        found += _length_problems(doc, session, path, content or NO_CONTENT)
        try:
            starts, problems = _air_times(doc, session, path, zone, now, horizon_days)
        except RecurrenceError as exc:
            found.append(Conflict(exc.code, str(exc), f"{path}.rrule"))
            continue
        found += problems
        airing = _Airing(
            index,
            session,
            max(1.0, session_span_s(session, doc.rules, content or NO_CONTENT)),
            starts,
        )
        found += _quiet_problems(doc, airing, path, zone)
        if content is not None:
            found += _content_problems(session, path, content, starts, zone)
        airings.append(airing)
    found += _overlaps(airings, zones, zone)
    return found


def _duplicates(doc: ProgrammeDoc) -> list[Conflict]:
    found: list[Conflict] = []
    kinds: tuple[tuple[str, list[str]], ...] = (
        ("session", [session.code for session in doc.sessions]),
        ("target", [target.code for target in doc.targets]),
    )
    for kind, codes in kinds:
        first: dict[str, int] = {}
        for index, code in enumerate(codes):
            if code in first:
                found.append(
                    Conflict(
                        f"duplicate_{kind}",
                        f"{kind} code '{code}' is used by {kind}s #{first[code] + 1} "
                        f"and #{index + 1}: codes must be unique",
                        f"{kind}s[{index}].code",
                    )
                )
            else:
                first[code] = index
    return found


def _zone_problems(
    doc: ProgrammeDoc,
    session: SessionDef,
    path: str,
    zones: Mapping[str, AbstractSet[str]] | None,
) -> list[Conflict]:
    if zones is None:
        return []
    known = ", ".join(sorted(zones)) or "none yet; use 'all'"
    return [
        Conflict(
            "unknown_zone",
            f"session '{session.code}': zone '{code}' is not a zone of ward {doc.ward} "
            f"(its zones: {known})",
            f"{path}.zones[{k}]",
        )
        for k, code in enumerate(session.zones)
        if code != ALL_ZONES and code not in zones
    ]


def _stream_problems(session: SessionDef, path: str) -> list[Conflict]:
    found: list[Conflict] = []
    for k, item in enumerate(session.rundown):
        if isinstance(item, RelayItem):
            problem = stream_url_problem(item.url)
            if problem:
                found.append(
                    Conflict(
                        "bad_stream_url",
                        f"session '{session.code}': relay of {item.station}: {problem}",
                        f"{path}.rundown[{k}].url",
                    )
                )
    return found


def _tuning_problems(doc: ProgrammeDoc, session: SessionDef, path: str) -> list[Conflict]:
    """A relay that would give the stream its whole window before the fallback: the
    fallback could never play, whatever the stream did."""
    found: list[Conflict] = []
    for k, item in enumerate(session.rundown):
        if not isinstance(item, RelayItem):
            continue
        tuned = item.tuning(doc.rules).dead_after_s
        dead_after = DEFAULT_DEAD_AFTER_S if tuned is None else tuned
        if dead_after < item.minutes * 60:
            continue
        # Point at where the value was set: the item, the ward's defaults, or neither.
        where = f"{path}.rundown[{k}]"
        if item.dead_after_s is not None:
            where += ".dead_after_s"
        elif doc.rules.relay_defaults and doc.rules.relay_defaults.dead_after_s is not None:
            where = "rules.relay_defaults.dead_after_s"
        found.append(
            Conflict(
                "relay_tuning",
                f"session '{session.code}': relay of {item.station}: dead air is allowed for "
                f"{dead_after:g} s but the relay lasts {_duration(item.minutes * 60)}, so the "
                "fallback could never play: lower dead_after_s or relay for longer",
                where,
            )
        )
    return found


def _breakdown(session: SessionDef, content: ContentLookup) -> str:
    parts: list[str] = []
    chimes = sum(isinstance(item, ChimeItem) for item in session.rundown)
    if chimes:
        parts.append(f"chimes {_duration(chimes * CHIME_S)}")
    for item in session.rundown:
        if isinstance(item, RelayItem):
            parts.append(f"relay {item.station} {_duration(item.minutes * 60)}")
        elif isinstance(item, BulletinsItem) and item.max_minutes:
            parts.append(f"queued bulletins up to {_duration(item.max_minutes * 60)}")
        elif isinstance(item, FixedBulletinItem):
            info = content.get(item.bulletin_id)
            if info:
                parts.append(f"bulletin '{item.bulletin_id}' {_duration(info.duration_s)}")
    return ", ".join(parts)


def _length_problems(
    doc: ProgrammeDoc, session: SessionDef, path: str, content: ContentLookup
) -> list[Conflict]:
    found: list[Conflict] = []
    ward_max = doc.rules.max_session_minutes
    if session.max_minutes is not None and session.max_minutes > ward_max:
        found.append(
            Conflict(
                "too_long",
                f"session '{session.code}' allows {_minutes(session.max_minutes)}, more than "
                f"the ward's maximum of {_minutes(ward_max)}",
                f"{path}.max_minutes",
            )
        )
    length = session_length_s(session, content)
    cap = session_cap_s(session, doc.rules)
    if length > cap + 1e-6:
        whose = "the ward's" if cap == ward_max * 60 else "its"
        found.append(
            Conflict(
                "too_long",
                f"session '{session.code}' is planned to last {_duration(length)}, longer than "
                f"{whose} maximum of {_minutes(cap / 60)} "
                f"({_breakdown(session, content)})",
                f"{path}.rundown",
            )
        )
    return found


def _air_times(
    doc: ProgrammeDoc,
    session: SessionDef,
    path: str,
    zone: ZoneInfo,
    now: datetime,
    horizon_days: int,
) -> tuple[list[datetime], list[Conflict]]:
    """UTC starts within the horizon, and the problems of the rule over a year."""
    first = now.astimezone(zone).date()
    last = first + timedelta(days=max(NEVER_DAYS, horizon_days) + 1)
    year_end = now + timedelta(days=NEVER_DAYS)
    horizon_end = now + timedelta(days=horizon_days)
    days = set(doc.rules.broadcast_days)
    skipped = set(session.exdates)
    fired = False
    off_day: datetime | None = None
    starts: list[datetime] = []
    for local in expand_local(session, zone, first, last):
        moment = to_utc(local, zone)
        if not now <= moment < max(year_end, horizon_end):
            continue
        fired = True
        if local.date() in skipped:
            continue
        if WEEKDAYS[local.weekday()] not in days:
            off_day = off_day or local
            continue
        starts.append(moment)
    problems: list[Conflict] = []
    if not fired:
        problems.append(
            Conflict(
                "rrule_never",
                f"session '{session.code}' never airs: its rule '{session.rrule}' gives no "
                f"date from {first} to {first + timedelta(days=NEVER_DAYS)}",
                f"{path}.rrule",
            )
        )
    elif off_day is not None:
        allowed = ",".join(doc.rules.broadcast_days)
        problems.append(
            Conflict(
                "not_broadcast_day",
                f"session '{session.code}' falls on {_DAY_NAMES[off_day.weekday()]} "
                f"{off_day.date()}, which is not one of the ward's broadcast days ({allowed}): "
                f"limit its rrule to them (BYDAY={allowed}) or add the date to exdates",
                f"{path}.rrule",
            )
        )
    elif not starts:
        problems.append(
            Conflict(
                "rrule_never",
                f"session '{session.code}' never airs in the next {NEVER_DAYS} days: every "
                "date its rule gives is one of its exdates",
                f"{path}.exdates",
            )
        )
    return [moment for moment in starts if moment < horizon_end], problems


def _quiet_window(day: datetime, quiet: TimeRange, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The quiet range that starts on ``day``'s local date, as UTC instants."""
    begin = datetime.combine(day.date(), quiet.start)
    end_day = day.date() + timedelta(days=1 if quiet.end <= quiet.start else 0)
    return to_utc(begin, zone), to_utc(datetime.combine(end_day, quiet.end), zone)


def _quiet_problems(
    doc: ProgrammeDoc, airing: _Airing, path: str, zone: ZoneInfo
) -> list[Conflict]:
    span = timedelta(seconds=airing.span_s)
    for start in airing.starts:
        local = start.astimezone(zone).replace(tzinfo=None)
        for quiet in doc.rules.quiet_hours:
            # The range that began the evening before, today's, or tomorrow's (a late
            # session can run past midnight into it).
            for offset in (-1, 0, 1):
                begin, end = _quiet_window(local + timedelta(days=offset), quiet, zone)
                if start < end and begin < start + span:
                    return [
                        Conflict(
                            "quiet_hours",
                            f"session '{airing.session.code}' on {local.date()} runs "
                            f"{_clock(start, zone)}–{_clock(start + span, zone)} "
                            f"({zone.key}), inside the quiet hours "
                            f"{format_time(quiet.start)}–{format_time(quiet.end)}",
                            f"{path}.start",
                        )
                    ]
    return []


def _content_problems(
    session: SessionDef,
    path: str,
    content: ContentLookup,
    starts: list[datetime],
    zone: ZoneInfo,
) -> list[Conflict]:
    refs: list[tuple[str, str, str]] = []
    for k, item in enumerate(session.rundown):
        if isinstance(item, FixedBulletinItem):
            refs.append((item.bulletin_id, f"{path}.rundown[{k}].bulletin_id", "bulletin"))
        elif isinstance(item, RelayItem) and item.fallback_bulletin:
            refs.append(
                (
                    item.fallback_bulletin,
                    f"{path}.rundown[{k}].fallback_bulletin",
                    "fallback bulletin",
                )
            )
    found: list[Conflict] = []
    next_air = starts[0] if starts else None
    for bulletin_id, where, role in refs:
        who = f"session '{session.code}': {role} '{bulletin_id}'"
        info = content.get(bulletin_id)
        if info is None:
            found.append(Conflict("content_unknown", f"{who} does not exist", where))
        elif info.status != APPROVED:
            found.append(
                Conflict(
                    "content_not_approved",
                    f"{who} is {info.status}, not approved: only approved bulletins are aired",
                    where,
                )
            )
        elif next_air is not None:
            when = f"the session next airs on {_local(next_air, zone)} ({zone.key})"
            if info.valid_until is not None and _aware(info.valid_until) <= next_air:
                found.append(
                    Conflict(
                        "content_expired",
                        f"{who} is valid until {_local(_aware(info.valid_until), zone)}, "
                        f"before {when}",
                        where,
                    )
                )
            elif info.valid_from is not None and _aware(info.valid_from) > next_air:
                found.append(
                    Conflict(
                        "content_not_yet_valid",
                        f"{who} is valid only from {_local(_aware(info.valid_from), zone)}, "
                        f"after {when}",
                        where,
                    )
                )
    return found


def _aware(moment: datetime) -> datetime:
    """Content times are UTC; a naive one from a careless store is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _shared(
    first: SessionDef, second: SessionDef, zones: Mapping[str, AbstractSet[str]] | None
) -> str | None:
    """Where two sessions would both be heard, in words, or None if nowhere."""
    a, b = first.zones, second.zones
    if ALL_ZONES in a and ALL_ZONES in b:
        return "in every zone"
    if ALL_ZONES in a or ALL_ZONES in b:
        return f"in {_zone_list(b if ALL_ZONES in a else a)}"
    common = [code for code in a if code in b]
    if common:
        return f"in {_zone_list(common)}"
    if zones is None:
        return None
    groups_a = set().union(*(zones.get(code, set()) for code in a))
    groups_b = set().union(*(zones.get(code, set()) for code in b))
    both = sorted(groups_a & groups_b)
    if not both:
        return None
    listed = ", ".join(f"'{group}'" for group in both)
    return f"in group{'s' if len(both) > 1 else ''} {listed} ({_zone_list(a)} and {_zone_list(b)})"


def _first_clash(one: _Airing, other: _Airing) -> tuple[datetime, datetime] | None:
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


def _overlaps(
    airings: list[_Airing], zones: Mapping[str, AbstractSet[str]] | None, zone: ZoneInfo
) -> list[Conflict]:
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
                    f"{_local(second_start, zone)} ({zone.key}) {where}: "
                    f"'{first.session.code}' runs {_clock(first_start, zone)}–"
                    f"{_clock(ends, zone)} and '{second.session.code}' starts at "
                    f"{_clock(second_start, zone)}",
                    f"sessions[{other.index}].start",
                )
            )
    return found
