"""A broker restart: how a ward's devices come back, with the agents' jitter and without.

    .venv/bin/python -m bench.reconnect --links 1000
    .venv/bin/python -m bench.reconnect --links 1000 --closed   # TLS and a login each
    .venv/bin/python -m bench.reconnect --tiny          # what the test suite runs

The embedded mosquitto (persistent sessions, as in the field) and ``--links`` agent
links (``AsyncioMqttLink``, each subscribed to its device's command topic) on one
event loop, connecting through a pool of ``--threads`` threads so that they do not
queue behind asyncio's default six, as devices with a CPU each would not. The broker
is stopped (every link sees the loss), started again ``--down-s`` later (a restart
by systemd, its persistence reloaded), and each link's reconnect is stamped from the
moment the broker accepts connections again. Twice in the same run,
with fresh links and sessions each time:

* the baseline: what the agents did before, doubling steps (1, 2, 4 … s) that every
  device shares, so they all try again in the same instant;
* the product: steps growing by half, each delay drawn from the upper half of its
  step (``wardcast_protocol.backoff``).

For each: the time until half and all of the links were back, the most reconnects in
any 100 ms (the storm the broker takes: on a real one each is a TLS handshake and a
session resumed), and the broker's CPU from its start to the last reconnect. When
the last device is back depends, for both, on where in a step the broker returns;
the last line gives both and the ratio of the peaks.

``--closed`` runs the broker as the controller does (``BrokerSecurity``): TLS on the
listener with a CA of its own, and a password file and ACL with a login for every link
(its device id, its own channels). Each reconnect is then a TLS handshake, a
password checked (PBKDF2) and a session resumed, as in the field.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.fanout_workers import process_cpu
from bench.figures import load1, percentile
from controller.messaging.broker import BrokerSecurity, EmbeddedBroker
from controller.messaging.broker_accounts import render_acl_file
from controller.messaging.broker_files import mosquitto_hash, new_password, render_password_file
from controller.messaging.broker_tls import default_names, ensure_tls
from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink
from wardcast_protocol.backoff import Backoff
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

WINDOW_S = 0.1


def _plain() -> Backoff:
    """What the agents did before: doubling, every device alike."""
    return Backoff(jitter=0.0, growth=2.0)


@dataclass(frozen=True)
class Return:
    """How one broker restart went for the links."""

    back_p50_s: float
    back_max_s: float
    peak_per_window: int
    broker_cpu_ms: float


def _stamper(back: list[float], loop: asyncio.AbstractEventLoop) -> Callable[[bool], None]:
    def stamp(up: bool) -> None:
        if up:
            back.append(loop.time())

    return stamp


async def _wait(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("links did not reach the expected state in time")
        await asyncio.sleep(0.02)


class Logins:
    """A login for every link of a closed broker: device id -> password (and the CA)."""

    def __init__(self, directory: Path, device_ids: list[str]) -> None:
        self.passwords = {d: new_password() for d in device_ids}
        self.tls = ensure_tls(directory / "tls", default_names())
        self.password_file = directory / "passwd"
        self.password_file.write_text(
            render_password_file((d, mosquitto_hash(p)) for d, p in self.passwords.items())
        )
        self.acl_file = directory / "acl"
        self.acl_file.write_text(render_acl_file())

    def security(self) -> BrokerSecurity:
        """The broker's side: these files and its TLS."""
        return BrokerSecurity(self.password_file, self.acl_file, self.tls)

    def address(self, url: str, device_id: str) -> BrokerAddress:
        """The device's side: its login and the CA it pins."""
        password = self.passwords[device_id]
        return BrokerAddress.parse(
            url, username=device_id, password=password, ca_file=self.tls.ca_cert
        )


def device_ids(tag: str, links_n: int) -> list[str]:
    """The links' device ids (and client ids) for one restart."""
    return [f"{tag}-{i:04d}" for i in range(links_n)]


