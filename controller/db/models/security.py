"""Security records: what a device refused and reported, and what the controller refused.

Two sources, one table, so an operator reviews them in one place:

- ``origin="device"``: an agent refused a message (a command not addressed to it,
  replayed, expired, from its future, delivered retained; a bad signature…) and sent a
  signed ``SecurityReport``; kept once per (device, report id), with the signed
  document verbatim;
- ``origin="controller"``: a device sent a signed, well-formed event for an item this
  controller never planned or commanded for it. Not evidence; kept with its chain
  fields (``seq``, ``prev_hash``, ``digest``) so the device's chain stays whole
  across it and no gap is asked for again and again.

Rows are only ever added. Refused messages that never passed verification stay in
``rejected_messages`` (they prove nothing about who sent them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class SecurityRecord(Base):
    """One refusal, reported by a device or made by the controller."""

    __tablename__ = "security_records"
    __table_args__ = (
        UniqueConstraint("device_id", "report_id", name="uq_security_device_report"),
        UniqueConstraint("device_id", "event_id", name="uq_security_device_event"),
        Index("ix_security_device_seq", "device_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))  # device | controller
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(1000))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)  # by the device's clock
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    command_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    broadcast_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    report_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The device-signed document (report or event) and its signature, verbatim.
    signed: Mapped[str] = mapped_column(Text)
    sig: Mapped[str] = mapped_column(String(128))
