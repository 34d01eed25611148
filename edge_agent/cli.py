"""``wardcast-agent``: run one edge agent on a Pi, or a simulated fleet on a laptop.

wardcast-agent enrol --line 'wardcast-enrol:…'   # once: trade the one-time code for a login
wardcast-agent run                 # one agent, settings from its data folder / WARDCAST_AGENT_*
wardcast-agent check               # on site: clock, broker, key, speaker (OK/FAIL each)
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
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from edge_agent import enrolment as enrolment_client
from edge_agent.config import AgentConfig
from edge_agent.enrolment import EnrolmentFailed, parse_line
from edge_agent.lock import DataDirLocked, lock_data_dir
from edge_agent.logs import configure_logging
from edge_agent.service import run_one
from wardcast_protocol.signing import InvalidKey
from wardcast_protocol.topics import is_valid_device_id

# httpx and the fleet are imported by `enrol` and `simulate` only. On a Pi, `run` does not
# even load this module: the console script starts edge_agent.service (issue 10.8).
if TYPE_CHECKING:
    import httpx

app = typer.Typer(
    help="Thiết bị biên trên Raspberry Pi, hoặc một đội mô phỏng — "
    "edge agents: one on a Raspberry Pi, or a simulated fleet.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)
# The controller's option vocabulary (controller/cli/options.py), spelled again: no import.
LogLevelOption = Annotated[
    str,
    typer.Option("--log-level", help="Mức ghi nhật ký — log level: DEBUG, INFO, WARNING, ERROR."),
]


def _logging(level: str) -> None:
    # JSON lines under systemd, text on a terminal (WARDCAST_AGENT_LOG_FORMAT overrides).
    configure_logging(level)


@app.command()
def enrol(
    line: Annotated[
        str | None,
        typer.Option(
            help="The printable line: wardcast-enrol:<controller-url>|<device-id>|<code>."
        ),
    ] = None,
    controller_url: Annotated[
        str | None,
        typer.Option(
            "--controller-url", help="Địa chỉ máy chủ điều khiển — the controller's base URL."
        ),
    ] = None,
    device_id: Annotated[str | None, typer.Option(help="This device's id.")] = None,
    code: Annotated[str | None, typer.Option(help="The one-time enrolment code.")] = None,
    data_dir: Annotated[
        Path,
        typer.Option(envvar="WARDCAST_AGENT_DATA_DIR", help="The agent's data folder."),
    ] = Path("data/agent"),
    log_level: LogLevelOption = "INFO",
) -> None:
    """Đăng ký thiết bị bằng mã dùng một lần — enrol this device with its one-time code.

    Generates its key, spends the code, and stores its broker login, the broker's CA
    and the controller's public key in the data folder.

    Give either --line, or --controller-url, --device-id and --code. Afterwards
    `wardcast-agent run` needs nothing but WARDCAST_AGENT_DATA_DIR.
    """
    import httpx

    _logging(log_level)
    try:
        if line is not None:
            parsed = parse_line(line)
            controller_url, device_id, code = parsed.controller_url, parsed.device_id, parsed.code
        if not (controller_url and device_id and code):
            raise ValueError("give --line, or all of --controller-url, --device-id and --code")
        if not is_valid_device_id(device_id):
            raise ValueError(f"invalid device id {device_id!r}")
    except ValueError as exc:
        print(f"cannot enrol: {exc}")
        raise typer.Exit(2) from exc
    try:
        # Not under a running agent: enrolling makes a new key and login in its folder.
        with (
            lock_data_dir(data_dir),
            httpx.Client(base_url=controller_url.rstrip("/"), timeout=30) as http,
        ):
            done = enrolment_client.enrol(http, data_dir, device_id, code)
    except DataDirLocked as exc:
        print(f"cannot enrol: {exc}")
        raise typer.Exit(1) from exc
    except (EnrolmentFailed, httpx.HTTPError, InvalidKey) as exc:
        print(f"enrolment failed: {exc}")
        raise typer.Exit(1) from exc
    print(
        f"enrolled {done.device_id}: broker {done.broker_url}"
        f"{' (CA pinned)' if done.ca_pem else ''}; login stored in {data_dir}.\n"
        f"Start it with: WARDCAST_AGENT_DATA_DIR={data_dir} wardcast-agent run"
    )


@app.command()
def run(
    log_level: LogLevelOption = "INFO",
) -> None:
    """Chạy một thiết bị biên — run one agent (Ctrl-C or SIGTERM stops it).

    Its enrolment is in WARDCAST_AGENT_DATA_DIR, other settings come from
    WARDCAST_AGENT_* environment variables (see config.py).

    An agent without the controller's public key (not enrolled, and no
    WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY) refuses to start: it could not verify any
    plan or command. Stops cleanly on Ctrl-C or SIGTERM.
    """
    _logging(log_level)
    try:
        config = AgentConfig()  # fields come from the environment and the enrolment
    except ValidationError as exc:
        print(f"invalid agent settings (WARDCAST_AGENT_*):\n{exc}")
        raise typer.Exit(2) from exc
    try:
        asyncio.run(run_one(config))  # the console script's `run` is service.run_service
    except DataDirLocked as exc:
        print(f"cannot start: {exc}")
        raise typer.Exit(1) from exc


@app.command()
def check(
    controller_url: Annotated[
        str | None,
        typer.Option(
            "--controller-url",
            envvar="WARDCAST_CONTROLLER_URL",
            help="Địa chỉ máy chủ điều khiển — the controller's base URL.",
        ),
    ] = None,
    tone: Annotated[
        bool,
        typer.Option("--tone/--no-tone", help="Phát tiếng bíp thử — play the test tone."),
    ] = True,
    tone_s: Annotated[
        float, typer.Option(min=0.2, max=10, help="Độ dài tiếng bíp — tone length (s).")
    ] = 1.5,
    timeout_s: Annotated[
        float, typer.Option(min=1, max=120, help="Thời gian chờ mạng — network timeout (s).")
    ] = 10.0,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Kiểm tra tại chỗ: đồng hồ, MQTT, khóa, loa — on-site check: clock, broker, key, speaker.

    Settings as `run` reads them (WARDCAST_AGENT_*, the enrolment in the data folder).
    One line per check, OK or FAIL with the reason in Vietnamese and English; the exit
    status is 1 if any check failed. Stop a running agent first (`systemctl stop
    wardcast-agent`): the test tone needs the sound card.
    """
    from edge_agent.site_check import run_checks
    from edge_agent.speaker_check import check_speaker

    _logging(log_level)
    try:
        config = AgentConfig()
    except ValidationError as exc:
        print(f"FAIL settings: cấu hình sai (WARDCAST_AGENT_*) — invalid agent settings:\n{exc}")
        raise typer.Exit(2) from exc
    failed = []
    for result in run_checks(config, controller_url, timeout_s):
        print(result.line(), flush=True)  # each as it comes: the broker may take a while
        failed += [] if result.ok else [result.name]
    if tone:
        result = check_speaker(config, tone_s)
        print(result.line())
        failed += [] if result.ok else [result.name]
    if failed:
        print(f"{len(failed)} lỗi — {len(failed)} failed: {', '.join(failed)}")
        raise typer.Exit(1)
    print("tất cả đều ổn — all checks passed")


