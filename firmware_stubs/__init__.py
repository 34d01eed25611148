"""The Raspberry Pi hardware interface, with simulated drivers.

Amplifier relay, volume, sensors and watchdog: ``interfaces`` defines what the
agent needs, ``simulated`` and ``gpio`` implement it, ``hardware`` bundles a set.
"""

from firmware_stubs.gpio import SysfsGpioRelay
from firmware_stubs.hardware import Hardware, SimulatedHardware, simulated_hardware
from firmware_stubs.interfaces import (
    AmplifierRelay,
    HardwareFault,
    Sensors,
    VolumeControl,
    Watchdog,
)
from firmware_stubs.simulated import (
    SimulatedRelay,
    SimulatedSensors,
    SimulatedVolume,
    SimulatedWatchdog,
    Transition,
)

__all__ = [
    "AmplifierRelay",
    "Hardware",
    "HardwareFault",
    "Sensors",
    "SimulatedHardware",
    "SimulatedRelay",
    "SimulatedSensors",
    "SimulatedVolume",
    "SimulatedWatchdog",
    "SysfsGpioRelay",
    "Transition",
    "VolumeControl",
    "Watchdog",
    "simulated_hardware",
]
