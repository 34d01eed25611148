"""One option vocabulary: every command that talks to a controller reads it the same way.

``--controller-url``/``WARDCAST_CONTROLLER_URL``, ``--token``/``WARDCAST_TOKEN`` and
``--period`` in the reports' grammar, on ``wardcast schedules``, ``report`` and
``evidence`` and on ``wardcast-agent simulate``; an unreachable controller is one
``error:`` line and exit 2, never a traceback.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from typer.testing import CliRunner, Result

from controller.cli import client as cli_client
from controller.cli.main import app as wardcast
from controller.cli.periods import instant_range, utc_bounds
from controller.domain.errors import InvalidInput
from controller.domain.programmes.yaml_io import load_programme
from controller.domain.reports.periods import parse_period
from edge_agent import cli as agent_cli

CITY = Path(__file__).resolve().parents[2] / "schedules" / "examples" / "phuong-hang-bac.yaml"
ZONE = "Asia/Ho_Chi_Minh"

runner = CliRunner()


def _programme() -> dict[str, Any]:
    doc = load_programme(CITY.read_text(encoding="utf-8"))
    return {"version": 1, "document": doc.model_dump(mode="json")}


def _answer(request: httpx.Request) -> httpx.Response:
    """A stand-in controller: enough of every endpoint for each command to succeed."""
    path = request.url.path
    if path.endswith("/programme/check"):
        return httpx.Response(200, json={"conflicts": [], "diff": []})
    if path.endswith("/programme"):
        if request.method == "PUT":
            return httpx.Response(200, json={"version": 2, "diff": []})
        return httpx.Response(200, json=_programme())
    if path.startswith("/api/v1/wards/"):
        return httpx.Response(200, json={"code": "00037", "timezone": ZONE})
    if path == "/api/v1/evidence/archives":
        return httpx.Response(201, json={"path": "archives/00037/x.json"})
    if path == "/api/v1/evidence/bundle":
        return httpx.Response(200, content=b"{}")  # not a bundle: verify says so, exit 2
    return httpx.Response(200, json={"plays": {}})  # /api/v1/reports


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request the commands send, answered by :func:`_answer`."""
    requests: list[httpx.Request] = []
    for name in ("WARDCAST_CONTROLLER_URL", "WARDCAST_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return _answer(request)

    monkeypatch.setattr(cli_client, "http_transport", httpx.MockTransport(record))
    return requests


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    """Each command that talks to a controller, with what it needs besides the connection."""
    return {
        "schedules validate": ["schedules", "validate", str(CITY)],
        "schedules apply": ["schedules", "apply", str(CITY)],
        "schedules export": ["schedules", "export", "00037"],
        "report": ["report", "--ward", "00037", "--period", "month:2026-11"],
        "evidence fetch": [
            "evidence", "fetch", "--ward", "00037", "--period", "month:2026-11",
            "-o", str(tmp_path / "b.json"),
        ],
        "evidence archive": ["evidence", "archive", "--ward", "00037", "--period", "month:2026-11"],
    }  # fmt: skip


COMMANDS = list(_commands(Path()))


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_takes_controller_url_and_token_options(
    command: str, seen: list[httpx.Request], tmp_path: Path
) -> None:
    args = [*_commands(tmp_path)[command], "--controller-url", "http://ctl:9000/", "--token", "t0k"]
    result = runner.invoke(wardcast, args)
    assert result.exit_code in (0, 2), result.output  # 2: fetch's stand-in bundle is no bundle
    assert seen, result.output
    for request in seen:
        assert (request.url.host, request.url.port) == ("ctl", 9000)
        assert request.headers["authorization"] == "Bearer t0k"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_reads_the_environment(
    command: str, seen: list[httpx.Request], tmp_path: Path
) -> None:
    env = {"WARDCAST_CONTROLLER_URL": "http://env-ctl:8123", "WARDCAST_TOKEN": "env-t0k"}
    result = runner.invoke(wardcast, _commands(tmp_path)[command], env=env)
    assert seen, result.output
    for request in seen:
        assert (request.url.host, request.url.port) == ("env-ctl", 8123)
        assert request.headers["authorization"] == "Bearer env-t0k"


def test_validate_stays_offline_without_a_controller_or_with_offline(
    seen: list[httpx.Request],
) -> None:
    assert runner.invoke(wardcast, ["schedules", "validate", str(CITY)]).exit_code == 0
    env = {"WARDCAST_CONTROLLER_URL": "http://env-ctl:8123"}
    offline = runner.invoke(wardcast, ["schedules", "validate", str(CITY), "--offline"], env=env)
    assert offline.exit_code == 0, offline.output
    assert seen == []


def test_one_period_string_means_the_same_days_for_report_and_evidence(
    seen: list[httpx.Request], tmp_path: Path
) -> None:
    commands = _commands(tmp_path)
    runner.invoke(wardcast, commands["report"])
    runner.invoke(wardcast, commands["evidence fetch"])
    runner.invoke(wardcast, commands["evidence archive"])
    report, ward, bundle, ward_again, archive = seen
    assert report.url.params["period"] == "month:2026-11"
    assert ward.url.path == ward_again.url.path == "/api/v1/wards/00037"
    # November in Hà Nội: the very bounds the controller's report sums over.
    start, end = parse_period("month:2026-11").utc_bounds(ZONE)
    assert (start, end) == (
        datetime(2026, 10, 31, 17, tzinfo=UTC),
        datetime(2026, 11, 30, 17, tzinfo=UTC),
    )
    assert bundle.url.params["ward"] == "00037"
    assert bundle.url.params["from"] == start.isoformat()
    assert bundle.url.params["to"] == end.isoformat()
    body = json.loads(archive.content)
    assert (body["from"], body["to"]) == (start.isoformat(), end.isoformat())


def test_evidence_takes_exact_instants_without_asking_for_the_zone(
    seen: list[httpx.Request],
) -> None:
    period = "2026-03-02T00:00:00+07:00..2026-03-02T12:00:00+07:00"
    result = runner.invoke(wardcast, ["evidence", "archive", "--ward", "00037", "--period", period])
    assert result.exit_code == 0, result.output
    [archive] = seen
    body = json.loads(archive.content)
    assert (body["from"], body["to"]) == ("2026-03-02T00:00:00+07:00", "2026-03-02T12:00:00+07:00")


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("month:2026-13", "months are 01 to 12"),
        ("2026-11-20..2026-11-01", "ends before it starts"),
        ("2026-03-02T00:00..2026-03-03T00:00", "has no zone"),
        ("fortnight:2026-1", "is not a period"),
    ],
)
def test_a_bad_period_is_refused_before_any_request(
    period: str, says: str, seen: list[httpx.Request]
) -> None:
    args = ["evidence", "archive", "--ward", "00037", "--period", period]
    result = runner.invoke(wardcast, args)
    assert result.exit_code == 2
    assert says in result.stderr and result.stderr.startswith("error: --period ")
    assert seen == []


