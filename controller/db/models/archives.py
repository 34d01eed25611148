"""Evidence archives (lưu trữ bằng chứng): a ward's period written to a verified bundle file.

One row per archiving act. The evidence rows themselves stay in ``playback_evidence``
(append-only, always): an archive is a sealed, checked copy for the record, and proof
that an administrator closed the period — never a reason to delete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class EvidenceArchive(Base):
    """One verified bundle on the controller's disk, and who wrote it when."""

    __tablename__ = "evidence_archives"
    __table_args__ = (Index("ix_archive_ward_period", "ward_code", "period_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ward_code: Mapped[str] = mapped_column(ForeignKey("wards.code"))
    period_from: Mapped[datetime] = mapped_column(UtcDateTime)
    period_to: Mapped[datetime] = mapped_column(UtcDateTime)
    label: Mapped[str] = mapped_column(String(64))
    # Relative to the data directory when inside it, so the directory can move.
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    bundle_sha256: Mapped[str] = mapped_column(String(64))  # of the file's bytes
    bundle_digest: Mapped[str] = mapped_column(String(64))  # of the canonical content
    row_count: Mapped[int] = mapped_column(Integer)
    device_count: Mapped[int] = mapped_column(Integer)
    # Findings archived as they stand: numbers never received, device chain forks.
    missing_count: Mapped[int] = mapped_column(Integer, default=0)
    broken_link_count: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_by: Mapped[str] = mapped_column(String(100))
