"""The hardware bundle an agent is given, and the factory for simulated hardware."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from firmware_stubs.interfaces import AmplifierRelay, Sensors, VolumeControl, Watchdog
from firmware_stubs.simulated import (
    SimulatedRelay,
    SimulatedSensors,
    SimulatedVolume,
    SimulatedWatchdog,
    utc_now,
)


@dataclass(frozen=True, slots=True)
class Hardware:
    """Everything on the board the agent drives or reads."""

    relay: AmplifierRelay
    volume: VolumeControl
    sensors: Sensors
    watchdog: Watchdog


@dataclass(frozen=True, slots=True)
class SimulatedHardware(Hardware):
    """``Hardware`` whose parts are the in-memory drivers (typed for tests)."""

    relay: SimulatedRelay
    volume: SimulatedVolume
    sensors: SimulatedSensors
    watchdog: SimulatedWatchdog


def simulated_hardware(
    now: Callable[[], datetime] = utc_now, *, volume: int = 80, watchdog_timeout_s: float = 60.0
) -> SimulatedHardware:
    """A full set of in-memory drivers sharing one time source (e.g. a FakeClock's ``now``)."""
    relay = SimulatedRelay(now=now)
    return SimulatedHardware(
        relay=relay,
        volume=SimulatedVolume(now=now, level=volume),
        sensors=SimulatedSensors(relay=relay),
        watchdog=SimulatedWatchdog(timeout_s=watchdog_timeout_s, now=now),
    )
