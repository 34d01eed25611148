"""What evidence is checked against: the plan side, and each device's chain.

``PlannedPlay`` is the controller's record of what it asked each device to play
(written when a plan is compiled or a broadcast sent), so a report can set played
against planned, and a planned item nobody confirmed shows as *missed* rather than
silently absent. ``DeviceChain`` and ``EvidenceGap`` follow each device's numbered,
hash-linked events; they change as events arrive, while the evidence itself never
changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class PlannedPlay(Base):
    """One item the controller planned on one device."""

    __tablename__ = "planned_plays"
    __table_args__ = (
        # Item first: a "now" (or a new item) to a thousand devices adds a thousand
        # entries side by side, where device first put each in its device's own page of
        # history (a page written a device; migration 0019 has the figures).
        UniqueConstraint("item_id", "device_id", name="uq_planned_item_device"),
        Index("ix_planned_ward_start", "ward_code", "planned_start"),
        # A compile's plays ahead of its devices (``planned.record_plans``), which are
        # never a "now"'s: a "now" to a thousand devices wrote a page a device here,
        # among each device's history (migration 0023).
        Index(
            "ix_planned_device_start",
            "device_id",
            "planned_start",
            sqlite_where=text("commanded = 0"),
            postgresql_where=text("commanded = false"),
        ),
        # What every ward has on now (an administrator's dashboard): by time alone, it
        # scanned the table (migration 0021).
        Index("ix_planned_start", "planned_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    ward_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    group_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    broadcast_id: Mapped[str] = mapped_column(String(64))
    bulletin_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    kind: Mapped[str] = mapped_column(String(8))  # media | relay
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_level: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    planned_start: Mapped[datetime] = mapped_column(UtcDateTime)
    planned_duration_s: Mapped[float] = mapped_column(Float)
    first_planned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when a later plan no longer has the item before it was due: not missed.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Planned by a command (a "now", ``record_commands``), not by a device's plan: not a
    # plan's to withdraw, and kept out of the index by device and time above.
    commanded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DeviceChain(Base):
    """How far a device's event chain is known to be whole."""

    __tablename__ = "device_chains"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contiguous_seq: Mapped[int] = mapped_column(Integer, default=0)  # 1..n all present
    contiguous_digest: Mapped[str] = mapped_column(String(64), default="")
    highest_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EvidenceGap(Base):
    """Sequence numbers of a device not (yet) received; asked for again until they come."""

    __tablename__ = "evidence_gaps"
    __table_args__ = (Index("ix_gap_device_open", "device_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    from_seq: Mapped[int] = mapped_column(Integer)
    to_seq: Mapped[int] = mapped_column(Integer)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
