"""Reading programme files: every problem at its line, no YAML surprises."""

from __future__ import annotations

from datetime import date, time

import pytest

from controller.domain.programmes.problems import (
    Problem,
    ProgrammeInvalid,
    format_path,
    parse_path,
)
from controller.domain.programmes.yaml_io import load_programme, source_map
from tests.unit.test_programmes_yaml_support import GOOD


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProgrammeInvalid) as caught:
        load_programme(text, source="p.yaml")
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_unquoted_times_and_leading_zero_codes_keep_their_text() -> None:
    # YAML 1.1 would read 17:30 as 1050 (base 60), 22:00 as 1320 and 00037 as 31 (octal).
    doc = load_programme(GOOD)
    assert doc.ward == "00037"
    assert [s.start for s in doc.sessions] == [time(6, 30), time(17, 30)]
    assert (doc.rules.quiet_hours[0].start, doc.rules.quiet_hours[0].end) == (
        time(22, 0),
        time(5, 0),
    )
    assert doc.sessions[1].exdates == [date(2026, 9, 2)]
    quoted = GOOD.replace("06:30", '"06:30"').replace("17:30", "'17:30'")
    assert load_programme(quoted) == doc


def test_every_wrong_type_is_reported_at_its_line() -> None:
    text = """\
ward: 00037
name: Hàng Bạc
timezone: Asia/Hanoi
rules:
  broadcast_days: [MO, TU, Fr]
  max_session_minutes: fifteen
sessions:
  - code: sang
    name: Buổi sáng
    rrule: FREQ=DAILY;INTERVAL=0
    start: 25:00
    exdates: [2026-02-30, yesterday]
    rundown:
      - {kind: chime, which: first}
      - kind: relay
        station: VOV1
        source_level: national
        url: http://radio.example/vov1.pls
        minutes: -5
      - {kind: bulletin}
      - {kind: news}
    colour: red
  - code: chieu
    rundown: []
"""
    assert problems(text) == [
        (
            3,
            "timezone",
            "unknown time zone 'Asia/Hanoi': use an IANA zone name such as 'Asia/Ho_Chi_Minh'",
        ),
        (
            5,
            "rules.broadcast_days[2]",
            "Input should be 'MO', 'TU', 'WE', 'TH', 'FR', 'SA' or 'SU' (got 'Fr')",
        ),
        (
            6,
            "rules.max_session_minutes",
            "Input should be a valid integer, unable to parse string as an integer (got 'fifteen')",
        ),
        (10, "sessions[0].rrule", "INTERVAL: 0 is out of range (1..1000)"),
        (11, "sessions[0].start", "'25:00' is not a time of day; write it as \"05:30\""),
        (12, "sessions[0].exdates[0]", "cannot read '2026-02-30': day is out of range for month"),
        (
            12,
            "sessions[0].exdates[1]",
            "Input should be a valid date or datetime, input is too short (got 'yesterday')",
        ),
        (
            14,
            "sessions[0].rundown[0].which",
            "Input should be 'opening' or 'closing' (got 'first')",
        ),
        (
            17,
            "sessions[0].rundown[1].source_level",
            "Input should be 'central', 'provincial', 'district' or 'commune' (got 'national')",
        ),
        (
            18,
            "sessions[0].rundown[1].url",
            "this is a playlist (.pls), not a stream: open it and use the stream URL it lists",
        ),
        (19, "sessions[0].rundown[1].minutes", "Input should be greater than 0 (got -5)"),
        (20, "sessions[0].rundown[2].bulletin_id", "'bulletin_id' is required"),
        (
            21,
            "sessions[0].rundown[3]",
            "unknown kind 'news': use one of 'chime', 'relay', 'bulletins', 'bulletin'",
        ),
        (22, "sessions[0].colour", "unknown field 'colour'"),
        (23, "sessions[1].name", "'name' is required"),
        (23, "sessions[1].rrule", "'rrule' is required"),
        (23, "sessions[1].start", "'start' is required"),
        (24, "sessions[1].rundown", "needs at least 1 item"),
    ]


def test_misspelt_fields_get_a_suggestion() -> None:
    found = problems(GOOD.replace("    rrule: FREQ=WEEKLY", "    rrul: FREQ=WEEKLY", 1))
    assert found == [
        (9, "sessions[0].rrule", "'rrule' is required"),
        (11, "sessions[0].rrul", "unknown field 'rrul'; did you mean 'rrule'?"),
    ]


def test_duplicate_keys_are_errors() -> None:
    text = GOOD.replace("    start: 06:30\n", "    start: 06:30\n    start: 07:00\n")
    assert problems(text) == [
        (13, "sessions[0].start", "'start' is given twice (first on line 12)")
    ]
    top = GOOD + "name: Again\n"
    assert problems(top)[0][0] == 23


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("- a\n- b\n", 1, "a programme is a mapping"),
        ("ward: [1, 2\nname: x\n", 2, "not valid YAML"),
        ("ward: 1\n\tname: x\n", 2, "not valid YAML"),
        ("ward: 1\n---\nward: 2\n", 2, "not valid YAML: expected a single document"),
        ("ward: &a [*a]\n", 1, "refers to itself"),
        ("base: &b {x: 1}\nward:\n  <<: *b\n", 3, "merge keys"),
        ("ward: !!python/object:os.system 1\n", 1, "cannot read"),
        ("? [a, b]\n: 1\n", 1, "a key must be a plain name"),
    ],
)
def test_broken_files(text: str, line: int, message: str) -> None:
    found = problems(text)
    assert any(at == line and message in said for at, _, said in found), found


def test_aliases_share_values() -> None:
    text = GOOD.replace("    exdates: [2026-09-02]", "    exdates: *holidays")
    text = text.replace(
        "    start: 06:30\n", "    start: 06:30\n    exdates: &holidays [2026-09-02]\n"
    )
    doc = load_programme(text)
    assert doc.sessions[0].exdates == doc.sessions[1].exdates == [date(2026, 9, 2)]


def test_billion_laughs_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 8)]
    found = problems("\n".join(lines) + "\n")
    assert "too large" in found[0][2]


def test_source_map_finds_lines_for_conflict_paths() -> None:
    lines = source_map(GOOD)
    assert lines.line_of("sessions[1].start") == 19
    assert lines.line_of("sessions[1].rundown[0].max_minutes") == 22
    assert lines.line_of("sessions[1].max_minutes") == 16  # absent: the session's line
    assert lines.line_of("rules.quiet_hours[0]") == 6
    assert lines.line_of("ward") == 1
    assert source_map("ward: [").line_of("ward") is None


def test_paths_round_trip() -> None:
    loc = ("sessions", 1, "rundown", 0, "url")
    assert format_path(loc) == "sessions[1].rundown[0].url"
    assert parse_path("sessions[1].rundown[0].url") == loc
    assert parse_path("") == ()


def test_problem_rendering() -> None:
    assert (
        Problem("sessions[0].start", 12, "bad").render("f.yaml")
        == "f.yaml:12: sessions[0].start: bad"
    )
    assert Problem("", None, "empty").render("f.yaml") == "f.yaml: empty"
