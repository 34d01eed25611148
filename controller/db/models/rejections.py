"""How many refused messages each source sent in an hour, and how many were kept.

``rejected_messages`` keeps a refused message's reason and an excerpt for review, but a
flood of junk must not become a flood of rows: each source (a device id, else the
topic) may add a few rows an hour, the whole controller a few hundred, and the rest is
only counted here. ``received - stored`` is what was dropped. Rows are per (hour,
source); past a number of sources in one hour, new ones share the ``*`` row, so a
sender inventing a new device id per message still adds one counter row, not one each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class RejectionCounter(Base):
    """Refused messages of one source in one hour: received, and kept as rows."""

    __tablename__ = "rejection_counters"

    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    source: Mapped[str] = mapped_column(String(300), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
