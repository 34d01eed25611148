"""``wardcast schedules``: validate offline; apply and export against a stand-in controller."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from controller.cli import client as cli_client
from controller.cli import schedules as cli
from controller.domain.programmes.yaml_io import dump_programme, load_programme

EXAMPLES = Path(__file__).resolve().parents[2] / "schedules" / "examples"
CITY = EXAMPLES / "phuong-hang-bac.yaml"
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)

runner = CliRunner()


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_now", lambda: NOW)
    monkeypatch.delenv("WARDCAST_CONTROLLER_URL", raising=False)
    monkeypatch.delenv("WARDCAST_TOKEN", raising=False)


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def controller(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Handler], list[httpx.Request]]]:
    """Install a fake controller; returns the requests it received."""

    def install(handler: Handler) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        monkeypatch.setattr(cli_client, "http_transport", httpx.MockTransport(record))
        return seen

    yield install


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args))


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_a_good_file(tmp_path: Path) -> None:
    result = invoke("validate", str(CITY))
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{CITY}: valid — ward 00037, 2 sessions, next on air 2026-11-20 17:30 (Asia/Ho_Chi_Minh)\n"
    )


def test_validate_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    text = CITY.read_text(encoding="utf-8")
    text = text.replace("  max_session_minutes: 15", "  max_session_minutes: fifteen")
    text = text.replace('start: "17:30"', "start: 1730", 1)
    path = write(tmp_path, text)
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{path}:11: rules.max_session_minutes: Input should be a valid integer, unable to "
        "parse string as an integer (got 'fifteen')",
        f'{path}:48: sessions[1].start: a time of day is written in quotes, like "05:30" '
        "(got 1730)",
    ]


def test_validate_reports_conflicts_at_their_lines(tmp_path: Path) -> None:
    text = CITY.read_text(encoding="utf-8").replace('start: "17:30"', 'start: "06:40"')
    path = write(tmp_path, text)
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:48: sessions[1].start: sessions 'sang' and 'chieu' overlap on 2026-11-23 06:40 "
        "(Asia/Ho_Chi_Minh) in every zone: 'sang' runs 06:30–06:44 and 'chieu' starts at "
        "06:40 [overlap]"
    ]


def test_validate_unreadable_files(tmp_path: Path) -> None:
    missing = invoke("validate", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 2 and "cannot read" in missing.output
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: Phường".encode("cp1258", errors="replace") + b"\xff\n")
    result = invoke("validate", str(latin))
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output


def test_validate_with_the_controller_locates_its_conflicts(
    tmp_path: Path, controller: Any
) -> None:
    conflict = {
        "code": "unknown_zone",
        "message": "session 'sang': zone 'cho' is not a zone of ward 00037 (its zones: none yet)",
        "path": "sessions[0].zones[0]",
        "line": None,
    }
    seen = controller(lambda r: httpx.Response(200, json={"conflicts": [conflict], "diff": []}))
    result = invoke("validate", str(CITY), "--controller-url", "http://ctl:8000", "--token", "t0k")
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{CITY}:15: sessions[0].zones[0]: session 'sang': zone 'cho'")
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/api/v1/wards/00037/programme/check")
    assert request.headers["authorization"] == "Bearer t0k"
    assert json.loads(request.content)["document"]["sessions"][0]["start"] == "06:30"


def test_apply_dry_run_prints_the_diff(controller: Any) -> None:
    reply = {"conflicts": [], "diff": ["~ session 'sang': start 06:00 -> 06:30"]}
    seen = controller(lambda r: httpx.Response(200, json=reply))
    result = invoke("apply", str(CITY), "--dry-run", "--controller-url", "http://ctl:8000")
    assert result.exit_code == 0, result.output
    assert result.stdout == "~ session 'sang': start 06:00 -> 06:30\n"
    assert seen[0].method == "POST"


def test_apply_dry_run_with_conflicts_fails(controller: Any) -> None:
    conflict = {"code": "content_unknown", "message": "nope", "path": "sessions[1].rundown[1]"}
    controller(lambda r: httpx.Response(200, json={"conflicts": [conflict], "diff": []}))
    result = invoke("apply", str(CITY), "--dry-run")
    assert result.exit_code == 1
    assert (
        result.stdout == f"no changes\n{CITY}:52: sessions[1].rundown[1]: nope [content_unknown]\n"
    )


def test_apply_puts_and_prints_the_new_version(
    controller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_CONTROLLER_URL", "http://ctl:9000/")
    monkeypatch.setenv("WARDCAST_TOKEN", "env-token")
    seen = controller(lambda r: httpx.Response(200, json={"version": 7, "diff": ["+ x"]}))
    result = invoke("apply", str(CITY))
    assert result.exit_code == 0, result.output
    assert result.stdout == "+ x\napplied: ward 00037 programme is now version 7\n"
    [request] = seen
    assert (request.method, str(request.url)) == (
        "PUT",
        "http://ctl:9000/api/v1/wards/00037/programme",
    )
    assert request.headers["authorization"] == "Bearer env-token"
    sent = json.loads(request.content)["document"]
    assert sent == load_programme(CITY.read_text(encoding="utf-8")).model_dump(mode="json")


def test_apply_refused_with_conflicts(controller: Any) -> None:
    body = {
        "detail": "the programme has conflicts",
        "conflicts": [{"code": "overlap", "message": "clash", "path": "sessions[1].start"}],
    }
    controller(lambda r: httpx.Response(422, json=body))
    result = invoke("apply", str(CITY))
    assert result.exit_code == 1
    assert result.stdout == f"{CITY}:48: sessions[1].start: clash [overlap]\n"


def test_apply_refused_by_schema_validation(controller: Any) -> None:
    body = {"detail": [{"loc": ["body", "document", "sessions", 0, "start"], "msg": "bad time"}]}
    controller(lambda r: httpx.Response(422, json=body))
    result = invoke("apply", str(CITY))
    assert result.exit_code == 1
    assert result.stdout == f"{CITY}:17: sessions[0].start: bad time\n"


@pytest.mark.parametrize(
    ("status", "body", "code", "text"),
    [
        (404, {"detail": "no such ward"}, 1, "ward 00037: no such ward"),
        (401, {"detail": "missing token"}, 2, "give a token with --token"),
        (500, {"detail": "boom"}, 2, "the controller answered 500: boom"),
    ],
)
def test_apply_http_failures(controller: Any, status: int, body: Any, code: int, text: str) -> None:
    controller(lambda r: httpx.Response(status, json=body))
    result = invoke("apply", str(CITY))
    assert result.exit_code == code
    assert text in result.output


def test_apply_when_the_controller_is_down(controller: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    controller(refuse)
    result = invoke("apply", str(CITY), "--controller-url", "http://ctl:1")
    assert result.exit_code == 2
    assert "cannot reach the controller at http://ctl:1" in result.output


def test_apply_when_something_else_answers(controller: Any) -> None:
    controller(lambda r: httpx.Response(200, text="<html>router login</html>"))
    result = invoke("apply", str(CITY))
    assert result.exit_code == 2 and "not JSON" in result.output


def test_apply_checks_the_file_before_calling(tmp_path: Path, controller: Any) -> None:
    seen = controller(lambda r: httpx.Response(200, json={}))
    result = invoke("apply", str(write(tmp_path, "ward: [\n")))
    assert result.exit_code == 1 and seen == []


def _programme_reply(request: httpx.Request) -> httpx.Response:
    doc = load_programme(CITY.read_text(encoding="utf-8"))
    return httpx.Response(200, json={"version": 3, "document": doc.model_dump(mode="json")})


def test_export_to_stdout_and_to_a_file(tmp_path: Path, controller: Any) -> None:
    seen = controller(_programme_reply)
    result = invoke("export", "00037")
    assert result.exit_code == 0, result.output
    expected = dump_programme(load_programme(CITY.read_text(encoding="utf-8")))
    assert result.stdout == expected
    assert seen[0].url.path == "/api/v1/wards/00037/programme"
    target = tmp_path / "out.yaml"
    result = invoke("export", "00037", "--output", str(target))
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == expected
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]


def test_export_of_a_ward_without_programme(controller: Any) -> None:
    controller(lambda r: httpx.Response(404, json={"detail": "no programme yet"}))
    result = invoke("export", "00037")
    assert result.exit_code == 1 and "ward 00037: no programme yet" in result.output


def test_schema_command_prints_the_published_schema() -> None:
    result = invoke("schema")
    published = (EXAMPLES.parent / "schema.json").read_text(encoding="utf-8")
    assert result.exit_code == 0 and result.stdout == published
