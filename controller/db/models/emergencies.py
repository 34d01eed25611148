"""Emergency messages (tin khẩn cấp), shaped after CAP 1.2: alert, update, cancel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class Emergency(Base):
    """One CAP-style message as received, and what the controller did with it.

    CAP consumers de-duplicate on sender + identifier + sent: so does this table.
    """

    __tablename__ = "emergencies"
    __table_args__ = (
        UniqueConstraint("sender", "identifier", "sent", name="uq_emergency_cap_key"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), index=True)
    sender: Mapped[str] = mapped_column(String(200))
    sent: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # Actual, Exercise, Test
    msg_type: Mapped[str] = mapped_column(String(16))  # Alert, Update, Cancel
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    event: Mapped[str] = mapped_column(String(200), default="")
    urgency: Mapped[str] = mapped_column(String(32), default="Immediate")
    severity: Mapped[str] = mapped_column(String(32), default="Severe")
    headline: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    bulletin_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    broadcast_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16))  # playing, recorded, superseded, cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
