"""The device registry: registration as a service, so whoever caches keys hears of it.

The MQTT bridge keeps a cache of device public keys (one database read per device, not
per message). Registration writes a key; the registry then tells the cache to forget
that device, so a key written here (a device deleted by hand and registered again, a
restored database) is never shadowed by a stale cached one. The domain knows only the
callback, not the bridge: the composition root wires the two.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from controller.db.models import Device
from controller.domain.devices.service import register_device
from wardcast_protocol.clock import Clock


def _ignore(device_id: str) -> None:
    """No cache to tell (unit tests, tools without a bridge)."""


class DeviceRegistry:
    """Registers devices in the caller's transaction and reports new keys."""

    def __init__(self, clock: Clock, on_key_written: Callable[[str], None] = _ignore) -> None:
        self._clock = clock
        self._on_key_written = on_key_written

    def register(
        self, session: Session, device_id: str, name: str, public_key: str
    ) -> tuple[Device, bool]:
        """Register a device; returns (device, created). See ``register_device``."""
        now = self._clock.now()
        device, created = register_device(session, device_id, name, public_key, now)
        if created:
            self._on_key_written(device.id)
        return device, created

    def forget(self, device_id: str) -> None:
        """Tell the key cache to drop a device (revoked: its messages are refused now)."""
        self._on_key_written(device_id)
