"""Ward programmes end to end: the schedules CLI against a real controller over HTTP.

apply --dry-run shows the diff, apply stores it atomically, export writes YAML that
applies again with no diff, and a programme with conflicts changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from controller.api.app import create_app
from controller.api.server import BackgroundServer
from controller.cli.main import app as wardcast
from controller.composition import ControllerRuntime
from controller.db.models import Bulletin, MediaAsset
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from tests.support.auth import auth_headers
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.signing import SigningKey

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "schedules" / "examples" / "xa-hoa-tien.yaml"

PLACES = f"""
province: {{code: "48", name: "Đà Nẵng"}}
district: {{code: "497", name: "Hòa Vang"}}
ward: {{code: "20326", name: "Hòa Tiến"}}
groups:
  - {{code: thon-1, name: "Thôn 1"}}
  - {{code: thon-2, name: "Thôn 2"}}
devices:
  - {{device_id: ht-01, public_key: "{SigningKey.generate().public_key_b64}", group: thon-1}}
"""


# The controller fixture: its URL, its runtime, and an administrator's HTTP client.
Controller = tuple[str, ControllerRuntime, httpx.Client]


@pytest.fixture
def controller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Controller]:
    port = free_port()
    settings = Settings(data_dir=tmp_path / "c", environment="test", http_port=port)
    runtime = ControllerRuntime(settings, transport=FakeBroker().link("controller"))
    runtime.start()
    server = BackgroundServer(create_app(runtime=runtime), "127.0.0.1", port).start()
    headers = auth_headers(runtime)  # programmes and places are an administrator's
    monkeypatch.setenv("WARDCAST_TOKEN", headers["Authorization"].removeprefix("Bearer "))
    http = httpx.Client(headers=headers)
    imported = http.post(
        f"{server.base_url}/api/v1/places/import",
        content=PLACES.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert imported.status_code == 200, imported.text
    _fallback_bulletin(runtime)
    yield server.base_url, runtime, http
    http.close()
    server.stop()
    runtime.stop()


def _fallback_bulletin(runtime: ControllerRuntime) -> None:
    """The approved bulletin the example's relay falls back to (named by code in the file)."""
    now = runtime.clock.now()
    with runtime.db.session() as session:
        session.add(
            MediaAsset(
                sha256="ab" * 32,
                size_bytes=1000,
                duration_s=30.0,
                content_type="audio/ogg",
                extension="ogg",
                created_at=now,
            )
        )
        session.add(
            Bulletin(
                id="bul-vov1-du-phong",
                code="vov1-du-phong",
                ward_code="20326",
                title="Dự phòng tiếp sóng",
                origin="upload",
                media_sha256="ab" * 32,
                created_at=now,
                status="approved",
            )
        )


def _run(*args: str) -> Result:
    return CliRunner().invoke(wardcast, ["schedules", *args], catch_exceptions=False)


def test_apply_export_apply_round_trips_with_no_diff(
    controller: Controller, tmp_path: Path
) -> None:
    url, _, http = controller
    dry = _run("apply", str(EXAMPLE), "--dry-run", "--controller-url", url)
    assert dry.exit_code == 0, dry.output
    assert "+ programme" in dry.output or "+ session" in dry.output
    assert http.get(f"{url}/api/v1/wards/20326/programme").status_code == 404  # dry run

    applied = _run("apply", str(EXAMPLE), "--controller-url", url)
    assert applied.exit_code == 0, applied.output
    stored = http.get(f"{url}/api/v1/wards/20326/programme").json()
    assert stored["version"] == 1

    exported = tmp_path / "exported.yaml"
    out = _run("export", "20326", "--controller-url", url, "--output", str(exported))
    assert out.exit_code == 0, out.output
    again = _run("apply", str(exported), "--dry-run", "--controller-url", url)
    assert again.exit_code == 0, again.output
    assert http.post(
        f"{url}/api/v1/wards/20326/programme/check", json={"document": stored["document"]}
    ).json() == {"conflicts": [], "diff": []}
    reapplied = _run("apply", str(exported), "--controller-url", url)
    assert reapplied.exit_code == 0
    assert http.get(f"{url}/api/v1/wards/20326/programme").json()["version"] == 1

    # The device in the ward now has the programme's sessions in its plan.
    plan = http.get(f"{url}/api/v1/devices/ht-01/plan").json()
    assert any(item["session_key"].startswith("20326:sang:") for item in plan["items"])
    assert any(item["relay"] for item in plan["items"])


def test_a_programme_with_conflicts_is_refused_and_nothing_changes(
    controller: Controller, tmp_path: Path
) -> None:
    url, _, http = controller
    assert _run("apply", str(EXAMPLE), "--controller-url", url).exit_code == 0
    before = http.get(f"{url}/api/v1/wards/20326/programme").json()
    broken = tmp_path / "broken.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    broken.write_text(text.replace("zones: [all]", "zones: [khong-co]", 1), encoding="utf-8")
    refused = _run("apply", str(broken), "--controller-url", url)
    assert refused.exit_code == 1
    assert "khong-co" in refused.output
    assert f"{broken}:" in refused.output  # conflicts are located in the file
    assert http.get(f"{url}/api/v1/wards/20326/programme").json() == before


def test_the_api_refuses_a_programme_for_an_unknown_ward(controller: Controller) -> None:
    url, _, http = controller
    doc = http.get(f"{url}/api/v1/wards/20326/programme")
    assert doc.status_code == 404
    bad = http.put(f"{url}/api/v1/wards/99999/programme", json={"document": {"ward": "99999"}})
    assert bad.status_code == 422  # the document itself is incomplete
