"""Controller replicas for the benches: ``wardcast serve`` processes in one share group.

docs/scale.md "Replicas": every replica has the same database, broker and controller
key, and ``WARDCAST_MQTT_SHARE_GROUP``, so the broker hands each device message to one
of them (MQTT v5 shared subscriptions). The bench's own in-process controller joins the
group through ``join_group`` before it starts; the others run here as processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from controller.messaging.broker_host import free_port

SHARE_GROUP = "wardcast-bench"


def join_group(replica_id: str) -> None:
    """Make the controller this process starts next a member of the bench's share group."""
    os.environ["WARDCAST_MQTT_SHARE_GROUP"] = SHARE_GROUP
    os.environ["WARDCAST_REPLICA_ID"] = replica_id


def _serve(name: str, root: Path, database_url: str, broker_url: str, key: Path) -> Replica:
    """Start ``wardcast serve`` as replica ``name``."""
    port = free_port()
    env = os.environ | {
        "WARDCAST_DATA_DIR": str(root / name),
        "WARDCAST_DATABASE_URL": database_url,
        "WARDCAST_BROKER_URL": broker_url,
        "WARDCAST_CONTROLLER_KEY_PATH": str(key),
        "WARDCAST_MQTT_SHARE_GROUP": SHARE_GROUP,
        "WARDCAST_REPLICA_ID": name,
        "WARDCAST_GTTS_ENABLED": "false",
        "WARDCAST_ENVIRONMENT": "test",
    }
    log = open(root / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    script = Path(sys.executable).parent / "wardcast"  # the venv's console script
    command = [str(script), "serve", "--port", str(port), "--log-level", "WARNING"]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return Replica(proc, f"http://127.0.0.1:{port}", root / f"{name}.log")


class Replica:
    """A replica process, its URL and its log."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def wait_healthy(self, timeout_s: float = 90) -> None:
        """Until its API answers (it has migrated, connected and subscribed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"a replica exited:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"a replica did not start within {timeout_s:.0f} s")

    def stop(self) -> None:
        """Terminate it (it stores what it has queued first), kill it if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def errors(self) -> list[str]:
        """The error lines of its log (a failed batch, a deadlock), to be reported."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if '"level": "ERROR"' in line]


@contextlib.contextmanager
def replicas(
    count: int, root: Path, database_url: str, broker_url: str, key: Path
) -> Iterator[list[Replica]]:
    """``count`` more replicas (r2, r3, …) on this database and broker, stopped after."""
    root.mkdir(parents=True, exist_ok=True)
    started = [_serve(f"r{n}", root, database_url, broker_url, key) for n in range(2, count + 2)]
    try:
        for replica in started:
            replica.wait_healthy()
        yield started
    finally:
        for replica in started:
            replica.stop()
            errors = replica.errors()
            if errors:  # the bench's own controller logs to stderr; these would be lost
                print(f"{replica.log.stem}: {len(errors)} errors, the first: {_said(errors[0])}")


def _said(line: str) -> str:
    """An error line's message and its exception's last line (the error itself)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line[:600]
    lines = (record.get("exception") or "").strip().splitlines()
    # SQLAlchemy's last lines are the SQL and a link: the driver's error says what happened.
    said = [x for x in lines if "psycopg.errors." in x][-1:] or lines[-1:]
    return f"{record.get('message')} ({record.get('message_id', '')}): {' '.join(said)[:600]}"
