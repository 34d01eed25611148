"""The Pi's install: the systemd unit, scripts/install-pi.sh and the settings file it writes.

What can be checked off a Pi is checked here: the unit parses and says what
docs/install-pi.md promises (notify + watchdog, restart policy, own user, read-only
root with the state directory writable, the audio group), ``systemd-analyze verify``
accepts it where systemd is installed, the scripts are valid bash, and every setting
install-pi.sh writes is a real agent setting that loads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig
from wardcast_protocol.signing import SigningKey

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "wardcast-agent.service"
INSTALL_PI = ROOT / "scripts" / "install-pi.sh"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value given (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"a setting outside any section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    """The single value of ``key``."""
    values = section.get(key, [])
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def test_the_unit_is_a_watched_restarted_sandboxed_service_of_its_own_user() -> None:
    unit = parse_unit(UNIT.read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    # Readiness and the watchdog the agent's housekeeping loop kicks.
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    assert 10 <= int(one(service, "WatchdogSec")) <= 300
    assert one(service, "Restart") == "on-failure"
    assert float(one(service, "RestartSec")) > 0
    assert one(unit["Unit"], "StartLimitBurst").isdigit()
    assert one(service, "ExecStart") == "/opt/wardcast/venv/bin/wardcast-agent run"
    # Its own user, the sound card through the audio group.
    assert one(service, "User") == "wardcast"
    assert "audio" in one(service, "SupplementaryGroups").split()
    # Read-only root; its state directory is the data folder, and the only writable one.
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "StateDirectory") == "wardcast-agent"
    assert "WARDCAST_AGENT_DATA_DIR=/var/lib/wardcast-agent" in service["Environment"]
    assert one(service, "EnvironmentFile") == "/etc/wardcast/agent.env"
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "ProtectHome") == "yes"
    # The relay is a sysfs GPIO write: /sys must stay writable.
    assert "ProtectKernelTunables" not in service
    assert "char-alsa rw" in service["DeviceAllow"]
    assert "time-sync.target" in one(unit["Unit"], "After")
    assert one(unit["Install"], "WantedBy") == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # The venv and the user exist only on an installed Pi: stand-ins for those two.
    text = UNIT.read_text(encoding="utf-8")
    text = text.replace("/opt/wardcast/venv/bin/wardcast-agent run", "/bin/true")
    text = text.replace("User=wardcast", "User=root").replace("Group=wardcast", "Group=root")
    text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
    copy = tmp_path / "wardcast-agent.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [line for line in done.stderr.splitlines() if "wardcast-agent" in line]
    assert done.returncode == 0 and not problems, done.stderr


@pytest.mark.parametrize("script", ["install-pi.sh", "install.sh", "lock.sh"])
def test_the_scripts_are_valid_bash(script: str) -> None:
    done = subprocess.run(
        ["bash", "-n", str(ROOT / "scripts" / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def _install_pi(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARDCAST_PI_ETC": str(tmp_path)}
    return subprocess.run(
        ["bash", str(INSTALL_PI), "--print-env", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


def _settings(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value.strip('"') for key, value in pairs}


def test_the_settings_install_pi_writes_are_agent_settings_that_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _install_pi(
        tmp_path, "--alsa-device", "plughw:1,0", "--mixer-control", "Speaker", "--volume", "65"
    )
    assert done.returncode == 0, done.stderr
    settings = _settings(done.stdout)
    fields = {f"WARDCAST_AGENT_{name.upper()}" for name in AgentConfig.model_fields}
    unknown = {k for k in settings if k.startswith("WARDCAST_AGENT_")} - fields
    assert unknown == set()
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    config = AgentConfig(
        controller_public_key=SigningKey.generate().public_key_b64, data_dir=tmp_path / "agent"
    )
    assert (config.player, config.relay_driver, config.relay_gpio_pin) == ("alsa", "sysfs", 17)
    assert (config.alsa_device, config.alsa_mixer_control, config.volume) == (
        "plughw:1,0",
        "Speaker",
        65,
    )
    assert config.relay_active_low is False


def test_a_rerun_keeps_the_installed_settings_and_changes_only_what_is_given(
    tmp_path: Path,
) -> None:
    first = _install_pi(tmp_path, "--volume", "55", "--controller-url", "https://ward.example")
    (tmp_path / "agent.env").write_text(first.stdout + 'EXTRA_SETTING="kept"\n')
    again = _settings(_install_pi(tmp_path, "--relay-pin", "22").stdout)
    assert again["WARDCAST_AGENT_VOLUME"] == "55"
    assert again["WARDCAST_CONTROLLER_URL"] == "https://ward.example"
    assert again["WARDCAST_AGENT_RELAY_GPIO_PIN"] == "22"
    assert again["EXTRA_SETTING"] == "kept"


@pytest.mark.parametrize("args", [("--volume", "300"), ("--relay-pin", "x"), ("--bogus",)], ids=str)
def test_bad_options_are_refused_with_a_message(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = _install_pi(tmp_path, *args)
    assert done.returncode == 2 and done.stderr.startswith("install-pi: ")
