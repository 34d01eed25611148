"""``column IN (values)`` as the store reads it fastest, for batch reads of many keys.

SQLAlchemy renders ``in_`` with one placeholder per value, so a batch of 500 ids is a
new statement text each time its size changes: psycopg parses the text's placeholders
in Python, PostgreSQL parses and plans it anew, and no prepared statement is reused.
On PostgreSQL the values go as one array, ``column = ANY(:values)``: one text, one
parameter, prepared after a few runs. SQLite has no arrays and parses in-process:
``in_`` there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def among(
    session: Session, column: InstrumentedAttribute[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (none: false), as the session's store reads it best."""
    wanted = sorted(set(values))
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, wanted, type_=ARRAY(column.type)))
    return column.in_(wanted)
