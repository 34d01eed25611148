"""Test and benchmark doubles for the edge agent: a fake media server, a controller stand-in,
scripted live streams, and a sink and a player that count what really sounded.

``ControllerStandIn`` speaks the protocol the way the controller does (signed plans,
commands and acks; verified events) on any ``Transport``: a ``FakeTransport`` in the
unit tier, a real ``MqttLink`` in the integration tier and the benchmarks. It does
not import the controller: it is built from ``wardcast_protocol`` alone.
"""

from __future__ import annotations

import array
import asyncio
import hashlib
import math
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edge_agent.pcm import SAMPLE_BYTES, PacedSink, rms_dbfs
from edge_agent.player import Player, PlayResult, StartCallback
from edge_agent.stream import StreamConnection, StreamError
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import (
    CONTROLLER_SENDER,
    RejectedMessage,
    Verified,
    open_envelope,
    seal,
)
from wardcast_protocol.messages import (
    Command,
    EventAck,
    Kind,
    MediaRef,
    Plan,
    PlanItem,
    PlaybackEvent,
    PlayNow,
    Priority,
    RelaySpec,
    ResendEvents,
    StopItem,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, all_devices, device_topic, parse
from wardcast_protocol.transport import Transport


class FakeMediaFetcher:
    """A ``MediaFetcher`` serving bytes from memory; records every fetch.

    ``fail_next[url] = n`` makes the next ``n`` fetches of ``url`` raise ``OSError``.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.fail_next: dict[str, int] = {}

    def add(
        self,
        data: bytes,
        *,
        url: str | None = None,
        duration_s: float = 30.0,
        content_type: str = "audio/ogg",
    ) -> MediaRef:
        """Serve ``data`` and return the reference a plan would carry for it."""
        digest = hashlib.sha256(data).hexdigest()
        url = url or f"http://media.test/{digest[:12]}"
        self.files[url] = data
        return MediaRef(
            sha256=digest,
            url=url,
            duration_s=duration_s,
            size_bytes=len(data),
            content_type=content_type,
        )

    async def fetch(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> None:
        """Hand over the bytes for ``url`` (or fail as told)."""
        self.calls.append(url)
        if self.fail_next.get(url, 0) > 0:
            self.fail_next[url] -= 1
            raise OSError(f"simulated network failure fetching {url}")
        if url not in self.files:
            raise OSError(f"404 {url}")
        sink(self.files[url][: max_bytes + 1])


def plan_item(
    item_id: str,
    media: MediaRef,
    planned_start: datetime,
    *,
    priority: Priority = Priority.NORMAL,
    broadcast_id: str = "b-1",
) -> PlanItem:
    """A plan item with test defaults."""
    return PlanItem(
        item_id=item_id,
        broadcast_id=broadcast_id,
        title=f"item {item_id}",
        media=media,
        planned_start=planned_start,
        priority=priority,
    )


def relay_item(
    item_id: str,
    fallback: MediaRef,
    planned_start: datetime,
    url: str,
    *,
    window_s: float = 20.0,
    prebuffer_s: float = 2.0,
    dead_after_s: float = 3.0,
    silence_db: float = -50.0,
    priority: Priority = Priority.NORMAL,
) -> PlanItem:
    """A relay plan item (``fallback`` is its local fallback media) with test defaults."""
    spec = RelaySpec(
        url=url,
        station="TEST",
        window_s=window_s,
        prebuffer_s=prebuffer_s,
        dead_after_s=dead_after_s,
        silence_db=silence_db,
    )
    return PlanItem(
        item_id=item_id,
        broadcast_id="b-relay",
        title=f"relay {item_id}",
        media=fallback,
        planned_start=planned_start,
        priority=priority,
        relay=spec,
    )


Segment = tuple[str, float]
"""("sound" | "silence" | "stall" | "page", seconds) of a scripted live stream: sound
and silence come half a second at a time, a page (of sound) all at once."""


def tone_pcm(rate_hz: int, seconds: float, amplitude: int = 8000) -> bytes:
    """Mono s16le sine at 440 Hz (about -15 dBFS by default)."""
    n = round(rate_hz * seconds)
    samples = array.array(
        "h", (round(amplitude * math.sin(2 * math.pi * 440 * i / rate_hz)) for i in range(n))
    )
    return samples.tobytes()


class _ScriptedConnection:
    """A live stream played from a script on a clock: half-second frames in real time."""

    def __init__(self, clock: Clock, rate_hz: int, script: Sequence[Segment]) -> None:
        self._clock = clock
        self._rate_hz = rate_hz
        self._frames = self._expand(script)

    @staticmethod
    def _expand(script: Sequence[Segment]) -> list[tuple[str, float]]:
        frames: list[tuple[str, float]] = []
        for kind, seconds in script:
            if kind in ("stall", "page"):
                frames.append((kind, seconds))
                continue
            frames += [(kind, 0.5)] * round(seconds * 2)
        return frames

    async def read(self) -> bytes:
        """The next half second, after it has "happened"; b"" at the script's end."""
        while self._frames:
            kind, seconds = self._frames.pop(0)
            await self._clock.sleep(seconds)
            if kind in ("sound", "page"):
                return tone_pcm(self._rate_hz, seconds)
            if kind == "silence":
                return bytes(round(self._rate_hz * seconds) * 2)
        return b""

    async def close(self) -> str | None:
        """Nothing to release; a scripted end is not an error."""
        return None


class FakeStreamOpener:
    """A ``StreamOpener`` of scripted live streams for the unit tier.

    Each open takes the next entry of ``connections``: a script of segments played
    in clock time and then ended, or a string, which makes the open fail with it.
    Once they are used up every open fails with "connection refused".
    """

    def __init__(self, clock: Clock, connections: Iterable[Sequence[Segment] | str] = ()) -> None:
        self._clock = clock
        self.connections = list(connections)
        self.opened: list[str] = []
        self.opened_at: list[datetime] = []

    async def open(self, url: str, rate_hz: int, stall_s: float) -> StreamConnection:
        """The next scripted connection (or its failure)."""
        self.opened.append(url)
        self.opened_at.append(self._clock.now())
        await asyncio.sleep(0)
        entry = self.connections.pop(0) if self.connections else "connection refused"
        if isinstance(entry, str):
            raise StreamError(entry)
        return _ScriptedConnection(self._clock, rate_hz, entry)


@dataclass(frozen=True, slots=True)
class HeardSpan:
    """Samples a sink played: from ``start`` to ``end`` at ``level_db``."""

    start: datetime
    end: datetime
    samples: int
    level_db: float

    @property
    def seconds(self) -> float:
        """How long it sounded."""
        return (self.end - self.start).total_seconds()


class CountingSink(PacedSink):
    """A paced sink that counts the samples it really played, and when.

    Each write plays from when the audio before it is done, as on a sound card; a
    close cuts what was still queued. ``spans`` is the ground truth a relay's books
    are checked against.
    """

    def __init__(self, clock: Clock, rate_hz: int, buffer_s: float = 0.5) -> None:
        super().__init__(clock, rate_hz, buffer_s)
        self.spans: list[HeardSpan] = []

    async def write(self, pcm: bytes) -> None:
        """Note when ``pcm`` will sound, then queue it like the paced sink."""
        now = self._clock.now()
        start = max(self.drained_at or now, now)
        samples = len(pcm) // SAMPLE_BYTES
        end = start + timedelta(seconds=samples / self._rate_hz)
        self.spans.append(HeardSpan(start, end, samples, rms_dbfs(pcm)))
        await super().write(pcm)

    async def close(self) -> None:
        """Cut what had not been played yet."""
        now = self._clock.now()
        kept: list[HeardSpan] = []
        for span in self.spans:
            if span.start >= now:
                continue
            if span.end > now:
                played = round((now - span.start).total_seconds() * self._rate_hz)
                span = HeardSpan(span.start, now, played, span.level_db)
            kept.append(span)
        self.spans = kept
        await super().close()

    def heard_s(self, *, at_least_db: float = -200.0, until: datetime | None = None) -> float:
        """Seconds of samples played at or above ``at_least_db`` (before ``until``)."""
        total = 0
        for span in self.spans:
            if span.level_db < at_least_db:
                continue
            if until is not None and span.end > until:
                if span.start >= until:
                    continue
                total += round((until - span.start).total_seconds() * self._rate_hz)
                continue
            total += span.samples
        return total / self._rate_hz

    def first_sound(self, at_least_db: float) -> datetime | None:
        """When the first sample at or above ``at_least_db`` played."""
        return next((s.start for s in self.spans if s.level_db >= at_least_db), None)


class PlayLog:
    """A ``Player`` that passes every play on and notes what really sounded, and when."""

    def __init__(self, player: Player, clock: Clock) -> None:
        self._player = player
        self._clock = clock
        self.plays: list[tuple[Path, datetime, datetime]] = []  # (file, first sample, end)

    @property
    def lead_s(self) -> float:
        """The wrapped player's warm-up."""
        return self._player.lead_s

    async def play(
        self,
        path: Path,
        duration_s: float,
        on_start: StartCallback | None = None,
        start_at: datetime | None = None,
        *,
        stop: asyncio.Event | None = None,
        after: asyncio.Future[Any] | None = None,
    ) -> PlayResult:
        """Play through the wrapped player; note the span from first sample to end."""
        started: list[datetime] = []

        def note_start(at: datetime) -> None:
            started.append(at)
            if on_start is not None:
                on_start(at)

        result = await self._player.play(
            path, duration_s, note_start, start_at, stop=stop, after=after
        )
        if started:
            self.plays.append((path, started[0], self._clock.now()))
        return result

    def stop(self) -> None:
        """Stop the wrapped player."""
        self._player.stop()

    def played_s(self, path: Path | None = None) -> float:
        """Seconds played (of ``path`` only, if given)."""
        return sum(
            (end - start).total_seconds()
            for file, start, end in self.plays
            if path is None or file == path
        )


class ControllerStandIn:
    """Signs plans/commands/acks as the controller and collects verified device events.

    It listens with one handler among the transport's others (a test may listen
    beside it); ``unsubscribe()`` stops it listening.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        key: SigningKey | None = None,
        device_keys: dict[str, str] | None = None,
        now: Callable[[], datetime] | None = None,
        auto_ack: bool = False,
    ) -> None:
        self.transport = transport
        self.key = key or SigningKey.generate()
        self.device_keys: dict[str, str] = dict(device_keys or {})
        self.now = now or (lambda: datetime.now(UTC))
        self.auto_ack = auto_ack
        self.events: list[Verified[PlaybackEvent]] = []
        self.rejected: list[RejectedMessage] = []
        self._cond = threading.Condition()
        self.unsubscribe = transport.subscribe(all_devices(DeviceChannel.EVENT), self._on_message)

    @property
    def public_key(self) -> str:
        """The controller public key agents are provisioned with."""
        return self.key.public_key_b64

    def send_plan(self, device_id: str, items: Iterable[PlanItem], version: int) -> Plan:
        """Publish a signed, retained plan."""
        plan = Plan(
            device_id=device_id, version=version, generated_at=self.now(), items=tuple(items)
        )
        self.publish(device_id, DeviceChannel.PLAN, Kind.PLAN, plan, retain=True)
        return plan

    def play_now(
        self, device_id: str, item: PlanItem, *, command_id: str | None = None, ttl_s: float = 60
    ) -> Command:
        """Send a PlayNow command."""
        return self.send_command(device_id, PlayNow(item=item), command_id=command_id, ttl_s=ttl_s)

    def stop_item(self, device_id: str, item_id: str, reason: str = "") -> Command:
        """Send a StopItem command."""
        return self.send_command(device_id, StopItem(item_id=item_id, reason=reason))

    def send_command(
        self,
        device_id: str,
        order: PlayNow | StopItem | ResendEvents,
        *,
        command_id: str | None = None,
        ttl_s: float = 60,
        issued_at: datetime | None = None,
    ) -> Command:
        """Publish a signed command (never retained, with an MQTT expiry)."""
        issued = issued_at or self.now()
        command = Command(
            command_id=command_id or uuid.uuid4().hex,
            device_ids=(device_id,),
            issued_at=issued,
            expires_at=issued + timedelta(seconds=ttl_s),
            order=order,
        )
        self.publish(device_id, DeviceChannel.COMMAND, Kind.COMMAND, command)
        return command

    def ack(self, device_id: str, event_ids: Iterable[str]) -> None:
        """Acknowledge stored events."""
        self.publish(device_id, DeviceChannel.ACK, Kind.ACK, EventAck(event_ids=tuple(event_ids)))

    def publish(
        self,
        device_id: str,
        channel: DeviceChannel,
        kind: Kind,
        body: Plan | Command | EventAck,
        *,
        retain: bool = False,
    ) -> None:
        """Seal ``body`` as the controller and publish it on the device's channel."""
        wire = seal(kind, body, CONTROLLER_SENDER, self.key, self.now())
        self.transport.publish(device_topic(device_id, channel), wire, retain=retain)

    def wait_events(
        self, count: int, timeout_s: float, where: Callable[[PlaybackEvent], bool] | None = None
    ) -> list[PlaybackEvent]:
        """Block until ``count`` matching events arrived (any thread); return them all."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._matching(where)) >= count, timeout_s)
            return self._matching(where)

    def received(self) -> list[PlaybackEvent]:
        """Bodies of the events received so far (duplicates included)."""
        with self._cond:
            return [v.body for v in self.events]

    def _matching(self, where: Callable[[PlaybackEvent], bool] | None) -> list[PlaybackEvent]:
        return [v.body for v in self.events if where is None or where(v.body)]

    def _on_message(self, message: ReceivedMessage) -> None:
        parsed = parse(message.topic)
        if parsed is None or parsed.channel is not DeviceChannel.EVENT:
            return
        try:
            verified = open_envelope(
                message.payload, Kind.EVENT, self.device_keys.get, parsed.device_id
            )
        except RejectedMessage as exc:
            with self._cond:
                self.rejected.append(exc)
            return
        assert isinstance(verified.body, PlaybackEvent)
        with self._cond:
            self.events.append(verified)  # type: ignore[arg-type]
            self._cond.notify_all()
        if self.auto_ack:
            self.ack(parsed.device_id, [verified.body.event_id])
