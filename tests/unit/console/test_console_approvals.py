"""The approval queue: approvers only, filters, listen and read, approve, reject with a reason."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from controller.db.models import Bulletin, BulletinTransition
from tests.support.console import WARD_A, WARD_B, csrf_of, sign_in
from tests.unit.controller_support import SHA, Harness

OFFICER = "officer-00037"


def submitted(h: Harness, bulletin_id: str, ward: str, by: str = OFFICER, title: str = "") -> None:
    """A bulletin written and submitted by ``by`` (the way the workflow leaves it)."""
    now = h.clock.now()
    with h.runtime.db.session() as session:
        session.add(
            Bulletin(
                id=bulletin_id,
                title=title or f"Tin {bulletin_id}",
                origin="text",
                text="Thông báo tiêm chủng cho trẻ em vào sáng thứ Bảy.",
                media_sha256=SHA,
                created_at=now,
                created_by=by,
                status="submitted",
                ward_code=ward,
            )
        )
        session.flush()
        for before, after in (("", "draft"), ("draft", "submitted")):
            session.add(
                BulletinTransition(
                    bulletin_id=bulletin_id, from_status=before, to_status=after, actor=by, at=now
                )
            )


def status_of(h: Harness, bulletin_id: str) -> tuple[str, str | None]:
    with h.runtime.db.session() as session:
        found = session.get(Bulletin, bulletin_id)
        assert found is not None
        return found.status, found.rejection_reason


@pytest.mark.parametrize("role", ["evaluator", "officer"])
def test_only_approvers_reach_the_queue_and_its_decisions(
    client: TestClient, h: Harness, role: str
) -> None:
    submitted(h, "bul-a", WARD_A)
    sign_in(client, role, [WARD_A])
    token = csrf_of(client.get("/").text)
    for path in ("/approvals", "/approvals/bul-a"):
        assert client.get(path).status_code == 403, path
    for action in ("approve", "reject"):
        answer = client.post(
            f"/approvals/bul-a/{action}", data={"csrf_token": token, "reason": "x"}
        )
        assert answer.status_code == 403
    assert status_of(h, "bul-a") == ("submitted", None)


def test_the_queue_filters_by_state_and_ward_within_the_approvers_wards(
    client: TestClient, h: Harness
) -> None:
    submitted(h, "bul-a", WARD_A, title="Tin phường A")
    submitted(h, "bul-b", WARD_B, by="officer-00040", title="Tin phường B")
    sign_in(client, "approver", [WARD_A])
    page = client.get("/approvals").text
    assert "Tin phường A" in page and "Tin phường B" not in page
    assert 'src="/media/' in page  # each can be heard from the list
    assert "Thông báo tiêm chủng" in page  # and read
    assert "Tin phường A" not in client.get("/approvals?state=approved").text
    assert "Tin phường A" in client.get("/approvals?state=").text  # every state

    client.cookies.clear()
    sign_in(client, "approver", [WARD_A, WARD_B])
    both = client.get("/approvals").text
    assert "Tin phường A" in both and "Tin phường B" in both
    only_b = client.get(f"/approvals?ward={WARD_B}").text
    assert "Tin phường B" in only_b and "Tin phường A" not in only_b
    assert f'<option value="{WARD_B}" selected>' in only_b


def test_a_rejection_needs_a_reason_which_the_officer_then_reads(
    client: TestClient, h: Harness
) -> None:
    submitted(h, "bul-a", WARD_A)
    sign_in(client, "approver", [WARD_A])
    token = csrf_of(client.get("/approvals/bul-a").text)
    empty = client.post("/approvals/bul-a/reject", data={"csrf_token": token, "reason": "  "})
    assert empty.status_code == 422
    assert 'id="e-reason"' in empty.text and "Hãy ghi lý do từ chối" in empty.text
    assert status_of(h, "bul-a") == ("submitted", None)
    reason = "Sai giờ tiêm: sửa thành 8 giờ sáng."
    done = client.post("/approvals/bul-a/reject", data={"csrf_token": token, "reason": reason})
    assert done.status_code == 303
    assert status_of(h, "bul-a") == ("rejected", reason)

    client.cookies.clear()
    sign_in(client, "officer", [WARD_A])
    assert reason in client.get("/bulletins").text
    assert reason in client.get("/bulletins/bul-a").text


def test_nobody_approves_their_own_bulletin_and_is_told_why(client: TestClient, h: Harness) -> None:
    submitted(h, "bul-own", WARD_A, by="approver-00037")
    submitted(h, "bul-a", WARD_A)
    sign_in(client, "approver", [WARD_A])
    token = csrf_of(client.get("/approvals/bul-own").text)
    own = client.post("/approvals/bul-own/approve", data={"csrf_token": token})
    assert own.status_code == 403
    # The domain's refusal in the reader's language (its English is the API's detail).
    assert 'id="e-decision"' in own.text and "Không ai tự duyệt bản tin của chính mình" in own.text
    assert status_of(h, "bul-own") == ("submitted", None)
    ok = client.post("/approvals/bul-a/approve", data={"csrf_token": token})
    assert ok.status_code == 303 and ok.headers["location"].startswith("/approvals?done=")
    assert status_of(h, "bul-a") == ("approved", None)
    again = client.post("/approvals/bul-a/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "không chuyển sang “Đã duyệt” được" in again.text


def test_a_reason_typed_when_the_session_expired_comes_back_after_sign_in(
    client: TestClient, h: Harness
) -> None:
    submitted(h, "bul-a", WARD_A)
    sign_in(client, "approver", [WARD_A])
    token = csrf_of(client.get("/approvals/bul-a").text)
    asyncio.run(h.clock.advance(9 * 3600))  # past the 8 h sign-in token
    reason = "Giọng đọc quá nhanh, đọc lại chậm hơn."
    posted = client.post("/approvals/bul-a/reject", data={"csrf_token": token, "reason": reason})
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/login?next=%2Fapprovals%2Fbul-a%2Freject")
    target = unquote(posted.headers["location"].split("next=")[1].split("&")[0])
    sign_in(client, "approver", [WARD_A], next_path=target)
    page = client.get(target)
    assert page.status_code == 200 and reason in page.text
    assert status_of(h, "bul-a") == ("submitted", None)  # nothing done behind their back
