"""Report rollups: per-day sums of planned plays and their evidence, kept for speed.

Nothing here is evidence. Every row is derived from ``planned_plays`` and
``playback_evidence`` by :mod:`controller.domain.reports.rollups` and can be thrown away
and rebuilt at any time; the reports rebuild a day whenever evidence or plans for it
arrive after it was summed. Rows are keyed by the ward's *local* date, so a report
for a calendar period in the ward's zone reads whole days.

Empty text (``""``) stands for a missing group, bulletin or category in the keys,
because a NULL cannot be part of a primary key. On SQLite the tables are WITHOUT
ROWID: rows are stored in key order, so a report's range of days is read in one
sweep instead of one look-up per row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class ReportRollupState(Base):
    """How far new evidence and plans have been looked at for stale rollups (one row)."""

    __tablename__ = "report_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_watermark: Mapped[int] = mapped_column(Integer, default=0)
    planned_watermark: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportRollupDay(Base):
    """A ward's local day whose rollup rows are present, and under which rules."""

    __tablename__ = "report_rollup_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    tolerance_s: Mapped[float] = mapped_column(Float)
    deadline_s: Mapped[float] = mapped_column(Float)


class ReportPlaysRollup(Base):
    """Plays of one device on one local day, by source level and kind (media | relay)."""

    __tablename__ = "report_plays_rollup"
    __table_args__ = (
        Index("ix_report_plays_device_date", "device_id", "local_date"),
        {"sqlite_with_rowid": False},
    )

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_level: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    withdrawn: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    timed: Mapped[int] = mapped_column(Integer)
    planned_s: Mapped[float] = mapped_column(Float)
    played_s: Mapped[float] = mapped_column(Float)
    relayed_s: Mapped[float] = mapped_column(Float)
    completed: Mapped[int] = mapped_column(Integer)
    partial: Mapped[int] = mapped_column(Integer)
    preempted: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    unplanned: Mapped[int] = mapped_column(Integer)
    unplanned_played: Mapped[int] = mapped_column(Integer)
    last_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReportSessionsRollup(Base):
    """One session occurrence (session key) on one device: items planned and played."""

    __tablename__ = "report_sessions_rollup"
    __table_args__ = (
        Index("ix_report_sessions_device_date", "device_id", "local_date"),
        {"sqlite_with_rowid": False},
    )

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    session_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    items_planned: Mapped[int] = mapped_column(Integer)
    items_played: Mapped[int] = mapped_column(Integer)


class ReportBulletinsRollup(Base):
    """Plays of one bulletin on one device on one local day (for categories and coverage)."""

    __tablename__ = "report_bulletins_rollup"
    __table_args__ = (
        Index("ix_report_bulletins_device_date", "device_id", "local_date"),
        {"sqlite_with_rowid": False},
    )

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)


class ReportDeviceDay(Base):
    """One device's day: its plays and sessions summed (device lists, availability)."""

    __tablename__ = "report_device_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    timed: Mapped[int] = mapped_column(Integer)
    sessions_planned: Mapped[int] = mapped_column(Integer)
    sessions_played: Mapped[int] = mapped_column(Integer)
    last_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReportDeviceMonth(Base):
    """One device's local month: its device days summed (``month`` is the month's first day).

    A district's or province's device list over whole months reads a row per device
    and month instead of one per device and day (2,000 rows for a province-month, not
    60,000). Re-summed from ``report_device_days`` whenever a day of it is.
    """

    __tablename__ = "report_device_months"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    timed: Mapped[int] = mapped_column(Integer)
    sessions_planned: Mapped[int] = mapped_column(Integer)
    sessions_played: Mapped[int] = mapped_column(Integer)
    last_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReportWardDay(Base):
    """A ward's day by source level and kind: every device's plays summed.

    ``max_relayed_s`` is the relay time of the device that relayed longest that day,
    what a relay target is judged on.
    """

    __tablename__ = "report_ward_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    source_level: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    withdrawn: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    timed: Mapped[int] = mapped_column(Integer)
    planned_s: Mapped[float] = mapped_column(Float)
    played_s: Mapped[float] = mapped_column(Float)
    relayed_s: Mapped[float] = mapped_column(Float)
    completed: Mapped[int] = mapped_column(Integer)
    partial: Mapped[int] = mapped_column(Integer)
    preempted: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    unplanned: Mapped[int] = mapped_column(Integer)
    unplanned_played: Mapped[int] = mapped_column(Integer)
    max_relayed_s: Mapped[float] = mapped_column(Float)


class ReportWardSessions(Base):
    """A ward's day: sessions planned and played (on at least one device), and per device."""

    __tablename__ = "report_ward_sessions"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    device_planned: Mapped[int] = mapped_column(Integer)
    device_played: Mapped[int] = mapped_column(Integer)


class ReportWardBulletin(Base):
    """A bulletin's day in a ward: plays, and groups targeted and covered that day."""

    __tablename__ = "report_ward_bulletins"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    played: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    targeted_groups: Mapped[int] = mapped_column(Integer)
    covered_groups: Mapped[int] = mapped_column(Integer)


class ReportWardCoverage(Base):
    """A bulletin's day in a ward: its residential groups targeted, and those that heard it.

    Under the report's one rule for *heard* (a play there completed or partly played),
    so a district's or province's coverage reads a row per ward, day and bulletin
    instead of one per device.
    """

    __tablename__ = "report_ward_coverage"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    targeted_groups: Mapped[int] = mapped_column(Integer)
    covered_groups: Mapped[int] = mapped_column(Integer)


class ReportRollupDirty(Base):
    """A ward's local day whose sums are out of date: marked where the change is written.

    Appended by the transaction that stores evidence or a planned play, so the mark
    commits with the row or not at all. Insert-only: concurrent writers never wait on
    each other's marks. Whoever re-sums the day deletes the marks it read, by id; a
    mark committed meanwhile (its row perhaps not yet visible to the re-sum) stays.
    """

    __tablename__ = "report_rollup_dirty"
    __table_args__ = (Index("ix_report_rollup_dirty_ward_date", "ward_code", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ward_code: Mapped[str] = mapped_column(String(16))
    local_date: Mapped[date] = mapped_column(Date)
