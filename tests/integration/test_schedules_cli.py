"""``wardcast schedules`` over real HTTP, against a small stand-in for the controller.

The stand-in serves the three programme endpoints with the same pure functions the
controller uses (check, diff), keeps programmes in memory, and wants a token. The
commands run as an officer would run them: export, apply --dry-run, apply, export
again; a programme with conflicts is refused and what was applied stays.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from controller.cli.schedules import app
from controller.domain.programmes.conflicts import check
from controller.domain.programmes.content import ContentInfo, DictContent
from controller.domain.programmes.diff import diff
from controller.domain.programmes.schema import ProgrammeDoc

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "schedules" / "examples"
TOKEN = "s3cret"
ZONES = {"00037": {"cho": {"tdp-3"}, "ven-song": {"tdp-1", "tdp-2"}}, "20326": {}}
CONTENT = DictContent([ContentInfo("vov1-du-phong", "approved", None, None, 1800.0)])
_ROUTE = re.compile(r"^/api/v1/wards/([^/]+)/programme(/check)?$")


class FakeController(BaseHTTPRequestHandler):
    """GET/PUT /api/v1/wards/{ward}/programme and POST …/check, in memory."""

    store: ClassVar[dict[str, tuple[int, ProgrammeDoc]]] = {}

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"detail": "missing or wrong token"})
        match = _ROUTE.match(self.path)
        allowed = {("GET", None), ("PUT", None), ("POST", "/check")}
        if not match or (method, match.group(2)) not in allowed:
            return self._reply(404, {"detail": "Not Found"})
        ward = match.group(1)
        if ward not in ZONES:
            return self._reply(404, {"detail": f"unknown ward {ward}"})
        held = self.store.get(ward)
        if method == "GET":
            if held is None:
                return self._reply(404, {"detail": "no programme yet"})
            return self._reply(
                200, {"version": held[0], "document": held[1].model_dump(mode="json")}
            )
        length = int(self.headers.get("Content-Length", "0"))
        try:
            doc = ProgrammeDoc.model_validate(json.loads(self.rfile.read(length))["document"])
        except ValidationError as exc:
            errors = [
                {"loc": ["body", "document", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False)
            ]
            return self._reply(422, {"detail": errors})
        conflicts = [
            {"code": c.code, "message": c.message, "path": c.path, "line": None}
            for c in check(doc, zones=ZONES[ward], content=CONTENT, now=datetime.now(UTC))
        ]
        changes = diff(held[1] if held else None, doc)
        if method == "POST":
            return self._reply(200, {"conflicts": conflicts, "diff": changes})
        if conflicts:
            return self._reply(
                422, {"detail": "the programme has conflicts", "conflicts": conflicts}
            )
        version = held[0] if held and not changes else (held[0] if held else 0) + 1
        self.store[ward] = (version, doc)
        return self._reply(200, {"version": version, "diff": changes})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")


@pytest.fixture
def controller_url() -> Iterator[str]:
    FakeController.store = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeController)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run(*args: str, token: str = TOKEN) -> Any:
    return CliRunner().invoke(app, list(args), env={"WARDCAST_TOKEN": token})


def test_export_apply_export_round_trip(controller_url: str, tmp_path: Path) -> None:
    city = str(EXAMPLES / "phuong-hang-bac.yaml")
    nothing = run("export", "00037", "--controller-url", controller_url)
    assert nothing.exit_code == 1 and "no programme yet" in nothing.output

    preview = run("apply", city, "--dry-run", "--controller-url", controller_url)
    assert preview.exit_code == 0, preview.output
    assert preview.stdout.startswith("+ programme 'Chương trình phát thanh Phường Hàng Bạc'")
    assert FakeController.store == {}

    applied = run("apply", city, "--controller-url", controller_url)
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.endswith("applied: ward 00037 programme is now version 1\n")

    exported = tmp_path / "hang-bac.yaml"
    assert (
        run("export", "00037", "--controller-url", controller_url, "-o", str(exported)).exit_code
        == 0
    )
    again = run("apply", str(exported), "--dry-run", "--controller-url", controller_url)
    assert (again.exit_code, again.stdout) == (0, "no changes\n")
    same = run("apply", str(exported), "--controller-url", controller_url)
    assert same.stdout == "no changes\napplied: ward 00037 programme is now version 1\n"

    validated = run("validate", str(exported), "--controller-url", controller_url)
    assert validated.exit_code == 0, validated.output


def test_a_programme_with_conflicts_is_refused_and_nothing_changes(
    controller_url: str, tmp_path: Path
) -> None:
    city = EXAMPLES / "phuong-hang-bac.yaml"
    assert run("apply", str(city), "--controller-url", controller_url).exit_code == 0
    before = FakeController.store["00037"]

    text = (
        city.read_text(encoding="utf-8")
        .replace(
            "    name: Buổi chiều\n    zones: [all]",
            "    name: Buổi chiều\n    zones: [cho, cong-vien]",
        )
        .replace('start: "17:30"', 'start: "06:35"')
    )
    clash = tmp_path / "clash.yaml"
    clash.write_text(text, encoding="utf-8")
    refused = run("apply", str(clash), "--controller-url", controller_url)
    assert refused.exit_code == 1
    lines = refused.stdout.splitlines()
    assert lines[0].startswith(
        f"{clash}:46: sessions[1].zones[1]: session 'chieu': zone 'cong-vien'"
    )
    assert lines[1].startswith(
        f"{clash}:48: sessions[1].start: sessions 'sang' and 'chieu' overlap"
    )
    assert FakeController.store["00037"] == before


def test_relay_fallback_is_checked_by_the_controller(controller_url: str) -> None:
    rural = str(EXAMPLES / "xa-hoa-tien.yaml")
    result = run("apply", rural, "--controller-url", controller_url)
    assert result.exit_code == 0, result.output


def test_wrong_token_and_unreachable_controller(controller_url: str) -> None:
    city = str(EXAMPLES / "phuong-hang-bac.yaml")
    refused = run("apply", city, "--controller-url", controller_url, token="wrong")
    assert refused.exit_code == 2 and "give a token" in refused.output
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = run("apply", city, "--controller-url", closed)
    assert down.exit_code == 2 and "cannot reach the controller" in down.output
