"""ORM models: the controller's tables, named after the field.

Timestamps use ``UtcDateTime`` (aware, UTC). Ids are short prefixed strings so they
read well in logs, topics and evidence.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from controller.db.types import UtcDateTime


def new_id(prefix: str) -> str:
    """A fresh id such as ``bul-3f9a1c0d2b4e5f60``."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Device(Base):
    """A loudspeaker cluster's edge agent (cụm loa), registered with its public key."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    ward_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    group_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    public_key: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    plan_version: Mapped[int] = mapped_column(Integer, default=0)
    reported_plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    pending_events: Mapped[int | None] = mapped_column(Integer, nullable=True)


class MediaAsset(Base):
    """A prepared audio file in the content-addressed store."""

    __tablename__ = "media_assets"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    content_type: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Bulletin(Base):
    """A piece of content (bản tin): text spoken by TTS, or an uploaded recording."""

    __tablename__ = "bulletins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    origin: Mapped[str] = mapped_column(String(16))  # "text" or "upload"
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    original_filename: Mapped[str | None] = mapped_column(String(300), nullable=True)
    tts_engine: Mapped[str | None] = mapped_column(String(32), nullable=True)
    chime: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    source_level: Mapped[str] = mapped_column(String(16), default="commune")
    media_sha256: Mapped[str] = mapped_column(ForeignKey("media_assets.sha256"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    # Editorial workflow: draft -> submitted -> approved | rejected -> archived.
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    category: Mapped[str] = mapped_column(String(64), default="general")
    ward_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    # A stable name chosen by people ("vov1-du-phong"), unique in its ward: what programmes
    # and queues may refer to instead of the generated id, so one file fits every install.
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The voice ("espeak-ng:vi-vn-x-south", "gtts:vi") and speed asked for; None: defaults.
    tts_voice: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tts_speed_wpm: Mapped[int | None] = mapped_column(Integer, nullable=True)

    media: Mapped[MediaAsset] = relationship(lazy="joined")


class Broadcast(Base):
    """A bulletin sent to a set of devices at a planned instant, or now (phát sóng)."""

    __tablename__ = "broadcasts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletins.id"))
    trigger: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    planned_start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    # The target as the officer gave it (ward, zones, groups, devices), resolved to
    # ``targets`` at creation; None for broadcasts made before it was kept.
    target_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)

    bulletin: Mapped[Bulletin] = relationship(lazy="joined")
    # Loaded when read, not with the broadcast: a ward's broadcast has a thousand, and
    # its status and lists read them as plain rows (``progress.progress_of``).
    targets: Mapped[list[BroadcastTarget]] = relationship(
        back_populates="broadcast", cascade="all, delete-orphan", lazy="select"
    )


class BroadcastTarget(Base):
    """One device a broadcast is meant for."""

    __tablename__ = "broadcast_targets"
    __table_args__ = (
        # A device's scheduled broadcasts from a time on, for a compile of its plan
        # (``plans.items.scheduled_items``): found by device without walking the ones
        # it was sent before, nor every other ward's ahead (migration 0022). A "now"
        # has no time here and no entry: it writes no page a device (migration 0020).
        Index(
            "ix_broadcast_targets_device_ahead",
            "device_id",
            "planned_start",
            sqlite_where=text("planned_start IS NOT NULL"),
            postgresql_where=text("planned_start IS NOT NULL"),
        ),
    )

    broadcast_id: Mapped[str] = mapped_column(ForeignKey("broadcasts.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    # The broadcast's planned start when it is scheduled (never changed after), None
    # for a "now": what the index above is kept in order by.
    planned_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When the device reported a plan version holding this broadcast (scheduled ones).
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When the device reported it sounding (its state names the item playing).
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    broadcast: Mapped[Broadcast] = relationship(back_populates="targets")


class PlaybackEvidence(Base):
    """One play as the device confirmed it, with its signed original (as-played log).

    Stored once per (device, event id), however often it is delivered.
    """

    __tablename__ = "playback_evidence"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_evidence_device_event"),
        UniqueConstraint("device_id", "seq", name="uq_evidence_device_seq"),
        Index("ix_evidence_device_start", "device_id", "planned_start"),
        # Was a play confirmed? is asked by (item, device) and (broadcast, device): with
        # only the device's indexes, each question walked that device's every event
        # (migration 0021). Item or broadcast first, a broadcast's confirmations sit
        # side by side.
        Index("ix_evidence_item_device", "item_id", "device_id"),
        Index("ix_evidence_broadcast_device", "broadcast_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    # Where the device stood when the event arrived (it may move later).
    ward_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    group_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    broadcast_id: Mapped[str] = mapped_column(String(64))
    bulletin_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trigger: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    source_level: Mapped[str] = mapped_column(String(16))
    media_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    planned_start: Mapped[datetime] = mapped_column(UtcDateTime)
    planned_duration_s: Mapped[float] = mapped_column(Float)
    actual_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    played_duration_s: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    session_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    relayed_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    relay_gap_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    fallback_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amplifier_on: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    volume: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signed: Mapped[str] = mapped_column(Text)
    sig: Mapped[str] = mapped_column(String(128))


class RejectedMessageLog(Base):
    """A message refused at the door (bad JSON, bad signature…), kept for security review."""

    __tablename__ = "rejected_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    topic: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(1000))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload_excerpt: Mapped[str] = mapped_column(String(600))
    payload_size: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
