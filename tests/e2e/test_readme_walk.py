"""README.md, run as written: every shell block, in order, against a demo this test starts.

A reader runs `make demo`, then in another shell `. data/demo.env` and the README's
blocks one after the other. This test does the same: it starts the demo with the command
`make demo PORT=…` runs (read from `make -n`, so the Makefile is what is tested, without
its install step), in a folder laid out like a clone (`.venv`, `examples`, `schedules`
linked from the repository, the demo's own `data/`), then runs the blocks with bash in
one session, so a variable set in one block is there in the next. Commands run exactly
as written; the only help is a `curl` on PATH that adds `--fail-with-body`, so an HTTP
error stops the walk where it happened instead of scrolling past.

A block is skipped only when the line before it says `<!-- readme-walk: skip (why) -->`
(`make demo` itself, and the smoke run that tests/e2e/test_smoke.py covers).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from controller.messaging.broker_host import free_port
from tests.support.demo_process import stop_demo, wait_for_demo_env

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SKIP = "<!-- readme-walk: skip"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
# What a clone has that the README's commands name; everything else the walk writes
# (programme.yaml, month.pdf, …) lands in the test's folder, not in the repository.
LINKED = (".venv", "examples", "schedules")


@dataclass(frozen=True)
class Block:
    """A fenced shell block of the README, with its line number."""

    line: int
    text: str
    skipped: bool


def shell_blocks(markdown: str) -> list[Block]:
    """Every ```sh block, in order, marked skipped when the line before says so."""
    blocks = []
    for match in FENCE.finditer(markdown):
        if match[1] not in ("sh", "bash", "shell"):
            continue
        before = markdown[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        line = markdown.count("\n", 0, match.start()) + 2  # the block's first command
        blocks.append(Block(line, match[2], before.startswith(SKIP)))
    return blocks


def test_the_readme_has_blocks_to_walk_and_skips_only_what_it_says() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert sum(not b.skipped for b in blocks) >= 6
    skipped = [b.text for b in blocks if b.skipped]
    # The demo itself and the smoke run; a block for another machine (a Pi) may join them,
    # each with its reason, but never a block that runs against the demo.
    assert "make demo" in skipped[0] and "--smoke" in skipped[1]
    markdown = README.read_text(encoding="utf-8")
    reasons = re.findall(r"^<!-- readme-walk: skip \((.+?)\) -->$", markdown, re.M)
    assert len(reasons) == len(skipped), "every skip says why: <!-- readme-walk: skip (why) -->"
    assert not any("curl" in text and "$B" in text for text in skipped)


@dataclass
class Demo:
    """The running demo: its folder (the walk's working directory) and address."""

    workdir: Path
    base: str
    env: dict[str, str]
    log: Path


def _demo_command(port: int) -> str:
    """The command `make demo PORT=port` runs after installing (its recipe's last line)."""
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    command = shown.splitlines()[-1]
    assert command == f"WARDCAST_HTTP_PORT={port} .venv/bin/wardcast-demo", shown
    return command


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo for this module's tests (starting one takes seconds)."""
    tmp_path = tmp_path_factory.mktemp("readme")
    workdir = tmp_path / "clone"
    workdir.mkdir()
    for name in LINKED:
        (workdir / name).symlink_to(ROOT / name)
    port = free_port()
    env = os.environ | {
        "WARDCAST_DATA_DIR": "data",  # relative, as `make demo` has it: ./data/demo.env
        "WARDCAST_BROKER_PORT": str(free_port()),
        # The engine pinned: the walk takes the same time with or without internet.
        "WARDCAST_GTTS_ENABLED": "false",
        "WARDCAST_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",  # the demo's lines reach its log as a terminal shows them
        # A reader starts after the welcome broadcast has played (seconds after the banner);
        # the walk does not wait 15 s for it: without it, its plays are not still being
        # reported while the README's emergency interrupts them.
        "WARDCAST_DEMO_WELCOME": "false",
    }
    for name in ("WARDCAST_TOKEN", "WARDCAST_CONTROLLER_URL", "WARDCAST_HTTP_PORT"):
        env.pop(name, None)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", _demo_command(port)],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_demo_env(process, workdir / "data" / "demo.env", log, time.monotonic() + 90)
        assert httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200
        yield Demo(workdir, base, env, log)
    finally:
        stop_demo(process, log)


def _curl_that_fails_on_http_errors(folder: Path) -> Path:
    real = shutil.which("curl")
    assert real is not None, "curl is not installed"
    folder.mkdir()
    shim = folder / "curl"
    shim.write_text(f'#!/bin/sh\nexec {real} --show-error --fail-with-body "$@"\n')
    shim.chmod(0o755)
    return folder


def _tokens(workdir: Path) -> dict[str, str]:
    text = (workdir / "data" / "demo.env").read_text(encoding="utf-8")
    return dict(re.findall(r"^export (\w+)=(\S+)$", text, re.M))


def test_every_readme_command_runs_as_written(demo: Demo, tmp_path: Path) -> None:
    started = time.monotonic()
    assert (demo.workdir / "data" / "demo.env").stat().st_mode & 0o077 == 0  # tokens inside
    runnable = [b for b in shell_blocks(README.read_text(encoding="utf-8")) if not b.skipped]
    script = ["set -euo pipefail", "PS4='+ README: '"]
    for block in runnable:
        script += [f"echo '### README.md line {block.line}'", "set -x", block.text, "set +x"]
    (tmp_path / "walk.sh").write_text("\n".join(script) + "\n", encoding="utf-8")
    shims = _curl_that_fails_on_http_errors(tmp_path / "shims")
    walked = subprocess.run(
        ["bash", str(tmp_path / "walk.sh")],
        cwd=demo.workdir,
        env=demo.env | {"PATH": f"{shims}:{demo.env['PATH']}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the trace beside what each command printed
        text=True,
        timeout=120,
    )
    out = walked.stdout
    (tmp_path / "walk.log").write_text(out, encoding="utf-8")
    assert walked.returncode == 0, f"the README walk stopped:\n{out[-6000:]}"
    took = time.monotonic() - started
    assert took < 60, f"the walk took {took:.0f} s"
    # What the README promises it shows.
    assert "verified:" in walked.stdout and "0 faults" in walked.stdout
    assert '"msg_type":"Cancel"' in walked.stdout
    assert "Tổng vệ sinh thứ bảy" in walked.stdout  # a multipart field, not mojibake
    assert (demo.workdir / "month.pdf").read_bytes().startswith(b"%PDF")
    assert "vov1-du-phong" in (demo.workdir / "programme.yaml").read_text(encoding="utf-8")


def test_the_demo_keeps_vietnamese_names_and_refuses_past_days(demo: Demo) -> None:
    tokens = _tokens(demo.workdir)
    admin = {"Authorization": f"Bearer {tokens['TOKEN']}"}
    officer = {"Authorization": f"Bearer {tokens['OFFICER']}"}
    with httpx.Client(base_url=demo.base, timeout=60) as http:
        # The demo applied the city example; the walk applies the rural one as shipped.
        city = http.get("/api/v1/wards/00037/programme", headers=admin)
        assert city.status_code == 200 and city.json()["version"] >= 1
        zones = {z["code"] for z in http.get("/api/v1/wards/00037", headers=admin).json()["zones"]}
        assert "ven-song" in zones
        # A Vietnamese file name travels in a multipart header: stored as written.
        recording = (ROOT / "examples/ban-tin.mp3").read_bytes()
        made = http.post(
            "/api/v1/bulletins/upload",
            data={"title": "Bản tin của Tổ dân phố số 2", "code": "ban-tin-to-2"},
            files={"file": ("bản tin tổ 2.mp3", recording, "audio/mpeg")},
            headers=officer,
        )
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["original_filename"] == "bản tin tổ 2.mp3"
        assert body["title"] == "Bản tin của Tổ dân phố số 2"
        assert body["code"] == "ban-tin-to-2"
        again = http.post(
            "/api/v1/bulletins/upload",
            data={"title": "Trùng mã", "code": "ban-tin-to-2"},
            files={"file": ("b.mp3", recording, "audio/mpeg")},
            headers=officer,
        )
        assert again.status_code == 409 and "ban-tin-to-2" in again.json()["detail"]
        # A queue entry for a day already over is refused, saying what today is.
        today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
        past = http.post(
            "/api/v1/wards/00037/queue",
            json={
                "bulletin_id": "vov1-du-phong",
                "session_code": "chieu",
                "first_date": (today - timedelta(days=3)).isoformat(),
                "last_date": today.isoformat(),
            },
            headers=admin,
        )
        assert past.status_code == 422, past.text
        assert f"today is {today.isoformat()}" in past.json()["detail"]
