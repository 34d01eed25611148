"""The demo: the controller with embedded defaults and simulated edge agents.

``wardcast-demo`` serves the API on http://127.0.0.1:8000 until Ctrl-C, with a
welcome bulletin broadcast shortly after start so the log shows a full round trip.
``wardcast-demo --smoke`` is the end-to-end test: it broadcasts one Vietnamese TTS
bulletin to every agent a few seconds ahead, waits for each signed confirmation,
prints one line per agent and exits non-zero if any did not confirm in time.
What it starts from is built apart: the ward and enrolled agents in ``provisioning.py``,
the people who use it in ``accounts.py``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from controller.api.app import create_app
from controller.api.server import BackgroundServer
from controller.composition import ControllerRuntime
from controller.domain.actors import Role
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from edge_agent.config import AgentConfig
from edge_agent.fleet import AgentFleet
from sim.accounts import DemoAccount, banner_lines, provision_accounts, write_env_file
from sim.provisioning import DEMO_WARD, provision_agents, provision_ward

log = logging.getLogger(__name__)

DEMO_TITLE = "Thông báo thử hệ thống"
DEMO_TEXT = (
    "Đài truyền thanh phường xin thông báo: hệ thống loa thông minh đang được thử nghiệm. "
    "Xin cảm ơn bà con đã lắng nghe."
)
LEAD_S = 6.0
Accounts = dict[Role, DemoAccount]


def _bearer(account: DemoAccount) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


def _client(base: str, accounts: Accounts) -> httpx.Client:
    """The ward officer's client: the one who writes, submits, schedules and follows up."""
    return httpx.Client(base_url=base, timeout=60, headers=_bearer(accounts[Role.OFFICER]))


def _broadcast_demo_bulletin(
    http: httpx.Client, device_ids: list[str], accounts: Accounts
) -> tuple[str, float]:
    """Create the demo bulletin and broadcast it a few seconds ahead; (id, duration)."""
    bulletin = http.post("/api/v1/bulletins", json={"title": DEMO_TITLE, "text": DEMO_TEXT})
    if bulletin.status_code != 201:
        raise RuntimeError(f"bulletin refused: {bulletin.status_code} {bulletin.text}")
    b = bulletin.json()
    # The editorial workflow: the officer submits, the ward's leader approves (nobody
    # approves their own bulletin).
    officer, leader = _bearer(accounts[Role.OFFICER]), _bearer(accounts[Role.APPROVER])
    for step, who in (("submit", officer), ("approve", leader)):
        done = http.post(f"/api/v1/bulletins/{b['id']}/{step}", headers=who)
        if done.status_code != 200:
            raise RuntimeError(f"{step} refused: {done.status_code} {done.text}")
    print(
        f"bulletin {b['id']}: {b['media']['duration_s']:.1f} s spoken by {b['tts_engine']}, "
        f"sha256 {b['media']['sha256'][:12]}…"
    )
    start_at = datetime.now(UTC) + timedelta(seconds=LEAD_S)
    created = http.post(
        "/api/v1/broadcasts",
        json={"bulletin_id": b["id"], "device_ids": device_ids, "start_at": start_at.isoformat()},
    )
    if created.status_code != 201:
        raise RuntimeError(f"broadcast refused: {created.status_code} {created.text}")
    broadcast_id: str = created.json()["id"]
    print(f"broadcast {broadcast_id} to {len(device_ids)} agents at {start_at:%H:%M:%S.%f} UTC")
    return broadcast_id, float(b["media"]["duration_s"])


def _await_confirmations(
    http: httpx.Client, broadcast_id: str, device_ids: list[str], timeout_s: float
) -> dict[str, dict[str, Any]]:
    """Poll the evidence until every device confirmed or the time is up."""
    wait_until = time.monotonic() + timeout_s
    rows: dict[str, dict[str, Any]] = {}
    while time.monotonic() < wait_until and len(rows) < len(device_ids):
        got = http.get("/api/v1/evidence", params={"broadcast_id": broadcast_id})
        rows = {r["device_id"]: r for r in got.json()}
        time.sleep(0.25)
    return rows


def _report(device_ids: list[str], rows: dict[str, dict[str, Any]]) -> int:
    """One line per agent; returns how many did not complete."""
    failed = 0
    for device_id in device_ids:
        row = rows.get(device_id)
        if row is None:
            print(f"{device_id}: NO CONFIRMATION within the deadline")
            failed += 1
            continue
        print(
            f"{device_id}: planned {row['planned_start']} actual {row['actual_start']} "
            f"(offset {row['start_offset_s']:+.3f} s) played {row['played_duration_s']:.2f} s "
            f"of {row['planned_duration_s']:.2f} s, outcome {row['outcome']}"
        )
        if row["outcome"] != "completed":
            failed += 1
    return failed


def _smoke(
    base: str, device_ids: list[str], deadline_s: float, workdir: Path, accounts: Accounts
) -> int:
    """Broadcast one bulletin, wait for every agent's confirmation, verify the evidence."""
    with _client(base, accounts) as http:
        try:
            broadcast_id, duration = _broadcast_demo_bulletin(http, device_ids, accounts)
        except RuntimeError as exc:
            print(f"FAIL: {exc}")
            return 1
        rows = _await_confirmations(http, broadcast_id, device_ids, LEAD_S + duration + deadline_s)
        failed = _report(device_ids, rows)
        bundle_ok = _verify_bundle(http, workdir, _bearer(accounts[Role.EVALUATOR]))
    print(f"smoke: {len(device_ids) - failed} passed, {failed} failed")
    return 1 if failed or not bundle_ok else 0


