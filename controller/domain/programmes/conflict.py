"""One conflict in a programme, and the phrases every conflict message is built from.

A :class:`Conflict` is what :func:`controller.domain.programmes.conflicts.check`
returns and what the API, the CLI and the console show. It lives apart from the
checks so that each kind of check (``document_checks``, ``airing_checks``,
``clashes``) can build one without importing the others, and so that its messages
write a time, a length or a list of zones the same way wherever they come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


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


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` as the ward's local date and time (``2026-03-02 06:00``)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` as the ward's local clock time (``06:00``)."""
    return moment.astimezone(zone).strftime("%H:%M")


def duration(seconds: float) -> str:
    """A length in minutes and seconds, as an officer says it (``2 min 30 s``)."""
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    return f"{minutes} min" if minutes else f"{secs} s"


def in_minutes(value: float) -> str:
    """A number of minutes with its unit (``1 minute``, ``15 minutes``)."""
    return f"{value:g} minute{'' if value == 1 else 's'}"


def zone_list(codes: Sequence[str]) -> str:
    """Zone codes quoted, with 'zone' or 'zones' before them."""
    quoted = ", ".join(f"'{code}'" for code in codes)
    return f"zone {quoted}" if len(codes) == 1 else f"zones {quoted}"
