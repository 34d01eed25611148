"""The report page's period picker: a kind (day … year) and a date make the period string.

The domain names a period as ``month:2026-12`` (:mod:`controller.domain.reports.periods`);
a ward officer should not have to write that. The page offers a kind and a date (any day
of the week, month, quarter or year wanted) and builds the same string here, on the
server, so the page works without JavaScript. The text field stays as an "advanced"
option (a range ``2026-11-01..2026-11-30``, a link someone sent).

Which one wins: the form carries, hidden, the period the picker showed (``shown``). A
text field that was left as shown (or emptied) means the picker was used; a text field
typed over means the reader wrote the period themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from controller.domain.errors import InvalidInput
from controller.domain.reports.periods import parse_period

KINDS = ("day", "week", "month", "quarter", "year")
CUSTOM = ""  # the picker's "written in the advanced field" choice


def period_of(kind: str, day: date) -> str:
    """The period string of the ``kind`` holding ``day`` (``month`` and 2026-12-05:
    ``month:2026-12``)."""
    if kind == "day":
        return f"day:{day.isoformat()}"
    if kind == "week":
        year, week, _ = day.isocalendar()  # the ISO year: 2026-12-31 is in 2026-W53
        return f"week:{year}-W{week:02d}"
    if kind == "month":
        return f"month:{day:%Y-%m}"
    if kind == "quarter":
        return f"quarter:{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"year:{day.year}"
    raise ValueError(f"not a period kind: {kind!r}")


@dataclass(frozen=True)
class Picked:
    """What the form asked for: the period string, and the picker's values to show."""

    period: str
    kind: str
    on: str
    on_bad: bool = False  # the picker was used with a date that is not one


def pick(kind: str, on: str, typed: str, shown: str, default: str) -> Picked:
    """The period the form asks for (see the module's note on which field wins)."""
    kind, on, typed = kind.strip(), on.strip(), typed.strip()
    if kind in KINDS and (not typed or typed == shown.strip()):
        try:
            day = date.fromisoformat(on)
        except ValueError:
            return Picked(typed or default, kind, on, on_bad=True)
        return Picked(period_of(kind, day), kind, on)
    period = typed or default
    return Picked(period, *picker_values(period))


def picker_values(period: str) -> tuple[str, str]:
    """The picker's kind and date for a period string (a range or a bad one: custom)."""
    try:
        found = parse_period(period)
    except InvalidInput:
        return CUSTOM, ""
    if found.kind not in KINDS:
        return CUSTOM, found.first.isoformat()
    return found.kind, found.first.isoformat()