async def restart_once(
    broker: EmbeddedBroker,
    links_n: int,
    schedule: Callable[[], Backoff],
    tag: str,
    down_s: float,
    logins: Logins | None = None,
) -> Return:
    """Connect ``links_n`` fresh links, stop the broker for ``down_s``, stamp each reconnect."""
    loop = asyncio.get_running_loop()
    back: list[float] = []
    links = []
    for device_id in device_ids(tag, links_n):
        if logins is None:
            address = BrokerAddress.parse(broker.url)
        else:
            address = logins.address(broker.url, device_id)
        link = AsyncioMqttLink(address, device_id, backoff=schedule())
        link.subscribe(device_topic(device_id, DeviceChannel.COMMAND), lambda _m: None)
        link.add_connection_handler(_stamper(back, loop))
        link.start()
        links.append(link)
    try:
        await _wait(lambda: all(link.connected for link in links), 120)
        await asyncio.sleep(0.5)  # every SUBACK in
        broker.stop()
        await _wait(lambda: not any(link.connected for link in links), 30)
        await asyncio.sleep(down_s)
        back.clear()
        broker.start()
        pid = broker.pid
        assert pid is not None
        broker_cpu_s = process_cpu(pid)  # the fan-out bench's reader (/proc, clock ticks)
        up_at, cpu_at = loop.time(), broker_cpu_s()
        await _wait(lambda: len(back) >= links_n, 120)
        cpu_s = broker_cpu_s() - cpu_at
    finally:
        for link in links:
            link.stop()
        await asyncio.sleep(0.2)
    after = sorted(t - up_at for t in back)
    peak = max(
        sum(1 for t in after if start <= t < start + WINDOW_S) for start in after
    )  # windows starting at each reconnect: the busiest 100 ms
    return Return(percentile(after, 50), after[-1], peak, cpu_s * 1000)


async def run(
    links_n: int, threads: int, down_s: float, *, closed: bool = False
) -> dict[str, Return]:
    """The baseline's restart, then the product's, on one broker."""
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(threads))
    workdir = Path(tempfile.mkdtemp(prefix="wardcast-reconnect-"))
    logins = None
    if closed:
        everyone = device_ids("plain", links_n) + device_ids("jittered", links_n)
        logins = Logins(workdir / "closed", everyone)
    broker = EmbeddedBroker(
        state_dir=workdir / "broker",
        persistence=True,
        security=logins.security() if logins else None,
    ).start()
    try:
        return {
            "plain": await restart_once(broker, links_n, _plain, "plain", down_s, logins),
            "jittered": await restart_once(broker, links_n, Backoff, "jittered", down_s, logins),
        }
    finally:
        broker.stop()
        broker.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    """Parse arguments, run both restarts, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=64, help="connecting threads")
    parser.add_argument("--down-s", type=float, default=2.0, help="how long the broker stays down")
    parser.add_argument(
        "--closed", action="store_true", help="TLS and a login per link, as the controller runs it"
    )
    parser.add_argument("--tiny", action="store_true", help="20 links, down 1 s")
    args = parser.parse_args()
    if args.tiny:
        args.links, args.down_s = 20, 1.0
    results = asyncio.run(run(args.links, args.threads, args.down_s, closed=args.closed))
    for name, r in results.items():
        print(
            f"{name:9s} {args.links} links back after the broker's restart: half in "
            f"{r.back_p50_s * 1000:6.0f} ms, all in {r.back_max_s * 1000:6.0f} ms; "
            f"at most {r.peak_per_window} reconnects in {WINDOW_S * 1000:.0f} ms; "
            f"broker CPU {r.broker_cpu_ms:.0f} ms"
        )
    plain, jittered = results["plain"], results["jittered"]
    pairs = {
        "links": args.links,
        "down_s": args.down_s,
        "closed": int(args.closed),
        "back_p50_ms": f"{jittered.back_p50_s * 1000:.0f}",
        "back_max_ms": f"{jittered.back_max_s * 1000:.0f}",
        "peak_per_100ms": jittered.peak_per_window,
        "broker_cpu_ms": f"{jittered.broker_cpu_ms:.0f}",
        "plain_back_p50_ms": f"{plain.back_p50_s * 1000:.0f}",
        "plain_back_max_ms": f"{plain.back_max_s * 1000:.0f}",
        "plain_peak_per_100ms": plain.peak_per_window,
        "plain_broker_cpu_ms": f"{plain.broker_cpu_ms:.0f}",
        "peak_ratio": f"{jittered.peak_per_window / max(1, plain.peak_per_window):.2f}",
        "load1": f"{load1():.2f}",
    }
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
