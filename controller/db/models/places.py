"""Places: province → district → ward → residential group; zones within a ward.

Provinces, districts and wards are keyed by their official administrative codes
(Vietnam's are unique nationwide), so YAML files and reports can name them plainly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base


class Province(Base):
    """A province or centrally-run city (tỉnh / thành phố)."""

    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class District(Base):
    """A district (quận / huyện)."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class Ward(Base):
    """A ward or commune (phường / xã): the unit that runs a loudspeaker system.

    ``timezone`` is where its programme is scheduled; ``rules`` and ``targets`` come
    from its programme (broadcast days, quiet hours, longest session; what the
    province expects of it).
    """

    __tablename__ = "wards"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")


class ResidentialGroup(Base):
    """A residential group (tổ dân phố in towns, thôn in villages)."""

    __tablename__ = "residential_groups"
    __table_args__ = (UniqueConstraint("ward_code", "code", name="uq_group_ward_code"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ward_code: Mapped[str] = mapped_column(ForeignKey("wards.code"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))


class Zone(Base):
    """A named set of residential groups within a ward (e.g. 'riverside')."""

    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("ward_code", "code", name="uq_zone_ward_code"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ward_code: Mapped[str] = mapped_column(ForeignKey("wards.code"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    group_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
