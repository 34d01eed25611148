"""Device enrolment (đăng ký thiết bị): one-time codes, and each device's broker login.

One row per device id an administrator has created or issued a code for. The code
is kept only as its sha256 (it is random, 80 bits, and dies at first use or at its
expiry); the broker login only as Mosquitto's PBKDF2 hash, written into the broker's
password file. A revoked device keeps its row (who revoked it, when) and loses both.
No foreign key to ``devices``: a device created without a key exists here first and
gets its ``devices`` row (with the key it generated) when it enrols.

Beside devices, a province whose own broker is bridged to the centre's has one
bridge login (``ProvinceBridge``, docs/scale.md), kept the same way: a hash only, and
the address its devices are given at enrolment (``ProvinceBroker``). Each enrolment
row keeps the broker URL its device was given, so a device enrolled at a broker that
is no longer its province's can be found and enrolled again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
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
    # The broker URL given at the last enrolment (None: enrolled before it was kept).
    broker_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
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


class ProvinceBroker(Base):
    """A province's own broker, as its devices are told at enrolment (máy chủ MQTT tỉnh).

    Set by ``wardcast broker province-url <province> <url>``; with
    ``WARDCAST_PROVINCE_DOWNLINK`` on, a device placed in the province is given this
    URL (and ``ca_pem``, the CA it pins) instead of the centre's.
    """

    __tablename__ = "province_brokers"

    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), primary_key=True)
    device_url: Mapped[str] = mapped_column(String(300))
    ca_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
