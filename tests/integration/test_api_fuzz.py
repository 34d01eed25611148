"""Schemathesis walks the whole API, as an administrator, and finds nothing to report.

A real controller (real broker, real ffmpeg and espeak-ng) serves its ``openapi.json``
on loopback; schemathesis's own command (``st run``) reads it and sends every operation
its documented examples, the boundary values of every field and parameter (its
*coverage* phase: just past each limit, missing fields, wrong types) and random valid
requests (*fuzzing*). The run fails on any server error (5xx) and on any answer the
document does not describe: an undeclared status, another content type, or a body that
breaks its schema — the API's own 422s included.

Bounded to a few minutes: a few examples per operation and a time budget. The seed is
fixed so a failure reproduces; set ``WARDCAST_FUZZ_SEED`` to walk other paths, and
``WARDCAST_FUZZ_EXAMPLES`` / ``WARDCAST_FUZZ_SECONDS`` for a longer walk.
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
from controller.messaging.broker import EmbeddedBroker, free_port
from controller.settings import Settings
from tests.support.auth import issue_token

pytestmark = pytest.mark.integration

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
MAX_EXAMPLES = int(os.environ.get("WARDCAST_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("WARDCAST_FUZZ_SEED", "20261201")
# Schemathesis runs every operation's examples and coverage cases first, then repeats
# random fuzzing until the budget is spent: the budget trims only that repetition.
# WARDCAST_FUZZ_SECONDS gives a longer walk.
TIME_BUDGET_S = int(os.environ.get("WARDCAST_FUZZ_SECONDS", "60"))


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
        "--max-time",
        str(TIME_BUDGET_S),
        "--seed",
        SEED,
        "--request-timeout",
        "60",
        "--continue-on-failure",
        "--warnings",
        "off",
        "--no-color",
    ]
    began = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIME_BUDGET_S + 120,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        check=False,
    )
    elapsed = time.monotonic() - began
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-20000:]
    # "0 generated" as a whole number: "5590 generated" is a walk that ran.
    assert "Tested: " in report and not re.search(r"(?<!\d)0 generated", report), report[-3000:]
    assert elapsed < TIME_BUDGET_S + 60, f"the walk took {elapsed:.0f} s"
