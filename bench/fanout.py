"""Fan-out: one broadcast "now" to N agents, beside one raw MQTT publish to N subscribers.

    .venv/bin/python -m bench.fanout --agents 1000 --processes 2
    .venv/bin/python -m bench.fanout --agents 1000 --sample 20   # what one device sees
    .venv/bin/python -m bench.fanout --agents 1000 --fresh-clip --clip-s 20  # new speech
    .venv/bin/python -m bench.fanout --tiny        # what the test suite runs

One real mosquitto on loopback; the controller (API, bridge, database) in this
process; every subscriber and every agent in ``--processes`` worker processes, each
with its own MQTT connection, many per asyncio loop (epoll, so 1,000+ are fine):

* raw baseline — N plain subscribers, one publish, time from the publish to each
  receipt: a two-byte message, and a message as large as Wardcast's signed command
  (a ward's command names every device it is for: ~16 KB for 1,000), so the ratio
  compares delivering the same bytes (``ratio_p99``; ``ratio_p99_2b`` against two bytes);
* Wardcast — N edge agents placed in one ward, listening to its broadcast channel,
  a clip they already cached, one ``POST /api/v1/broadcasts`` over HTTP: time from
  just before that call to each agent's playback start, split at the instant the
  controller published the command into the controller's part (call -> publish,
  ``publish_p50_ms``) and the broker's and fleet's (publish -> start, ``fleet_p99_ms``,
  the counterpart of the raw publish -> receipt: ``fleet_ratio_p99``); then how long
  after the last device recorded its confirmation the controller had stored all N.

Both sides run in worker processes sharing the machine's cores, so a worker's CPU
time says where the time goes: from a publish to its last start (``fleet_cpu_ms``) or
its last receipt (``raw_cpu_ms``), the median over workers and rounds, and their
``cpu_ratio``: what an agent does with a command against what a bare subscriber does.
Over the same windows it samples the rest of what shares the cores: this process (the
controller, with the bench's own client: ``controller_cpu_ms``) and the broker
(``broker_cpu_ms``; ``raw_broker_cpu_ms`` for the baseline's), medians over rounds;
and how a worker's starts spread over its window (``start_spread_ms``, 10th to 90th
percentile): narrow, because its loop takes each step for all its agents in turn.

With ``--sample K`` only K of the N devices run as agents (in one process); the
other N - K are plain subscribers of the ward's channel (``fanout_workers.listeners``),
marked as listening there as their signed state would say. The controller still
addresses N devices and signs one command naming them all, and the broker still
delivers it N times; what is left out is the simulator's cost: N agents' CPU on two
cores, where each real device has its own. So ``p99_ms`` is then what one device of
N sees, and ``heard_p99_ms`` is publish -> receipt of the same command at the plain
subscribers (the broker's fan-out of it, read by hundreds of subscribers a process, so
slower than one device's read). The raw baseline is laid out the same way
(K subscribers in a process of their own, subscribed after the other N - K) and its
figures are those K's, so the ratios compare like with like: a raw subscriber among
500 in one process waits for the other 499's reads too. The full run (``--sample 0``,
the default) stays the measurement of N agents as they are.

With ``--fresh-clip`` each round's clip is one no agent has cached (another tone), as a
new emergency's speech is: every start then waits for that agent's download of it from
the controller, so the figures are the media serving's as much as the fan-out's (the raw
baseline stays the MQTT one).

The raw baseline and the worker pool both sides run in are ``bench.fanout_raw``.
Times are wall-clock (``time.time()``) across processes on one machine. The last line
is ``key=value`` pairs: the project's p50/p99, the baseline's, their ratio, the load.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import fanout_workers
from bench.common import admin_headers, start_site, tone_bulletin
from bench.fanout_raw import Workers, command_size, raw_fanout, split_among
from bench.figures import load1, peak_rss_mib, percentile
from controller.db.models import PlaybackEvidence
from controller.heap import freeze_start_up_heap
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.fanout import WardListeners
from edge_agent.config import AgentConfig
from wardcast_protocol.channels import WARD_COMMAND
from wardcast_protocol.topics import DeviceChannel, parse_ward, ward_topic
from wardcast_protocol.topics import parse as parse_device_topic

WARD = "bench-ward"


class PublishStamps:
    """When the controller handed each command to its MQTT client: the wall time just
    before the link's ``publish`` of a command topic (the command built and signed), in
    the request's own thread. It splits API call -> start into the controller's part
    (call -> publish) and the broker's and fleet's (publish -> each start), the part to
    read beside the raw baseline's publish -> receipt.

    Taken before the call, not after ``send_order`` returned: paho's network thread may
    write the message, and a subscriber in another process receive it, before the
    request's thread runs again to stamp it (a receipt 0.1 ms "before" its publish failed
    the tiny sampled run once).
    """

    def __init__(self, transport: Any) -> None:
        self._at: list[float] = []
        self._publish = transport.publish
        transport.publish = self._stamped

    def _stamped(self, topic: str, *args: Any, **kwargs: Any) -> None:
        if _is_command(topic):
            self._at.append(time.time())
        self._publish(topic, *args, **kwargs)

    def first_after(self, since: float) -> float | None:
        """When the first command after ``since`` was published (None: none was)."""
        return next((at for at in self._at if at >= since), None)


def _is_command(topic: str) -> bool:
    """A ward's command channel, or one device's (``--per-device``)."""
    ward, device = parse_ward(topic), parse_device_topic(topic)
    return (ward is not None and ward.channel == WARD_COMMAND) or (
        device is not None and device.channel is DeviceChannel.COMMAND
    )


@dataclass
class Figures:
    """What the Wardcast side measured."""

    starts: list[float] = field(default_factory=list)  # API call -> play start, s
    publish: list[float] = field(default_factory=list)  # API call -> command published, s
    fleet: list[float] = field(default_factory=list)  # command published -> play start, s
    # Each agent worker's CPU from a round's publish to its last start there, s.
    fleet_cpu: list[float] = field(default_factory=list)
    # The controller's process (with the bench's client) and the broker's CPU over the
    # same windows, one figure per round: the rest of what shares the cores meanwhile.
    controller_cpu: list[float] = field(default_factory=list)
    broker_cpu: list[float] = field(default_factory=list)
    # The middle 80 % of each worker's starts in a round (10th to 90th percentile), s:
    # how spread out they are (a worker's loop takes each step for every agent in
    # turn, so they clump at the end of its window).
    start_spread: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)  # the API call alone, s
    confirm_lag: list[float] = field(default_factory=list)  # last recorded -> all stored, s
    confirmed: int = 0
    expected: int = 0
    missing: int = 0
    ready_s: float = 0.0
    listening: int = 0  # devices the controller addresses on their ward's channel
    # A sampled run: command published -> receipt at each plain subscriber of the
    # ward's channel (the broker's fan-out of the real command), s.
    heard: list[float] = field(default_factory=list)
    per_worker: int = 0  # agents in the largest agent worker


def _stored(site: Any, broadcast_id: str) -> tuple[int, float | None, float | None]:
    """(rows, latest recorded_at, latest received_at) of a broadcast's evidence."""
    with site.runtime.db.session() as session:
        count, recorded, received = session.execute(
            select(
                func.count(),
                func.max(PlaybackEvidence.recorded_at),
                func.max(PlaybackEvidence.received_at),
            ).where(PlaybackEvidence.broadcast_id == broadcast_id)
        ).one()
    return (
        count,
        recorded.timestamp() if recorded else None,
        (received.timestamp() if received else None),
    )


