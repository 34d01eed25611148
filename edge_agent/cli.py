"""``wardcast-agent``: run one edge agent on a Pi, or a simulated fleet on a laptop.

wardcast-agent run                 # one agent, settings from WARDCAST_AGENT_* variables
wardcast-agent simulate --count 5  # five simulated agents against a running controller

Its own console script, so a Pi installs ``wardcast[agent]`` without the controller.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from edge_agent.config import AgentConfig
from edge_agent.lock import DataDirLocked, lock_data_dir
from edge_agent.media_cache import HttpMediaFetcher
from edge_agent.wiring import build_agent
from wardcast_protocol.signing import InvalidKey, SigningKey, check_public_key
from wardcast_protocol.topics import is_valid_device_id

# httpx and the fleet are imported by `simulate` only: `run` on a Pi loads httpx on its
# first download (see HttpMediaFetcher), and never loads the fleet.
if TYPE_CHECKING:
    import httpx

app = typer.Typer(
    help="Edge agents: one on a Raspberry Pi, or a simulated fleet.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@app.command()
def run(
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run one agent configured by WARDCAST_AGENT_* environment variables (see config.py).

    WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY is required: the agent refuses any plan or
    command it cannot verify. Stops cleanly on Ctrl-C or SIGTERM.
    """
    _logging(log_level)
    try:
        config = AgentConfig()  # fields come from the environment
    except ValidationError as exc:
        print(f"invalid agent settings (WARDCAST_AGENT_*):\n{exc}")
        raise typer.Exit(2) from exc
    try:
        asyncio.run(_run_one(config))
    except DataDirLocked as exc:
        print(f"cannot start: {exc}")
        raise typer.Exit(1) from exc


async def _run_one(config: AgentConfig) -> None:
    # Before the key, outbox or plan is opened: a second agent here would fork the chain.
    lock = lock_data_dir(config.data_dir)
    fetcher = HttpMediaFetcher(timeout_s=config.media_fetch_timeout_s)
    agent = build_agent(config, fetcher)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await agent.start()
    print(f"agent {config.device_id} running (broker {config.broker_url}); Ctrl-C stops")
    try:
        await stop.wait()
    finally:
        await agent.stop()
        await fetcher.aclose()
        lock.release()


def _default_prefix() -> str:
    # One prefix per host, so that scaled containers never share a device id.
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:40].strip("-.") or "host"
    return f"sim-{host}"


SIMULATE_HELP = (
    "Run COUNT simulated agents against a controller, until Ctrl-C.\n\n"
    "Each agent gets a device key (DATA_DIR/<id>/device.key) and is registered with "
    "POST CONTROLLER_URL/api/v1/devices. The controller's public key is fetched from "
    "GET /api/v1/system/controller-key and trusted on first use (pinned in "
    "DATA_DIR/controller.pub; a different key later is refused).\n\n"
    "Trust on first use is for SIMULATION ONLY: a real device is provisioned with the "
    "controller's key (WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY)."
)


@app.command(help=SIMULATE_HELP)
def simulate(
    count: Annotated[int, typer.Option(min=1, max=5000, help="How many agents.")] = 3,
    broker_url: Annotated[str, typer.Option(help="MQTT broker.")] = "mqtt://127.0.0.1:1883",
    controller_url: Annotated[
        str,
        typer.Option(
            "--controller-url",
            envvar="WARDCAST_CONTROLLER_URL",
            help="The controller's base URL (as for the wardcast command).",
        ),
    ] = "http://127.0.0.1:8000",
    data_dir: Annotated[
        Path, typer.Option(help="One sub-directory per agent: key, plan, outbox, media.")
    ] = Path("data/agents"),
    prefix: Annotated[
        str | None, typer.Option(help="Device id prefix (default: sim-<hostname>).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="WARDCAST_TOKEN", help="API token for registering devices (Bearer)."
        ),
    ] = None,
    wait_s: Annotated[float, typer.Option(help="How long to wait for the controller.")] = 60.0,
    resend_interval_s: Annotated[float, typer.Option(help="Resend unacked events after.")] = 30.0,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run COUNT simulated agents against a controller, until Ctrl-C (see SIMULATE_HELP)."""
    import httpx

    from edge_agent.fleet import AgentFleet

    _logging(log_level)
    prefix = prefix or _default_prefix()
    device_ids = [f"{prefix}-{n:03d}" for n in range(1, count + 1)]
    bad = [d for d in device_ids if not is_valid_device_id(d)]
    if bad:
        print(f"invalid device id {bad[0]!r}: use a shorter prefix of letters, digits, '.-_'")
        raise typer.Exit(2)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=controller_url.rstrip("/"), headers=headers, timeout=10) as http:
        try:
            controller_key = _controller_key(http, data_dir, wait_s)
            for device_id in device_ids:
                key = SigningKey.load_or_create(data_dir / device_id / "device.key")
                _register(http, device_id, key)
        except (RuntimeError, httpx.HTTPError, InvalidKey) as exc:
            print(f"cannot provision simulated agents: {exc}")
            raise typer.Exit(1) from exc
    configs = [
        AgentConfig(
            device_id=device_id,
            controller_public_key=controller_key,
            data_dir=data_dir / device_id,
            broker_url=broker_url,
            player="simulated",
            relay_settle_s=0.0,
            resend_interval_s=resend_interval_s,
            durable_outbox=False,
        )
        for device_id in device_ids
    ]
    try:
        fleet = AgentFleet(configs).start()
    except DataDirLocked as exc:
        print(f"cannot start the simulated agents: {exc}")
        raise typer.Exit(1) from exc
    ready = fleet.wait_ready(30)
    print(f"{count} simulated agents {'connected' if ready else 'started'} to {broker_url}")
    _wait_for_signal()
    fleet.stop()


def _controller_key(http: httpx.Client, data_dir: Path, wait_s: float) -> str:
    """The controller's key, trusted on first use and pinned in DATA_DIR/controller.pub."""
    import httpx

    deadline = time.monotonic() + wait_s
    while True:
        try:
            response = http.get("/api/v1/system/controller-key")
            response.raise_for_status()
            break
        except httpx.TransportError:
            # The controller may still be starting (docker compose brings both up).
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
    key = check_public_key(str(response.json()["public_key"]))
    pinned = data_dir / "controller.pub"
    if pinned.exists():
        known = pinned.read_text(encoding="ascii").strip()
        if known != key:
            raise RuntimeError(
                f"controller key changed (pinned in {pinned}); delete that file to trust the "
                "new key"
            )
    else:
        pinned.parent.mkdir(parents=True, exist_ok=True)
        pinned.write_text(key + "\n", encoding="ascii")
    return key


def _register(http: httpx.Client, device_id: str, key: SigningKey) -> None:
    """Register a device; an existing registration is fine when its key is ours."""
    body = {
        "device_id": device_id,
        "name": f"Simulated {device_id}",
        "public_key": key.public_key_b64,
    }
    response = http.post("/api/v1/devices", json=body)
    if response.status_code in (200, 201):
        return
    if response.status_code == 409:
        existing = http.get(f"/api/v1/devices/{device_id}")
        if existing.status_code == 200 and existing.json().get("public_key") == key.public_key_b64:
            return
        raise RuntimeError(f"{device_id} is registered with another key")
    raise RuntimeError(
        f"registering {device_id}: HTTP {response.status_code} {response.text[:200]}"
    )


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


if __name__ == "__main__":  # `python -m edge_agent.cli`
    app()
