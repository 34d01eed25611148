"""When a session airs: its RRULE expanded in the ward's time zone, stored as UTC.

Decisions, and why:

- **Anchor.** An RRULE needs a DTSTART. A session's is its ``start`` time on its
  ``starts_on`` date, or, without one, on Monday 2001-01-01 (:data:`ANCHOR_DATE`).
  That day is a Monday, the 1st of a month and the 1st of January, so the defaults
  RFC 5545 takes from DTSTART are the natural ones: ``FREQ=WEEKLY`` alone means
  Mondays, ``FREQ=MONTHLY`` the 1st of each month, ``FREQ=YEARLY`` each 1 January,
  and ``INTERVAL=2`` counts weeks from that Monday (weeks start on Monday, WKST=MO).
  COUNT would count from 2001, so a rule with COUNT must give ``starts_on``.
- **Wall clock.** A local time that does not exist (the spring-forward gap) airs as
  if the clock had not yet moved: 02:30 on a day when 02:00 jumps to 03:00 airs at
  03:30 local, the same real instant as 02:30 on the old offset (PEP 495, fold=0).
  A local time that happens twice (fall back) airs once, at the first (fold=0).
  Exception dates and broadcast days are about the *nominal* local date.
- **Bounded work.** Sub-daily rules (HOURLY, MINUTELY, SECONDLY) are refused, as is
  anything giving more than :data:`MAX_PER_DAY` a day. dateutil looks for the next
  match without limit, so a rule that can never match (30 February) would make it
  walk day by day to the year 9999. We therefore expand in a copy of the calendar
  moved to the end of its range (the Gregorian calendar repeats exactly: weekdays,
  leap years and week numbers), where the walk stops within a few decades, and move
  the results back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from controller.domain.programmes.content import ContentLookup
from controller.domain.programmes.fields import timezone_problem
from controller.domain.programmes.rrules import WEEKDAYS, ParsedRule, RRuleSyntaxError, parse_rrule
from controller.domain.programmes.schema import (
    BulletinsItem,
    ChimeItem,
    FixedBulletinItem,
    RelayItem,
    SessionDef,
    WardRules,
)

ANCHOR_DATE = date(2001, 1, 1)
"""DTSTART's date for sessions without ``starts_on`` (a Monday, 1 January)."""

MAX_PER_DAY = 10
CHIME_S = 1.25
"""Planned length of one chime, in seconds (the controller's chime asset)."""


class RecurrenceError(ValueError):
    """A session's times cannot be computed; ``code`` is the matching conflict code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def zone_for(timezone: str) -> ZoneInfo:
    """The zone for an IANA key, or :class:`RecurrenceError` (``bad_timezone``)."""
    problem = timezone_problem(timezone)
    if problem:
        raise RecurrenceError("bad_timezone", problem)
    return ZoneInfo(timezone)


def rule_for(session: SessionDef) -> ParsedRule:
    """The session's parsed RRULE; sub-daily rules are refused (``rrule_too_often``)."""
    try:
        rule = parse_rrule(session.rrule)
    except RRuleSyntaxError as exc:
        raise RecurrenceError("rrule_invalid", f"session '{session.code}': {exc}") from None
    if rule.sub_daily:
        raise RecurrenceError(
            "rrule_too_often",
            f"session '{session.code}' repeats {rule.freq}: a session airs at most once a "
            "day; use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY",
        )
    return rule


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall-clock time (gap: moved forward; fold: first)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _add_years(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years) if years else moment


