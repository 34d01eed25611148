"""Sensors of a plain Raspberry Pi board (no current sensor fitted).

Most ward installations have only a relay on a GPIO pin. Until a current sensor is
fitted, the best confirmation available is the relay pin read back from sysfs; the
board temperature comes from the kernel's thermal zone.
"""

from __future__ import annotations

from pathlib import Path

from firmware_stubs.interfaces import AmplifierRelay


class BoardSensors:
    """``Sensors`` from sysfs: relay read-back and the SoC thermal zone."""

    def __init__(self, relay: AmplifierRelay, *, sysfs_root: Path = Path("/sys")) -> None:
        self._relay = relay
        self._thermal = sysfs_root / "class" / "thermal" / "thermal_zone0" / "temp"

    def amplifier_current_ok(self) -> bool:
        """The relay pin's level: the only evidence a board without a current sensor has."""
        return self._relay.is_on()

    def temperature_c(self) -> float:
        """SoC temperature in °C (NaN when the kernel does not expose it)."""
        try:
            return int(self._thermal.read_text(encoding="ascii").strip()) / 1000.0
        except (OSError, ValueError):
            return float("nan")
