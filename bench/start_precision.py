"""Start precision: how close to the planned instant N agents in one process start a session.

    .venv/bin/python -m bench.start_precision --agents 500

One real mosquitto on loopback, N edge agents in one AgentFleet (one asyncio loop,
each with its own MQTT connection, data directory, key and media cache), a
controller stand-in that signs their plans, and an HTTP server process for the audio
(``bench.media_server``, which ``bench.agent_footprint`` shares).
A first plan makes every agent fetch the audio; once all hold it, one session of
``--items`` consecutive clips, ``--gap-s`` apart (default 0: back to back, each item
due at the last sample of the one before), is planned ``--lead-s`` ahead;
each agent's start is the instant its player released the first sample. Printed:
|actual - planned| over all agents and items (p50, p99, max), and how many agents
started everything.

Baseline, in the same run and on the same loop: N plain asyncio tasks sleeping until
the same instants (``SystemClock.sleep_until``: timers alone), and their lateness.
The last line holds ``key=value`` pairs: the agents' p50/p99, the baseline's, their
ratio, and the load average (the machine is shared: compare ratios).

    .venv/bin/python -m bench.start_precision --tiny     # 5 agents: the test suite's run

``--trace FILE`` records what the loop did around the starts (``bench.loop_trace``)
and prints it item by item; ``--slot-phase-ms 4`` plans the instants 4 ms into a
start board slot (5 ms), so that items following each other back to back straddle
a slot's edge: the worst case, otherwise met in about one run in four.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import StartTimes
from bench.figures import peak_rss_mib, percentile, summary_ms
from bench.loop_trace import LoopTrace
from bench.media_server import MediaProcess, tone_clips
from controller.messaging.broker import EmbeddedBroker
from edge_agent.config import AgentConfig
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from edge_agent.fleet import AgentFleet
from edge_agent.timing import BUCKET_S
from wardcast_protocol.clock import SystemClock
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import BrokerAddress


def agent_configs(
    tmp: Path, n: int, broker_url: str, controller_key: str, prepare_s: float | None = None
) -> list[AgentConfig]:
    """N simulated devices, as bench/fanout.py provisions them (no fsync, no warm-up)."""
    extra = {} if prepare_s is None else {"start_prepare_s": prepare_s}
    return [
        AgentConfig(
            device_id=f"prec-{i:04d}",
            controller_public_key=controller_key,
            data_dir=tmp / "agents" / f"prec-{i:04d}",
            broker_url=broker_url,
            relay_settle_s=0.0,
            durable_outbox=False,
            max_parallel_downloads=2,
            **extra,
        )
        for i in range(n)
    ]


async def timer_lateness(instants: Sequence[datetime], waiters: int) -> list[float]:
    """Lateness (s) of ``waiters`` plain tasks sleeping until each of ``instants``."""
    clock = SystemClock()

    async def one(at: datetime) -> float:
        await clock.sleep_until(at)
        return (datetime.now(UTC) - at).total_seconds()

    results = await asyncio.gather(*(one(at) for at in instants for _ in range(waiters)))
    return list(results)


def _freeze_heap() -> None:
    gc.collect()
    gc.freeze()


def run(
    agents: int,
    items: int,
    clip_s: float,
    gap_s: float,
    lead_s: float,
    tmp: Path,
    prepare_s: float | None = None,
    trace_path: Path | None = None,
    slot_phase_ms: float | None = None,
) -> None:
    """Run the session and the baseline; print the figures (``trace_path``: and what
    the loop did around the starts, ``bench.loop_trace``)."""
    load_before = os.getloadavg()[0]
    with EmbeddedBroker() as broker:
        link = MqttLink(BrokerAddress.parse(broker.url), "prec-controller")
        controller = ControllerStandIn(link)
        link.start()
        if not link.wait_connected(10):
            raise SystemExit("controller stand-in could not connect")
        configs = agent_configs(tmp, agents, broker.url, controller.public_key, prepare_s)
        for config in configs:
            key = SigningKey.load_or_create(config.key_path)
            controller.device_keys[config.device_id] = key.public_key_b64
        media_dir = tmp / "media"
        media_dir.mkdir()
        server = MediaProcess(media_dir)
        starts = StartTimes()
        fleet = AgentFleet(configs, on_playback_started=starts.record)
        try:
            clips = tone_clips(media_dir, items, clip_s, server.port)
            began = time.perf_counter()
            fleet.start(timeout_s=300)
            if not fleet.wait_ready(300):
                raise SystemExit("agents did not all connect")
            ready_s = time.perf_counter() - began
            # First a plan that only fetches the audio (its items an hour ahead); once
            # every agent holds it, the session: the bench times starts, not downloads.
            later = datetime.now(UTC) + timedelta(hours=1)
            warm = [
                plan_item(f"warm-{n}", clip, later + timedelta(minutes=n))
                for n, clip in enumerate(clips)
            ]
            warm_sent = time.monotonic()
            for config in configs:
                controller.send_plan(config.device_id, warm, version=1)

            def holding(version: int) -> int:
                return sum(1 for a in fleet.agents.values() if a.plan_version == version)

            while fleet.call(lambda: holding(1)) < agents:
                if time.monotonic() - warm_sent > max(60.0, agents * 0.3):
                    raise SystemExit("agents did not all accept the first plan")
                time.sleep(0.2)
            # Accepting a plan costs two fsyncs: on a loaded machine a fleet takes a while.
            accept_s = time.monotonic() - warm_sent
            lead_s = max(lead_s, 2 * accept_s + 2)

            def cached() -> int:
                counts = [a.media.count() for a in fleet.agents.values()]
                return sum(1 for c in counts if c == items)

            ready_at_start = 0
            cache_deadline = time.monotonic() + max(60.0, agents * 0.3)
            while time.monotonic() < cache_deadline:
                ready_at_start = fleet.call(cached)
                if ready_at_start == agents:
                    break
                time.sleep(0.5)
            # A thousand agents' heaps in one process: a full collection walks them all
            # (up to a second, measured), where a Pi walks one agent's. Their start-up
            # objects are exempted, as bench.fanout's workers and the controller do.
            fleet.call(_freeze_heap)
            trace = LoopTrace() if trace_path is not None else None
            if trace is not None:
                fleet.call(lambda: trace.install(fleet.loop))
            first = datetime.now(UTC) + timedelta(seconds=lead_s)
            if slot_phase_ms is not None:
                first = _on_slot_phase(first, slot_phase_ms / 1000)
            session = [
                plan_item(f"prec-{n}", clip, first + timedelta(seconds=n * (clip_s + gap_s)))
                for n, clip in enumerate(clips)
            ]
            sent = time.perf_counter()
            for config in configs:
                controller.send_plan(config.device_id, session, version=2)
            send_s = time.perf_counter() - sent

            holding_session = 0
            while datetime.now(UTC) < first - timedelta(seconds=1):
                holding_session = fleet.call(lambda: holding(2))
                if holding_session == agents:
                    break
                time.sleep(0.2)
            # The stand-in has done its part (plans out, all delivered): disconnect it, so
            # that verifying 1,000 events in a paho thread of *this* process does not
            # compete with the agents for the GIL. The real controller is another process.
            link.stop()
            # Sleep through the session rather than waiting on the start hook: a waiter
            # woken 1,000 times would be measured too.
            last = session[-1]
            wait_s = (last.planned_start - datetime.now(UTC)).total_seconds() + clip_s + 1
            time.sleep(max(0.0, wait_s))
            planned = {i.item_id: i.planned_start for i in session}
            if trace is not None:
                fleet.call(trace.uninstall)
            with starts.lock:
                signed = {
                    item_id: [(at - planned[item_id]).total_seconds() for at in by.values()]
                    for item_id, by in starts.by_item.items()
                }
                lateness = [abs(x) for values in signed.values() for x in values]
                complete = sum(
                    1
                    for c in configs
                    if all(c.device_id in starts.by_item.get(i.item_id, {}) for i in session)
                )
            # Baseline on the same loop, with the same agents connected and idle.
            base_first = datetime.now(UTC) + timedelta(seconds=2)
            instants = [base_first + timedelta(seconds=n * (clip_s + gap_s)) for n in range(items)]
            baseline = [abs(x) for x in fleet.run(timer_lateness(instants, agents), 60)]
        finally:
            fleet.stop()
            server.stop()
            link.stop()
    load_after = os.getloadavg()[0]
    print(
        f"start precision: {agents} agents in one process, {items} items of {clip_s:g} s, "
        f"{gap_s:g} s apart; load average {load_before:.2f} before, {load_after:.2f} after"
    )
    print(
        f"agents connected in {ready_s:.1f} s; a plan accepted by all in {accept_s:.1f} s; "
        f"the session's plans published in {send_s:.2f} s, {lead_s:.1f} s ahead, "
        f"held by {holding_session}/{agents} a second before it"
    )
    print(
        f"agents with every clip cached before the session was planned: {ready_at_start}/{agents}"
    )
    print(f"agents that started every item: {complete}/{agents}; peak RSS {peak_rss_mib():.0f} MiB")
    for item_id, values in sorted(signed.items()):
        print(
            f"  {item_id}: actual - planned, min {min(values) * 1000:.1f} ms, "
            f"max {max(values) * 1000:.1f} ms"
        )
    if trace is not None and trace_path is not None:
        for line in trace.report(planned, signed):
            print(line)
        trace.dump(trace_path, {"planned": {k: v.isoformat() for k, v in planned.items()}})
    print(f"wardcast agents  |actual - planned| start : {summary_ms(lateness)}")
    print(f"asyncio timers   |woken - due|             : {summary_ms(baseline)}")
    # A floor of 0.1 ms: a ratio of two sub-millisecond figures says nothing.
    ratios = [
        max(percentile(lateness, q), 1e-4) / max(percentile(baseline, q), 1e-4)
        for q in (50, 99, 100)
    ]
    print(
        "ratio (wardcast / plain asyncio timers): "
        f"p50 {ratios[0]:.2f}x, p99 {ratios[1]:.2f}x, max {ratios[2]:.2f}x"
    )
    figures = {
        "agents": agents,
        "items": items,
        "gap_s": f"{gap_s:g}",
        "prepare_s": f"{configs[0].start_prepare_s:g}",
        "started": f"{complete}/{agents}",
        "cached": f"{ready_at_start}/{agents}",
        "p50_ms": _ms(percentile(lateness, 50)),
        "p99_ms": _ms(percentile(lateness, 99)),
        "max_ms": _ms(max(lateness, default=float("nan"))),
        "baseline_p50_ms": _ms(percentile(baseline, 50)),
        "baseline_p99_ms": _ms(percentile(baseline, 99)),
        "ratio_p50": f"{ratios[0]:.2f}",
        "ratio_p99": f"{ratios[1]:.2f}",
        "load_avg": f"{max(load_before, load_after):.2f}",
    }
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


def _on_slot_phase(at: datetime, phase_s: float) -> datetime:
    """``at`` moved (by less than a slot) to ``phase_s`` into a start board slot of the
    loop's clock: the instants of a session, whole seconds apart, all fall there. Near
    a slot's end, starts a few hundred microseconds apart straddle two slots."""
    mono = at.timestamp() - (time.time() - time.monotonic())
    shift = (phase_s - mono % BUCKET_S) % BUCKET_S
    return at + timedelta(seconds=shift)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--items", type=int, default=2, help="consecutive items in the session")
    parser.add_argument("--clip-s", type=float, default=1.0, help="length of each clip")
    parser.add_argument(
        "--gap-s", type=float, default=0.0, help="between consecutive items (0: back to back)"
    )
    parser.add_argument(
        "--lead-s",
        type=float,
        default=None,
        help="the session starts this long after its plan (default 5 s, 15 ms per agent past 333)",
    )
    parser.add_argument(
        "--prepare-s", type=float, default=None, help="the agents' start_prepare_s (default 0.5)"
    )
    parser.add_argument(
        "--trace", type=Path, default=None, help="record the loop around the starts (JSON)"
    )
    parser.add_argument(
        "--slot-phase-ms",
        type=float,
        default=None,
        help="plan the instants this far into a start board slot (default: wherever they fall)",
    )
    parser.add_argument("--tiny", action="store_true", help="5 agents, 3 short items")
    args = parser.parse_args()
    if args.tiny:
        args.agents, args.items, args.clip_s, args.gap_s = 5, 3, 0.3, 0.0
        args.lead_s = args.lead_s or 3.0
    lead_s = args.lead_s if args.lead_s is not None else max(5.0, args.agents * 0.015)
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-precision-"))
    try:
        run(
            args.agents,
            args.items,
            args.clip_s,
            args.gap_s,
            lead_s,
            tmp,
            args.prepare_s,
            args.trace,
            args.slot_phase_ms,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
