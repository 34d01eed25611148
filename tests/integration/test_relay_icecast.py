"""Relays through a real Icecast 2 server fed by ffmpeg: every way a stream fails, on air.

Each case is one agent relaying one mount for a short window (dead air allowed:
3 s), with the real ffmpeg decoder and the system clock; its relay sink and player
count what really sounded (``CountingSink``, ``PlayLog``), and its signed evidence
comes back through a controller stand-in. The cases that break a server (killed,
stalled with SIGSTOP) get a server of their own. All cases are aired at once, by
one module fixture, so the file takes about as long as its longest case.

Every case checks the evidence row against the samples (relayed and fallback
seconds within 0.25 s, relayed + gap = the window) and against the real timeline:
when the outage and the return happened, how long the dead air lasted, where the
reason's problems come in it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.air_check import CountingSink, PlayLog
from edge_agent.config import AgentConfig
from edge_agent.controller_stand_in import ControllerStandIn, relay_item
from edge_agent.core import EdgeAgent
from edge_agent.fake_media import FakeMediaFetcher
from edge_agent.relay_books import RECOVER_S
from edge_agent.simulated_player import SimulatedPlayer
from tests.support.icecast import IcecastServer, icecast_binary
from wardcast_protocol.clock import SystemClock
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import Outcome, PlanItem, PlaybackEvent
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, all_devices

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        icecast_binary() is None, reason="needs icecast2 (scripts/install.sh installs it)"
    ),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg"),
]

# Icecast takes about 1.3 s to start sending to a new listener, ffmpeg a little more to
# decode on a busy machine: the prebuffer and the dead-air limit leave room for both.
PREBUFFER_S = 4.0
DEAD_AFTER_S = 3.0
SILENCE_DB = -50.0
LEAD_S = PREBUFFER_S + 1.5  # from sending the plan to the window's start
TOLERANCE_S = 0.25  # books against counted samples
OUT_AT_S, BACK_AT_S = 3.0, 9.0  # when the outage cases break the stream and mend it
OUTAGE_WINDOW_S = 15.0


@dataclass
class Case:
    """One relay to air: what it relays, for how long, and what happens on the way."""

    name: str
    url: str
    window_s: float
    # (seconds into the window, mark, a blocking action): the mark is set when it is done
    actions: list[tuple[float, str, Callable[[], object]]] = field(default_factory=list)


@dataclass
class Aired:
    """What one case did: the plan item, its evidence, and what really sounded."""

    case: Case
    item: PlanItem
    event: PlaybackEvent
    sink: CountingSink
    log: PlayLog
    marks: dict[str, datetime]
    fallback_path: Path | None = None

    @property
    def start(self) -> datetime:
        return self.item.planned_start

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.case.window_s)

    def at(self, moment: datetime) -> float:
        """Seconds into the window."""
        return round((moment - self.start).total_seconds(), 2)

    def sounds(self) -> list[tuple[datetime, datetime]]:
        """Spans of stream sound that played, merged where back to back."""
        merged: list[tuple[datetime, datetime]] = []
        for span in self.sink.spans:
            if span.level_db < SILENCE_DB:
                continue
            if merged and span.start <= merged[-1][1] + timedelta(milliseconds=50):
                merged[-1] = (merged[-1][0], max(merged[-1][1], span.end))
            else:
                merged.append((span.start, span.end))
        return merged

    def fallbacks(self) -> list[tuple[datetime, datetime]]:
        """Spans of the fallback that played."""
        return [(start, end) for _, start, end in self.log.plays]

    def row(self) -> str:
        """One line of the closing note's table."""
        stats = self.event.relay
        assert stats is not None
        sounds = ", ".join(f"{self.at(a)}–{self.at(b)}" for a, b in self.sounds()) or "none"
        falls = ", ".join(f"{self.at(a)}–{self.at(b)}" for a, b in self.fallbacks()) or "none"
        marks = ", ".join(f"{k} {self.at(v)}" for k, v in self.marks.items()) or "-"
        return (
            f"{self.case.name}: window {self.case.window_s:g} s; real: {marks}; stream heard "
            f"{sounds}; fallback {falls} | evidence: {self.event.outcome.value}, start "
            f"{self.at(self.event.actual_start) if self.event.actual_start else None}, "
            f"relayed {stats.relayed_s} (heard {self.heard_s():.2f}), gaps {stats.gap_count} "
            f"{stats.gap_s} s, fallback {stats.fallback_s} (played "
            f"{sum((b - a).total_seconds() for a, b in self.fallbacks()):.2f}), "
            f"reconnects {stats.reconnects}; reason: {self.event.reason}"
        )

    def heard_s(self) -> float:
        return self.sink.heard_s(at_least_db=SILENCE_DB, until=self.end)


