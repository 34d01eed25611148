"""Device enrolment (đăng ký thiết bị): one-time codes, and each device's broker login.

One row per device id an administrator has created or issued a code for. The code
is kept only as its sha256 (it is random, 80 bits, and dies at first use or at its
expiry); the broker login only as Mosquitto's PBKDF2 hash, written into the broker's
password file. A revoked device keeps its row (who revoked it, when) and loses both.
No foreign key to ``devices``: a device created without a key exists here first and
gets its ``devices`` row (with the key it generated) when it enrols.

Beside devices, a province whose own broker is bridged to the centre's has one
bridge login (``ProvinceBridge``, docs/scale.md), kept the same way: a hash only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.core import Base
from controller.db.types import UtcDateTime


class DeviceEnrolment(Base):
    """A device's enrolment state: its pending code, its broker login, its revocation."""

    __tablename__ = "device_enrolments"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    code_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    code_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    code_issued_by: Mapped[str] = mapped_column(String(100), default="")
    enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(100), default="")


class ProvinceBridge(Base):
    """A province broker's login at the centre's broker, for its bridge (cầu nối tỉnh).

    Made by ``wardcast broker bridge-login <province>``, which shows the password once;
    the row keeps Mosquitto's hash. Deleting the row takes the login away.
    """

    __tablename__ = "province_bridges"

    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), primary_key=True)
    mqtt_password_hash: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
