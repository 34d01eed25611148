"""Structured logs: JSON off a terminal, text on one, with request and message ids.

The controller and the agent build their handlers from one formatter
(wardcast_protocol/logs.py), each with its own context; the first tests hold the two
to the same record shape. The
root logger is put back after each test by ``tests/conftest.py``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from controller import logs as controller_logs
from controller.api.app import create_app
from edge_agent import logs as agent_logs
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import Kind
from wardcast_protocol.topics import DeviceChannel, device_topic

FIELDS = {"time", "level", "logger", "message"}


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize("side", [controller_logs, agent_logs], ids=["controller", "agent"])
def test_json_records_carry_time_level_logger_message_and_context(side: Any) -> None:
    stream = io.StringIO()  # not a terminal: auto means JSON
    side.configure_logging("INFO", "auto", stream=stream)
    log = logging.getLogger("wardcast.test")
    with side.log_context(message_id="ev-7"):
        log.info("stored %s", "ev-7", extra={"device": "to-1"})
        side.bind_log_context(message_id="ev-8")
        log.warning("Phường Hàng Bạc")
    log.info("outside")
    first, second, third = _records(stream)
    assert set(first) == FIELDS | {"message_id", "device"}
    assert first["message"] == "stored ev-7" and first["level"] == "INFO"
    assert first["logger"] == "wardcast.test" and first["time"].endswith("+00:00")
    assert second["message_id"] == "ev-8" and second["message"] == "Phường Hàng Bạc"
    assert set(third) == FIELDS  # the context ended with its block


def test_both_sides_write_the_same_shape() -> None:
    shapes = []
    for side in (controller_logs, agent_logs):
        stream = io.StringIO()
        side.configure_logging("INFO", "json", stream=stream)
        with side.log_context(message_id="m-1"):
            try:
                raise ValueError("boom")
            except ValueError:
                logging.getLogger("x").exception("failed")
        (record,) = _records(stream)
        assert "ValueError: boom" in record.pop("exception")
        record.pop("time")
        shapes.append(record)
    assert (
        shapes[0]
        == shapes[1]
        == {
            "level": "ERROR",
            "logger": "x",
            "message": "failed",
            "message_id": "m-1",
        }
    )


@pytest.mark.parametrize("side", [controller_logs, agent_logs], ids=["controller", "agent"])
def test_a_terminal_gets_text_with_the_ids_appended(side: Any) -> None:
    stream = Tty()
    side.configure_logging("INFO", "auto", stream=stream)
    with side.log_context(request_id="r-1"):
        logging.getLogger("wardcast.test").info("hello")
    line = stream.getvalue().strip()
    assert line.endswith("INFO    wardcast.test: hello [request_id=r-1]")
    assert not line.startswith("{")


def test_configuring_again_replaces_the_handler_and_refuses_a_bad_format() -> None:
    first, second = io.StringIO(), io.StringIO()
    controller_logs.configure_logging("INFO", "json", stream=first)
    controller_logs.configure_logging("INFO", "json", stream=second)
    logging.getLogger("wardcast.test").info("once")
    assert first.getvalue() == "" and "once" in second.getvalue()
    with pytest.raises(ValueError, match="auto, json or text"):
        controller_logs.configure_logging("INFO", "xml", stream=io.StringIO())


def test_the_agent_reads_its_format_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(agent_logs.FORMAT_ENV, "text")
    stream = io.StringIO()
    agent_logs.configure_logging("INFO", stream=stream)
    logging.getLogger("wardcast.test").info("plain")
    assert stream.getvalue().rstrip().endswith("wardcast.test: plain")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    harness.plan("to-1")
    yield harness
    harness.runtime.stop()


def test_every_request_has_an_id_echoed_and_in_its_log_records(h: Harness) -> None:
    stream = io.StringIO()
    controller_logs.configure_logging("DEBUG", "json", stream=stream)
    with TestClient(create_app(runtime=h.runtime)) as api:
        given = api.get("/api/v1/health", headers={"X-Request-ID": "proxy-42.a"})
        fresh = api.get("/api/v1/health")
        odd = api.get("/api/v1/health", headers={"X-Request-ID": "no spaces\tor tabs"})
    assert given.headers["X-Request-ID"] == "proxy-42.a"
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert odd.headers["X-Request-ID"] not in ("no spaces\tor tabs", fresh.headers["X-Request-ID"])
    access = [r for r in _records(stream) if r["logger"] == "controller.api.access"]
    assert [r["request_id"] for r in access] == [
        "proxy-42.a",
        fresh.headers["X-Request-ID"],
        odd.headers["X-Request-ID"],
    ]
    assert access[0]["message"].startswith("GET /api/v1/health -> 200 in ")
    assert access[0]["status"] == 200


def test_bridge_records_carry_the_message_id(h: Harness) -> None:
    stream = io.StringIO()
    controller_logs.configure_logging("INFO", "json", stream=stream)
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1", event_id="ev-42"))
    topic = device_topic("to-2", DeviceChannel.EVENT)
    h.broker.route("to-2", topic, b"garbage", False, None)
    records = [r for r in _records(stream) if r["logger"] == "controller.messaging.bridge"]
    stored = next(r for r in records if r["message"].startswith("evidence ev-42"))
    assert stored["message_id"] == "ev-42"
    rejected = next(r for r in records if r["level"] == "WARNING")
    assert rejected["message_id"] == topic
    assert controller_logs.current_log_context() == {}


def test_the_id_follows_a_plain_def_route_into_the_threadpool() -> None:
    from fastapi import FastAPI

    from controller.api.middleware import RequestContextMiddleware

    app = FastAPI()

    @app.get("/work")
    def work() -> dict[str, str]:
        logging.getLogger("wardcast.route").info("working")
        return {}

    app.add_middleware(RequestContextMiddleware)
    stream = io.StringIO()
    controller_logs.configure_logging("INFO", "json", stream=stream)
    with TestClient(app) as api:
        answer = api.get("/work", headers={"X-Request-ID": "r-77"})
    (record,) = [r for r in _records(stream) if r["logger"] == "wardcast.route"]
    assert record["request_id"] == answer.headers["X-Request-ID"] == "r-77"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_demo_shows_the_agents_ids_through_the_controllers_handler(fmt: str) -> None:
    stream = io.StringIO()
    controller_logs.configure_logging("INFO", fmt, stream=stream).addFilter(
        agent_logs.ContextFilter()
    )
    with agent_logs.log_context(message_id="cmd-9"):
        logging.getLogger("edge_agent.core").info("now playing")
    line = stream.getvalue().strip()
    if fmt == "json":
        assert json.loads(line)["message_id"] == "cmd-9"
    else:
        assert line.endswith("now playing [message_id=cmd-9]")