def _confirmations(site: Any, broadcast_id: str, n: int, figures: Figures) -> None:
    deadline = time.monotonic() + 60
    count, recorded, received = _stored(site, broadcast_id)
    while count < n and time.monotonic() < deadline:
        time.sleep(0.1)
        count, recorded, received = _stored(site, broadcast_id)
    figures.confirmed += count
    figures.expected += n
    if recorded is not None and received is not None:
        figures.confirm_lag.append(received - recorded)


def wardcast_fanout(
    broker_url: str,
    broker_pid: int | None,
    n: int,
    rounds: int,
    clip_s: float,
    processes: int,
    tmp: Path,
    *,
    per_device: bool = False,
    sample: int = 0,
    fresh_clip: bool = False,
) -> Figures:
    """API call -> playback start on n agents in worker processes; confirmations stored.

    ``sample`` > 0: only that many of the n devices are agents (one process); the rest
    are plain subscribers of the ward's channel (``listeners``), so the broker still
    delivers every command n times and the controller still addresses n devices.
    """
    site = start_site(tmp / "site", broker_url, n, ward_code=WARD)
    freeze_start_up_heap()  # as `wardcast serve` does once started
    figures = Figures()
    workers = Workers()
    stamps = PublishStamps(site.runtime.transport)
    controller_cpu = fanout_workers.CpuSampler()
    broker_cpu = fanout_workers.CpuSampler(fanout_workers.process_cpu(broker_pid or 0))
    began = time.time()
    agent_configs, heard_only = sampled(site.configs, sample)
    if heard_only:
        # The listeners subscribe first, so the agents are not favoured by being the
        # broker's first subscribers of the channel.
        for names in split_among(heard_only, processes):
            workers.start(fanout_workers.listeners, [(broker_url, names, ward_topic(WARD))])
        if not workers.wait(lambda: workers.ready >= len(heard_only), 240):
            raise SystemExit(f"wardcast: only {workers.ready} of {len(heard_only)} listening")
        for device_id in heard_only:  # what each would have said in its signed state
            site.runtime.listeners.heard(device_id, WARD)
    split = split_among(agent_configs, 1 if heard_only else processes)
    workers.start(fanout_workers.agents, [(part,) for part in split])
    n_agents = len(agent_configs)
    figures.per_worker = max(len(part) for part in split)
    rounds_published: list[tuple[str, float]] = []
    try:
        if not workers.wait(lambda: workers.ready >= n, 240):
            raise SystemExit(f"wardcast: only {workers.ready} of {n} devices connected")
        # Each agent learns its ward from its plan and says so; wait until all have.
        listening = site.runtime.listeners.listening
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(listening(d) != WARD for d in site.device_ids):
            time.sleep(0.1)
        figures.ready_s = time.time() - began
        if per_device:
            # As before ward channels: the controller forgets who listens where, so
            # every device gets its own signed command (the comparison's "before").
            site.runtime.outbound.listeners = WardListeners()
        figures.listening = sum(
            site.runtime.outbound.listeners.listening(d) == WARD for d in site.device_ids
        )
        bulletin_id = tone_bulletin(site, clip_s, tmp)
        body = {"bulletin_id": bulletin_id, "device_ids": site.device_ids}
        headers = admin_headers(site)
        with httpx.Client(base_url=site.server.base_url, timeout=60, headers=headers) as http:
            # Warm-up: every agent downloads and verifies the clip once.
            warm = http.post("/api/v1/broadcasts", json=body)
            warm.raise_for_status()
            warm_id = warm.json()["id"]
            workers.wait_seen(warm_id, n_agents, 180)
            _confirmations(site, warm_id, n_agents, Figures())
            controller_cpu.start()
            broker_cpu.start()
            for n_round in range(rounds):
                if fresh_clip:  # as a new emergency's speech: every agent fetches it first
                    body["bulletin_id"] = tone_bulletin(site, clip_s, tmp, hz=700 + 10 * n_round)
                called = time.time()
                answer = http.post("/api/v1/broadcasts", json=body)
                answer.raise_for_status()
                figures.api.append(time.time() - called)
                item = answer.json()["id"]
                if not workers.wait_seen(item, n_agents, 60):
                    figures.missing += n_agents - len(workers.seen[item])
                starts = list(workers.seen[item].values())
                figures.starts += [at - called for at in starts]
                published = stamps.first_after(called)
                if published is not None:
                    figures.publish.append(published - called)
                    figures.fleet += [at - published for at in starts]
                    rounds_published.append((item, published))
                    if heard_only:
                        tag = fanout_workers.heard_tag(item)
                        workers.wait_seen(tag, len(heard_only), 30)
                        figures.heard += [at - published for at in workers.seen[tag].values()]
                _confirmations(site, item, n_agents, figures)
                time.sleep(0.3)
    finally:
        workers.close()
        site.stop()
    parts = [[config.device_id for config in part] for part in split]
    figures.fleet_cpu = workers.cpu_per_round(parts, rounds_published)
    for names in parts:
        for tag, _published in rounds_published:
            starts = [workers.seen[tag][n] for n in names if n in workers.seen[tag]]
            if starts:
                figures.start_spread.append(percentile(starts, 90) - percentile(starts, 10))
    if controller_cpu.is_alive():
        figures.controller_cpu = workers.cpu_to_last(controller_cpu.stop(), rounds_published)
        figures.broker_cpu = workers.cpu_to_last(broker_cpu.stop(), rounds_published)
    return figures


