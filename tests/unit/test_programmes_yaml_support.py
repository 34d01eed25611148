"""What the programme-file tests share (no tests here): a good file and programme strategies.

``GOOD`` is a small, valid programme file with the values YAML 1.1 would misread
(unquoted times, a ward code with a leading zero). ``programmes`` is the Hypothesis
strategy for whole programme documents (``sessions``, ``rundown_items`` and ``tunings``
build its parts), also used by ``test_programmes_diff.py``. Moved as is from
``test_programmes_yaml.py`` when its tests were split into reading and round trips.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from controller.domain.programmes.fields import CODE_PATTERN, SLUG_PATTERN
from controller.domain.programmes.relay_tuning import DEAD_AFTER_S, PREBUFFER_S, SILENCE_DB
from controller.domain.programmes.schema import ProgrammeDoc

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
