"""A ward's programme (chương trình phát thanh) and the bulletins queued into it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class Programme(Base):
    """The ward's standing programme, kept as the validated document it was applied as.

    Keeping the document (not a normalised copy) is what makes ``schedules export``
    write back exactly what was applied.
    """

    __tablename__ = "programmes"

    ward_code: Mapped[str] = mapped_column(ForeignKey("wards.code"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100), default="")


class QueuedBulletin(Base):
    """An approved bulletin queued into a session of the ward's programme for some days."""

    __tablename__ = "queued_bulletins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ward_code: Mapped[str] = mapped_column(ForeignKey("wards.code"), index=True)
    session_code: Mapped[str] = mapped_column(String(64))
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletins.id"), index=True)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    added_by: Mapped[str] = mapped_column(String(100), default="")


class PlanSnapshot(Base):
    """The last plan compiled for a device: its version and a hash of its content.

    A recompilation that yields the same content keeps the version, so agents are
    not woken for nothing and retained plans only change when the plan does.
    """

    __tablename__ = "plan_snapshots"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    compiled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    item_count: Mapped[int] = mapped_column(Integer)
