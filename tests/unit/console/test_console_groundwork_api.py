"""The domain and API the console stands on: bulletin edit, approval queue, voices, progress.

Over the app with a fake broker and fake clock; speech is replaced by a recorder (the
unit tier has no ffmpeg), so what is checked is what the edit does with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.api.sse import StreamRules, changes
from controller.audio.prepare import PreparedAudio
from controller.db.models import Bulletin, BulletinTransition
from controller.domain.actors import SYSTEM
from controller.domain.content.bulletins import BulletinService
from controller.domain.emergencies.progress import EmergencyProgress
from controller.domain.emergencies.service import EmergencyMessage
from tests.support.auth import auth_headers
from tests.unit.controller_support import SHA, Harness, make_harness

Headers = dict[str, str]
V1 = "/api/v1"


@pytest.fixture
def h(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    spoken: list[tuple[str, bool, str | None, int | None]] = []

    def speak_prepared(
        self: BulletinService, body: str, chime: bool, voice: str | None, speed: int | None
    ) -> tuple[PreparedAudio, str]:
        spoken.append((body, chime, voice, speed))
        data = f"{body}|{voice}|{speed}".encode()
        sha = hashlib.sha256(data).hexdigest()
        return PreparedAudio(data, sha, 4.0, "audio/ogg", "ogg", -16.0), "espeak-ng"

    monkeypatch.setattr(BulletinService, "speak_prepared", speak_prepared)
    harness = make_harness(tmp_path)
    harness.spoken = spoken  # type: ignore[attr-defined]
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=h.runtime)) as client:
        yield client


@pytest.fixture
def officer(h: Harness) -> Headers:
    return auth_headers(h.runtime, "officer", username="officer-1", all_wards=True)


@pytest.fixture
def leader(h: Harness) -> Headers:
    return auth_headers(h.runtime, "approver", username="leader-1", all_wards=True)


def _bulletin(h: Harness, bulletin_id: str, status: str, origin: str = "text") -> None:
    with h.runtime.db.session() as session:
        session.add(
            Bulletin(
                id=bulletin_id,
                title="Cắt nước",
                origin=origin,
                text="Ngày mai cắt nước." if origin == "text" else None,
                media_sha256=SHA,
                created_at=h.clock.now(),
                created_by="officer-1",
                status=status,
                rejection_reason="Sai giờ." if status == "rejected" else None,
            )
        )


def test_editing_a_rejected_bulletin_speaks_it_again_and_returns_it_to_draft(
    h: Harness, api: TestClient, officer: Headers
) -> None:
    _bulletin(h, "bul-r", "rejected")
    edit = {"text": "Ngày mai cắt nước từ 9 giờ.", "tts_voice": "espeak-ng:vi-vn-x-south"}
    edited = api.patch(f"{V1}/bulletins/bul-r", json=edit, headers=officer)
    assert edited.status_code == 200, edited.text
    body: dict[str, Any] = edited.json()
    assert body["status"] == "draft" and body["rejection_reason"] is None
    assert body["text"] == edit["text"] and body["tts_voice"] == edit["tts_voice"]
    assert body["media"]["sha256"] != SHA  # the new clip, spoken again
    assert h.spoken == [(edit["text"], False, "espeak-ng:vi-vn-x-south", None)]  # type: ignore[attr-defined]
    history = api.get(f"{V1}/bulletins/bul-r/history", headers=officer).json()
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("rejected", "draft")
    assert history[-1]["reason"] == "edited: text, tts_voice"
    # Resubmitted as any draft is.
    assert api.post(f"{V1}/bulletins/bul-r/submit", headers=officer).status_code == 200


def test_a_title_edit_of_a_draft_is_not_spoken_again(
    h: Harness, api: TestClient, officer: Headers
) -> None:
    _bulletin(h, "bul-d", "draft")
    edited = api.patch(f"{V1}/bulletins/bul-d", json={"title": "Cắt điện"}, headers=officer)
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Cắt điện" and edited.json()["status"] == "draft"
    assert h.spoken == []  # type: ignore[attr-defined]
    # The same again changes nothing, and records nothing.
    api.patch(f"{V1}/bulletins/bul-d", json={"title": "Cắt điện"}, headers=officer)
    with h.runtime.db.session() as session:
        steps = session.query(BulletinTransition).filter_by(bulletin_id="bul-d").count()
    assert steps == 1


@pytest.mark.parametrize(
    ("status", "origin", "edit", "code", "words"),
    [
        ("approved", "text", {"title": "Khác"}, 409, "only a draft or a rejected"),
        ("submitted", "text", {"title": "Khác"}, 409, "withdraw it"),
        ("archived", "text", {"title": "Khác"}, 409, "write a new bulletin"),
        ("draft", "upload", {"text": "Chữ"}, 422, "no text to speak again"),
        ("draft", "text", {"tts_voice": "espeak-ng:klingon"}, 422, "choose one of"),
        ("draft", "text", {"tts_speed_wpm": 1000}, 422, "less than or equal to 450"),
        ("draft", "text", {"colour": "red"}, 422, "Extra inputs"),
        ("draft", "text", {"title": "x\u0000y"}, 422, "pattern"),
    ],
)
def test_bad_edits_get_a_clear_4xx_and_change_nothing(
    h: Harness,
    api: TestClient,
    officer: Headers,
    status: str,
    origin: str,
    edit: dict[str, Any],
    code: int,
    words: str,
) -> None:
    _bulletin(h, "bul-x", status, origin)
    answer = api.patch(f"{V1}/bulletins/bul-x", json=edit, headers=officer)
    assert answer.status_code == code, answer.text
    assert words in answer.text
    with h.runtime.db.session() as session:
        stored = session.get(Bulletin, "bul-x")
        assert stored is not None and (stored.title, stored.status) == ("Cắt nước", status)


def test_an_evaluator_cannot_edit(h: Harness, api: TestClient) -> None:
    _bulletin(h, "bul-d", "draft")
    evaluator = auth_headers(h.runtime, "evaluator")
    answer = api.patch(f"{V1}/bulletins/bul-d", json={"title": "Khác"}, headers=evaluator)
    assert answer.status_code == 403


def test_the_approval_queue_lists_submitted_bulletins_newest_first(
    h: Harness, api: TestClient, leader: Headers
) -> None:
    for i, status in enumerate(("submitted", "draft", "submitted", "approved")):
        _bulletin(h, f"bul-q{i}", status)
        with h.runtime.db.session() as session:
            row = session.get(Bulletin, f"bul-q{i}")
            assert row is not None
            row.created_at = h.clock.now() + timedelta(minutes=i)
    queue = api.get(f"{V1}/bulletins", params={"state": "submitted"}, headers=leader)
    assert [b["id"] for b in queue.json()] == ["bul-q2", "bul-q0"]
    page = api.get(f"{V1}/bulletins", params={"state": "submitted", "limit": 1, "offset": 1})
    assert page.status_code == 401  # no token: nothing
    paged = api.get(
        f"{V1}/bulletins", params={"state": "submitted", "limit": 1, "offset": 1}, headers=leader
    )
    assert [b["id"] for b in paged.json()] == ["bul-q0"]
    bad = api.get(f"{V1}/bulletins", params={"state": "lost"}, headers=leader)
    assert bad.status_code == 422 and "submitted" in bad.text


def test_voices_list_what_this_controller_offers(api: TestClient, officer: Headers) -> None:
    catalogue = api.get(f"{V1}/tts/voices", headers=officer)
    assert catalogue.status_code == 200, catalogue.text
    voices = {v["id"]: v for v in catalogue.json()["voices"]}
    # gTTS is switched off by the harness: only the offline voices, which are installed.
    assert "gtts:vi" not in voices
    south = voices["espeak-ng:vi-vn-x-south"]
    assert south["online"] is False and south["speed_min_wpm"] == 80
    assert catalogue.json()["fallback_voice"] == "espeak-ng:vi"


def test_the_preview_redirects_to_the_signed_clip(
    h: Harness, api: TestClient, officer: Headers
) -> None:
    _bulletin(h, "bul-d", "draft")
    answer = api.get(f"{V1}/bulletins/bul-d/audio", headers=officer, follow_redirects=False)
    assert answer.status_code == 307
    assert f"/media/{SHA}.ogg" in answer.headers["location"]
    assert "sig=" in answer.headers["location"]


def _snapshot(state: str, over: bool) -> EmergencyProgress:
    return EmergencyProgress("em-1", "cap-1", state, "bc-1", state, over, SYSTEM_NOW, ())


SYSTEM_NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


class _Ticks:
    """A monotonic clock that moves only when the watcher sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _key(progress: EmergencyProgress) -> object:
    return progress.fingerprint()


