"""What ``wardcast-agent run`` loads: the levers that keep one agent under 50 MiB stay pulled.

``bench.agent_footprint`` measures the process (RSS after a play, idle CPU); this guards,
without timing anything, the imports that made the difference (issue 10.8): httpx and
the command-line client it drags in (click, rich, pygments: 4 MiB after one download),
pydantic-settings (1.5 MiB), and the simulated fleet. A fresh interpreter builds an agent
as ``run`` does, downloads one file with the fetcher ``run`` uses, and lists what loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

NOT_ON_A_PI = {
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "certifi",
    "click",
    "rich",
    "pygments",
    "pydantic_settings",
    "dotenv",
    "edge_agent.fleet",
    "edge_agent.testing",
}

_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path

    import edge_agent.cli as cli
    from edge_agent.config import AgentConfig
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
        fetcher = cli.StreamingHttpFetcher(timeout_s=5)
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


def test_the_cli_runs_one_agent_with_the_lean_fetcher() -> None:
    # `run` must not go back to HttpMediaFetcher (httpx) by accident.
    source = (Path(__file__).resolve().parents[2] / "edge_agent" / "cli.py").read_text()
    run_one = source.split("async def _run_one", 1)[1].split("\ndef ", 1)[0]
    assert "StreamingHttpFetcher(" in run_one and "HttpMediaFetcher" not in run_one
