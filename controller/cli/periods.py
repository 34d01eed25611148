"""``--period`` for commands whose endpoint takes instants (evidence ``from``/``to``).

The grammar is the reports' (:func:`~controller.domain.reports.periods.parse_period`):
``month:2026-11`` means the same November for ``wardcast report`` and ``wardcast
evidence fetch`` — local dates in the ward's zone, turned into UTC instants exactly as
the reports do. Evidence also takes exact instants, ``FROM..TO`` with a time and a zone
on each side (``2026-11-01T00:00+07:00..2026-12-01T00:00+07:00``, end excluded), for a
window that is not a run of whole days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from controller.domain.errors import InvalidInput
from controller.domain.reports.periods import parse_period


def _instant(text: str, raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{raw!r}: {text!r} is not an instant; write 2026-11-01T00:00+07:00"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{raw!r}: {text!r} has no zone; add one, e.g. +07:00 or Z")
    return moment


def instant_range(text: str) -> tuple[datetime, datetime] | None:
    """``FROM..TO`` as two aware instants, or None when ``text`` is a calendar period."""
    raw = text.strip()
    start_text, sep, end_text = (part.strip() for part in raw.partition(".."))
    if not sep or ("T" not in start_text.upper() and "T" not in end_text.upper()):
        return None
    start, end = _instant(start_text, raw), _instant(end_text, raw)
    if end <= start:
        raise InvalidInput(f"the period {raw!r} ends before it starts: write the earlier first")
    return start, end


def utc_bounds(text: str, zone_of: Callable[[], str]) -> tuple[datetime, datetime]:
    """[start, end) for ``text``; ``zone_of`` is asked only for a calendar period.

    Raises InvalidInput, with the reports' wording, when ``text`` is not a period.
    """
    exact = instant_range(text)
    if exact is not None:
        return exact
    period = parse_period(text)  # before any lookup: a typo costs no round trip
    return period.utc_bounds(zone_of())
