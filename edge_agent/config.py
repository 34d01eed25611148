"""The edge agent's settings: one pydantic model, each field overridable from the environment.

Every field reads ``WARDCAST_AGENT_<NAME>`` (e.g. ``WARDCAST_AGENT_DEVICE_ID``).
The defaults run on a laptop against a local broker with the simulated player; a
Pi sets ``player=alsa``, ``relay_driver=sysfs`` and its card, mixer control and relay
pin (``scripts/install-pi.sh`` writes them to /etc/wardcast/agent.env). An enrolled device
(``wardcast-agent enrol``) needs nothing but its data folder: its id, broker URL and
login, the broker's CA and the controller's public key are read from the enrolment
stored there, unless set explicitly. Without a controller public key the agent
refuses to start: an agent that cannot check who sent its plan must not run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from edge_agent.enrolment import ca_file, load_enrolment
from wardcast_protocol.signing import check_public_key
from wardcast_protocol.topics import is_valid_device_id
from wardcast_protocol.transport import BrokerAddress

ENV_PREFIX = "WARDCAST_AGENT_"


class AgentConfig(BaseModel):
    """Settings of one edge agent (one Raspberry Pi, or one simulated device).

    Each field not given as a keyword is read from ``WARDCAST_AGENT_<NAME>`` (any case),
    as pydantic-settings would, without its 1.5 MiB on a Pi (issue 10.8).
    """

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(
        default="agent-001",
        title="Device id",
        description="This device's id, as registered with the controller (topic-safe).",
    )
    controller_public_key: str = Field(
        default="",
        title="Controller public key",
        description="Base64 Ed25519 public key of the controller; every plan and command "
        "must carry its signature. Given at enrolment (default: from the enrolment).",
    )
    data_dir: Path = Field(
        default=Path("data/agent"),
        title="Data directory",
        description="Holds plan.json, outbox.db, media/ and (by default) the device key.",
    )
    broker_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        title="Broker URL",
        description="MQTT broker, mqtt[s]://[user[:password]@]host[:port] "
        "(default: from the enrolment).",
    )
    mqtt_username: str | None = Field(
        default=None,
        title="Broker username",
        description="This device's broker login (default: from the enrolment).",
    )
    mqtt_password: SecretStr | None = Field(
        default=None,
        title="Broker password",
        description="This device's broker password (default: from the enrolment).",
    )
    broker_ca_file: Path | None = Field(
        default=None,
        title="Broker CA file",
        description="The CA the broker's certificate must chain to; TLS when set (default: "
        "the CA stored at enrolment, <data_dir>/broker-ca.pem).",
    )
    device_key_path: Path | None = Field(
        default=None,
        title="Device key file",
        description="Private Ed25519 key (base64); created on first start if absent. "
        "Default: <data_dir>/device.key.",
    )
    player: Literal["simulated", "alsa"] = Field(
        default="simulated",
        title="Player",
        description="'simulated' takes real time without sound; 'alsa' decodes with ffmpeg "
        "and plays through aplay.",
    )
    alsa_device: str = Field(
        default="default",
        title="ALSA device",
        description="aplay -D device name: 'default', or a card as 'plughw:1,0' "
        "(`aplay -l` lists them; docs/install-pi.md).",
    )
    alsa_mixer_control: str = Field(
        default="",
        title="ALSA mixer control",
        description="The mixer control `volume` is set on before a play ('PCM', 'Speaker', "
        "'Master'…; `amixer -D <device> scontrols` lists them). Empty: the mixer is left "
        "as it is and the volume only recorded.",
    )
    alsa_mixer_device: str = Field(
        default="default",
        title="ALSA mixer device",
        description="amixer -D device of that control: 'default', or 'hw:1' for card 1.",
    )
    relay_rate_hz: int = Field(
        default=8000,
        ge=8000,
        le=48000,
        title="Relay sample rate",
        description="A relayed stream is decoded to mono 16-bit PCM at this rate, measured "
        "for silence and (with the ALSA player) played. 8 kHz keeps a simulated fleet "
        "cheap; a Pi may raise it (16000 or 22050) for music.",
    )
    volume: int = Field(
        default=80, ge=0, le=100, title="Volume", description="Output volume set before a play."
    )
    relay_driver: Literal["simulated", "sysfs"] = Field(
        default="simulated",
        title="Relay driver",
        description="'sysfs' drives a GPIO pin through /sys/class/gpio.",
    )
    relay_gpio_pin: int = Field(default=17, ge=0, title="Relay GPIO pin (BCM numbering)")
    relay_active_low: bool = Field(
        default=False, title="Relay active low", description="True for boards that close on 0."
    )
    sysfs_root: Path = Field(default=Path("/sys"), title="sysfs root (tests use a temp dir)")
    relay_settle_s: float = Field(
        default=0.5,
        ge=0,
        le=10,
        title="Relay settle time",
        description="Wait after switching the amplifier on, so the first words are not lost "
        "while it powers up.",
    )
    late_start_grace_s: float = Field(
        default=30.0,
        ge=0,
        title="Late-start grace",
        description="An item learnt of (or found at start-up) after its planned start still "
        "plays if it is at most this late; otherwise it is recorded as skipped. Also how "
        "long a due item waits for its media before it is recorded as failed.",
    )
    start_prepare_s: float = Field(
        default=0.5,
        ge=0,
        le=30,
        title="Start preparation",
        description="A planned play is prepared this long (plus the relay settle time) "
        "before its start - media checked, journal written, amplifier on - and its first "
        "sample then waits for the planned instant, so a busy device still starts on time.",
    )
    resend_interval_s: float = Field(
        default=30.0,
        gt=0,
        title="Resend interval",
        description="Unacknowledged events older than this are published again, this often.",
    )
    state_interval_s: float = Field(
        default=60.0,
        gt=0,
        title="State interval",
        description="How often the retained state (plan version, clock, cached media, "
        "pending events) is published besides on connect and plan changes; its device "
        "time lets the controller measure this device's clock offset.",
    )
    media_fetch_attempts: int = Field(default=5, ge=1, le=50, title="Download attempts per file")
    media_fetch_backoff_s: float = Field(
        default=1.0,
        ge=0,
        title="Download backoff",
        description="First wait between attempts; doubles each time, capped at 30 s. "
        "Each wait is drawn from the upper half of its step, so devices that failed "
        "together do not all try again together.",
    )
    media_fetch_timeout_s: float = Field(
        default=60.0, gt=0, title="Download timeout", description="Per HTTP request."
    )
    max_parallel_downloads: int = Field(default=4, ge=1, le=64, title="Parallel downloads")
    mqtt_keepalive_s: int = Field(default=15, ge=5, le=600, title="MQTT keepalive")
    durable_outbox: bool = Field(
        default=True,
        title="Durable outbox",
        description="fsync every outbox commit (a real device: evidence survives a power "
        "cut). Simulated fleets turn it off: many devices share one disk and one thread.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        # Keywords win; the environment fills the rest. Values are strings, which
        # pydantic's lax mode reads as numbers, booleans, paths or the literals.
        if not isinstance(data, dict):
            return data
        environ = {k.upper(): v for k, v in os.environ.items()}
        found = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in environ
        }
        return {**found, **data}

    @field_validator("device_id")
    @classmethod
    def _device_id_is_topic_safe(cls, value: str) -> str:
        if not is_valid_device_id(value):
            raise ValueError("device id must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
        return value

    @field_validator("controller_public_key")
    @classmethod
    def _key_is_ed25519(cls, value: str) -> str:
        return check_public_key(value) if value else value

    @model_validator(mode="after")
    def _fill_from_enrolment(self) -> AgentConfig:
        # What the controller gave at enrolment, for every field not set explicitly.
        enrolment = load_enrolment(self.data_dir)
        given = self.model_fields_set
        if enrolment is not None:
            if "device_id" in given and self.device_id != enrolment.device_id:
                raise ValueError(
                    f"device_id {self.device_id!r} differs from the enrolment in "
                    f"{self.data_dir} ({enrolment.device_id!r})"
                )
            self.device_id = enrolment.device_id
            if "broker_url" not in given:
                self.broker_url = enrolment.broker_url
            if "mqtt_username" not in given:
                self.mqtt_username = enrolment.username
            if "mqtt_password" not in given:
                self.mqtt_password = SecretStr(enrolment.password)
            if "controller_public_key" not in given:
                self.controller_public_key = enrolment.controller_public_key
            if "broker_ca_file" not in given:
                self.broker_ca_file = ca_file(self.data_dir)
        if not self.controller_public_key:
            raise ValueError(
                "controller_public_key is not set: enrol this device first "
                "(`wardcast-agent enrol`), or set WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY"
            )
        BrokerAddress.parse(self.broker_url, ca_file=self.broker_ca_file)
        return self

    def broker_address(self) -> BrokerAddress:
        """Where and how to connect: URL, login and the pinned CA."""
        password = self.mqtt_password.get_secret_value() if self.mqtt_password else None
        return BrokerAddress.parse(
            self.broker_url,
            username=self.mqtt_username,
            password=password,
            ca_file=self.broker_ca_file,
        )

    @field_validator("broker_url")
    @classmethod
    def _broker_url_parses(cls, value: str) -> str:
        BrokerAddress.parse(value)
        return value

    @property
    def key_path(self) -> Path:
        """Where the device's private key lives."""
        return self.device_key_path or self.data_dir / "device.key"
