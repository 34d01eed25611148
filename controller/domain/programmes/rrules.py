"""RRULE text (RFC 5545, section 3.3.10): parsed and checked here, expanded by python-dateutil.

A session's ``rrule`` is the body of an RRULE without DTSTART, for example
``FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR``. The time of day comes from the session's
``start``, so BYHOUR, BYMINUTE and BYSECOND are refused: a session airs at one time,
and a second time is a second session.

We parse the text ourselves instead of handing it to ``dateutil.rrule.rrulestr``
because dateutil accepts input that makes it loop for ever (``INTERVAL=0``) and
answers others with terse messages; an officer deserves a sentence that names the
part that is wrong. The parsed parts are then given to ``dateutil.rrule.rrule``.

UNTIL may be written three ways, and is read in the ward's time zone:

- ``UNTIL=20261231``: the last *local date* the session may air on (inclusive);
- ``UNTIL=20261231T173000``: a local wall-clock instant;
- ``UNTIL=20261231T103000Z``: an instant in UTC (RFC 5545's form for zoned starts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as du

FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
SUB_DAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()

MAX_INTERVAL = 1000
MAX_COUNT = 100_000

_FREQ_CONST: dict[str, Literal[0, 1, 2, 3, 4, 5, 6]] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
    "HOURLY": du.HOURLY,
    "MINUTELY": du.MINUTELY,
    "SECONDLY": du.SECONDLY,
}
_ALLOWED = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
_TIME_OF_DAY = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
# RFC 5545's table of which BYxxx parts go with which FREQ ("N/A" cells are refused).
_NOT_WITH = {
    "BYMONTHDAY": frozenset({"WEEKLY"}),
    "BYYEARDAY": frozenset({"DAILY", "WEEKLY", "MONTHLY"}),
    "BYWEEKNO": frozenset({"DAILY", "WEEKLY", "MONTHLY", "HOURLY", "MINUTELY", "SECONDLY"}),
}
_BYDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


class RRuleSyntaxError(ValueError):
    """The RRULE text is not one we can read; the message says which part and why."""


@dataclass(frozen=True)
class ParsedRule:
    """An RRULE body, checked part by part (dateutil-ready values)."""

    text: str
    freq: str
    interval: int = 1
    count: int | None = None
    until: date | datetime | None = None  # a date, a naive local datetime, or aware UTC
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    bysetpos: tuple[int, ...] = ()
    byday: tuple[tuple[int, int | None], ...] = ()  # (weekday index, ordinal or None)
    wkst: int = 0
    parts: tuple[str, ...] = field(default=(), compare=False)

    @property
    def sub_daily(self) -> bool:
        """True for HOURLY, MINUTELY and SECONDLY rules (never allowed for a session)."""
        return self.freq in SUB_DAILY

    def local_until(self, zone: ZoneInfo) -> datetime | None:
        """UNTIL as a naive local datetime in ``zone`` (a date means the whole day)."""
        until = self.until
        if until is None:
            return None
        if isinstance(until, datetime):
            if until.tzinfo is None:
                return until
            return until.astimezone(zone).replace(tzinfo=None)
        return datetime.combine(until, time.max)

    def build(self, dtstart: datetime, until: datetime | None) -> du.rrule:
        """The dateutil rule from ``dtstart`` (naive local) to ``until`` (naive local)."""
        byday = [du.weekday(day, n) if n else du.weekday(day) for day, n in self.byday]
        return du.rrule(
            _FREQ_CONST[self.freq],
            dtstart=dtstart,
            interval=self.interval,
            wkst=self.wkst,
            count=self.count,
            until=until,
            bysetpos=list(self.bysetpos) or None,
            bymonth=list(self.bymonth) or None,
            bymonthday=list(self.bymonthday) or None,
            byyearday=list(self.byyearday) or None,
            byweekno=list(self.byweekno) or None,
            byweekday=byday or None,
            cache=False,
        )


def _int_list(name: str, value: str, low: int, high: int, signed: bool) -> tuple[int, ...]:
    """A comma list of integers in ±[low, high] (or [low, high] unsigned)."""
    numbers: list[int] = []
    for piece in value.split(","):
        if not re.fullmatch(r"[+-]?\d{1,4}", piece):
            raise RRuleSyntaxError(f"{name}: {piece!r} is not a whole number")
        number = int(piece)
        size = abs(number) if signed else number
        if not low <= size <= high or (not signed and piece.startswith("-")):
            span = f"±{low}..{high}" if signed else f"{low}..{high}"
            raise RRuleSyntaxError(f"{name}: {number} is out of range ({span})")
        numbers.append(number)
    return tuple(numbers)


def _byday(value: str, freq: str) -> tuple[tuple[int, int | None], ...]:
    days: list[tuple[int, int | None]] = []
    for piece in value.split(","):
        match = _BYDAY.fullmatch(piece)
        if not match:
            raise RRuleSyntaxError(
                f"BYDAY: {piece!r} is not a weekday; use MO, TU, WE, TH, FR, SA, SU "
                "(or an ordinal such as 1MO or -1FR with FREQ=MONTHLY or YEARLY)"
            )
        sign, digits, day = match.groups()
        ordinal = None
        if digits:
            ordinal = int(digits) * (-1 if sign == "-" else 1)
            if not 1 <= abs(ordinal) <= 53:
                raise RRuleSyntaxError(f"BYDAY: ordinal {ordinal} is out of range (±1..53)")
            if freq not in ("MONTHLY", "YEARLY"):
                raise RRuleSyntaxError(
                    f"BYDAY: {piece} has an ordinal, which only means something with "
                    "FREQ=MONTHLY or FREQ=YEARLY"
                )
        elif sign:
            raise RRuleSyntaxError(f"BYDAY: {piece!r} has a sign but no number")
        days.append((WEEKDAYS.index(day), ordinal))
    return tuple(days)


def _until(value: str) -> date | datetime:
    match = _UNTIL.fullmatch(value)
    if not match:
        raise RRuleSyntaxError(
            f"UNTIL: {value!r} is not a date (20261231), a local time (20261231T173000) "
            "or a UTC time (20261231T103000Z)"
        )
    day, clock, zulu = match.groups()
    try:
        if clock is None:
            return datetime.strptime(day, "%Y%m%d").date()
        moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    except ValueError:
        raise RRuleSyntaxError(f"UNTIL: {value!r} is not a real date and time") from None
    return moment.replace(tzinfo=UTC) if zulu else moment


def parse_rrule(text: str) -> ParsedRule:
    """Parse and check an RRULE body; raise :class:`RRuleSyntaxError` with a clear reason.

    Checks every part's name, value and range, and that each BYxxx part goes with the
    FREQ (RFC 5545's table). It does not expand the rule: whether it ever fires, or
    fires too often, is :mod:`controller.domain.programmes.recurrence`'s question.
    """
    if not isinstance(text, str):
        raise RRuleSyntaxError("an RRULE is text such as 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body:
        raise RRuleSyntaxError("the RRULE is empty; write e.g. 'FREQ=DAILY'")
    if len(body) > 500:
        raise RRuleSyntaxError("the RRULE is longer than 500 characters")
    if any(ch.isspace() for ch in body):
        raise RRuleSyntaxError("an RRULE has no spaces or line breaks: 'FREQ=DAILY;INTERVAL=2'")
    values: dict[str, str] = {}
    for part in filter(None, body.split(";")):
        name, sep, value = part.partition("=")
        name = name.upper()
        if not sep or not value:
            raise RRuleSyntaxError(f"{part!r} is not NAME=VALUE")
        if name == "DTSTART":
            raise RRuleSyntaxError(
                "leave DTSTART out: a session starts at its `start` time (from `starts_on`)"
            )
        if name in _TIME_OF_DAY:
            raise RRuleSyntaxError(
                f"{name} is not allowed: the time of day is the session's `start`; "
                "for another time of day, add another session"
            )
        if name not in _ALLOWED:
            raise RRuleSyntaxError(f"unknown RRULE part {name!r}; allowed: {', '.join(_ALLOWED)}")
        if name in values:
            raise RRuleSyntaxError(f"{name} is given twice")
        values[name] = value.upper()
    freq = values.get("FREQ")
    if freq is None:
        raise RRuleSyntaxError("FREQ is missing; e.g. 'FREQ=WEEKLY;BYDAY=MO,WE,FR'")
    if freq not in FREQUENCIES:
        raise RRuleSyntaxError(f"FREQ={freq} is not one of {', '.join(FREQUENCIES)}")
    for name, freqs in _NOT_WITH.items():
        if name in values and freq in freqs:
            raise RRuleSyntaxError(f"{name} cannot be used with FREQ={freq} (RFC 5545)")
    if "COUNT" in values and "UNTIL" in values:
        raise RRuleSyntaxError("give COUNT or UNTIL, not both")
    wkst = values.get("WKST", "MO")
    if wkst not in WEEKDAYS:
        raise RRuleSyntaxError(f"WKST: {wkst!r} is not a weekday (MO..SU)")
    return ParsedRule(
        text=text,
        freq=freq,
        interval=_int_list("INTERVAL", values.get("INTERVAL", "1"), 1, MAX_INTERVAL, False)[0],
        count=(
            _int_list("COUNT", values["COUNT"], 1, MAX_COUNT, False)[0]
            if "COUNT" in values
            else None
        ),
        until=_until(values["UNTIL"]) if "UNTIL" in values else None,
        bymonth=_optional(values, "BYMONTH", 12, signed=False),
        bymonthday=_optional(values, "BYMONTHDAY", 31),
        byyearday=_optional(values, "BYYEARDAY", 366),
        byweekno=_optional(values, "BYWEEKNO", 53),
        bysetpos=_optional(values, "BYSETPOS", 366),
        byday=_byday(values["BYDAY"], freq) if "BYDAY" in values else (),
        wkst=WEEKDAYS.index(wkst),
        parts=tuple(values),
    )


def _optional(
    values: dict[str, str], name: str, high: int, *, signed: bool = True
) -> tuple[int, ...]:
    """A BYxxx list of numbers (negative ones count from the end), or () when absent."""
    if name not in values:
        return ()
    return _int_list(name, values[name], 1, high, signed)
