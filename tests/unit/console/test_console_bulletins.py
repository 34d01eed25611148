"""The bulletin composer: who may write, inline refusals that keep the text, the clip, submit.

The unit tier has no ffmpeg: speech (espeak-ng) and preparation are stand-ins, as in
``test_bulletin_tts_fallback``; what is under test is the page and its calls.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.audio import tts
from controller.audio.prepare import PreparedAudio
from controller.db.models import Bulletin
from controller.domain.content import voices
from controller.domain.content.bulletins import BulletinService
from tests.support.console import WARD_A, WARD_B, add_two_wards, csrf_of, sign_in
from tests.unit.controller_support import Harness, make_harness

OGG = b"OggS" + b"\x00" * 400
TEXT = "Thông báo: từ 7 giờ sáng mai, khu phố 3 tạm ngừng cấp nước để sửa đường ống."


def _prepared(self: BulletinService, source: Path, chime: bool, **_: object) -> PreparedAudio:
    return PreparedAudio(OGG, hashlib.sha256(OGG).hexdigest(), 4.0, "audio/ogg", "ogg", -20.0)


@pytest.fixture
def h(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setattr(tts, "espeak_wav", lambda *a, **k: b"RIFF" + b"\x00" * 100)
    monkeypatch.setattr(BulletinService, "_prepare", _prepared)
    # The voices espeak-ng would list, whether or not this machine has it.
    monkeypatch.setattr(voices, "espeak_voices", lambda *a, **k: ("vi", "vi-vn-x-south"))
    harness = make_harness(tmp_path)
    add_two_wards(harness.runtime)
    yield harness
    harness.runtime.stop()


def _compose(client: TestClient, **fields: str) -> dict[str, str]:
    token = csrf_of(client.get("/bulletins/new").text)
    return {"csrf_token": token, **fields}


def _bulletin(h: Harness, bulletin_id: str) -> Bulletin:
    with h.runtime.db.session() as session:
        found = session.get(Bulletin, bulletin_id)
        assert found is not None
        session.expunge(found)
        return found


@pytest.mark.parametrize("role", ["evaluator", "approver"])
def test_only_officers_reach_the_composer(client: TestClient, role: str) -> None:
    sign_in(client, role, [WARD_A])
    token = csrf_of(client.get("/").text)
    for path in ("/bulletins", "/bulletins/new", "/bulletins/bul-1/edit"):
        assert client.get(path).status_code == 403, path
    data = {"csrf_token": token, "title": "x", "text": "y"}
    assert client.post("/bulletins/new", data=data).status_code == 403
    assert client.post("/bulletins/bul-1/submit", data=data).status_code == 403
    assert client.post("/bulletins/bul-1/edit", data=data).status_code == 403
    assert 'href="/bulletins"' not in client.get("/").text


def test_bad_input_is_shown_beside_its_field_and_the_text_is_kept(client: TestClient) -> None:
    sign_in(client, "officer", [WARD_A])
    answer = client.post(
        "/bulletins/new",
        data=_compose(client, title="", text=TEXT, valid_from="mai lúc 7 giờ"),
    )
    assert answer.status_code == 422
    assert 'id="e-title"' in answer.text and "Hãy nhập tiêu đề." in answer.text
    assert 'id="e-valid_from"' in answer.text
    assert TEXT in answer.text  # what was typed stays
    assert 'value="mai lúc 7 giờ"' in answer.text
    empty = client.post("/bulletins/new", data=_compose(client, title="Mất nước", text=" "))
    assert empty.status_code == 422 and 'id="e-text"' in empty.text
    assert 'value="Mất nước"' in empty.text


def test_an_officer_of_two_wards_must_say_which(client: TestClient) -> None:
    sign_in(client, "officer", [WARD_A, WARD_B])
    form = client.get("/bulletins/new").text
    assert 'name="ward_code"' in form and "Hàng Buồm" in form
    answer = client.post("/bulletins/new", data=_compose(client, title="Mất nước", text=TEXT))
    assert answer.status_code == 422 and 'id="e-ward_code"' in answer.text


def test_text_is_prepared_heard_then_submitted(client: TestClient, h: Harness) -> None:
    sign_in(client, "officer", [WARD_A])
    made = client.post(
        "/bulletins/new", data=_compose(client, title="Lịch cắt nước", text=TEXT, chime="1")
    )
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    bulletin_id = path.rsplit("/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "Đã chuẩn bị bản tin" not in page.text
    clip = re.search(r'<audio controls preload="metadata" src="([^"]+)"', page.text)
    assert clip is not None and clip.group(1).startswith("/media/")
    assert client.get(clip.group(1).replace("&amp;", "&")).content == OGG  # the very clip
    assert TEXT in page.text
    stored = _bulletin(h, bulletin_id)
    assert (stored.status, stored.ward_code, stored.origin) == ("draft", WARD_A, "text")
    sent = client.post(f"/bulletins/{bulletin_id}/submit", data={"csrf_token": csrf_of(page.text)})
    assert sent.status_code == 303
    assert _bulletin(h, bulletin_id).status == "submitted"
    listed = client.get("/bulletins").text
    assert "Lịch cắt nước" in listed and "Chờ duyệt" in listed
    again = client.post(f"/bulletins/{bulletin_id}/submit", data={"csrf_token": csrf_of(listed)})
    assert again.status_code == 409 and 'class="form-error"' in again.text


def test_an_upload_or_a_recording_becomes_a_bulletin(client: TestClient, h: Harness) -> None:
    sign_in(client, "officer", [WARD_A])
    made = client.post(
        "/bulletins/new",
        data=_compose(client, title="Ghi âm của tổ trưởng", text="Lời đọc kèm"),
        files={"file": ("recording.webm", b"\x1aE\xdf\xa3" + b"\x00" * 300, "audio/webm")},
    )
    assert made.status_code == 303, made.text
    bulletin_id = made.headers["location"].split("?")[0].rsplit("/", 1)[1]
    stored = _bulletin(h, bulletin_id)
    assert (stored.origin, stored.original_filename, stored.text) == (
        "upload",
        "recording.webm",
        "Lời đọc kèm",
    )


def test_an_empty_file_is_refused_beside_the_file_field(client: TestClient) -> None:
    sign_in(client, "officer", [WARD_A])
    answer = client.post(
        "/bulletins/new",
        data=_compose(client, title="Tệp rỗng"),
        files={"file": ("empty.mp3", b"", "audio/mpeg")},
    )
    assert answer.status_code == 422 and 'id="e-file"' in answer.text
    assert 'value="Tệp rỗng"' in answer.text


def _made(client: TestClient, **fields: str) -> str:
    made = client.post("/bulletins/new", data=_compose(client, **fields))
    assert made.status_code == 303, made.text
    location: str = made.headers["location"]
    return location.split("?")[0].rsplit("/", 1)[1]


def test_a_voice_and_speed_are_offered_checked_and_kept(client: TestClient, h: Harness) -> None:
    sign_in(client, "officer", [WARD_A])
    form = client.get("/bulletins/new").text
    assert 'value="espeak-ng:vi-vn-x-south"' in form and "Giọng miền Nam" in form
    assert 'name="speed"' in form
    bad = client.post(
        "/bulletins/new",
        data=_compose(client, title="Tin", text=TEXT, voice="espeak-ng:klingon", speed="1000"),
    )
    assert bad.status_code == 422
    assert 'id="e-voice"' in bad.text and 'id="e-speed"' in bad.text and TEXT in bad.text
    bulletin_id = _made(
        client, title="Tin", text=TEXT, voice="espeak-ng:vi-vn-x-south", speed="120"
    )
    stored = _bulletin(h, bulletin_id)
    assert (stored.tts_voice, stored.tts_speed_wpm) == ("espeak-ng:vi-vn-x-south", 120)


def test_a_rejected_bulletin_is_edited_with_its_reason_shown_and_returns_to_draft(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "officer", [WARD_A])
    bulletin_id = _made(client, title="Lịch tiêm", text=TEXT)
    with h.runtime.db.session() as session:
        row = session.get(Bulletin, bulletin_id)
        assert row is not None
        row.status, row.rejection_reason = "rejected", "Sai ngày: thứ Bảy là 5/12."
    page = client.get(f"/bulletins/{bulletin_id}/edit")
    assert page.status_code == 200 and "Sai ngày: thứ Bảy là 5/12." in page.text
    assert TEXT in page.text and 'value="Lịch tiêm"' in page.text
    token = csrf_of(page.text)
    empty = client.post(
        f"/bulletins/{bulletin_id}/edit",
        data={"csrf_token": token, "title": "Lịch tiêm (sửa)", "text": "", "priority": "normal"},
    )
    assert empty.status_code == 422 and 'id="e-text"' in empty.text
    assert 'value="Lịch tiêm (sửa)"' in empty.text
    fixed = "Thông báo: tiêm chủng vào sáng thứ Bảy 5/12 tại nhà văn hóa."
    saved = client.post(
        f"/bulletins/{bulletin_id}/edit",
        data={"csrf_token": token, "title": "Lịch tiêm (sửa)", "text": fixed, "priority": "normal"},
    )
    assert saved.status_code == 303, saved.text
    stored = _bulletin(h, bulletin_id)
    assert (stored.status, stored.title, stored.text) == ("draft", "Lịch tiêm (sửa)", fixed)
    assert "edited" in client.get(f"/bulletins/{bulletin_id}").text  # in its history


def test_a_submitted_bulletin_is_withdrawn_before_it_is_edited(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "officer", [WARD_A])
    bulletin_id = _made(client, title="Tin chờ duyệt", text=TEXT)
    token = csrf_of(client.get(f"/bulletins/{bulletin_id}").text)
    client.post(f"/bulletins/{bulletin_id}/submit", data={"csrf_token": token})
    page = client.get(f"/bulletins/{bulletin_id}/edit").text
    assert 'id="edit-form"' not in page and "rút lại" in page
    refused = client.post(
        f"/bulletins/{bulletin_id}/edit",
        data={"csrf_token": token, "title": "Đổi", "text": TEXT, "priority": "normal"},
    )
    assert refused.status_code == 409 and "hãy rút lại (về bản nháp) trước khi sửa" in refused.text
    assert _bulletin(h, bulletin_id).title == "Tin chờ duyệt"
    assert (
        client.post(f"/bulletins/{bulletin_id}/withdraw", data={"csrf_token": token}).status_code
        == 303
    )
    assert 'id="edit-form"' in client.get(f"/bulletins/{bulletin_id}/edit").text
