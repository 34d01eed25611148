"""The Pi's drivers and settings: systemd's watchdog and readiness, the ALSA mixer volume,
the agent's settings from its environment, and the wiring that picks the drivers."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge_agent.config import AgentConfig
from edge_agent.wiring import hardware_for
from firmware_stubs.alsa import AlsaMixerVolume
from firmware_stubs.simulated import SimulatedVolume, SimulatedWatchdog
from firmware_stubs.systemd import SystemdWatchdog, notify
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.signing import SigningKey


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A datagram socket standing where systemd's would."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield str(path), sock
    sock.close()


def test_notify_sends_to_systemds_socket(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    assert notify("READY=1", environ={"NOTIFY_SOCKET": path})
    assert sock.recv(100) == b"READY=1"


def test_notify_outside_systemd_is_a_no_op() -> None:
    assert not notify("READY=1", environ={})
    assert not notify("READY=1", environ={"NOTIFY_SOCKET": "relative/path"})
    assert not notify("READY=1", environ={"NOTIFY_SOCKET": "/nonexistent/notify"})


def test_the_watchdog_is_systemds_when_the_unit_gives_one(
    notify_socket: tuple[str, socket.socket],
) -> None:
    path, sock = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}
    watchdog = SystemdWatchdog.from_environment(env)
    assert watchdog is not None and watchdog.timeout_s == 60.0
    watchdog.kick()
    assert sock.recv(100) == b"WATCHDOG=1" and watchdog.kicks == 1


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"WATCHDOG_USEC": "60000000"},  # no socket
        {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "0"},
        {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"},
    ],
    ids=["none", "no-socket", "zero", "another-process"],
)
def test_no_watchdog_unless_it_is_this_processs(env: dict[str, str]) -> None:
    assert SystemdWatchdog.from_environment(env) is None


def test_a_kick_that_cannot_be_sent_is_logged_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watchdog = SystemdWatchdog(30, {"NOTIFY_SOCKET": "/nonexistent/notify"})
    watchdog.kick()
    watchdog.kick()
    assert watchdog.failures == 2 and watchdog.kicks == 0
    assert len([r for r in caplog.records if "WATCHDOG=1" in r.getMessage()]) == 1


class FakeAmixer:
    """Records amixer's argv; answers with ``returncode``."""

    def __init__(self, returncode: int = 0, stderr: str = "") -> None:
        self.calls: list[list[str]] = []
        self.returncode, self.stderr = returncode, stderr

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        return subprocess.CompletedProcess(argv, self.returncode, "", self.stderr)


def test_the_mixer_is_set_with_amixer_once_per_level() -> None:
    amixer = FakeAmixer()
    volume = AlsaMixerVolume("PCM", device="hw:1", runner=amixer)
    volume.set(70)
    volume.set(70)  # every play sets it: the card already has it
    volume.set(90)
    assert amixer.calls == [
        ["amixer", "-q", "-D", "hw:1", "sset", "PCM", "70%"],
        ["amixer", "-q", "-D", "hw:1", "sset", "PCM", "90%"],
    ]
    assert volume.get() == 90 and volume.last_error is None
    with pytest.raises(ValueError):
        volume.set(101)


def test_a_mixer_that_refuses_is_reported_and_the_play_goes_on() -> None:
    amixer = FakeAmixer(1, "amixer: Unable to find simple control 'PCM',0")
    volume = AlsaMixerVolume("PCM", runner=amixer)
    volume.set(60)  # does not raise: a bulletin at the old volume beats silence
    assert volume.get() == 60 and "Unable to find" in (volume.last_error or "")
    volume.set(60)  # tried again, as the card never took it
    assert len(amixer.calls) == 2


def _key() -> str:
    return SigningKey.generate().public_key_b64


def test_settings_come_from_the_environment_and_keywords_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_AGENT_VOLUME", "35")
    monkeypatch.setenv("wardcast_agent_alsa_device", "plughw:1,0")  # any case, as before
    monkeypatch.setenv("WARDCAST_AGENT_RELAY_ACTIVE_LOW", "true")
    monkeypatch.setenv("WARDCAST_AGENT_PLAYER", "alsa")
    config = AgentConfig(controller_public_key=_key(), data_dir=tmp_path, volume=50)
    assert (config.volume, config.alsa_device) == (50, "plughw:1,0")
    assert config.relay_active_low is True and config.player == "alsa"
    assert "volume" in config.model_fields_set and "alsa_device" in config.model_fields_set


def test_a_bad_environment_value_is_a_validation_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_AGENT_VOLUME", "loud")
    with pytest.raises(ValidationError, match="volume"):
        AgentConfig(controller_public_key=_key(), data_dir=tmp_path)


def test_the_wiring_takes_the_mixer_and_systemds_watchdog_when_there_are_some(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    notify_socket: tuple[str, socket.socket],
) -> None:
    base = AgentConfig(controller_public_key=_key(), data_dir=tmp_path)
    plain = hardware_for(base, FakeClock())
    assert isinstance(plain.volume, SimulatedVolume)
    assert isinstance(plain.watchdog, SimulatedWatchdog)
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket[0])
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    config = base.model_copy(update={"alsa_mixer_control": "Speaker", "volume": 40})
    wired = hardware_for(config, FakeClock())
    assert isinstance(wired.volume, AlsaMixerVolume)
    assert (wired.volume.control, wired.volume.get()) == ("Speaker", 40)
    assert isinstance(wired.watchdog, SystemdWatchdog) and wired.watchdog.timeout_s == 30