async def air_one(case: Case, workdir: Path) -> Aired:
    """Run an agent that relays ``case``; its evidence and what it played."""
    clock = SystemClock()
    broker = FakeBroker()
    link = broker.link("controller")
    link.start()
    device = f"ice-{case.name}"
    key = SigningKey.generate()
    controller = ControllerStandIn(link, device_keys={device: key.public_key_b64}, now=clock.now)
    recorded = asyncio.Event()  # set after the stand-in has taken the event (it listens first)
    link.subscribe(all_devices(DeviceChannel.EVENT), lambda _: recorded.set())
    fetcher = FakeMediaFetcher()
    fallback = fetcher.add(b"fallback-bulletin" * 64, duration_s=120)
    config = AgentConfig(
        device_id=device,
        controller_public_key=controller.public_key,
        data_dir=workdir / device,
        media_fetch_backoff_s=0,
    )
    sink = CountingSink(clock, config.relay_rate_hz)
    log = PlayLog(SimulatedPlayer(clock), clock)
    agent = EdgeAgent(
        config,
        transport=broker.link(device),
        player=log,
        fetcher=fetcher,
        clock=clock,
        device_key=key,
        relay_sink=sink,
    )
    await agent.start()
    marks: dict[str, datetime] = {}
    try:
        planned = clock.now() + timedelta(seconds=LEAD_S)
        item = relay_item(
            case.name,
            fallback,
            planned,
            case.url,
            window_s=case.window_s,
            prebuffer_s=PREBUFFER_S,
            dead_after_s=DEAD_AFTER_S,
            silence_db=SILENCE_DB,
        )
        controller.send_plan(device, [item], version=1)
        for at_s, mark, action in case.actions:
            await clock.sleep_until(planned + timedelta(seconds=at_s))
            await asyncio.to_thread(action)
            marks[mark] = clock.now()
        wait_s = (planned - clock.now()).total_seconds() + case.window_s + 15
        await asyncio.wait_for(recorded.wait(), wait_s)
        [event] = controller.received()
        return Aired(case, item, event, sink, log, marks)
    finally:
        await agent.stop()


@pytest.fixture(scope="module")
def aired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Aired]]:
    root = tmp_path_factory.mktemp("icecast")
    shared, down, stalled = (IcecastServer(root / n) for n in ("shared", "down", "stalled"))
    servers = [shared, down, stalled]
    try:
        for server in servers:
            server.start()
        shared.feed("/clean.mp3")
        shared.feed("/clean.ogg", codec="opus")
        shared.feed("/silent.mp3", silent=True)
        cut = shared.feed("/cut.mp3")
        down.feed("/live.mp3")
        stalled.feed("/live.mp3")

        def restart_down() -> None:
            down.start()
            down.feed("/live.mp3")

        cases = [
            Case("clean-mp3", shared.url("/clean.mp3"), 6),
            Case("clean-opus", shared.url("/clean.ogg"), 6),
            Case(
                "source-killed",
                shared.url("/cut.mp3"),
                OUTAGE_WINDOW_S,
                [(OUT_AT_S, "out", cut.stop), (BACK_AT_S, "back", lambda: shared.feed("/cut.mp3"))],
            ),
            Case(
                "server-killed",
                down.url("/live.mp3"),
                OUTAGE_WINDOW_S,
                [(OUT_AT_S, "out", down.kill), (BACK_AT_S, "back", restart_down)],
            ),
            Case(
                "stalled",
                stalled.url("/live.mp3"),
                OUTAGE_WINDOW_S,
                [(OUT_AT_S, "out", stalled.pause), (BACK_AT_S, "back", stalled.resume)],
            ),
            Case("silent", shared.url("/silent.mp3"), 7),
            Case("404", shared.url("/nothing-here.mp3"), 5),
            Case("html-page", shared.url("/status.xsl"), 5),
        ]

        async def air_all() -> list[Aired]:
            return await asyncio.gather(*(air_one(case, root / "agents") for case in cases))

        results = {a.case.name: a for a in asyncio.run(air_all())}
        for result in results.values():
            print(result.row())
        yield results
    finally:
        for server in servers:
            server.close()


def books_agree(aired: Aired) -> None:
    """The evidence's seconds are the samples that sounded, and add up to the window."""
    stats = aired.event.relay
    assert stats is not None, aired.row()
    assert stats.relayed_s == pytest.approx(aired.heard_s(), abs=TOLERANCE_S), aired.row()
    played = sum((b - a).total_seconds() for a, b in aired.fallbacks())
    assert stats.fallback_s == pytest.approx(played, abs=TOLERANCE_S), aired.row()
    assert stats.relayed_s + stats.gap_s == pytest.approx(aired.case.window_s, abs=0.3)


