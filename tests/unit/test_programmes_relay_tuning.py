"""Relay tuning in a programme: ward defaults, per-relay values, their bounds, conflicts, diffs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.domain.programmes.conflicts import check
from controller.domain.programmes.diff import diff
from controller.domain.programmes.problems import ProgrammeInvalid
from controller.domain.programmes.schema import ProgrammeDoc, RelayItem
from controller.domain.programmes.yaml_io import load_programme

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)

TEXT = """\
ward: "20326"
name: Hòa Tiến
rules:
  max_session_minutes: 45
  relay_defaults: {prebuffer_s: 8, dead_after_s: 15}
sessions:
  - code: sang
    name: Buổi sáng
    rrule: FREQ=DAILY
    start: "05:30"
    rundown:
      - kind: relay
        station: VOV1
        source_level: central
        url: https://stream.example.vn/vov1.mp3
        minutes: 30
        silence_db: -45
      - kind: relay
        station: VOV2
        source_level: central
        url: https://stream.example.vn/vov2.mp3
        minutes: 10
        dead_after_s: 5
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProgrammeInvalid) as caught:
        load_programme(text, source="p.yaml")
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def relays(doc: ProgrammeDoc) -> list[RelayItem]:
    return [item for item in doc.sessions[0].rundown if isinstance(item, RelayItem)]


def test_a_relay_takes_its_own_values_and_the_wards_for_the_rest() -> None:
    doc = load_programme(TEXT)
    vov1, vov2 = relays(doc)
    assert vov1.tuning(doc.rules).model_dump() == {
        "prebuffer_s": 8,
        "dead_after_s": 15,
        "silence_db": -45,
    }
    assert vov2.tuning(doc.rules).model_dump() == {
        "prebuffer_s": 8,
        "dead_after_s": 5,
        "silence_db": None,  # neither says: the device's default
    }


def test_out_of_range_tuning_is_reported_at_its_line_with_why() -> None:
    text = (
        TEXT.replace("{prebuffer_s: 8, dead_after_s: 15}", "{prebuffer_s: 90, dead_after_s: 1}")
        .replace("silence_db: -45", "silence_db: -5")
        .replace("dead_after_s: 5\n", "dead_after_s: five\n")
    )
    assert problems(text) == [
        (
            5,
            "rules.relay_defaults.dead_after_s",
            "dead_after_s is 2 to 120 s: under 2 s a network hiccup would count as a dead "
            "stream, over 2 minutes the loudspeakers would stay quiet too long (got 1)",
        ),
        (
            5,
            "rules.relay_defaults.prebuffer_s",
            "prebuffer_s is 0 to 60 s: how long before the relay the device connects (got 90)",
        ),
        (
            17,
            "sessions[0].rundown[0].silence_db",
            "silence_db is -90 to -20 dBFS: programme sits around -20 dBFS, so a higher "
            "threshold would take it for silence (got -5)",
        ),
        (
            23,
            "sessions[0].rundown[1].dead_after_s",
            "Input should be a valid number, unable to parse string as a number (got 'five')",
        ),
    ]


def test_a_misspelt_tuning_field_gets_a_suggestion() -> None:
    found = problems(TEXT.replace("        silence_db: -45", "        silence_dB: -45"))
    assert found == [
        (17, "sessions[0].rundown[0].silence_dB", "unknown field 'silence_dB'; did you mean "
         "'silence_db'?"),
    ]  # fmt: skip


def test_dead_air_as_long_as_the_relay_is_a_conflict_where_it_was_set() -> None:
    doc = load_programme(TEXT.replace("dead_after_s: 15}", "dead_after_s: 120}"))
    assert check(doc, zones=None, content=None, now=NOW) == []  # 120 s < 10 min
    one_minute = load_programme(
        TEXT.replace("minutes: 10\n        dead_after_s: 5", "minutes: 1\n        dead_after_s: 90")
    )
    [conflict] = check(one_minute, zones=None, content=None, now=NOW)
    assert conflict.code == "relay_tuning"
    assert conflict.path == "sessions[0].rundown[1].dead_after_s"
    assert "dead air is allowed for 90 s but the relay lasts 1 min" in conflict.message
    from_ward = load_programme(
        TEXT.replace("dead_after_s: 15}", "dead_after_s: 90}").replace("minutes: 30", "minutes: 1")
    )
    [conflict] = check(from_ward, zones=None, content=None, now=NOW)
    assert conflict.path == "rules.relay_defaults.dead_after_s"


def test_tuning_changes_read_in_the_diff() -> None:
    doc = load_programme(TEXT)
    retuned = load_programme(
        TEXT.replace("{prebuffer_s: 8, dead_after_s: 15}", "{dead_after_s: 12}").replace(
            "silence_db: -45", "silence_db: -40"
        )
    )
    assert diff(doc, retuned) == [
        "~ rules.relay_defaults: prebuffer 8 s, dead air 15 s -> dead air 12 s",
        "~ session 'sang': rundown[0] relay VOV1 (central) 30 min from "
        "https://stream.example.vn/vov1.mp3, silence below -45 dBFS -> relay VOV1 (central) "
        "30 min from https://stream.example.vn/vov1.mp3, silence below -40 dBFS",
    ]
    [_, rules, *_] = diff(None, doc)
    assert rules.endswith("; relays: prebuffer 8 s, dead air 15 s")
