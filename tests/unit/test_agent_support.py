"""The agent rig the EdgeAgent tests share (no tests here): one agent on a FakeClock.

An agent, a controller stand-in and a fake media server on one FakeBroker; ``rig`` is
the fixture (import it and name it in ``__all__`` so pytest sees it), ``settle`` lets
every ready task run without time passing. Moved as is from ``test_agent_core.py`` when
that file was split by theme (commands, evidence, playback).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_agent.config import AgentConfig
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from edge_agent.core import EdgeAgent
from edge_agent.fake_media import FakeMediaFetcher, FakeStreamOpener
from edge_agent.simulated_player import SimulatedPlayer
from firmware_stubs.hardware import SimulatedHardware, simulated_hardware
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import MediaRef, PlaybackEvent
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic

DEVICE = "to-01"


async def settle() -> None:
    """Let every ready task run (no time passes on the FakeClock)."""
    for _ in range(50):
        await asyncio.sleep(0)


@dataclass
class Rig:
    """One agent, a controller stand-in and a fake media server on one FakeBroker."""

    tmp: Path
    clock: FakeClock
    broker: FakeBroker
    fetcher: FakeMediaFetcher = field(default_factory=FakeMediaFetcher)
    device_key: SigningKey = field(default_factory=SigningKey.generate)
    agents: list[EdgeAgent] = field(default_factory=list)
    started: list[tuple[str, datetime]] = field(default_factory=list)
    hardware: SimulatedHardware | None = None
    opener: FakeStreamOpener | None = None  # the relay tests script their streams

    def __post_init__(self) -> None:
        link = self.broker.link("controller")
        link.start()
        self.ctl = ControllerStandIn(
            link,
            device_keys={DEVICE: self.device_key.public_key_b64},
            now=self.clock.now,
        )
        self.hardware = simulated_hardware(self.clock.now)
        self.media = self.fetcher.add(b"ogg-bytes-1" * 10, duration_s=30)

    def config(self, **overrides: Any) -> AgentConfig:
        values: dict[str, Any] = {
            "device_id": DEVICE,
            "controller_public_key": self.ctl.public_key,
            "data_dir": self.tmp / DEVICE,
            "media_fetch_backoff_s": 0,
            "media_fetch_attempts": 2,
        }
        values.update(overrides)
        return AgentConfig(**values)

    async def start_agent(self, settle_s: float = 0.0, **overrides: Any) -> EdgeAgent:
        agent = EdgeAgent(
            self.config(**overrides),
            transport=self.broker.link(DEVICE),
            player=SimulatedPlayer(self.clock, self.hardware, settle_s=settle_s),
            fetcher=self.fetcher,
            clock=self.clock,
            hardware=self.hardware,
            device_key=self.device_key,
            stream_opener=self.opener,
        )
        agent.on_playback_started = lambda item_id, at: self.started.append((item_id, at))
        self.agents.append(agent)
        await agent.start()
        await settle()
        return agent

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def at(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    async def tick(self, seconds: float) -> None:
        await self.clock.advance(seconds)
        await settle()

    def events(self) -> list[PlaybackEvent]:
        """Distinct events received, in arrival order (resends dropped, as the controller does)."""
        unique: dict[str, PlaybackEvent] = {}
        for event in self.ctl.received():
            unique.setdefault(event.event_id, event)
        return list(unique.values())

    def published(self, channel: DeviceChannel) -> list[bytes]:
        return [p.payload for p in self.broker.published(device_topic(DEVICE, channel))]

    def item(self, item_id: str, start_in_s: float, **kw: Any) -> Any:
        media: MediaRef = kw.pop("media", self.media)
        return plan_item(item_id, media, self.at(start_in_s), **kw)


@pytest.fixture
async def rig(tmp_path: Path, fake_clock: FakeClock, fake_broker: FakeBroker) -> AsyncIterator[Rig]:
    r = Rig(tmp_path, fake_clock, fake_broker)
    yield r
    for agent in r.agents:
        await agent.abort()