def sampled(configs: Sequence[AgentConfig], sample: int) -> tuple[list[AgentConfig], list[str]]:
    """(the configs to run as agents, the device ids only to listen): every device
    an agent when ``sample`` is 0 or covers them all, else ``sample`` of them spread
    evenly over the list."""
    if sample <= 0 or sample >= len(configs):
        return list(configs), []
    step = len(configs) / sample
    picked = {int(i * step) for i in range(sample)}
    agents = [c for i, c in enumerate(configs) if i in picked]
    return agents, [c.device_id for i, c in enumerate(configs) if i not in picked]


def _ms(values: Sequence[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 1)


def main() -> None:
    """Run both measurements and print them, the key=value line last."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2, help="worker processes for agents")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clip-s", type=float, default=1.0, help="length of the test clip")
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="run only this many of the devices as agents (one process); the rest are "
        "plain subscribers of the ward's channel (what one device sees among --agents)",
    )
    parser.add_argument(
        "--fresh-clip",
        action="store_true",
        help="each round a clip no agent has cached (a new emergency's speech): the start "
        "then waits for every agent's download of it from the controller",
    )
    parser.add_argument("--tiny", action="store_true", help="5 agents, 2 processes, 1 round")
    parser.add_argument(
        "--per-device",
        action="store_true",
        help="a signed command per device, as before ward channels (for comparison)",
    )
    args = parser.parse_args()
    if args.tiny:
        args.agents, args.processes, args.rounds, args.clip_s = 5, 2, 1, 0.6
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    load_before = load1()
    try:
        with EmbeddedBroker() as broker:
            size = command_size(args.agents)
            baseline = raw_fanout(
                broker.url,
                args.agents,
                args.rounds,
                args.processes,
                (2, size),
                broker.pid,
                sample=args.sample,
            )
            (raw_2b, raw), raw_cpu = baseline.latencies, baseline.cpu[1]
            ours = wardcast_fanout(
                broker.url,
                broker.pid,
                args.agents,
                args.rounds,
                args.clip_s,
                args.processes,
                tmp,
                per_device=args.per_device,
                fresh_clip=args.fresh_clip,
                sample=args.sample,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = load1()
    print(f"fan-out to {args.agents} agents in {args.processes} processes, {args.rounds} rounds")
    if 0 < args.sample < args.agents:
        print(
            f"sampled: {args.sample} of the {args.agents} devices run as agents (one process), "
            f"the other {args.agents - args.sample} are plain subscribers of the ward's channel"
        )
    print(f"agents ready (connected, listening to their ward) in {ours.ready_s:.1f} s")
    print(
        f"controller peak RSS {peak_rss_mib():.0f} MiB; load {load_before:.2f} -> {load_after:.2f}"
    )
    whose = f" (the {args.sample} in their own process)" if 0 < args.sample < args.agents else ""
    print(
        f"raw broker  2 B -> receipt       p50 {_ms(raw_2b, 50)} ms  p99 {_ms(raw_2b, 99)} ms"
        + whose
    )
    print(f"raw broker  {size} B -> receipt   p50 {_ms(raw, 50)} ms  p99 {_ms(raw, 99)} ms" + whose)
    print(
        f"wardcast    API call alone       p50 {_ms(ours.api, 50)} ms  max {_ms(ours.api, 100)} ms"
    )
    print(
        f"wardcast    API call -> start    p50 {_ms(ours.starts, 50)} ms  "
        f"p99 {_ms(ours.starts, 99)} ms"
    )
    print(
        f"  of which    call -> publish      p50 {_ms(ours.publish, 50)} ms  "
        f"max {_ms(ours.publish, 100)} ms (the controller: build, sign, publish)"
    )
    print(
        f"  of which    publish -> start     p50 {_ms(ours.fleet, 50)} ms  "
        f"p99 {_ms(ours.fleet, 99)} ms (the broker and the simulated fleet; raw above)"
    )
    if ours.heard:
        print(
            f"  meanwhile   publish -> receipt   p50 {_ms(ours.heard, 50)} ms  "
            f"p99 {_ms(ours.heard, 99)} ms (the same command at the plain subscribers)"
        )
    fleet_cpu, raw_cpu_ms = _ms(ours.fleet_cpu, 50), _ms(raw_cpu, 50)
    print(
        f"CPU of one worker from a publish to its last start: {fleet_cpu} ms for "
        f"up to {ours.per_worker} agents; to its last receipt: {raw_cpu_ms} ms for as many "
        f"raw subscribers (medians over workers and rounds)"
    )
    spread_ms = _ms(ours.start_spread, 50)
    print(
        f"a worker's starts, 10th to 90th percentile: {spread_ms} ms (median over workers and "
        f"rounds), "
        f"within publish -> start p99 {_ms(ours.fleet, 99)} ms"
    )
    controller_cpu_ms, broker_cpu_ms = _ms(ours.controller_cpu, 50), _ms(ours.broker_cpu, 50)
    raw_broker_cpu_ms = _ms(baseline.broker_cpu, 50)
    print(
        f"meanwhile (publish to the last start): the controller's process {controller_cpu_ms} ms "
        f"of CPU, the broker {broker_cpu_ms} ms (to the last raw receipt: {raw_broker_cpu_ms} ms)"
    )
    lag = max(ours.confirm_lag) if ours.confirm_lag else float("nan")
    print(
        f"confirmations stored {ours.confirmed}/{ours.expected}, "
        f"all within {lag:.2f} s of the last one recorded"
    )
    sampling = 0 < args.sample < args.agents
    p99, raw_p99 = percentile(ours.starts, 99), percentile(raw, 99)
    raw_2b_p99 = percentile(raw_2b, 99)
    pairs = {
        "agents": args.agents,
        "processes": args.processes,
        "rounds": args.rounds,
        "p50_ms": _ms(ours.starts, 50),
        "p99_ms": _ms(ours.starts, 99),
        "raw_p50_ms": _ms(raw, 50),
        "raw_p99_ms": _ms(raw, 99),
        "ratio_p99": round(p99 / raw_p99, 2) if raw_p99 > 0 else "nan",
        "raw_bytes": size,
        "raw_2b_p99_ms": _ms(raw_2b, 99),
        "ratio_p99_2b": round(p99 / raw_2b_p99, 2) if raw_2b_p99 > 0 else "nan",
        "api_p50_ms": _ms(ours.api, 50),
        "publish_p50_ms": _ms(ours.publish, 50),
        "fleet_p99_ms": _ms(ours.fleet, 99),
        "fleet_ratio_p99": round(percentile(ours.fleet, 99) / raw_p99, 2) if raw_p99 > 0 else "nan",
        "fleet_cpu_ms": fleet_cpu,
        "raw_cpu_ms": raw_cpu_ms,
        "cpu_ratio": round(fleet_cpu / raw_cpu_ms, 2) if raw_cpu_ms > 0 else "nan",
        "start_spread_ms": spread_ms,
        "controller_cpu_ms": controller_cpu_ms,
        "broker_cpu_ms": broker_cpu_ms,
        "raw_broker_cpu_ms": raw_broker_cpu_ms,
        "sample": args.sample if sampling else 0,
        "fresh_clip": int(args.fresh_clip),
        "clip_s": args.clip_s,
        "heard_p99_ms": _ms(ours.heard, 99),
        "on_ward_channel": ours.listening,
        "missed_starts": ours.missing,
        "confirmed": f"{ours.confirmed}/{ours.expected}",
        "confirm_lag_s": round(lag, 2),
        "load1": round(max(load_before, load_after), 2),
    }
    print(" ".join(f"{key}={value}" for key, value in pairs.items()))


if __name__ == "__main__":
    main()
