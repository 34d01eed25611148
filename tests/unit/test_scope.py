"""Scope lives in the domain: an actor of ward B cannot read or change ward A's things.

These call the domain services directly, with no HTTP in between, so a check that only a
route made would not pass here (the role matrix covers the routes themselves).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.db.models import PlaybackEvidence
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.broadcasts import access as broadcasts
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.content import access as content
from controller.domain.content import workflow
from controller.domain.content.bulletins import get_bulletin
from controller.domain.emergencies.service import EmergencyMessage
from controller.domain.errors import InvalidInput
from controller.domain.evidence import access as evidence
from controller.domain.programmes import access as programmes
from controller.domain.reports.access import report_for
from controller.domain.reports.rollups import RollupRules
from controller.domain.reports.scope import ReportRequest
from tests.support.two_wards import WARD_A, WARD_B, TwoWards, build

OFFICER_A = Actor("officer-a", frozenset({Role.OFFICER}), frozenset({WARD_A}))
EVERY_ROLE_B = Actor(
    "other-b", frozenset({Role.OFFICER, Role.APPROVER, Role.EVALUATOR}), frozenset({WARD_B})
)
APPROVER_A = Actor("approver-a", frozenset({Role.APPROVER}), frozenset({WARD_A}))


@pytest.fixture
def w(tmp_path: Path) -> Iterator[TwoWards]:
    world = build(tmp_path)
    yield world
    world.runtime.stop()


def _evidence(device_id: str, ward: str, seq: int) -> PlaybackEvidence:
    at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    return PlaybackEvidence(
        device_id=device_id, ward_code=ward, group_code="tdp-1", event_id=f"ev-{seq}", seq=seq,
        prev_hash="", digest=f"{seq:064x}", item_id=f"i-{seq}", broadcast_id=f"bc-{seq}",
        trigger="manual", priority="normal", source_level="commune", planned_start=at,
        planned_duration_s=10.0, actual_start=at, played_duration_s=10.0, outcome="completed",
        recorded_at=at, received_at=at, signed="{}", sig="",
    )  # fmt: skip


def test_a_broadcast_reaches_only_the_officers_own_devices_and_bulletins(w: TwoWards) -> None:
    later = w.runtime.clock.now() + timedelta(hours=1)
    service = w.runtime.broadcasts
    with pytest.raises(Forbidden, match=f"{w.approved_id} .* outside other-b's wards"):
        service.schedule(BroadcastRequest(w.approved_id, [w.device_a], later), EVERY_ROLE_B)
    with pytest.raises(Forbidden, match=f"device {w.device_a}"):
        service.schedule(BroadcastRequest("bul-b-approved", [w.device_a], later), EVERY_ROLE_B)
    with pytest.raises(Forbidden, match="bul-b-approved"):
        service.schedule(BroadcastRequest("bul-b-approved", [w.device_a], later), OFFICER_A)
    with pytest.raises(Forbidden, match=f"device {w.device_b}"):
        service.schedule(BroadcastRequest(w.approved_id, [w.device_b], later), OFFICER_A)
    made = service.schedule(BroadcastRequest(w.approved_id, [w.device_a], later), OFFICER_A)
    with w.runtime.db.session() as session:
        assert made.id in {b.id for b in broadcasts.visible_broadcasts(session, OFFICER_A)}
        assert made.id not in {b.id for b in broadcasts.visible_broadcasts(session, EVERY_ROLE_B)}


def test_another_ward_learns_nothing_of_a_bulletin_not_even_its_state(w: TwoWards) -> None:
    with w.runtime.db.session() as session:
        draft = get_bulletin(session, w.draft_id)
        now = w.runtime.clock.now()
        # Approving a draft is not a step at all; ward B still hears only "not yours".
        with pytest.raises(Forbidden, match="outside the wards"):
            workflow.transition(session, draft, workflow.Status.APPROVED, EVERY_ROLE_B, now)
        with pytest.raises(Forbidden):
            content.visible_bulletin(session, w.draft_id, EVERY_ROLE_B)
        seen = {b.id for b in content.visible_bulletins(session, EVERY_ROLE_B)}
        assert seen == {"bul-b-approved"}


def test_a_new_bulletin_belongs_to_a_ward_of_its_author() -> None:
    assert content.draft_ward(OFFICER_A, None) == WARD_A
    with pytest.raises(Forbidden):
        content.draft_ward(OFFICER_A, WARD_B)
    two = Actor("two", frozenset({Role.OFFICER}), frozenset({WARD_A, WARD_B}))
    with pytest.raises(InvalidInput, match="which ward"):
        content.draft_ward(two, None)
    with pytest.raises(Forbidden, match="officer"):
        content.draft_ward(APPROVER_A, WARD_A)


def test_evidence_is_read_by_the_ward_it_was_played_in(w: TwoWards) -> None:
    with w.runtime.db.session() as session:
        session.add_all([_evidence(w.device_a, WARD_A, 1), _evidence(w.device_b, WARD_B, 2)])
    with w.runtime.db.session() as session:
        mine = evidence.visible_evidence(session, EVERY_ROLE_B, None, None, None)
        assert [r.device_id for r in mine] == [w.device_b]
        asked = evidence.visible_evidence(session, EVERY_ROLE_B, w.device_a, None, None)
        assert asked == []
        now = w.runtime.clock.now()
        with pytest.raises(Forbidden):
            evidence.bundle_for(session, EVERY_ROLE_B, WARD_A, now, now, w.runtime.key, now)
        with pytest.raises(Forbidden, match="refused messages"):
            evidence.rejections_for(session, EVERY_ROLE_B, 10)


def test_a_report_covers_only_wards_in_scope(w: TwoWards) -> None:
    period = f"day:{w.today.isoformat()}"
    now, rules = w.runtime.clock.now(), RollupRules()
    district = ReportRequest(period, district="002")
    with w.runtime.db.session() as session:
        with pytest.raises(Forbidden, match="district 002"):
            report_for(session, OFFICER_A, district, now, rules)
        with pytest.raises(Forbidden):
            report_for(session, EVERY_ROLE_B, ReportRequest(period, ward=WARD_A), now, rules)
        inspector = Actor("quan", frozenset({Role.EVALUATOR}), frozenset({WARD_A, WARD_B}))
        assert report_for(session, inspector, district, now, rules).scope.code == "002"


def test_programmes_and_queues_stay_in_their_ward(w: TwoWards) -> None:
    with w.runtime.db.session() as session:
        with pytest.raises(Forbidden):
            programmes.programme_of(session, WARD_A, EVERY_ROLE_B)
        assert programmes.programme_of(session, WARD_A, OFFICER_A)[0] == 1
    first, last = w.today, w.today + timedelta(days=1)
    with pytest.raises(Forbidden):
        w.runtime.programmes.queue(WARD_A, "sang", w.approved_id, first, last, EVERY_ROLE_B)
    with pytest.raises(Forbidden, match="bul-b-approved"):
        w.runtime.programmes.queue(WARD_A, "sang", "bul-b-approved", first, last, OFFICER_A)
    with pytest.raises(Forbidden):
        w.runtime.programmes.unqueue(WARD_A, w.queue_entry_id, EVERY_ROLE_B)


def test_an_emergency_sounds_only_where_its_sender_answers_for(w: TwoWards) -> None:
    sent = datetime.now(UTC)
    message = EmergencyMessage("e-1", "ubnd", sent, status="Test", description="Diễn tập.")
    record, _ = w.runtime.emergencies.receive(message, APPROVER_A)  # names nowhere: ward A
    assert sorted(record.device_ids) == sorted([w.device_a, w.spare_device])
    elsewhere = EmergencyMessage(
        "e-2", "ubnd", sent, status="Test", description="x", ward_code=WARD_B
    )
    with pytest.raises(Forbidden):
        w.runtime.emergencies.receive(elsewhere, APPROVER_A)
    cancel = EmergencyMessage("e-3", "ubnd", sent, msg_type="Cancel", references=["e-1"])
    with pytest.raises(Forbidden):
        w.runtime.emergencies.receive(
            cancel, Actor("b", frozenset({Role.APPROVER}), frozenset({WARD_B}))
        )