def test_the_period_parser_tells_calendar_periods_from_instants() -> None:
    assert instant_range("week:2026-W47") is None
    assert instant_range("2026-11-01..2026-11-30") is None
    asked: list[str] = []

    def zone() -> str:
        asked.append(ZONE)
        return ZONE

    exact = utc_bounds("2026-11-01T00:00Z..2026-11-02T00:00Z", zone)
    assert exact == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert asked == []
    assert utc_bounds("day:2026-11-22", zone)[0] == datetime(2026, 11, 21, 17, tzinfo=UTC)
    assert asked == [ZONE]
    with pytest.raises(InvalidInput, match="ends before it starts"):
        utc_bounds("2026-11-02T00:00Z..2026-11-01T00:00Z", zone)


def _closed_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_controller_is_one_line_and_exit_2(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WARDCAST_TOKEN", raising=False)
    url = _closed_url()
    result = runner.invoke(wardcast, [*_commands(tmp_path)[command], "--controller-url", url])
    _assert_one_line_exit_2(result, f"error: cannot reach the controller at {url}: ")


def _assert_one_line_exit_2(result: Result, starts: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), result.stderr
    assert "Traceback" not in result.output


def test_an_error_body_becomes_one_line() -> None:
    errors = [{"loc": ["query", "period"], "msg": "bad\nperiod"}, {"loc": ["query", "x"]}]
    response = httpx.Response(422, json={"detail": errors})
    assert (
        cli_client.refusal(response)
        == "the controller refused (422): period: bad period; x: invalid"
    )
    html = httpx.Response(502, text="<html>\n<h1>Bad gateway</h1>\n</html>")
    assert (
        cli_client.refusal(html)
        == "the controller refused (502): <html> <h1>Bad gateway</h1> </html>"
    )


class _Recorder(BaseHTTPRequestHandler):
    """Answers 503 to everything, after noting the path and the Authorization header."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("from_env", [False, True])
def test_agent_simulate_speaks_the_same_options(
    recorder: str, tmp_path: Path, from_env: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WARDCAST_CONTROLLER_URL", "WARDCAST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    args = ["simulate", "--count", "1", "--data-dir", str(tmp_path), "--wait-s", "0"]
    env = {"WARDCAST_CONTROLLER_URL": recorder, "WARDCAST_TOKEN": "t0k"}
    if from_env:
        result = runner.invoke(agent_cli.app, args, env=env)
    else:
        result = runner.invoke(
            agent_cli.app, [*args, "--controller-url", recorder, "--token", "t0k"]
        )
    assert result.exit_code == 1  # the recorder answers 503: nothing to provision against
    assert _Recorder.seen == [("/api/v1/health", "Bearer t0k")]