def in_order(reason: str | None, *words: str) -> bool:
    """True when each of ``words`` is in ``reason``, in that order."""
    text = reason or ""
    places = [text.find(w) for w in words]
    return -1 not in places and places == sorted(places)


@pytest.mark.parametrize("name", ["clean-mp3", "clean-opus"])
def test_a_clean_stream_is_relayed_on_time_for_its_whole_window(
    aired: dict[str, Aired], name: str
) -> None:
    a = aired[name]
    stats = a.event.relay
    assert stats is not None
    assert a.event.outcome is Outcome.COMPLETED, a.row()
    assert a.event.actual_start is not None
    assert abs(a.at(a.event.actual_start)) <= 0.3, a.row()
    assert (stats.gap_count, stats.fallback_used) == (0, False), a.row()
    assert stats.relayed_s >= a.case.window_s - 0.5, a.row()
    assert a.event.reason is None
    books_agree(a)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("source-killed", ("stream ended", "404 Not Found")),
        ("server-killed", ("Connection refused",)),
        # The relay notices the silence of a stalled socket first ("stream stalled"); the
        # monitor's own timeout ("no data for 3 s") or ffmpeg's exit may name it second.
        ("stalled", ("stream stalled",)),
    ],
)
def test_an_outage_is_one_gap_with_bounded_dead_air_and_the_stream_is_rejoined(
    aired: dict[str, Aired], name: str, words: tuple[str, ...]
) -> None:
    a = aired[name]
    stats = a.event.relay
    assert stats is not None
    out, back = a.marks["out"], a.marks["back"]
    assert a.event.outcome is Outcome.PARTIAL, a.row()
    assert stats.gap_count == 1, a.row()
    [(fallback_from, fallback_to)] = a.fallbacks()
    sounds = a.sounds()
    last_before = max(end for _, end in sounds if end <= fallback_from)
    first_after = min(start for start, _ in sounds if start >= fallback_from)
    # The relay plays a little behind live: it goes on for what it had when the stream broke.
    assert out - timedelta(seconds=0.2) <= last_before <= out + timedelta(seconds=3), a.row()
    dead_air_s = (fallback_from - last_before).total_seconds()
    assert 0 < dead_air_s <= DEAD_AFTER_S + 0.5, a.row()
    # Back: reconnected within the backoff (capped at dead_after_s), RECOVER_S of sound.
    assert back <= first_after, a.row()
    assert first_after <= back + timedelta(seconds=DEAD_AFTER_S + RECOVER_S + 2.0), a.row()
    assert fallback_to <= first_after, a.row()  # the fallback stopped for the stream
    assert in_order(a.event.reason, *words), a.row()
    books_agree(a)


def test_a_silent_mount_falls_back_after_dead_after_and_starts_with_the_fallback(
    aired: dict[str, Aired],
) -> None:
    a = aired["silent"]
    stats = a.event.relay
    assert stats is not None
    assert a.event.outcome is Outcome.PARTIAL, a.row()
    assert (stats.gap_count, stats.relayed_s) == (1, 0), a.row()
    assert a.event.actual_start is not None
    # The recorded start is when sound began: the fallback, dead_after_s in.
    assert a.at(a.event.actual_start) == pytest.approx(DEAD_AFTER_S, abs=0.5), a.row()
    assert stats.fallback_s == pytest.approx(a.case.window_s - DEAD_AFTER_S, abs=0.5)
    assert "stream silent (below -50 dBFS)" in (a.event.reason or "")
    books_agree(a)


@pytest.mark.parametrize(
    ("name", "words"),
    [("404", "Server returned 404 Not Found"), ("html-page", "Invalid data found")],
)
def test_a_mount_that_is_not_a_stream_falls_back_from_the_first_second(
    aired: dict[str, Aired], name: str, words: str
) -> None:
    a = aired[name]
    stats = a.event.relay
    assert stats is not None
    assert a.event.outcome is Outcome.PARTIAL, a.row()
    assert a.event.actual_start is not None
    assert abs(a.at(a.event.actual_start)) <= 0.3, a.row()
    assert (stats.gap_count, stats.relayed_s) == (1, 0), a.row()
    assert stats.fallback_s == pytest.approx(a.case.window_s, abs=0.3), a.row()
    assert words in (a.event.reason or ""), a.row()
    books_agree(a)
