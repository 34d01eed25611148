"""Schemathesis walks the whole API, as an administrator, and finds nothing to report.

A real controller (real broker, real ffmpeg and espeak-ng) serves its ``openapi.json``
on loopback; schemathesis's own command (``st run``) reads it and sends every operation
its documented examples, the boundary values of every field and parameter (its
*coverage* phase: just past each limit, missing fields, wrong types) and random valid
requests (*fuzzing*). The run fails on any server error (5xx) and on any answer the
document does not describe: an undeclared status, another content type, or a body that
breaks its schema — the API's own 422s included.

Bounded by the number of requests, not by time: the coverage phase in full, a few
random requests an operation, and every operation must be tested or the test fails. The
seed is fixed so a failure reproduces; set ``WARDCAST_FUZZ_SEED`` to walk other paths,
and ``WARDCAST_FUZZ_EXAMPLES`` / ``WARDCAST_FUZZ_SECONDS`` for a longer walk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from tests.support.auth import issue_token

pytestmark = pytest.mark.integration

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Schemathesis's --max-time cuts every phase, coverage included (a 30 s budget generated
# 271 requests, a 10 s one reached 13 of 74 operations), and makes the fuzzing phase
# repeat until the time is spent. The suite's walk sets none: the coverage phase walks
# every boundary of every field in full (~3,500 requests), then five random requests an
# operation, and the test fails if any operation is left untested.
# WARDCAST_FUZZ_SECONDS=N repeats the fuzzing for a longer walk of N seconds.
MAX_EXAMPLES = int(os.environ.get("WARDCAST_FUZZ_EXAMPLES", "5"))
SEED = os.environ.get("WARDCAST_FUZZ_SEED", "20261201")
WALK_FOR_S = int(os.environ.get("WARDCAST_FUZZ_SECONDS", "0"))
TIME_BUDGET_S = max(WALK_FOR_S, 300)  # what the walk may take at most


def admin_token(runtime: ControllerRuntime) -> str:
    """An administrator's bearer token: the one place this test says who it is."""
    return issue_token(runtime.db, runtime.clock.now())


@pytest.fixture
def served(tmp_path: Path, broker: EmbeddedBroker) -> Iterator[tuple[str, ControllerRuntime]]:
    """A controller on a loopback port, served by uvicorn as in production."""
    settings = Settings(
        data_dir=tmp_path / "controller",
        broker_url=broker.url,
        gtts_enabled=False,
        environment="test",
    )
    runtime = ControllerRuntime(settings)
    runtime.start()
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzzed-controller", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the controller did not start serving"
    try:
        yield f"http://127.0.0.1:{port}", runtime
    finally:
        server.should_exit = True
        thread.join(15)
        runtime.stop()


@pytest.mark.timeout(TIME_BUDGET_S + 240)
def test_the_api_answers_every_request_as_its_document_says(
    served: tuple[str, ControllerRuntime], tmp_path: Path
) -> None:
    base_url, runtime = served
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    assert st is not None, "schemathesis is not installed (pip install -e '.[dev]')"
    command = [
        st,
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {admin_token(runtime)}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--request-timeout",
        "60",
        "--continue-on-failure",
        "--warnings",
        "off",
        "--no-color",
    ]
    if WALK_FOR_S:
        command += ["--max-time", str(WALK_FOR_S)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIME_BUDGET_S + 120,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        check=False,
    )
    report = done.stdout + done.stderr
    print(report[-4000:])  # shown with -s or on a failure: the phases' counts and the time
    assert done.returncode == 0, report[-20000:]
    # "0 generated" as a whole number: "5590 generated" is a walk that ran.
    assert "Tested: " in report and not re.search(r"(?<!\d)0 generated", report), report[-3000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested, report[-3000:]
    assert tested[1] == selected[1] == selected[2], f"operations left untested:\n{report[-3000:]}"
