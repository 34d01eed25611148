"""The demo as a reader runs it, for the browser tests: `wardcast-demo` in its own process.

    with running_demo(tmp_path) as demo:
        demo.base                       # http://127.0.0.1:<free port>
        demo.password("OFFICER")        # from data/demo.env, as the README has it

The same way tests/e2e/test_smoke.py and test_readme_walk.py start it: the installed
`wardcast-demo` script, free HTTP and broker ports, gTTS pinned off (espeak-ng speaks, with
or without internet), no welcome broadcast; its accounts are read from the `demo.env` it
writes. Stopped with Ctrl-C (SIGINT to its process group), and its embedded broker must go
with it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from controller.messaging.broker_host import free_port
from tests.support.processes import demo_command

ROOT = Path(__file__).resolve().parents[2]
_EXPORT = re.compile(r"^export (\w+)=(\S+)$", re.M)
_BROKER = re.compile(r"embedded mosquitto listening on \S+ \(pid (\d+)\)")


@dataclass(frozen=True)
class RunningDemo:
    """A started demo: its address, the lines of its demo.env, and its log."""

    base: str
    exports: dict[str, str]
    log: Path

    def password(self, role_variable: str) -> str:
        """The password of OFFICER, LEADER, EVALUATOR (or ADMIN), as demo.env names them."""
        return self.exports[f"{role_variable}_PASSWORD"]


def wait_for_demo_env(
    process: subprocess.Popen[bytes], env_file: Path, log: Path, deadline: float
) -> None:
    """Wait for the demo to write ``env_file`` (its demo.env) by ``deadline`` (monotonic)."""
    while not env_file.exists():
        assert process.poll() is None, f"the demo stopped:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no demo.env:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)  # polling a file another process writes: no event to wait on


def stop_demo(process: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl-C, as a reader stops it; then make sure its broker went too."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    found = _BROKER.search(log.read_text(errors="replace"))
    if found is None:
        return
    pid = int(found[1])
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)  # never leave it behind
    raise AssertionError(f"the demo's broker (pid {pid}) outlived the demo")


@contextmanager
def running_demo(
    folder: Path, agents: int = 3, start_timeout_s: float = 120
) -> Iterator[RunningDemo]:
    """Start the demo with its data in ``folder``; yield once it answers; stop it after."""
    data = folder / "data"
    env = os.environ | {
        "WARDCAST_BROKER_PORT": str(free_port()),
        "WARDCAST_GTTS_ENABLED": "false",
        "WARDCAST_DEMO_WELCOME": "false",
        "WARDCAST_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("WARDCAST_TOKEN", "WARDCAST_CONTROLLER_URL", "WARDCAST_HTTP_PORT"):
        env.pop(name, None)
    port = free_port()
    log = folder / "demo.log"
    command = [*demo_command(), "--agents", str(agents), "--port", str(port)]
    command += ["--data-dir", str(data)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        env_file = data / "demo.env"
        deadline = time.monotonic() + start_timeout_s
        wait_for_demo_env(process, env_file, log, deadline)
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"no answer:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        exports = dict(_EXPORT.findall(env_file.read_text(encoding="utf-8")))
        yield RunningDemo(base, exports, log)
    finally:
        stop_demo(process, log)
