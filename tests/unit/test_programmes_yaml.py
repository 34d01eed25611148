"""Programme files: every problem at its line, no YAML surprises, stable round trips."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.domain.programmes.fields import CODE_PATTERN, SLUG_PATTERN
from controller.domain.programmes.problems import (
    Problem,
    ProgrammeInvalid,
    format_path,
    parse_path,
)
from controller.domain.programmes.relay_tuning import DEAD_AFTER_S, PREBUFFER_S, SILENCE_DB
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.programmes.yaml_io import (
    dump_programme,
    load_programme,
    load_with_lines,
    source_map,
)

GOOD = """\
ward: 00037
name: Chương trình phát thanh Phường Hàng Bạc
rules:
  broadcast_days: [MO, TU, WE, TH, FR]
  quiet_hours:
    - {start: 22:00, end: 05:00}
  max_session_minutes: 15
sessions:
  - code: sang
    name: Buổi sáng
    rrule: FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
    start: 06:30
    rundown:
      - {kind: chime, which: opening}
      - {kind: bulletins, max_minutes: 14}
  - code: chieu
    name: Buổi chiều
    rrule: FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
    start: 17:30
    exdates: [2026-09-02]
    rundown:
      - {kind: bulletins, max_minutes: 14}
"""


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


def test_dump_is_readable() -> None:
    doc, _ = load_with_lines(GOOD)
    text = dump_programme(doc)
    assert "ward: '00037'" in text
    assert 'start: "06:30"' in text
    assert '- {start: "22:00", end: "05:00"}' in text
    assert "name: Buổi sáng" in text  # Vietnamese as is, not \u escapes
    assert "broadcast_days: [MO, TU, WE, TH, FR]" in text
    assert "max_minutes: 14\n" in text or "max_minutes: 14}" in text
    assert "exdates:\n      - 2026-09-02" in text
    assert "null" not in text
    assert load_programme(text) == doc


# Text a careless dumper would break: YAML indicators, things YAML 1.1 reads as other
# types, Vietnamese, and spaces at the edges.
_TRICKY = st.sampled_from(
    [
        "17:00",
        "05:30",
        "yes",
        "No",
        "~",
        "null",
        "- x",
        "a: b",
        "# x",
        "'q'",
        '"d"',
        "Buổi sáng",
        " lead",
        "trail ",
        "00037",
        "1e3",
        "@x",
        "`x",
        "*x",
        "&x",
        "!x",
        "%x",
        "|",
        ">",
        "[x]",
        "{x}",
        "?",
        "2026-09-02",
        "0x1F",
        "1_000",
        ".inf",
        "Đài  Tiếng nói",
    ]
)
_TEXT = _TRICKY | st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(str.strip)
_TIMES = st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
_MINUTES = st.floats(min_value=0.01, max_value=240, allow_nan=False, allow_infinity=False)
_RULES = st.sampled_from(
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=MONTHLY;BYDAY=1MO",
        "RRULE:FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=2",
        "FREQ=DAILY;UNTIL=20271231",
    ]
)


@st.composite
def rundown_items(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["chime", "relay", "bulletins", "bulletin"]))
    if kind == "chime":
        return {"kind": kind, "which": draw(st.sampled_from(["opening", "closing"]))}
    if kind == "relay":
        item: dict[str, Any] = {
            "kind": kind,
            "station": draw(_TEXT),
            "source_level": draw(st.sampled_from(["central", "provincial", "district", "commune"])),
            "url": draw(
                st.sampled_from(["https://a.example/live.m3u8", "http://localhost:9/s?x=1#y"])
            ),
            "minutes": draw(_MINUTES),
        }
        if draw(st.booleans()):
            item["fallback_bulletin"] = draw(st.from_regex(r"bul-[0-9a-f]{1,16}", fullmatch=True))
        item.update(draw(tunings()))
        return item
    if kind == "bulletins":
        return {"kind": kind, "max_minutes": draw(st.none() | _MINUTES)}
    return {
        "kind": kind,
        "bulletin_id": draw(st.from_regex(r"[A-Za-z0-9_.:-]{1,20}", fullmatch=True)),
    }


@st.composite
def tunings(draw: st.DrawFn) -> dict[str, float]:
    """Some of a relay's tuning values, within their bounds."""
    bounds = {"prebuffer_s": PREBUFFER_S, "dead_after_s": DEAD_AFTER_S, "silence_db": SILENCE_DB}
    chosen = draw(st.lists(st.sampled_from(sorted(bounds)), unique=True))
    return {name: draw(st.floats(*bounds[name], allow_nan=False)) for name in chosen}


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    zones = draw(
        st.just(["all"])
        | st.lists(
            st.from_regex(CODE_PATTERN, fullmatch=True).filter(lambda z: z != "all"),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    return {
        "code": draw(st.from_regex(SLUG_PATTERN, fullmatch=True)),
        "name": draw(_TEXT),
        "zones": zones,
        "rrule": draw(_RULES),
        "start": draw(_TIMES),
        "starts_on": draw(st.none() | st.dates(date(2000, 1, 1), date(2099, 12, 31))),
        "exdates": draw(
            st.lists(st.dates(date(2000, 1, 1), date(2099, 12, 31)), max_size=4, unique=True)
        ),
        "rundown": draw(st.lists(rundown_items(), min_size=1, max_size=4)),
        "max_minutes": draw(st.none() | _MINUTES),
    }


@st.composite
def programmes(draw: st.DrawFn) -> ProgrammeDoc:
    quiet = st.tuples(_TIMES, _TIMES).filter(lambda r: r[0] != r[1])
    data = {
        "ward": draw(st.from_regex(CODE_PATTERN, fullmatch=True)),
        "name": draw(_TEXT),
        "timezone": draw(st.sampled_from(["Asia/Ho_Chi_Minh", "Europe/Berlin", "UTC"])),
        "rules": {
            "broadcast_days": draw(
                st.lists(
                    st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]),
                    min_size=1,
                    max_size=7,
                    unique=True,
                )
            ),
            "quiet_hours": [{"start": a, "end": b} for a, b in draw(st.lists(quiet, max_size=2))],
            "max_session_minutes": draw(st.integers(1, 240)),
            "relay_defaults": draw(st.none() | tunings()),
        },
        "sessions": draw(st.lists(sessions(), max_size=3)),
        "targets": [
            {
                "code": draw(st.from_regex(SLUG_PATTERN, fullmatch=True)),
                "description": draw(_TEXT),
                "kind": draw(st.sampled_from(["sessions_per_day", "days_per_week", "relay_daily"])),
                "minimum": draw(st.floats(0, 7, allow_nan=False)),
                "source_level": draw(st.none() | st.just("central")),
            }
            for _ in range(draw(st.integers(0, 2)))
        ],
    }
    return ProgrammeDoc.model_validate(data)


@settings(max_examples=80, deadline=None)
@given(programmes())
def test_dump_then_load_gives_the_same_programme(doc: ProgrammeDoc) -> None:
    text = dump_programme(doc)
    again = load_programme(text)
    assert again == doc
    assert dump_programme(again) == text