def _over(progress: EmergencyProgress) -> bool:
    return progress.over


async def _all(
    read: Callable[[], EmergencyProgress], rules: StreamRules, ticks: _Ticks
) -> list[EmergencyProgress | None]:
    return [s async for s in changes(read, _key, _over, rules, ticks.sleep)]


async def test_watch_sends_changes_heartbeats_and_ends_when_over() -> None:
    reads = iter(
        [_snapshot("playing", False)] * 3
        + [_snapshot("confirming", False)] * 25
        + [_snapshot("done", True)]
    )
    ticks = _Ticks()
    limits = StreamRules.lasting(600, interval_s=1, heartbeat_s=10)
    seen = await _all(lambda: next(reads), limits, ticks)
    states = [s.state if s is not None else "heartbeat" for s in seen]
    assert states == ["playing", "confirming", "heartbeat", "heartbeat", "done"]
    assert seen[-1] is not None and seen[-1].over


async def test_watch_stops_at_its_maximum_even_if_never_over() -> None:
    ticks = _Ticks()
    limits = StreamRules.lasting(30, interval_s=1, heartbeat_s=100)
    seen = await _all(lambda: _snapshot("playing", False), limits, ticks)
    assert len(seen) == 1 and ticks.now == 30


def test_a_test_emergency_streams_one_snapshot_then_ends(
    h: Harness, api: TestClient, leader: Headers
) -> None:
    drill = EmergencyMessage("cap-t", "ubnd", h.clock.now(), status="Test", description="Thử.")
    record, _ = h.runtime.emergencies.receive(drill, SYSTEM)
    progress = api.get(f"{V1}/emergencies/{record.id}/progress", headers=leader)
    assert progress.status_code == 200, progress.text
    assert progress.json()["over"] is True and progress.json()["devices"] == []
    events = api.get(f"{V1}/emergencies/{record.id}/events", headers=leader)
    assert events.headers["content-type"].startswith("text/event-stream")
    assert events.text.count("event: progress") == 1
    assert events.text.rstrip().endswith("event: end\ndata: {}")
    missing = api.get(f"{V1}/emergencies/em-nope/events", headers=leader)
    assert missing.status_code == 404 and "em-nope" in missing.text
