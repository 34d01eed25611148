"""`wardcast evidence`: verify offline with exit codes 0/1/2; fetch and archive over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from controller.api.errors import install_error_handlers
from controller.api.routes import bundles
from controller.cli import client as cli_client
from controller.cli import evidence as evidence_cli
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness
from tests.unit.test_bundles_support import WARD_A, WARD_B, Scene, bundle_of, rewrite, scene, write

__all__ = ["scene"]

runner = CliRunner()
DAY = ["--ward", WARD_A, "--period", "2026-03-02T00:00:00+07:00..2026-03-03T00:00:00+07:00"]


def test_verify_exits_0_1_2(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    bundle = bundle_of(h)
    good = write(tmp_path / "good.json", bundle)
    result = runner.invoke(evidence_cli.app, ["verify", str(good)])
    assert result.exit_code == 0 and "verified: 8 valid, 0 faults" in result.output
    key = h.runtime.key.public_key_b64
    result = runner.invoke(evidence_cli.app, ["verify", str(good), "--controller-key", key])
    assert result.exit_code == 0 and "(pinned)" in result.output
    bundle["devices"][0]["rows"].pop(0)
    bad = rewrite(tmp_path / "bad.json", bundle)
    result = runner.invoke(evidence_cli.app, ["verify", str(bad), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["fault_count"] == 2
    (tmp_path / "cut.json").write_bytes(good.read_bytes()[:500])
    result = runner.invoke(evidence_cli.app, ["verify", str(tmp_path / "cut.json")])
    assert result.exit_code == 2 and "is truncated" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_verify_refuses_another_wards_bundle_and_a_bad_key(scene: Scene, tmp_path: Path) -> None:
    h, _ = scene
    path = write(tmp_path / "b.json", bundle_of(h, WARD_B))
    result = runner.invoke(evidence_cli.app, ["verify", str(path), "--ward", WARD_A])
    assert result.exit_code == 2 and "is for ward 26737" in result.stderr
    result = runner.invoke(evidence_cli.app, ["verify", str(path), "--controller-key", "nope"])
    assert result.exit_code == 2 and "--controller-key" in result.stderr


@pytest.fixture
def controller(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> Harness:
    """The bundle routes on the scene's runtime, reached through the CLI's HTTP client."""
    h, _ = scene
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = h.runtime
    app.include_router(bundles.router)
    client = TestClient(app)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = client.request(
            request.method, request.url.raw_path.decode(), content=request.content,
            headers=dict(request.headers),
        )  # fmt: skip
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    monkeypatch.setattr(cli_client, "http_transport", httpx.MockTransport(handle))
    token = auth_headers(h.runtime)["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("WARDCAST_TOKEN", token)
    return h


def test_fetch_downloads_and_verifies(controller: Harness, tmp_path: Path) -> None:
    out = tmp_path / "day.json"
    result = runner.invoke(evidence_cli.app, ["fetch", *DAY, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "verified: 8 valid, 0 faults" in result.stdout
    args = ["fetch", "--ward", "99999", "--period", DAY[3], "-o", str(out)]
    result = runner.invoke(evidence_cli.app, args)
    assert result.exit_code == 2 and "refused (404): no ward '99999'" in result.stderr


def test_archive_asks_the_controller(controller: Harness) -> None:
    result = runner.invoke(evidence_cli.app, ["archive", *DAY])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["path"] == "archives/26734/2026-03-02.json"
