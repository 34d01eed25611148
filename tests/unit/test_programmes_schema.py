"""The programme document's shape: the published schema, and what it refuses."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from controller.domain.programmes.fields import CODE_PATTERN, SLUG_PATTERN, stream_url_problem
from controller.domain.programmes.schema import (
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    SessionDef,
    json_schema,
    json_schema_text,
)
from controller.domain.programmes.yaml_io import load_programme

ROOT = Path(__file__).resolve().parents[2]
SCHEDULES = ROOT / "schedules"


def doc(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ward": "00037",
        "name": "Hàng Bạc",
        "sessions": [
            {
                "code": "sang",
                "name": "Buổi sáng",
                "rrule": "FREQ=DAILY",
                "start": "06:30",
                "rundown": [{"kind": "chime", "which": "opening"}],
            }
        ],
    }
    data.update(fields)
    return data


def errors(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        ProgrammeDoc.model_validate(data)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def test_published_schema_file_is_current() -> None:
    """Regenerate with: wardcast schedules schema -o schedules/schema.json"""
    assert (SCHEDULES / "schema.json").read_text(encoding="utf-8") == json_schema_text()


def test_schema_describes_every_field_and_forbids_unknown_ones() -> None:
    schema = json_schema()
    assert schema["$id"] and schema["title"] == "Wardcast ward programme"
    models = [schema, *schema["$defs"].values()]
    for model in models:
        assert model["additionalProperties"] is False, model["title"]
        for name, field in model["properties"].items():
            assert field.get("title") and field.get("description"), (model["title"], name)


def test_times_are_strings_in_the_schema() -> None:
    start = json_schema()["$defs"]["SessionDef"]["properties"]["start"]
    assert start["type"] == "string" and "05:30" in start["examples"]


@pytest.mark.parametrize("name", ["phuong-hang-bac.yaml", "xa-hoa-tien.yaml"])
def test_examples_validate(name: str) -> None:
    programme = load_programme((SCHEDULES / "examples" / name).read_text(encoding="utf-8"))
    assert programme.timezone == "Asia/Ho_Chi_Minh"
    assert len(programme.sessions) == 2


def test_city_ward_example_follows_the_ha_noi_pattern() -> None:
    text = (SCHEDULES / "examples" / "phuong-hang-bac.yaml").read_text(encoding="utf-8")
    programme = load_programme(text)
    assert programme.rules.max_session_minutes == 15
    assert programme.rules.broadcast_days == ["MO", "TU", "WE", "TH", "FR"]
    assert [s.start for s in programme.sessions] == [time(6, 30), time(17, 30)]


def test_rural_example_relays_the_central_station() -> None:
    text = (SCHEDULES / "examples" / "xa-hoa-tien.yaml").read_text(encoding="utf-8")
    programme = load_programme(text)
    assert programme.rules.max_session_minutes == 45
    relays = [i for s in programme.sessions for i in s.rundown if isinstance(i, RelayItem)]
    assert [(r.station, r.source_level, r.minutes) for r in relays] == [("VOV1", "central", 30)]
    assert relays[0].fallback_bulletin


def test_json_round_trip_writes_times_as_hh_mm() -> None:
    programme = ProgrammeDoc.model_validate(doc())
    dumped = programme.model_dump(mode="json")
    assert dumped["sessions"][0]["start"] == "06:30"
    assert ProgrammeDoc.model_validate(json.loads(json.dumps(dumped))) == programme


def test_defaults() -> None:
    programme = ProgrammeDoc.model_validate(doc())
    assert programme.timezone == "Asia/Ho_Chi_Minh"
    assert programme.rules.broadcast_days == ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    assert programme.rules.max_session_minutes == 60
    assert programme.sessions[0].zones == ["all"]


def test_a_ward_code_given_as_a_number_is_read_as_its_digits() -> None:
    assert ProgrammeDoc.model_validate(doc(ward=26734)).ward == "26734"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1020, 'a time of day is written in quotes, like "05:30" (got 1020)'),
        ("25:00", "'25:00' is not a time of day"),
        ("half past five", "not a time of day"),
        (time(5, 30, tzinfo=None), None),
        ("5:30", None),
        ("05:30:15", None),
    ],
)
def test_start_times(value: object, message: str | None) -> None:
    data = doc()
    data["sessions"][0]["start"] = value
    if message is None:
        assert ProgrammeDoc.model_validate(data).sessions[0].start.hour == 5
    else:
        [(loc, text)] = errors(data)
        assert loc == ("sessions", 0, "start") and message in text


def test_many_problems_at_once() -> None:
    data = doc(
        timezone="Asia/Hanoi",
        rules={"broadcast_days": ["MO", "MO"], "quiet_hours": [{"start": "22:00", "end": "22:00"}]},
    )
    data["sessions"][0].update(
        zones=["all", "cho"],
        rrule="FREQ=DAILY;BYHOUR=5",
        exdates=["2026-09-02", "2026-09-02"],
        colour="red",
    )
    data["sessions"][0]["rundown"].append({"kind": "relay"})
    found = dict(errors(data))
    assert found[("timezone",)].startswith("unknown time zone 'Asia/Hanoi'")
    assert found[("rules", "broadcast_days")] == "MO listed more than once"
    assert found[("rules", "quiet_hours", 0)] == "a range needs different start and end times"
    assert found[("sessions", 0, "zones")] == "'all' already covers every zone: list it alone"
    assert found[("sessions", 0, "rrule")].startswith("BYHOUR is not allowed")
    assert found[("sessions", 0, "exdates")] == "2026-09-02 is listed more than once"
    assert ("sessions", 0, "colour") in found
    assert ("sessions", 0, "rundown", 1, "relay", "url") in found


@pytest.mark.parametrize(
    "url",
    [
        "https://str.vov.gov.vn/vovlive/vov1vov5Vietnamese.sdp_aac/playlist.m3u8",
        "http://localhost:8900/stream",
        "http://10.0.0.5:8000/vov1.mp3",
        "https://radio.example/live.aac?token=abc",
    ],
)
def test_stream_urls_that_may_be_streams(url: str) -> None:
    assert stream_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://radio.example/live", "starts with http:// or https://"),
        ("rtsp://radio.example/live", "starts with http:// or https://"),
        ("https:///live.mp3", "no host name"),
        ("http://radio.example/vov1.pls", "playlist (.pls)"),
        ("http://radio.example/VOV1.M3U", "playlist (.m3u)"),
        ("https://vov.vn/index.html", "looks like a .html file"),
        ("http://radio.example/live stream", "no spaces"),
        ("http://radio.example:99999/live", "not a valid URL"),
    ],
)
def test_stream_urls_that_are_not_streams(url: str, reason: str) -> None:
    problem = stream_url_problem(url)
    assert problem is not None and reason in problem


def test_session_fields_refused() -> None:
    base = doc()["sessions"][0]
    for field, value in [
        ("code", "Sáng"),
        ("name", "   "),
        ("name", "Buổi\nsáng"),
        ("rundown", []),
        ("max_minutes", 0),
        ("max_minutes", float("inf")),
    ]:
        with pytest.raises(ValidationError):
            SessionDef.model_validate({**base, field: value})


def test_code_patterns_are_published() -> None:
    schema = json_schema()
    assert schema["properties"]["ward"]["pattern"] == CODE_PATTERN
    session = schema["$defs"]["SessionDef"]["properties"]
    assert session["code"]["pattern"] == SLUG_PATTERN
    assert session["zones"]["items"]["pattern"] == CODE_PATTERN


def test_numeric_codes_are_read_as_text() -> None:
    data = doc()
    data["sessions"][0]["code"] = 1
    data["sessions"][0]["rundown"] = [{"kind": "bulletin", "bulletin_id": 2291}]
    programme = ProgrammeDoc.model_validate(data)
    assert programme.sessions[0].code == "1"
    assert isinstance(programme.sessions[0].rundown[0], FixedBulletinItem)
    assert programme.sessions[0].rundown[0].bulletin_id == "2291"


@pytest.mark.parametrize(
    ("kind", "minimum", "ok"),
    [
        ("days_per_week", 5, True),
        ("days_per_week", 8, False),
        ("sessions_per_day", 11, False),
        ("relay_daily", 30, True),
        ("relay_daily", 1441, False),
    ],
)
def test_targets_that_cannot_be_met_are_refused(kind: str, minimum: float, ok: bool) -> None:
    target = {"code": "t", "description": "Chỉ tiêu", "kind": kind, "minimum": minimum}
    if ok:
        assert ProgrammeDoc.model_validate(doc(targets=[target])).targets[0].minimum == minimum
    else:
        [(loc, message)] = errors(doc(targets=[target]))
        assert loc == ("targets", 0, "minimum") and message.startswith(f"{kind} can be at most")
