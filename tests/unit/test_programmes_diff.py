"""What applying a programme changes, line by line; nothing when nothing changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings

from controller.domain.programmes.diff import diff
from controller.domain.programmes.schema import ProgrammeDoc
from tests.unit.test_programmes_yaml_support import programmes


def session(code: str, start: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": code,
        "name": f"Buổi {code}",
        "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "start": start,
        "rundown": [{"kind": "chime", "which": "opening"}, {"kind": "bulletins"}],
    }
    data.update(fields)
    return data


def programme(*sessions: dict[str, Any], **fields: Any) -> ProgrammeDoc:
    data: dict[str, Any] = {"ward": "00037", "name": "Hàng Bạc", "sessions": list(sessions)}
    data.update(fields)
    return ProgrammeDoc.model_validate(data)


BASE = programme(session("sang", "05:30"), session("chieu", "17:00"))


def test_nothing_changed() -> None:
    assert diff(BASE, BASE.model_copy(deep=True)) == []


def test_a_new_programme_lists_everything() -> None:
    target = {
        "code": "hai-buoi",
        "description": "Hai buổi",
        "kind": "sessions_per_day",
        "minimum": 2,
    }
    new = programme(session("sang", "05:30"), rules={"max_session_minutes": 15}, targets=[target])
    assert diff(None, new) == [
        "+ programme 'Hàng Bạc' for ward 00037 (Asia/Ho_Chi_Minh)",
        "+ rules: broadcast days MO, TU, WE, TH, FR, SA, SU; quiet hours (none); "
        "sessions at most 15 min",
        "+ session 'sang' (Buổi sang) at 05:30, FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR, zones all: "
        "opening chime; queued bulletins",
        "+ target 'hai-buoi': sessions_per_day at least 2 — Hai buổi",
    ]


def test_a_changed_start_time() -> None:
    moved = programme(session("sang", "06:00"), session("chieu", "17:00"))
    assert diff(BASE, moved) == ["~ session 'sang': start 05:30 -> 06:00"]


def test_added_and_removed_sessions() -> None:
    new = programme(session("sang", "05:30"), session("toi", "19:00", zones=["cho"]))
    assert diff(BASE, new) == [
        "- session 'chieu' (Buổi chieu)",
        "+ session 'toi' (Buổi toi) at 19:00, FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR, zones cho: "
        "opening chime; queued bulletins",
    ]


def test_field_changes_read_plainly() -> None:
    relay = {
        "kind": "relay",
        "station": "VOV1",
        "source_level": "central",
        "url": "https://a.example/live",
        "minutes": 30,
    }
    old = programme(session("sang", "05:30", exdates=["2026-09-02", "2027-01-01"]))
    new = programme(
        session(
            "sang",
            "05:30",
            name="Sáng sớm",
            exdates=["2027-01-01", "2027-02-05"],
            zones=["cho", "ven-song"],
            rundown=[{"kind": "chime", "which": "opening"}, relay],
            max_minutes=45,
        ),
        name="Hàng Bạc 2027",
        timezone="Asia/Bangkok",
        rules={"quiet_hours": [{"start": "22:00", "end": "05:00"}], "max_session_minutes": 45},
    )
    assert diff(old, new) == [
        "~ name: 'Hàng Bạc' -> 'Hàng Bạc 2027'",
        "~ timezone: Asia/Ho_Chi_Minh -> Asia/Bangkok",
        "~ rules.quiet_hours: (none) -> 22:00–05:00",
        "~ rules.max_session_minutes: 60 -> 45",
        "~ session 'sang': name 'Buổi sang' -> 'Sáng sớm'",
        "~ session 'sang': zones all -> cho, ven-song",
        "~ session 'sang': exdates +2027-02-05 -2026-09-02",
        "~ session 'sang': rundown[1] queued bulletins -> relay VOV1 (central) 30 min from "
        "https://a.example/live",
        "~ session 'sang': max_minutes (none) -> 45",
    ]


def test_rundown_of_another_length_and_order_of_sessions() -> None:
    shorter = programme(
        session("chieu", "17:00"), session("sang", "05:30", rundown=[{"kind": "bulletins"}])
    )
    assert diff(BASE, shorter) == [
        "~ session 'sang': rundown opening chime; queued bulletins -> queued bulletins",
        "~ session order: sang, chieu -> chieu, sang",
    ]


def test_targets_change_by_code() -> None:
    target = {"code": "t", "description": "Hai buổi", "kind": "sessions_per_day", "minimum": 2}
    old = programme(session("sang", "05:30"), targets=[target])
    new = programme(session("sang", "05:30"), targets=[{**target, "minimum": 1}])
    assert diff(old, new) == ["~ target 't': minimum 2 -> 1"]


def _mutations(doc: ProgrammeDoc) -> list[ProgrammeDoc]:
    """Small edits an officer might make, each to one field."""
    edits: list[dict[str, object]] = [
        {"name": doc.name + " (sửa)"},
        {"timezone": "Asia/Bangkok" if doc.timezone != "Asia/Bangkok" else "UTC"},
        {
            "rules": doc.rules.model_copy(
                update={"max_session_minutes": doc.rules.max_session_minutes % 240 + 1}
            )
        },
        {"sessions": list(reversed(doc.sessions))},
        {"targets": doc.targets[1:]},
    ]
    if doc.sessions:
        first = doc.sessions[0]
        later = (datetime.combine(date(2026, 1, 1), first.start) + timedelta(minutes=1)).time()
        changes: list[dict[str, object]] = [
            {"start": later},
            {"exdates": [*first.exdates, date(2099, 12, 31)]},
            {"rundown": [*first.rundown, first.rundown[0]]},
            {"zones": ["cho"] if first.zones != ["cho"] else ["all"]},
        ]
        for change in changes:
            edited = first.model_copy(update=change)
            edits.append({"sessions": [edited, *doc.sessions[1:]]})
    return [doc.model_copy(update=edit) for edit in edits]


@settings(max_examples=40, deadline=None)
@given(programmes())
def test_empty_exactly_when_equal(doc: ProgrammeDoc) -> None:
    assert diff(doc, doc.model_copy(deep=True)) == []
    assert diff(None, doc)[0].startswith("+ programme")
    for edited in _mutations(doc):
        assert (diff(doc, edited) == []) == (doc == edited), edited
