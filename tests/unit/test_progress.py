"""Progress lines: drawn on a terminal's standard error, never into piped output.

A real pseudo-terminal shows the offline verifier's progress while its standard
output, a pipe, stays byte for byte what it is without one; ``WARDCAST_PROGRESS``
forces the line on (or off) where no terminal exists.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from controller import progress
from controller.cli import client as cli_client
from controller.cli.main import app as wardcast
from controller.progress import Progress, Waiting
from tests.unit.test_bundles_support import Scene, bundle_of, scene, write

__all__ = ["scene"]

runner = CliRunner()


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_forcing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(progress.ENV, raising=False)


def test_nothing_is_drawn_off_a_terminal() -> None:
    piped = io.StringIO()
    with Progress("work", 10, stream=piped) as bar:
        bar.advance(10)
    with Waiting("wait", stream=piped):
        pass
    assert piped.getvalue() == ""


def test_a_terminal_gets_a_line_redrawn_in_place_then_erased() -> None:
    tty = Tty()
    with Progress("kiểm tra · verifying", 4_000, unit="rows", stream=tty) as bar:
        bar.advance(1_000)
        bar.advance(3_000)  # the last step is always drawn, however soon
    drawn = tty.getvalue()
    assert drawn.startswith("\rkiểm tra · verifying [....................]   0%  0/4,000 rows")
    assert "[####################] 100%  4,000/4,000 rows" in drawn
    assert drawn.endswith("\r") and "\n" not in drawn  # erased: the next output starts clean


@pytest.mark.parametrize(("forced", "drawn"), [("always", True), ("never", False)])
def test_the_environment_forces_it_either_way(
    monkeypatch: pytest.MonkeyPatch, forced: str, drawn: bool
) -> None:
    monkeypatch.setenv(progress.ENV, forced)
    stream = Tty() if forced == "never" else io.StringIO()
    with Progress("work", 1, stream=stream) as bar:
        bar.advance()
    assert bool(stream.getvalue()) is drawn


def test_a_spinner_shows_only_for_a_wait_past_its_first_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quick, slow = Tty(), Tty()
    with Waiting("wait", stream=quick):
        pass
    monkeypatch.setattr(progress, "FIRST_DRAW_S", 0.0)
    with Waiting("lập báo cáo", stream=slow, interval_s=0.01):
        time.sleep(0.1)
    assert quick.getvalue() == ""
    assert "\rlập báo cáo |  0 s" in slow.getvalue() and slow.getvalue().endswith("\r")


def test_verify_piped_is_clean_and_forced_progress_goes_to_stderr_only(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, _ = scene
    path = str(write(tmp_path / "b.json", bundle_of(h)))
    plain = runner.invoke(wardcast, ["evidence", "verify", path])
    assert plain.exit_code == 0 and plain.stderr == ""
    assert "\r" not in plain.stdout
    monkeypatch.setenv(progress.ENV, "always")
    forced = runner.invoke(wardcast, ["evidence", "verify", path])
    assert forced.exit_code == 0 and forced.stdout == plain.stdout
    assert "kiểm tra · verifying" in forced.stderr and "rows" in forced.stderr


def test_on_a_real_terminal_the_verifier_shows_progress_and_stdout_stays_clean(
    scene: Scene, tmp_path: Path
) -> None:
    h, _ = scene
    path = str(write(tmp_path / "b.json", bundle_of(h)))
    command = [sys.executable, "-m", "controller.domain.evidence.bundles.verify", path]
    env = {k: v for k, v in os.environ.items() if k != progress.ENV}
    piped = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, timeout=60, env=env)
        os.close(follower)
        screen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            screen += chunk
    finally:
        os.close(leader)
    assert piped.returncode == done.returncode == 0
    assert piped.stderr == ""
    assert done.stdout.decode() == piped.stdout  # the pipe gets the report, nothing else
    text = screen.decode()
    assert "kiểm tra · verifying" in text and "8/8 rows" in text


def test_a_report_waits_with_a_spinner_on_stderr_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)
        return httpx.Response(200, json={"plays": {}})

    monkeypatch.setattr(cli_client, "http_transport", httpx.MockTransport(slow))
    monkeypatch.setattr(progress, "FIRST_DRAW_S", 0.0)
    args = ["report", "--ward", "00037", "--period", "month:2026-11"]
    plain = runner.invoke(wardcast, args)
    monkeypatch.setenv(progress.ENV, "always")
    forced = runner.invoke(wardcast, args)
    assert plain.exit_code == forced.exit_code == 0
    assert plain.stdout == forced.stdout == '{"plays":{}}\n'
    assert plain.stderr == "" and "lập báo cáo · building the report" in forced.stderr
