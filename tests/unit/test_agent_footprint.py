"""What ``wardcast-agent run`` loads: the levers that keep one agent under 50 MiB stay pulled.

``bench.agent_footprint`` measures the process (RSS after a play, idle CPU); this guards,
without timing anything, the imports that made the difference (issue 10.8): httpx and
the command-line client it drags in (click, rich, pygments: 4 MiB after one download),
typer (1.7 MiB: the console script starts ``run`` without it), pydantic-settings
(1.5 MiB), and the simulated fleet. A fresh interpreter builds an agent
as ``run`` does, downloads one file with the fetcher ``run`` uses, and lists what loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge_agent.lock import lock_data_dir
from edge_agent.service import plain_run
from wardcast_protocol.signing import SigningKey

NOT_ON_A_PI = {
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "certifi",
    "click",
    "typer",
    "rich",
    "pygments",
    "pydantic_settings",
    "dotenv",
    "edge_agent.cli",
    "edge_agent.fleet",
    "edge_agent.air_check",
    "edge_agent.controller_stand_in",
    "edge_agent.fake_media",
}

_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path

    import edge_agent.__main__  # the console script: `run` never loads edge_agent.cli
    from edge_agent.config import AgentConfig
    from edge_agent.http_fetch import StreamingHttpFetcher
    from edge_agent.wiring import build_agent
    from wardcast_protocol.signing import SigningKey

    data = Path(sys.argv[1])
    (data / "served").mkdir()
    (data / "served" / "a.wav").write_bytes(b"RIFF" + bytes(1000))

    async def main():
        async def handle(reader, writer):
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 1004\\r\\n\\r\\n")
            writer.write((data / "served" / "a.wav").read_bytes())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        key = SigningKey.load_or_create(data / "controller.key")
        config = AgentConfig(
            device_id="footprint-001", controller_public_key=key.public_key_b64,
            data_dir=data / "agent",
        )
        fetcher = StreamingHttpFetcher(timeout_s=5)
        build_agent(config, fetcher)
        got = []
        await fetcher.fetch(f"http://127.0.0.1:{port}/a.wav", got.append, 10_000)
        server.close()
        return sum(map(len, got))

    size = asyncio.run(main())
    print(json.dumps({"size": size, "modules": sorted(sys.modules)}))
    """
)


def test_run_and_a_download_load_none_of_what_a_pi_does_not_need(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["size"] == 1004
    loaded = {m for m in found["modules"] if m in NOT_ON_A_PI or m.split(".")[0] in NOT_ON_A_PI}
    tops = sorted({m if m.startswith("edge_agent.") else m.split(".")[0] for m in loaded})
    assert tops == [], f"`wardcast-agent run` loaded {tops}: see bench/agent_footprint.py"


def test_the_console_script_runs_the_lean_agent_without_the_cli_framework() -> None:
    # `run` must not go back to HttpMediaFetcher (httpx), nor through typer.
    root = Path(__file__).resolve().parents[2]
    source = (root / "edge_agent" / "service.py").read_text()
    run_one = source.split("async def run_one", 1)[1]
    assert "StreamingHttpFetcher(" in run_one and "HttpMediaFetcher" not in run_one
    assert 'wardcast-agent = "edge_agent.__main__:main"' in (root / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (["run"], "INFO"),
        (["run", "--log-level", "WARNING"], "WARNING"),
        (["run", "--log-level=debug"], "debug"),
        (["run", "--help"], None),
        (["run", "--log-level", "LOUD"], None),  # typer says what is wrong with it
        (["check"], None),
        ([], None),
    ],
)
def test_only_a_plain_run_skips_typer(args: list[str], level: str | None) -> None:
    assert plain_run(args) == level


def test_the_plain_run_refuses_bad_settings_and_a_held_data_folder(tmp_path: Path) -> None:
    # The path systemd takes reports as `run` through typer did: 2 for settings, 1 held.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDCAST_AGENT_")}
    env["WARDCAST_AGENT_DATA_DIR"] = str(tmp_path / "agent")
    command = [sys.executable, "-m", "edge_agent", "run", "--log-level", "WARNING"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "controller_public_key" in done.stderr, done.stderr
    env["WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY"] = SigningKey.generate().public_key_b64
    with lock_data_dir(tmp_path / "agent"):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "cannot start" in done.stderr, done.stderr