def _verify_bundle(http: httpx.Client, workdir: Path, evaluator: dict[str, str]) -> bool:
    """Download the demo ward's evidence bundle as its evaluator and check it as they
    would: with the offline verifier, in a separate process that never touches the
    controller."""
    now = datetime.now(UTC)
    got = http.get(
        "/api/v1/evidence/bundle",
        params={
            "ward": DEMO_WARD,
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
        },
        headers=evaluator,
    )
    if got.status_code != 200:
        print(f"FAIL bundle: {got.status_code} {got.text[:300]}")
        return False
    path = workdir / "evidence-bundle.json"
    path.write_bytes(got.content)
    checked = subprocess.run(
        [sys.executable, "-m", "controller.domain.evidence.bundles.verify", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = (checked.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"evidence bundle {path.name}: {last}")
    return checked.returncode == 0


def _welcome(base: str, device_ids: list[str], accounts: Accounts) -> None:
    """In the interactive demo: one broadcast soon after start, to show the round trip."""
    with _client(base, accounts) as http:
        for _ in range(100):
            try:
                if http.get("/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        try:
            broadcast_id, duration = _broadcast_demo_bulletin(http, device_ids, accounts)
        except (RuntimeError, httpx.HTTPError) as exc:
            print(f"welcome broadcast failed: {exc}")
            return
        rows = _await_confirmations(http, broadcast_id, device_ids, LEAD_S + duration + 30)
    _report(device_ids, rows)


def run_demo(
    *,
    smoke: bool,
    agents: int,
    port: int | None,
    data_dir: Path | None,
    deadline_s: float,
    welcome: bool = True,
) -> int:
    """Run the demo (or the smoke test); returns the process exit code."""
    tmp: Path | None = None
    if data_dir is None and smoke:
        tmp = Path(tempfile.mkdtemp(prefix="wardcast-smoke-"))
        data_dir = tmp
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    # The port: --port, else WARDCAST_HTTP_PORT (what `make demo PORT=…` sets), else 8000;
    # a smoke run takes a free one unless told.
    if port is not None:
        overrides["http_port"] = port
    elif smoke:
        overrides["http_port"] = free_port()
    if smoke:
        overrides["broker_port"] = free_port()  # a smoke run never waits on a busy 8883
    settings = Settings(**overrides)  # type: ignore[arg-type]
    runtime = ControllerRuntime(settings)
    fleet: AgentFleet | None = None
    try:
        runtime.start()
        configs = provision_agents(runtime, agents)
        provision_ward(runtime, configs)
        accounts = provision_accounts(runtime, DEMO_WARD)
        fleet = AgentFleet(configs)
        fleet.start()
        app = create_app(runtime=runtime)
        base = settings.resolved_public_base_url
        if smoke:
            server = BackgroundServer(app, settings.http_host, settings.http_port).start()
            try:
                device_ids = [c.device_id for c in configs]
                return _smoke(base, device_ids, deadline_s, settings.data_dir, accounts)
            finally:
                server.stop()
        env_file = write_env_file(settings.data_dir / "demo.env", accounts, base)
        _print_banner(base, runtime, configs, accounts, env_file)
        device_ids = [c.device_id for c in configs]
        if welcome:
            args = (base, device_ids, accounts)
            threading.Thread(target=_welcome, args=args, daemon=True).start()
        uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_level="warning")
        return 0
    finally:
        if fleet is not None:
            fleet.stop()
        runtime.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _print_banner(
    base: str,
    runtime: ControllerRuntime,
    configs: list[AgentConfig],
    accounts: Accounts,
    env_file: Path,
) -> None:
    ids = ", ".join(f'"{c.device_id}"' for c in configs)
    print(
        f"""
Wardcast demo — controller {base}  (OpenAPI docs: {base}/docs)
  broker   {runtime.broker_url} (embedded mosquitto: TLS, a login per device, ACLs)
  database {runtime.db.url}
  agents   {len(configs)} simulated: {ids}
  wards    00037 Hàng Bạc, with the example city-ward programme (schedules/examples/),
           and 20326 Hòa Tiến, the rural example's commune (examples/ward*.yaml)

{banner_lines(accounts, base)}

The same lines are in {env_file}: in another shell, `. {env_file}` and every example in
README.md runs as written.

Try it (Ctrl-C stops everything), after pasting the lines above:
  curl -s -X POST $B/api/v1/bulletins -H "Authorization: Bearer $OFFICER" \\
       -H 'content-type: application/json' -d '{{"title": "{DEMO_TITLE}", "text": "{DEMO_TEXT}"}}'
  curl -s -X POST $B/api/v1/bulletins/<id from above>/submit -H "Authorization: Bearer $OFFICER"
  curl -s -X POST $B/api/v1/bulletins/<id>/approve -H "Authorization: Bearer $LEADER"
  curl -s -X POST $B/api/v1/broadcasts -H "Authorization: Bearer $OFFICER" \\
       -H 'content-type: application/json' -d '{{"bulletin_id": "<id>", "device_ids": [{ids}]}}'
  curl -s $B/api/v1/evidence -H "Authorization: Bearer $EVALUATOR"
  curl -s $B/api/v1/devices/{configs[0].device_id}/plan -H "Authorization: Bearer $TOKEN"
  .venv/bin/wardcast schedules export 00037       # reads WARDCAST_TOKEN, WARDCAST_CONTROLLER_URL
"""
    )
