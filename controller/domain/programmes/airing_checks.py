"""The checks at a session's air times: its rule over a year, quiet hours, bulletin validity.

Each session's RRULE is expanded in the ward's zone (:mod:`recurrence`) and its air
times judged one session at a time: does it ever air, does it fall on a day the
ward does not broadcast, does it run into quiet hours, are its bulletins valid at
the next air time. These need the calendar and a clock, which ``document_checks``
does not; the clashes between two sessions' air times are in ``clashes``.
:class:`Airing` carries one session's air times from here to there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from controller.domain.programmes.conflict import Conflict, clock, local_time
from controller.domain.programmes.content import APPROVED, ContentLookup
from controller.domain.programmes.fields import TimeRange, format_time
from controller.domain.programmes.recurrence import expand_local, to_utc
from controller.domain.programmes.rrules import WEEKDAYS
from controller.domain.programmes.schema import (
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    SessionDef,
)

NEVER_DAYS = 366
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Airing:
    """A session's computed air times, for the checks that compare sessions."""

    index: int
    session: SessionDef
    span_s: float
    starts: list[datetime]  # UTC, within the horizon


def air_times(
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


def quiet_problems(doc: ProgrammeDoc, airing: Airing, path: str, zone: ZoneInfo) -> list[Conflict]:
    """The first air time of ``airing`` that runs into the ward's quiet hours, if any."""
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
                            f"{clock(start, zone)}–{clock(start + span, zone)} "
                            f"({zone.key}), inside the quiet hours "
                            f"{format_time(quiet.start)}–{format_time(quiet.end)}",
                            f"{path}.start",
                        )
                    ]
    return []


def content_problems(
    session: SessionDef,
    path: str,
    content: ContentLookup,
    starts: list[datetime],
    zone: ZoneInfo,
) -> list[Conflict]:
    """Bulletins of ``session`` that do not exist, are not approved or are not valid at
    its next air time (the first of ``starts``)."""
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
            when = f"the session next airs on {local_time(next_air, zone)} ({zone.key})"
            if info.valid_until is not None and _aware(info.valid_until) <= next_air:
                found.append(
                    Conflict(
                        "content_expired",
                        f"{who} is valid until {local_time(_aware(info.valid_until), zone)}, "
                        f"before {when}",
                        where,
                    )
                )
            elif info.valid_from is not None and _aware(info.valid_from) > next_air:
                found.append(
                    Conflict(
                        "content_not_yet_valid",
                        f"{who} is valid only from {local_time(_aware(info.valid_from), zone)}, "
                        f"after {when}",
                        where,
                    )
                )
    return found


def _aware(moment: datetime) -> datetime:
    """Content times are UTC; a naive one from a careless store is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