def _year_shift(first_year: int, last_year: int) -> int:
    """Years to move [first_year, last_year] so the calendar is the same and ends late.

    Between 1901 and 2099 every fourth year is a leap year, as between 9901 and 9999;
    a move by a multiple of 4 years that keeps the weekday of 1 January keeps every
    date's weekday and week number. Elsewhere fall back to whole 400-year cycles.
    """
    if first_year >= 1902 and last_year <= 2099:
        shift = (9998 - last_year) // 4 * 4
        while shift >= 9902 - first_year:
            moved = date(first_year + shift, 1, 1) - date(first_year, 1, 1)
            if moved.days % 7 == 0:
                return shift
            shift -= 4
    return max(0, (9998 - last_year) // 400 * 400)


def _align(rule: ParsedRule, dtstart: datetime, low: datetime) -> datetime:
    """Move DTSTART forward by whole periods to just before ``low``, keeping the pattern.

    Whole periods keep INTERVAL's phase, the weekday and the day of the month, so the
    occurrences from ``low`` on are unchanged; only the walk from 2001 is saved.
    """
    target = low - timedelta(days=8)
    if rule.count is not None or dtstart >= target:
        return dtstart
    period_days = {"DAILY": 1, "WEEKLY": 7}.get(rule.freq)
    if period_days:
        step = period_days * rule.interval
        return dtstart + timedelta(days=(target - dtstart).days // step * step)
    if rule.freq == "MONTHLY" and dtstart.day <= 28:
        months = (target.year - dtstart.year) * 12 + target.month - dtstart.month
        periods = months // rule.interval - 1
        if periods > 0:
            index = dtstart.month - 1 + periods * rule.interval
            return dtstart.replace(year=dtstart.year + index // 12, month=index % 12 + 1)
    if rule.freq == "YEARLY" and (dtstart.month, dtstart.day) != (2, 29):
        periods = (target.year - dtstart.year) // rule.interval - 1
        if periods > 0:
            return dtstart.replace(year=dtstart.year + periods * rule.interval)
    return dtstart


def expand_local(session: SessionDef, zone: ZoneInfo, first: date, last: date) -> list[datetime]:
    """Nominal local start times (naive) on local dates ``first``..``last``, inclusive.

    No exception date or broadcast day is applied here; :func:`occurrences` does that.
    """
    rule = rule_for(session)
    dtstart = datetime.combine(session.starts_on or ANCHOR_DATE, session.start)
    low, high = datetime.combine(first, time.min), datetime.combine(last, time.max)
    until = rule.local_until(zone)
    if high < dtstart or (until is not None and until < low):
        return []
    if until is not None and until > high:
        until = None  # beyond the window it changes nothing, and may not move by `shift`
    dtstart = _align(rule, dtstart, low)
    shift = _year_shift(dtstart.year, high.year)
    built = rule.build(_add_years(dtstart, shift), until and _add_years(until, shift))
    found = [
        _add_years(moment, -shift)
        for moment in built.between(_add_years(low, shift), _add_years(high, shift), inc=True)
    ]
    busiest = Counter(moment.date() for moment in found).most_common(1)
    if busiest and busiest[0][1] > MAX_PER_DAY:
        raise RecurrenceError(
            "rrule_too_often",
            f"session '{session.code}' would air {busiest[0][1]} times on {busiest[0][0]}; "
            f"at most {MAX_PER_DAY} a day",
        )
    return found


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def occurrences(
    session: SessionDef,
    timezone: str,
    start: datetime,
    end: datetime,
    broadcast_days: Sequence[str] | None = None,
) -> list[datetime]:
    """UTC start instants of ``session`` in [start, end), in order.

    ``start`` and ``end`` must be aware. Exception dates and days outside
    ``broadcast_days`` (None: every day) are skipped. Raises :class:`RecurrenceError`
    (a ValueError) for an unknown zone, an unreadable RRULE or one that fires more
    often than daily.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    zone = zone_for(timezone)
    if end <= start:
        return []
    # One local day either side: the window's edges in local time may fall on the
    # neighbouring dates, and a gap can move a time across midnight.
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    skipped = set(session.exdates)
    days = None if broadcast_days is None else set(broadcast_days)
    found: list[datetime] = []
    for local in expand_local(session, zone, first, last):
        if local.date() in skipped:
            continue
        if days is not None and WEEKDAYS[local.weekday()] not in days:
            continue
        moment = to_utc(local, zone)
        if start <= moment < end:
            found.append(moment)
    return sorted(found)


def session_length_s(session: SessionDef, content: ContentLookup) -> float:
    """Planned length in seconds: chimes, relay windows, fixed bulletins, capped queues.

    A queue of bulletins without ``max_minutes`` counts as 0 here (its length is not
    known until bulletins are queued); an unknown fixed bulletin counts as 0.
    """
    total = 0.0
    for item in session.rundown:
        if isinstance(item, ChimeItem):
            total += CHIME_S
        elif isinstance(item, RelayItem):
            total += item.minutes * 60
        elif isinstance(item, BulletinsItem):
            total += (item.max_minutes or 0) * 60
        elif isinstance(item, FixedBulletinItem):
            info = content.get(item.bulletin_id)
            total += info.duration_s if info else 0.0
    return total


def session_cap_s(session: SessionDef, rules: WardRules) -> float:
    """The longest the session may last: its own cap or the ward's, whichever is less."""
    cap = float(rules.max_session_minutes)
    if session.max_minutes is not None:
        cap = min(cap, session.max_minutes)
    return cap * 60


def session_span_s(session: SessionDef, rules: WardRules, content: ContentLookup) -> float:
    """How long the session may occupy the loudspeakers, for overlaps and quiet hours.

    A queue without its own limit may fill the session up to its cap, so such a
    session is taken to run to its cap.
    """
    length = session_length_s(session, content)
    unbounded = any(
        isinstance(item, BulletinsItem) and item.max_minutes is None for item in session.rundown
    )
    return max(length, session_cap_s(session, rules)) if unbounded else length
