"""firmware_stubs: simulated drivers record and fail on demand; sysfs relay writes GPIO files."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from firmware_stubs import (
    AmplifierRelay,
    HardwareFault,
    Sensors,
    SimulatedRelay,
    SysfsGpioRelay,
    VolumeControl,
    Watchdog,
    simulated_hardware,
)
from firmware_stubs.board import BoardSensors
from wardcast_protocol.clock import FakeClock


def test_simulated_hardware_satisfies_the_interfaces() -> None:
    hardware = simulated_hardware()
    assert isinstance(hardware.relay, AmplifierRelay)
    assert isinstance(hardware.volume, VolumeControl)
    assert isinstance(hardware.sensors, Sensors)
    assert isinstance(hardware.watchdog, Watchdog)


async def test_relay_transitions_are_recorded_with_the_clock(fake_clock: FakeClock) -> None:
    hardware = simulated_hardware(fake_clock.now)
    hardware.relay.on()
    await fake_clock.advance(3)
    hardware.relay.off()
    on, off = hardware.relay.transitions
    assert (on.what, on.value, off.value) == ("relay", True, False)
    assert off.at - on.at == timedelta(seconds=3)
    assert not hardware.relay.is_on()


def test_a_stuck_relay_reports_what_was_asked_but_the_sensor_tells_the_truth() -> None:
    hardware = simulated_hardware()
    hardware.relay.stuck = True
    hardware.relay.on()
    assert hardware.relay.is_on()
    assert not hardware.relay.contact_closed
    assert not hardware.sensors.amplifier_current_ok()


def test_a_failing_relay_raises_and_records_nothing() -> None:
    relay = SimulatedRelay(fail_with=HardwareFault("i2c timeout"))
    with pytest.raises(HardwareFault, match="i2c timeout"):
        relay.on()
    assert relay.transitions == []


def test_volume_is_bounded_and_recorded() -> None:
    hardware = simulated_hardware(volume=50)
    hardware.volume.set(75)
    assert hardware.volume.get() == 75
    with pytest.raises(ValueError, match="0-100"):
        hardware.volume.set(101)
    assert [t.value for t in hardware.volume.transitions] == [75]


async def test_watchdog_expires_without_kicks(fake_clock: FakeClock) -> None:
    hardware = simulated_hardware(fake_clock.now, watchdog_timeout_s=10)
    hardware.watchdog.kick()
    await fake_clock.advance(9)
    assert not hardware.watchdog.expired()
    await fake_clock.advance(2)
    assert hardware.watchdog.expired()


def _pin(root: Path, pin: int = 17) -> Path:
    directory = root / "class" / "gpio" / f"gpio{pin}"
    directory.mkdir(parents=True)
    (directory / "direction").write_text("in")
    (directory / "value").write_text("0")
    return directory


def test_sysfs_relay_sets_the_pin_as_output_and_writes_levels(tmp_path: Path) -> None:
    pin = _pin(tmp_path)
    relay = SysfsGpioRelay(17, sysfs_root=tmp_path)
    relay.on()
    assert (pin / "direction").read_text() == "out"
    assert (pin / "value").read_text() == "1"
    assert relay.is_on()
    relay.off()
    assert (pin / "value").read_text() == "0"
    assert not relay.is_on()


def test_sysfs_relay_active_low_inverts_the_level(tmp_path: Path) -> None:
    pin = _pin(tmp_path)
    relay = SysfsGpioRelay(17, sysfs_root=tmp_path, active_low=True)
    relay.on()
    assert (pin / "value").read_text() == "0"
    assert relay.is_on()
    relay.off()
    assert (pin / "value").read_text() == "1"


def test_sysfs_relay_exports_a_missing_pin_and_says_when_it_never_appears(
    tmp_path: Path,
) -> None:
    gpio = tmp_path / "class" / "gpio"
    gpio.mkdir(parents=True)
    (gpio / "export").write_text("")
    relay = SysfsGpioRelay(22, sysfs_root=tmp_path, export_wait_s=0)
    with pytest.raises(HardwareFault, match="gpio22 did not appear"):
        relay.on()
    assert (gpio / "export").read_text() == "22"


def test_sysfs_relay_without_gpio_support_raises_hardware_fault(tmp_path: Path) -> None:
    relay = SysfsGpioRelay(17, sysfs_root=tmp_path)
    with pytest.raises(HardwareFault, match="GPIO 17"):
        relay.on()


def test_board_sensors_read_relay_and_thermal_zone(tmp_path: Path) -> None:
    _pin(tmp_path)
    relay = SysfsGpioRelay(17, sysfs_root=tmp_path)
    sensors = BoardSensors(relay, sysfs_root=tmp_path)
    assert math.isnan(sensors.temperature_c())
    zone = tmp_path / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("51234\n")
    assert sensors.temperature_c() == pytest.approx(51.234)
    assert not sensors.amplifier_current_ok()
    relay.on()
    assert sensors.amplifier_current_ok()
