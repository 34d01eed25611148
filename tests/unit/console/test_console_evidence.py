"""The evidence viewer: filters in the reader's wards, pages, the bundle and its verify command."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.evidence.bundles import verify as verifier
from controller.domain.evidence.search import EvidenceFilter, search_evidence
from tests.support.console import WARD_A, WARD_B, add_two_wards, sign_in
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import Kind, Outcome
from wardcast_protocol.topics import DeviceChannel

DAY = "2026-11-22"  # the harness's clock: 2026-11-22 05:00 UTC, 12:00 in Hà Nội


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    add_two_wards(harness.runtime)
    plays = [("to-1", "a", Outcome.COMPLETED), ("to-1", "b", Outcome.FAILED)]
    plays.append(("to-2", "c", Outcome.COMPLETED))
    seqs: dict[str, int] = {}
    for device_id, item, outcome in plays:
        seq = seqs[device_id] = seqs.get(device_id, 0) + 1
        start = harness.clock.now() - timedelta(minutes=10 * seq)
        harness.plan(
            device_id, item_id=f"bc-{item}", broadcast_id=f"bc-{item}", planned_start=start
        )
        event = harness.event(
            device_id,
            event_id=f"ev-{item}",
            seq=seq,
            item_id=f"bc-{item}",
            broadcast_id=f"bc-{item}",
            planned_start=start,
            actual_start=start,
            outcome=outcome,
            played_duration_s=12.0 if outcome is Outcome.COMPLETED else 0.0,
            prev_hash="" if seq == 1 else _previous(harness, device_id),
        )
        harness.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)
    yield harness
    harness.runtime.stop()


def _previous(h: Harness, device_id: str) -> str:
    with h.runtime.db.session() as session:
        found = search_evidence(
            session, Actor("t", frozenset(Role)), EvidenceFilter(device_id=device_id)
        )
        return found.rows[0].digest


def test_the_search_keeps_to_the_actors_wards_and_counts_all_matches(h: Harness) -> None:
    reader = Actor("eva", frozenset({Role.EVALUATOR}), frozenset({WARD_A}))
    with h.runtime.db.session() as session:
        everything = search_evidence(session, reader, EvidenceFilter(), limit=1)
        assert everything.total == 2 and len(everything.rows) == 1
        failed = search_evidence(session, reader, EvidenceFilter(outcome="failed"))
        assert [r.device_id for r in failed.rows] == ["to-1"] and failed.total == 1
        assert search_evidence(session, reader, EvidenceFilter(group_code="to-2")).total == 0
        with pytest.raises(Forbidden):
            search_evidence(session, reader, EvidenceFilter(ward_code=WARD_B))


def test_an_evaluator_filters_their_wards_evidence(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/evidence")
    assert page.status_code == 200
    assert "Kết quả: 2 dòng" in page.text and "to-2" not in page.text
    # Started on time: a Vietnamese decimal comma, no sign on a zero.
    assert "0,00 giây" in page.text and "+0.00" not in page.text
    failed = client.get("/evidence", params={"ward": WARD_A, "outcome": "failed"})
    assert "Kết quả: 1 dòng" in failed.text and "Lỗi" in failed.text
    commune = client.get("/evidence", params={"source": "central"})
    assert "Kết quả: 0 dòng" in commune.text
    for name in ("ward", "group", "device", "from", "to", "outcome", "source"):
        assert f'name="{name}"' in page.text and f'id="f-{name}"' in page.text


def test_bad_filters_are_shown_inline_and_kept(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    bad = client.get("/evidence", params={"from": "22/11/2026", "outcome": "lost", "ward": WARD_B})
    assert bad.status_code == 422
    assert "Ngày không hợp lệ" in bad.text and 'value="22/11/2026"' in bad.text
    assert "Hãy chọn một mục trong danh sách." in bad.text
    assert "Hãy chọn một phường của bạn." in bad.text
    backwards = client.get("/evidence", params={"from": DAY, "to": "2026-11-01"})
    assert backwards.status_code == 422 and "Ngày kết thúc trước ngày bắt đầu." in backwards.text


def test_the_bundle_downloads_and_verifies_with_the_command_shown(
    client: TestClient, h: Harness, tmp_path: Path
) -> None:
    sign_in(client, "evaluator", [WARD_A])
    query = {"ward": WARD_A, "from": DAY, "to": DAY}
    page = client.get("/evidence", params=query)
    name = f"wardcast-evidence-{WARD_A}-{DAY}.json"
    key = h.runtime.key.public_key_b64
    command = f"wardcast evidence verify {name} --ward {WARD_A} --controller-key {key}"
    assert command in page.text
    answer = client.get("/evidence/bundle", params=query)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    saved = tmp_path / name
    saved.write_bytes(answer.content)
    out, err = io.StringIO(), io.StringIO()
    code = verifier.run(saved, expected_ward=WARD_A, controller_key=key, out=out, err=err)
    assert code == 0, out.getvalue() + err.getvalue()


def test_a_bundle_needs_a_ward_and_days_said_inline(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    answer = client.get("/evidence/bundle", params={"from": DAY})
    assert answer.status_code == 422 and "content-disposition" not in answer.headers
    assert "hãy chọn phường" in answer.text and "Hãy chọn ngày" in answer.text
    other = client.get("/evidence/bundle", params={"ward": WARD_B, "from": DAY, "to": DAY})
    assert other.status_code == 422 and "content-disposition" not in other.headers
