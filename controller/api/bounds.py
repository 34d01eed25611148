"""The API's limits, in one place: what a request may say before the domain reads it.

Every page offset, instant, day, code and identifier a route or schema accepts is
bounded here, so an absurd value (an offset past 2⁶³, a date in year 1 or 9999, a
negative Unix time read as 1969) is a 422 that names the limit, never a 500 from the
database or a row stored for a century nobody meant. The ranges are wide enough for
any real use: a ward's evidence is counted in thousands of rows, not billions, and
Wardcast's instants fall in this century.

One-line texts (titles, names, reasons) refuse control characters: a NUL cannot be
stored by PostgreSQL at all, and a line break or escape in a title only misleads the
reader of a list. The spoken text of a bulletin is cleaned instead, by the domain
(:func:`controller.domain.content.text.clean_spoken_text`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from controller.domain.content.text import clean_spoken_text

MAX_OFFSET = 1_000_000_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)

# Official place codes (ward 26734, group to-3) and the ids the controller hands out
# (bul-…, bc-…, prog-<ward>-<session>): the same shapes the places API and the
# protocol's Identifier already accept.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# Provinces, districts and wards have official codes of a few digits (01, 001, 26734):
# 16 characters at most, as their columns hold.
AREA_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$"
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# No C0 control character and no DEL: ECMA and Rust regex read this class the same way.
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# The same, but tabs and line breaks allowed: a reason may run over several lines.
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

_INSTANT_RANGE = "between 2000-01-01 and 2100-01-01 (UTC)"

Instant = Annotated[
    AwareDatetime,
    Field(
        ge=EARLIEST,
        lt=LATEST,
        description=f"An instant with its zone, e.g. 2026-11-23T05:30:00+07:00, {_INSTANT_RANGE}.",
    ),
]
"""An aware instant within this century's range; a bare number is read as Unix time."""

Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
"""A calendar day between 2000-01-01 and 2099-12-31."""

SpokenText = Annotated[str, AfterValidator(clean_spoken_text)]
"""Text to be spoken: control characters removed, whitespace collapsed (not refused)."""

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
"""A place code: a letter or digit, then letters, digits, '_', '.', '-' (64 at most)."""

AreaCode = Annotated[str, StringConstraints(pattern=AREA_CODE_PATTERN)]
"""A province's, district's or ward's code: the shape of :data:`Code`, 16 at most."""

Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""An id the controller handed out (bulletin, broadcast, device, queue entry)."""


def one_line(max_length: int, min_length: int = 0) -> StringConstraints:
    """A one-line text of at most ``max_length`` characters, with no control character."""
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=ONE_LINE_PATTERN)


def free_text(max_length: int) -> StringConstraints:
    """Text of at most ``max_length`` characters: tabs and line breaks, no other control."""
    return StringConstraints(max_length=max_length, pattern=FREE_TEXT_PATTERN)


# Route parameters. Path segments the database is searched by get the shapes above,
# so a NUL or a megabyte in a URL is refused before any query is built.
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip (at most 1,000,000,000).")
]
CodePath = Annotated[str, Path(pattern=CODE_PATTERN, description="A group's or zone's code.")]
AreaCodePath = Annotated[
    str, Path(pattern=AREA_CODE_PATTERN, description="A province's, district's or ward's code.")
]
IdPath = Annotated[str, Path(pattern=ID_PATTERN, description="An id the controller gave.")]
AreaCodeFilter = Annotated[
    str | None, Query(pattern=AREA_CODE_PATTERN, description="Only this place (its code).")
]
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this id.")]
