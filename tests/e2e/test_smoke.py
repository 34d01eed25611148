"""The demo itself is the end-to-end test: `wardcast-demo --smoke` must confirm every agent."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import demo_command

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


def test_demo_smoke_confirms_every_agent(tmp_path: Path) -> None:
    # The engine is pinned: with internet gTTS would answer, and the test must pass either way.
    env = os.environ | {"WARDCAST_GTTS_ENABLED": "false"}
    done = subprocess.run(
        [*demo_command(), "--smoke", "--agents", "3", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    out = done.stdout
    assert done.returncode == 0, f"smoke failed:\n{out}\n{done.stderr[-3000:]}"
    lines = [line for line in out.splitlines() if line.startswith("demo-to-")]
    assert len(lines) == 3, out
    for line in lines:
        assert "outcome completed" in line, line
        found = re.search(r"offset ([+-][0-9.]+) s", line)
        assert found is not None, line
        offset = float(found.group(1))
        assert abs(offset) < 2.0, line
    assert "smoke: 3 passed, 0 failed" in out
    # The evaluator's check, offline, in its own process: every signed event verifies.
    assert "verified: 3 valid, 0 faults" in out
    assert "spoken by espeak-ng" in out  # the pinned offline voice spoke
