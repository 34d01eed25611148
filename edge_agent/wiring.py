"""Putting an agent together from its settings: hardware, player, MQTT link.

The CLI, the fleet and the demo build agents here, so a Pi and the simulator run the
very same ``EdgeAgent`` with different parts.
"""

from __future__ import annotations

from edge_agent.alsa_player import AlsaPlayer
from edge_agent.config import AgentConfig
from edge_agent.core import EdgeAgent
from edge_agent.media_cache import MediaFetcher
from edge_agent.pcm import AplaySink, PcmSink
from edge_agent.player import Player
from edge_agent.simulated_player import SimulatedPlayer
from firmware_stubs.alsa import AlsaMixerVolume
from firmware_stubs.board import BoardSensors
from firmware_stubs.gpio import SysfsGpioRelay
from firmware_stubs.hardware import Hardware, simulated_hardware
from firmware_stubs.interfaces import VolumeControl, Watchdog
from firmware_stubs.systemd import SystemdWatchdog
from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink
from wardcast_protocol.clock import Clock, SystemClock
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Availability, Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic


def hardware_for(config: AgentConfig, clock: Clock) -> Hardware:
    """The board's drivers: a sysfs GPIO relay, an ALSA mixer and systemd's watchdog on a
    Pi, each as configured; in-memory ones otherwise (and for what is not configured).

    The watchdog is systemd's when the unit gives one (``WatchdogSec``), else it only
    records kicks; the volume goes to ``alsa_mixer_control`` when one is named.
    """
    simulated = simulated_hardware(clock.now, volume=config.volume)
    watchdog: Watchdog = SystemdWatchdog.from_environment() or simulated.watchdog
    volume: VolumeControl = simulated.volume
    if config.alsa_mixer_control:
        volume = AlsaMixerVolume(
            config.alsa_mixer_control, device=config.alsa_mixer_device, level=config.volume
        )
    if config.relay_driver == "sysfs":
        relay = SysfsGpioRelay(
            config.relay_gpio_pin,
            sysfs_root=config.sysfs_root,
            active_low=config.relay_active_low,
        )
        sensors = BoardSensors(relay, sysfs_root=config.sysfs_root)
        return Hardware(relay=relay, volume=volume, sensors=sensors, watchdog=watchdog)
    if watchdog is simulated.watchdog and volume is simulated.volume:
        return simulated
    return Hardware(
        relay=simulated.relay, volume=volume, sensors=simulated.sensors, watchdog=watchdog
    )


def player_for(config: AgentConfig, clock: Clock, hardware: Hardware | None) -> Player:
    """The configured player, driving ``hardware``'s relay and volume."""
    if config.player == "alsa":
        return AlsaPlayer(
            clock,
            hardware,
            device=config.alsa_device,
            settle_s=config.relay_settle_s,
            volume=config.volume,
        )
    return SimulatedPlayer(clock, hardware, settle_s=config.relay_settle_s, volume=config.volume)


def relay_sink_for(config: AgentConfig) -> PcmSink | None:
    """Where relayed audio goes: aplay on the configured card with the ALSA player;
    None (the agent's paced, silent sink) with the simulated one."""
    if config.player == "alsa":
        return AplaySink(config.relay_rate_hz, device=config.alsa_device)
    return None


def mqtt_link_for(config: AgentConfig, key: SigningKey, clock: Clock) -> AsyncioMqttLink:
    """An MQTT v5 link with a persistent session and a signed, retained "offline" will.

    Driven by the agent's event loop (not a paho thread): the same code runs one
    agent on a Pi and hundreds in one simulator process, past select()'s limit.
    """
    offline = seal(
        Kind.AVAILABILITY, Availability(state="offline"), config.device_id, key, clock.now()
    )
    return AsyncioMqttLink(
        config.broker_address(),
        client_id=f"wardcast-agent-{config.device_id}",
        will=(device_topic(config.device_id, DeviceChannel.AVAILABILITY), offline),
        keepalive_s=config.mqtt_keepalive_s,
    )


def build_agent(
    config: AgentConfig,
    fetcher: MediaFetcher,
    *,
    clock: Clock | None = None,
    hardware: Hardware | None = None,
) -> EdgeAgent:
    """A complete agent for ``config`` on a real MQTT link."""
    clock = clock or SystemClock()
    key = SigningKey.load_or_create(config.key_path)
    hardware = hardware or hardware_for(config, clock)
    return EdgeAgent(
        config,
        transport=mqtt_link_for(config, key, clock),
        player=player_for(config, clock, hardware),
        fetcher=fetcher,
        clock=clock,
        hardware=hardware,
        device_key=key,
        relay_sink=relay_sink_for(config),
    )