def _default_prefix() -> str:
    # One prefix per host, so that scaled containers never share a device id.
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:40].strip("-.") or "host"
    return f"sim-{host}"


SIMULATE_HELP = (
    "Chạy COUNT thiết bị mô phỏng — run COUNT simulated agents against a controller, "
    "until Ctrl-C.\n\n"
    "Each agent is enrolled as a real device is: it is created with POST "
    "CONTROLLER_URL/api/v1/devices (an administrator's --token), gets a one-time code, "
    "generates its key in DATA_DIR/<id>/ and trades the code for its broker login, the "
    "broker's CA and the controller's public key (POST /api/v1/enrolment). An agent "
    "already enrolled in DATA_DIR is started as it is."
)


@app.command(help=SIMULATE_HELP)
def simulate(
    count: Annotated[int, typer.Option(min=1, max=5000, help="How many agents.")] = 3,
    broker_url: Annotated[
        str | None,
        typer.Option(help="Override the broker URL the controller gives at enrolment."),
    ] = None,
    controller_url: Annotated[
        str,
        typer.Option(
            "--controller-url",
            envvar="WARDCAST_CONTROLLER_URL",
            help="Địa chỉ máy chủ điều khiển — the controller's base URL.",
        ),
    ] = "http://127.0.0.1:8000",
    data_dir: Annotated[
        Path, typer.Option(help="One sub-directory per agent: key, enrolment, plan, outbox.")
    ] = Path("data/agents"),
    prefix: Annotated[
        str | None, typer.Option(help="Device id prefix (default: sim-<hostname>).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="WARDCAST_TOKEN",
            help="Mã truy cập API — API token, sent as 'Authorization: Bearer …'.",
        ),
    ] = None,
    wait_s: Annotated[float, typer.Option(help="How long to wait for the controller.")] = 60.0,
    resend_interval_s: Annotated[float, typer.Option(help="Resend unacked events after.")] = 30.0,
    log_level: LogLevelOption = "INFO",
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
            _wait_for_controller(http, wait_s)
            for device_id in device_ids:
                provision(http, data_dir / device_id, device_id)
        except (RuntimeError, EnrolmentFailed, httpx.HTTPError, InvalidKey) as exc:
            print(f"cannot provision simulated agents: {exc}")
            raise typer.Exit(1) from exc
    # Any: pydantic-settings' constructor takes its fields as keywords.
    common: dict[str, Any] = {
        "player": "simulated",
        "relay_settle_s": 0.0,
        "resend_interval_s": resend_interval_s,
        "durable_outbox": False,
    }
    if broker_url:
        common["broker_url"] = broker_url
    configs = [AgentConfig(data_dir=data_dir / device_id, **common) for device_id in device_ids]
    try:
        fleet = AgentFleet(configs).start()
    except DataDirLocked as exc:
        print(f"cannot start the simulated agents: {exc}")
        raise typer.Exit(1) from exc
    ready = fleet.wait_ready(30)
    where = broker_url or configs[0].broker_url
    print(f"{count} simulated agents {'connected' if ready else 'started'} to {where}")
    _wait_for_signal()
    fleet.stop()


def _wait_for_controller(http: httpx.Client, wait_s: float) -> None:
    """Wait until the controller answers (docker compose starts both together)."""
    import httpx

    deadline = time.monotonic() + wait_s
    while True:
        try:
            http.get("/api/v1/health").raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def provision(http: httpx.Client, data_dir: Path, device_id: str) -> None:
    """Enrol one simulated device unless its data folder holds an enrolment already:
    create it (or ask for a new code if it exists), then spend the code."""
    if enrolment_client.load_enrolment(data_dir) is not None:
        return
    body = {"device_id": device_id, "name": f"Simulated {device_id}"}
    response = http.post("/api/v1/devices", json=body)
    if response.status_code == 200:
        response = http.post(f"/api/v1/devices/{device_id}/enrolment-code")
    if response.status_code not in (200, 201) or not response.json().get("enrolment_code"):
        raise RuntimeError(
            f"creating {device_id}: HTTP {response.status_code} {response.text[:200]}"
        )
    enrolment_client.enrol(http, data_dir, device_id, str(response.json()["enrolment_code"]))


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


if __name__ == "__main__":  # `python -m edge_agent.cli`
    app()
