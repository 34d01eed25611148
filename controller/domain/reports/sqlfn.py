"""The few SQL expressions that SQLite and PostgreSQL spell differently.

SQLite keeps timestamps as ISO text (UTC, naive) and has no interval type;
PostgreSQL keeps ``timestamptz``. Reports need three things from them: seconds
between two instants, the local date of an instant at a fixed UTC offset, and the
UTC date of an instant. Each is built here for the session's dialect, so the
report queries are written once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float, SQLColumnExpression, cast, func, literal_column
from sqlalchemy.orm import Session


def is_sqlite(session: Session) -> bool:
    """Whether the session talks to SQLite (else PostgreSQL)."""
    return session.get_bind().dialect.name == "sqlite"


def seconds_between(
    sqlite: bool, start: SQLColumnExpression[Any], end: SQLColumnExpression[Any]
) -> SQLColumnExpression[float]:
    """``end - start`` in seconds (negative if ``end`` is earlier)."""
    if sqlite:
        return cast((func.julianday(end) - func.julianday(start)) * 86400.0, Float)
    return cast(func.extract("epoch", end - start), Float)


def local_date_at(
    sqlite: bool, instant: SQLColumnExpression[Any], offset_s: int
) -> SQLColumnExpression[date]:
    """The date of ``instant`` shifted by a fixed offset (a zone's offset in one segment)."""
    offset = int(offset_s)  # an int from a zone database, never user text: safe to inline
    if sqlite:
        return func.date(instant, f"{offset:+d} seconds", type_=Date)
    shifted = func.timezone("UTC", instant) + literal_column(f"interval '{offset} seconds'")
    return cast(shifted, Date)


def utc_date(sqlite: bool, instant: SQLColumnExpression[Any]) -> SQLColumnExpression[date]:
    """The UTC date of ``instant``, whatever the connection's time zone."""
    return local_date_at(sqlite, instant, 0)
