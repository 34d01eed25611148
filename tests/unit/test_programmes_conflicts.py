"""Saving a programme: every kind of conflict, with a message an officer can act on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.domain.programmes.conflict import Conflict
from controller.domain.programmes.conflicts import check
from controller.domain.programmes.content import ContentInfo, DictContent
from controller.domain.programmes.schema import ProgrammeDoc, SessionDef
from controller.domain.programmes.yaml_io import load_programme

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # Friday 07:00 in Hà Nội
EXAMPLES = Path(__file__).resolve().parents[2] / "schedules" / "examples"


def session(code: str, start: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": code,
        "name": f"Buổi {code}",
        "rrule": "FREQ=DAILY",
        "start": start,
        "rundown": [{"kind": "bulletins", "max_minutes": 10}],
    }
    data.update(fields)
    return data


def programme(*sessions: dict[str, Any], **fields: Any) -> ProgrammeDoc:
    data: dict[str, Any] = {"ward": "00037", "name": "Hàng Bạc", "sessions": list(sessions)}
    data.update(fields)
    return ProgrammeDoc.model_validate(data)


def codes(conflicts: list[Conflict]) -> list[str]:
    return [c.code for c in conflicts]


def run(doc: ProgrammeDoc, **kwargs: Any) -> list[Conflict]:
    kwargs.setdefault("zones", None)
    kwargs.setdefault("content", None)
    return check(doc, now=NOW, **kwargs)


def test_a_sound_programme_has_no_conflicts() -> None:
    doc = programme(session("sang", "05:30"), session("chieu", "17:00"))
    assert run(doc) == []


@pytest.mark.parametrize("name", ["phuong-hang-bac.yaml", "xa-hoa-tien.yaml"])
def test_the_examples_have_no_conflicts(name: str) -> None:
    doc = load_programme((EXAMPLES / name).read_text(encoding="utf-8"))
    assert run(doc) == []


def test_overlap_names_both_sessions_the_first_local_time_and_the_zone() -> None:
    doc = programme(
        session("sang", "05:30", rundown=[{"kind": "bulletins", "max_minutes": 15}]),
        session("chieu", "05:40", zones=["ven-song"]),
    )
    assert run(doc) == [
        Conflict(
            "overlap",
            "sessions 'sang' and 'chieu' overlap on 2026-11-21 05:40 (Asia/Ho_Chi_Minh) in "
            "zone 'ven-song': 'sang' runs 05:30–05:45 and 'chieu' starts at 05:40",
            "sessions[1].start",
        )
    ]


def test_back_to_back_sessions_do_not_overlap() -> None:
    doc = programme(session("sang", "05:30"), session("tiep", "05:40"))
    assert run(doc) == []


def test_sessions_on_different_days_do_not_overlap() -> None:
    doc = programme(
        session("thu-hai", "05:30", rrule="FREQ=WEEKLY;BYDAY=MO"),
        session("thu-ba", "05:30", rrule="FREQ=WEEKLY;BYDAY=TU"),
    )
    assert run(doc) == []


def test_overlap_is_only_where_zones_share_a_group() -> None:
    doc = programme(
        session("cho", "05:30", zones=["cho"]),
        session("song", "05:35", zones=["ven-song"]),
    )
    assert run(doc) == []  # no zone map: different codes are taken as different places
    apart = {"cho": {"tdp-3"}, "ven-song": {"tdp-1", "tdp-2"}}
    assert run(doc, zones=apart) == []
    sharing = {"cho": {"tdp-2", "tdp-3"}, "ven-song": {"tdp-1", "tdp-2"}}
    [clash] = run(doc, zones=sharing)
    assert clash.code == "overlap"
    assert "in group 'tdp-2' (zone 'cho' and zone 'ven-song')" in clash.message


def test_all_overlaps_every_zone() -> None:
    doc = programme(session("sang", "05:30"), session("cho", "05:35", zones=["cho"]))
    [clash] = run(doc, zones={"cho": {"tdp-3"}})
    assert clash.code == "overlap" and "in zone 'cho'" in clash.message


def test_an_open_queue_is_taken_to_fill_the_session_to_its_cap() -> None:
    doc = programme(
        session("sang", "05:30", rundown=[{"kind": "bulletins"}]),
        session("tiep", "06:00"),
        rules={"max_session_minutes": 45},
    )
    [clash] = run(doc)
    assert "'sang' runs 05:30–06:15" in clash.message


def test_overlap_on_a_dst_day_is_found_at_the_moved_time() -> None:
    doc = programme(
        session("dem", "02:30", rundown=[{"kind": "bulletins", "max_minutes": 20}]),
        session("sang", "03:40"),
        timezone="Europe/Berlin",
    )
    [clash] = check(doc, zones=None, content=None, now=datetime(2026, 3, 20, tzinfo=UTC))
    assert clash.message.startswith(
        "sessions 'dem' and 'sang' overlap on 2026-03-29 03:40 (Europe/Berlin)"
    )
    assert "'dem' runs 03:30–03:50" in clash.message


def test_too_long_for_the_ward_with_a_breakdown() -> None:
    rundown = [
        {"kind": "chime", "which": "opening"},
        {
            "kind": "relay",
            "station": "VOV1",
            "source_level": "central",
            "url": "http://localhost:8900/vov1",
            "minutes": 12,
        },
        {"kind": "bulletins", "max_minutes": 5},
        {"kind": "chime", "which": "closing"},
    ]
    doc = programme(session("sang", "06:30", rundown=rundown), rules={"max_session_minutes": 15})
    assert run(doc) == [
        Conflict(
            "too_long",
            "session 'sang' is planned to last 17 min 2 s, longer than the ward's maximum of "
            "15 minutes (chimes 2 s, relay VOV1 12 min, queued bulletins up to 5 min)",
            "sessions[0].rundown",
        )
    ]


def test_too_long_for_its_own_cap_and_a_cap_above_the_ward() -> None:
    own = programme(session("sang", "06:30", max_minutes=8))
    [conflict] = run(own)
    assert (
        conflict.code == "too_long" and "longer than its maximum of 8 minutes" in conflict.message
    )
    above = programme(session("sang", "06:30", max_minutes=20), rules={"max_session_minutes": 15})
    [conflict] = run(above)
    assert (conflict.code, conflict.path) == ("too_long", "sessions[0].max_minutes")
    assert "allows 20 minutes, more than the ward's maximum of 15 minutes" in conflict.message


def test_fixed_bulletins_count_with_their_real_length() -> None:
    rundown = [{"kind": "bulletin", "bulletin_id": "bul-long"}]
    doc = programme(session("sang", "06:30", rundown=rundown), rules={"max_session_minutes": 15})
    long = DictContent([ContentInfo("bul-long", "approved", None, None, 16 * 60.0)])
    assert codes(run(doc, content=long)) == ["too_long"]
    assert run(doc) == []  # without content, its length is unknown (0)


@pytest.mark.parametrize(
    ("start", "quiet", "clash"),
    [
        ("04:50", ("22:00", "05:00"), "runs 04:50–05:00"),  # ends as quiet hours end
        ("21:55", ("22:00", "05:00"), "runs 21:55–22:05"),  # runs into them
        ("23:55", ("00:00", "05:00"), "runs 23:55–00:05"),  # past midnight into them
        ("12:30", ("12:00", "13:00"), "runs 12:30–12:40"),  # a midday rest
    ],
)
def test_quiet_hours(start: str, quiet: tuple[str, str], clash: str) -> None:
    rules = {"quiet_hours": [{"start": quiet[0], "end": quiet[1]}]}
    [conflict] = run(programme(session("s", start), rules=rules))
    assert conflict.code == "quiet_hours"
    assert clash in conflict.message
    assert f"inside the quiet hours {quiet[0]}–{quiet[1]}" in conflict.message


@pytest.mark.parametrize("start", ["05:00", "11:50", "13:00", "21:50"])
def test_sessions_touching_quiet_hours_are_fine(start: str) -> None:
    quiet = [{"start": "22:00", "end": "05:00"}, {"start": "12:00", "end": "13:00"}]
    assert run(programme(session("s", start), rules={"quiet_hours": quiet})) == []


def test_a_day_the_ward_does_not_broadcast_on() -> None:
    doc = programme(
        session("sang", "05:30"), rules={"broadcast_days": ["MO", "TU", "WE", "TH", "FR"]}
    )
    assert run(doc) == [
        Conflict(
            "not_broadcast_day",
            "session 'sang' falls on Saturday 2026-11-21, which is not one of the ward's "
            "broadcast days (MO,TU,WE,TH,FR): limit its rrule to them (BYDAY=MO,TU,WE,TH,FR) "
            "or add the date to exdates",
            "sessions[0].rrule",
        )
    ]


def test_an_excluded_off_day_is_not_a_conflict() -> None:
    doc = programme(
        session(
            "thu-bay",
            "05:30",
            rrule="FREQ=DAILY;COUNT=1",
            starts_on=date(2026, 11, 21),
            exdates=[date(2026, 11, 21)],
        ),
        rules={"broadcast_days": ["MO"]},
    )
    assert codes(run(doc)) == ["rrule_never"]


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;UNTIL=20260101",
        "FREQ=YEARLY;INTERVAL=1000",
    ],
)
def test_rules_that_never_fire(rrule: str) -> None:
    [conflict] = run(programme(session("sang", "05:30", rrule=rrule)))
    assert conflict.code == "rrule_never"
    assert conflict.message == (
        f"session 'sang' never airs: its rule '{rrule}' gives no date from 2026-11-20 to 2027-11-21"
    )


def test_a_rule_whose_every_date_is_an_exception() -> None:
    doc = programme(
        session(
            "tet", "08:00", rrule="FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1", exdates=[date(2027, 1, 1)]
        )
    )
    [conflict] = run(doc)
    assert (conflict.code, conflict.path) == ("rrule_never", "sessions[0].exdates")


@pytest.mark.parametrize("freq", ["SECONDLY", "MINUTELY", "HOURLY"])
def test_rules_that_fire_too_often(freq: str) -> None:
    doc = programme(session("sang", "05:30"), session("on", "06:00", rrule=f"FREQ={freq}"))
    [conflict] = run(doc)
    assert (conflict.code, conflict.path) == ("rrule_too_often", "sessions[1].rrule")
    assert "at most once a day" in conflict.message


def test_unknown_zones_name_the_known_ones() -> None:
    doc = programme(session("sang", "05:30", zones=["cho", "ven-song"]))
    assert run(doc, zones={"cho": {"tdp-3"}, "dong": {"tdp-4"}}) == [
        Conflict(
            "unknown_zone",
            "session 'sang': zone 'ven-song' is not a zone of ward 00037 (its zones: cho, dong)",
            "sessions[0].zones[1]",
        )
    ]
    assert run(programme(session("sang", "05:30")), zones={}) == []  # 'all' always exists


def test_duplicate_codes() -> None:
    target = {
        "code": "hai-buoi",
        "description": "Hai buổi",
        "kind": "sessions_per_day",
        "minimum": 2,
    }
    doc = programme(
        session("sang", "05:30"),
        session("sang", "17:00"),
        targets=[target, target],
    )
    assert run(doc) == [
        Conflict(
            "duplicate_session",
            "session code 'sang' is used by sessions #1 and #2: codes must be unique",
            "sessions[1].code",
        ),
        Conflict(
            "duplicate_target",
            "target code 'hai-buoi' is used by targets #1 and #2: codes must be unique",
            "targets[1].code",
        ),
    ]


def _with_content() -> ProgrammeDoc:
    rundown = [
        {"kind": "chime", "which": "opening"},
        {
            "kind": "relay",
            "station": "VOV1",
            "source_level": "central",
            "url": "https://str.vov.gov.vn/live.m3u8",
            "minutes": 10,
            "fallback_bulletin": "bul-fallback",
        },
        {"kind": "bulletin", "bulletin_id": "bul-weekly"},
    ]
    return programme(session("sang", "05:30", rundown=rundown))


def test_content_that_does_not_exist_or_is_not_approved() -> None:
    content = DictContent([ContentInfo("bul-weekly", "submitted", None, None, 60.0)])
    assert run(_with_content(), content=content) == [
        Conflict(
            "content_unknown",
            "session 'sang': fallback bulletin 'bul-fallback' does not exist",
            "sessions[0].rundown[1].fallback_bulletin",
        ),
        Conflict(
            "content_not_approved",
            "session 'sang': bulletin 'bul-weekly' is submitted, not approved: "
            "only approved bulletins are aired",
            "sessions[0].rundown[2].bulletin_id",
        ),
    ]


def test_content_not_valid_at_the_next_air_time() -> None:
    next_air = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 2026-11-21 05:30 local
    content = DictContent(
        [
            ContentInfo("bul-fallback", "approved", None, next_air, 60.0),
            ContentInfo("bul-weekly", "approved", next_air + timedelta(days=1), None, 60.0),
        ]
    )
    assert codes(run(_with_content(), content=content)) == [
        "content_expired",
        "content_not_yet_valid",
    ]
    expired, later = run(_with_content(), content=content)
    assert expired.message == (
        "session 'sang': fallback bulletin 'bul-fallback' is valid until 2026-11-21 05:30, "
        "before the session next airs on 2026-11-21 05:30 (Asia/Ho_Chi_Minh)"
    )
    assert "is valid only from 2026-11-22 05:30, after the session next airs" in later.message


def test_approved_valid_content_passes_and_none_means_unchecked() -> None:
    content = DictContent(
        [
            ContentInfo("bul-fallback", "approved", None, None, 60.0),
            ContentInfo("bul-weekly", "approved", NOW, NOW + timedelta(days=30), 60.0),
        ]
    )
    assert run(_with_content(), content=content) == []
    assert run(_with_content(), content=None) == []


def test_unvalidated_documents_are_reported_not_raised() -> None:
    good = programme(session("sang", "05:30"))
    bad_zone = good.model_copy(update={"timezone": "Mars/Olympus"})
    assert codes(run(bad_zone)) == ["bad_timezone"]
    broken = SessionDef.model_construct(
        **{**dict(good.sessions[0]), "rrule": "FREQ=DAILY;BYHOUR=1"}
    )
    assert codes(run(good.model_copy(update={"sessions": [broken]}))) == ["rrule_invalid"]
    relay = {
        "kind": "relay",
        "station": "VOV1",
        "source_level": "central",
        "url": "https://a.example/live",
        "minutes": 5,
    }
    ok = programme(session("sang", "05:30", rundown=[relay]))
    item = ok.sessions[0].rundown[0].model_copy(update={"url": "ftp://a.example/list.pls"})
    streamless = ok.sessions[0].model_copy(update={"rundown": [item]})
    [conflict] = run(ok.model_copy(update={"sessions": [streamless]}))
    assert (conflict.code, conflict.path) == ("bad_stream_url", "sessions[0].rundown[0].url")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(programme(), zones=None, content=None, now=datetime(2026, 11, 20))
