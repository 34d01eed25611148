"""Reports end to end on SQLite and PostgreSQL: the figures against answers known by hand.

The ward (``test_reports_support.py``): d1 plays everything on time, d2 misses the
19th and starts the relay 9 s late on the 20th. What the reports say of it per scope,
what late evidence and a cancelled emergency change, which days are judged, and the
backfill of the daily sums.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from controller.db.models import PlannedPlay
from tests.integration.test_reports_support import (
    NOW,
    PERIOD,
    Site,
    evidence,
    get,
    session_start,
    site,
)

pytestmark = pytest.mark.integration

__all__ = ["site"]  # the fixture, imported for pytest


def test_ward_report_has_the_known_answers(site: Site) -> None:
    report = get(site, ward="00037", period=PERIOD, lang="en").json()
    plays = report["plays"]
    assert {k: plays[k] for k in ("planned", "withdrawn", "confirmed", "played", "missed")} == {
        "planned": 20, "withdrawn": 1, "confirmed": 16, "played": 16, "missed": 4,
    }  # fmt: skip
    assert (plays["pending"], plays["on_time"], plays["timed"]) == (0, 15, 16)
    assert plays["on_time_rate"] == 0.9375
    assert report["sessions"] == {
        "planned": 3, "played": 3, "played_rate": 1.0,
        "device_sessions_planned": 6, "device_sessions_played": 5,
    }  # fmt: skip
    central = next(s for s in report["sources"] if s["source_level"] == "central")
    assert (central["planned_relay_h"], central["relayed_h"]) == (1.5, 1.25)
    categories = {c["category"]: c for c in report["categories"]}
    assert categories["Y tế"] == {
        "category": "Y tế", "bulletins": 1, "plays_planned": 6, "plays_played": 5,
        "plays_missed": 1,
    }  # fmt: skip
    assert categories["An ninh trật tự"]["plays_missed"] == 1
    coverage = {c["bulletin_id"]: c for c in report["coverage"]}
    assert (coverage["bul-1"]["targeted_groups"], coverage["bul-1"]["covered_groups"]) == (2, 2)
    assert coverage["bul-2"]["share"] == 0.5
    assert coverage["bul-2"]["uncovered"] == ["to-2"]
    assert report["coverage"][0]["bulletin_id"] == "bul-2"  # least covered first
    devices = {d["device_id"]: d for d in report["devices"]}
    assert devices["d1"]["availability"] == 1.0
    assert (devices["d2"]["availability"], devices["d2"]["missed"]) == (0.6, 4)
    assert (devices["d2"]["sessions_planned"], devices["d2"]["sessions_played"]) == (3, 2)
    day19 = next(d for d in report["days"] if d["date"] == "2026-11-19")
    assert (day19["plays_planned"], day19["plays_missed"], day19["relay_minutes"]) == (
        8, 4, {"central": 15.0},
    )  # fmt: skip
    verdicts = {t["code"]: t for t in report["compliance"]}
    assert {code: t["passed"] for code, t in verdicts.items()} == {
        "mot-buoi": True, "hai-buoi": False, "vov": True, "nam-ngay": True,
    }  # fmt: skip
    assert verdicts["hai-buoi"]["failing"] == [
        "2026-11-18: 1", "2026-11-19: 1", "2026-11-20: 1",
    ]  # fmt: skip
    assert (verdicts["nam-ngay"]["judged"], verdicts["nam-ngay"]["met"]) == (1, 1)
    # The programme was first planned on the 17th at 05:30: in force from the 18th.
    assert {t["in_force_from"] for t in report["compliance"]} == {"2026-11-18"}
    assert [t["status"] for t in report["compliance"]] == ["passed", "failed", "passed", "passed"]


def test_group_device_and_province_scopes(site: Site) -> None:
    group = get(site, ward="00037", group="to-2", period=PERIOD).json()
    assert (group["plays"]["planned"], group["plays"]["missed"]) == (10, 4)
    assert (group["sessions"]["planned"], group["sessions"]["played"]) == (3, 2)
    assert [d["device_id"] for d in group["devices"]] == ["d2"]
    device = get(site, device="d2", period=PERIOD).json()
    assert device["scope"]["kind"] == "device"
    assert device["plays"]["confirmed_rate"] == 0.6
    assert device["compliance"][0]["passed"] is False  # one day of three without a session
    province = get(site, province="01", period=PERIOD).json()
    assert province["plays"]["missed"] == 4
    assert province["coverage"] == []  # per ward instead
    [ward] = province["wards"]
    assert (ward["ward_code"], ward["devices"], ward["coverage_share"]) == ("00037", 2, 0.75)
    assert (ward["targets_passed"], ward["targets_failed"]) == (3, 1)


def test_missed_plays_are_listed_and_late_evidence_is_counted(site: Site) -> None:
    missed = get(site, "/api/v1/evidence/missed", ward="00037", period=PERIOD).json()
    assert missed["total"] == 4
    assert {(m["device_id"], m["item_id"]) for m in missed["items"]} == {
        ("d2", "19-chime"), ("d2", "19-vov"), ("d2", "19-y-te"), ("d2", "19-an-ninh"),
    }  # fmt: skip
    assert missed["items"][0]["planned_start"].startswith("2026-11-18T22:30")
    # d2 comes back and delivers the security bulletin it played offline.
    with site.runtime.db.session() as session:
        play = session.get(PlannedPlay, _planned_id(site, "d2", "19-an-ninh"))
        assert play is not None
        session.add(evidence(play, 99, received=NOW + timedelta(minutes=1)))
    asyncio.run(site.clock.advance(300))
    report = get(site, ward="00037", period=PERIOD).json()
    assert (report["plays"]["missed"], report["plays"]["confirmed"]) == (3, 17)
    coverage = {c["bulletin_id"]: c for c in report["coverage"]}
    assert coverage["bul-2"]["covered_groups"] == 2
    missed = get(site, "/api/v1/evidence/missed", ward="00037", period=PERIOD).json()
    assert missed["total"] == 3


def _planned_id(site: Site, device: str, item: str) -> int:
    from sqlalchemy import select

    with site.runtime.db.session() as session:
        found = session.scalar(
            select(PlannedPlay.id).where(
                PlannedPlay.device_id == device, PlannedPlay.item_id == item
            )
        )
        assert found is not None
        return found


def test_days_before_the_programme_applied_are_not_judged(site: Site) -> None:
    """Before the 18th the ward had no programme: no verdict, and no failure, for those days."""
    report = get(site, ward="00037", period="2026-11-10..2026-11-20", lang="en").json()
    verdicts = {t["code"]: t for t in report["compliance"]}
    assert (verdicts["mot-buoi"]["status"], verdicts["mot-buoi"]["judged"]) == ("passed", 3)
    assert verdicts["mot-buoi"]["not_applicable"] == 8
    assert verdicts["mot-buoi"]["figure"].endswith("; 8 days before 2026-11-18 not applicable")
    assert [d["in_force"] for d in report["days"]] == [False] * 8 + [True] * 3
    before = get(site, ward="00037", period="2026-11-01..2026-11-10").json()
    assert {t["status"] for t in before["compliance"]} == {"not_applicable"}
    assert before["sessions"]["planned"] == 0  # and the verdict does not say otherwise
    assert any("chưa áp dụng" in note for note in before["notes"])


def test_a_cancelled_emergency_that_sounded_covers_its_groups(site: Site) -> None:
    """Stopped by a Cancel after 20 s on air, the play is partial: it was heard."""
    with site.runtime.db.session() as session:
        for n, device in enumerate(("d1", "d2")):
            play = PlannedPlay(
                device_id=device, item_id="20-khan-cap", ward_code="00037",
                group_code=f"to-{n + 1}", broadcast_id="em-1", bulletin_id="bul-em",
                session_key=None, kind="media", category="emergency", source_level="commune",
                priority="emergency", trigger="emergency",
                planned_start=session_start(20) + timedelta(hours=4), planned_duration_s=90,
                first_planned_at=session_start(20) + timedelta(hours=4),
            )  # fmt: skip
            session.add(play)
            heard = evidence(play, 70 + n)
            heard.outcome, heard.played_duration_s = "partial", 20.0
            session.add(heard)
    report = get(site, ward="00037", period=PERIOD).json()
    coverage = {c["bulletin_id"]: c for c in report["coverage"]}
    assert (coverage["bul-em"]["covered_groups"], coverage["bul-em"]["targeted_groups"]) == (2, 2)
    assert coverage["bul-em"]["uncovered"] == []
    province = get(site, province="01", period=PERIOD).json()
    # bul-1: 6 of 6 group-days but the 19th on to-2; bul-2: 1 of 2; the emergency: 2 of 2.
    assert province["wards"][0]["coverage_share"] == 0.8


def test_a_period_not_over_is_pending_and_unjudged(site: Site) -> None:
    report = get(site, ward="00037", period="day:2026-11-22").json()
    assert report["plays"]["planned"] == 0
    assert {t["passed"] for t in report["compliance"]} == {None}


def test_backfill_sums_the_past_once(site: Site) -> None:
    from controller.domain.reports.rollups import RollupRules, backfill

    with site.runtime.db.session() as session:
        first = sum(backfill(session, NOW, RollupRules(), chunk_days=2))
    with site.runtime.db.session() as session:
        again = sum(backfill(session, NOW, RollupRules(), chunk_days=2))
    assert (first, again) == (3, 0)  # the 18th to the 20th, once
    report = get(site, ward="00037", period=PERIOD).json()
    assert report["plays"]["missed"] == 4
