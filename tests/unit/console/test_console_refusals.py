"""Domain refusals on console forms: in the reader's language, beside the field they concern.

The domain writes its refusals in English with a stable code (``controller/domain/errors.py``);
the pages show ``refusal.<code>`` from the catalogs instead of quoting the English.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.console import WARD_A, add_two_wards, csrf_of, sign_in
from tests.unit.console.test_console_approvals import submitted
from tests.unit.console.test_console_schedule import NOW, with_programme
from tests.unit.controller_support import Harness, make_harness


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path, start=NOW)
    add_two_wards(harness.runtime)
    yield harness
    harness.runtime.stop()


def test_a_queue_refusal_is_vietnamese_beside_its_field(client: TestClient, h: Harness) -> None:
    with_programme(h)
    submitted(h, "bul-wait", WARD_A)
    sign_in(client, "officer", [WARD_A])
    token = csrf_of(client.get("/schedule").text)
    form = {"csrf_token": token, "ward": WARD_A, "week": "2026-11-30"}
    days = {"q_first": "2026-12-02", "q_last": "2026-12-03"}
    no_session = client.post(
        "/schedule/queue", data={**form, **days, "q_session": "khuya", "q_bulletin": "bul-1"}
    )
    assert no_session.status_code == 422
    assert 'id="e-q_session"' in no_session.text
    assert "Chương trình của phường không có buổi phát khuya." in no_session.text
    assert "no session" not in no_session.text  # not the domain's English
    waiting = client.post(
        "/schedule/queue", data={**form, **days, "q_session": "sang", "q_bulletin": "bul-wait"}
    )
    assert waiting.status_code == 422 and 'id="e-q_bulletin"' in waiting.text
    # The state is the page's own word for it, not the domain's "submitted".
    assert "Bản tin chưa được duyệt (trạng thái: Chờ duyệt)" in waiting.text
    assert 'value="2026-12-03"' in waiting.text  # what was typed stays


def test_approving_ones_own_bulletin_is_refused_in_the_readers_language(
    client: TestClient, h: Harness
) -> None:
    submitted(h, "bul-own", WARD_A, by="approver-00037")
    sign_in(client, "approver", [WARD_A])
    token = csrf_of(client.get("/approvals/bul-own").text)
    own = client.post("/approvals/bul-own/approve", data={"csrf_token": token})
    assert own.status_code == 403 and 'id="e-decision"' in own.text
    assert "Không ai tự duyệt bản tin của chính mình" in own.text
    client.cookies.set("wardcast_lang", "en")
    again = client.post("/approvals/bul-own/approve", data={"csrf_token": token})
    assert "Nobody approves their own bulletin: another approver" in again.text


def test_the_error_page_says_a_refusal_in_the_readers_language(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "officer", [WARD_A])
    missing = client.get("/broadcasts/brd-nothing")
    assert missing.status_code == 404
    assert "Không tìm thấy lần phát brd-nothing." in missing.text
