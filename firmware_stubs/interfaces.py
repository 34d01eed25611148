"""What the edge agent needs of a Raspberry Pi's hardware, as small interfaces.

The agent only ever talks to these protocols; a Pi gets real drivers (``gpio``),
the simulator and the tests get the in-memory ones (``simulated``). All calls are
synchronous and quick (a GPIO write, a register read): there is nothing to await.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class HardwareFault(RuntimeError):
    """A driver could not do what was asked (relay stuck, GPIO not writable...)."""


@runtime_checkable
class AmplifierRelay(Protocol):
    """The relay that powers the amplifier (rơ-le bật/tắt âm ly)."""

    def on(self) -> None:
        """Close the relay: the amplifier gets power."""
        ...

    def off(self) -> None:
        """Open the relay: the amplifier is unpowered (silent, no hum, saves power)."""
        ...

    def is_on(self) -> bool:
        """What the driver last set (not proof the amplifier draws current)."""
        ...


@runtime_checkable
class VolumeControl(Protocol):
    """Output volume, 0 (mute) to 100 (full)."""

    def get(self) -> int:
        """The current volume, 0-100."""
        ...

    def set(self, level: int) -> None:
        """Set the volume; ``level`` outside 0-100 raises ValueError."""
        ...


@runtime_checkable
class Sensors(Protocol):
    """Readings that confirm the hardware did what it was told."""

    def amplifier_current_ok(self) -> bool:
        """True when the amplifier really draws current (relay closed and amp alive)."""
        ...

    def temperature_c(self) -> float:
        """Board temperature in °C (a Pi in a metal box on a pole gets hot)."""
        ...


@runtime_checkable
class Watchdog(Protocol):
    """A hardware watchdog that reboots the Pi unless kicked within ``timeout_s``."""

    @property
    def timeout_s(self) -> float:
        """Seconds without a kick before the board resets."""
        ...

    def kick(self) -> None:
        """Tell the watchdog the agent is alive."""
        ...


def check_volume(level: int) -> int:
    """Return ``level`` if it is a valid volume (0-100), else raise ValueError."""
    if not 0 <= level <= 100:
        raise ValueError(f"volume must be 0-100, got {level}")
    return level
