"""A controller runtime on a fake clock and fake broker, with two registered devices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.composition import ControllerRuntime
from controller.db.models import Bulletin, MediaAsset, PlannedPlay, new_id
from controller.domain.content.bulletins import BulletinDraft
from controller.domain.devices.service import register_device
from controller.settings import Settings
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.envelope import CONTROLLER_SENDER, Verified, open_envelope, seal
from wardcast_protocol.fake_transport import FakeBroker, Published
from wardcast_protocol.messages import Kind, Outcome, PlaybackEvent, Trigger
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic

SHA = "ab" * 32
CHIME = "c0" * 32


@dataclass
class Harness:
    runtime: ControllerRuntime
    broker: FakeBroker
    clock: FakeClock
    device_keys: dict[str, SigningKey]
    bulletin_id: str

    def open(self, payload: bytes, kind: Kind) -> Verified[BaseModel]:
        key = self.runtime.key.public_key_b64
        return open_envelope(payload, kind, lambda s: key if s == CONTROLLER_SENDER else None)

    def received(
        self, device_id: str, channel: DeviceChannel, kind: Kind, body: BaseModel
    ) -> ReceivedMessage:
        """``body`` signed by ``device_id`` as the controller's link hands it on (not
        routed: for a test that feeds the ingest itself)."""
        payload = seal(kind, body, device_id, self.device_keys[device_id], self.clock.now())
        return ReceivedMessage(device_topic(device_id, channel), payload, False)

    def device_sends(
        self,
        device_id: str,
        channel: DeviceChannel,
        kind: Kind,
        body: BaseModel,
        key: SigningKey | None = None,
    ) -> bytes:
        signer = key or self.device_keys[device_id]
        payload = seal(kind, body, device_id, signer, self.clock.now())
        self.broker.route(device_id, device_topic(device_id, channel), payload, False, None)
        return payload

    def event(
        self, device_id: str, event_id: str = "ev-1", seq: int = 1, **changes: Any
    ) -> PlaybackEvent:
        planned = self.clock.now() - timedelta(seconds=30)
        fields: dict[str, Any] = {
            "event_id": event_id,
            "device_id": device_id,
            "seq": seq,
            "prev_hash": "",
            "item_id": "bc-1",
            "broadcast_id": "bc-1",
            "trigger": Trigger.MANUAL,
            "planned_start": planned,
            "planned_duration_s": 12.0,
            "actual_start": planned + timedelta(milliseconds=40),
            "played_duration_s": 12.0,
            "outcome": Outcome.COMPLETED,
            "recorded_at": self.clock.now(),
        }
        fields.update(changes)
        return PlaybackEvent(**fields)

    def plan(
        self,
        device_id: str,
        item_id: str = "bc-1",
        broadcast_id: str = "bc-1",
        planned_start: datetime | None = None,
    ) -> None:
        """Record that the controller planned ``item_id`` on ``device_id`` (what evidence
        must answer to), as compiling a plan or sending a 'now' would; once."""
        planned = planned_start or self.clock.now() - timedelta(seconds=30)
        with self.runtime.db.session() as session:
            known = session.scalar(
                select(PlannedPlay.id).where(
                    PlannedPlay.device_id == device_id, PlannedPlay.item_id == item_id
                )
            )
            if known is not None:
                return
            session.add(
                PlannedPlay(
                    device_id=device_id,
                    item_id=item_id,
                    broadcast_id=broadcast_id,
                    kind="media",
                    source_level="commune",
                    priority="normal",
                    trigger="manual",
                    planned_start=planned,
                    planned_duration_s=12.0,
                    first_planned_at=planned,
                )
            )

    def published(self, device_id: str, channel: DeviceChannel) -> list[Published]:
        return self.broker.published(device_topic(device_id, channel))


def make_harness(tmp_path: Path, start: datetime | None = None, **settings: Any) -> Harness:
    """A started runtime; ``settings`` override the test defaults (e.g. a feature on)."""
    clock = FakeClock(start)
    broker = FakeBroker()
    config = Settings(data_dir=tmp_path, gtts_enabled=False, environment="test", **settings)
    runtime = ControllerRuntime(
        config,
        clock=clock,
        transport=broker.link("controller"),
        run_maintenance=False,
        prepare_chime=False,  # no ffmpeg in the unit tier: a stand-in chime below
    )
    runtime.start()
    keys = {d: SigningKey.generate() for d in ("to-1", "to-2")}
    with runtime.db.session() as session:
        for device_id, key in keys.items():
            register_device(session, device_id, device_id, key.public_key_b64, clock.now())
        session.add(
            MediaAsset(
                sha256=SHA,
                size_bytes=1234,
                duration_s=12.0,
                content_type="audio/ogg",
                extension="ogg",
                created_at=clock.now(),
            )
        )
        session.add(
            Bulletin(
                id="bul-1",
                title="Thông báo",
                origin="text",
                text="Xin chào",
                media_sha256=SHA,
                created_at=clock.now(),
                status="approved",
            )
        )
        session.add(
            MediaAsset(
                sha256=CHIME,
                size_bytes=100,
                duration_s=1.25,
                content_type="audio/ogg",
                extension="ogg",
                created_at=clock.now(),
            )
        )
    runtime.plans.set_chime(CHIME)
    return Harness(runtime, broker, clock, keys, "bul-1")


def speak_without_tts(runtime: ControllerRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the bulletin service store a text bulletin as a draft of a stored clip (``SHA``).

    Text to speech is the bulletin service's business (tested there); the emergency
    tests need only a bulletin to send, without gTTS or espeak-ng.
    """

    def spoken(session: Session, draft: BulletinDraft, text: str, now: datetime) -> Bulletin:
        bulletin = Bulletin(
            id=new_id("bul"),
            title=draft.title,
            origin="text",
            text=text,
            media_sha256=SHA,
            created_at=now,
            status="draft",
            priority=draft.priority.value,
            ward_code=draft.ward_code,
        )
        session.add(bulletin)
        session.flush()
        return bulletin

    monkeypatch.setattr(runtime.bulletins, "create_from_text", spoken)


def payload_json(payload: bytes) -> dict[str, Any]:
    signed: dict[str, Any] = json.loads(json.loads(payload)["signed"])
    return signed
